/**
 * Understanding one user message: clean it, try small talk, then the grammar rows
 * (verb-first rows before rows that start with the task), then the NLP fallback for
 * "I paid the bill"-style reports. Produces an Intent; never touches tasks.
 */
import { MAX_REQUEST_CHARS, MAX_STRIP_PASSES, trimEnd, trimStart } from "./bounds.ts";
import { RULES, type RuleTag } from "./grammar.ts";
import { gerundToCommand, isDoneState, isDoneStatement } from "./language.ts";
import { EMPTY_TITLE, LEADING_FILLER, LIST_TOPIC, SMALL_TALK, TRAILING_FILLER } from "./lexicon.ts";
import { parseRef, splitTitle, statusOf, unquote, whole } from "./phrases.ts";
import type { ChatTopic, Intent, Ref } from "./types.ts";

type Groups = Record<string, string | undefined>;

const COMPILED: Array<{ tag: RuleTag; re: RegExp; refFirst: boolean }> = RULES.map(
  ([tag, pattern]) => ({ tag, re: whole(pattern), refFirst: pattern.startsWith("{ref}") }),
);
// Verb-first rows win: in "add a task: laundry is done" the leading verb is the request.
const ORDERED = [...COMPILED.filter((r) => !r.refFirst), ...COMPILED.filter((r) => r.refFirst)];

const SMALL_TALK_RES: Array<[ChatTopic, RegExp]> = SMALL_TALK.map(([t, p]) => [t, whole(p)]);
const LEADING = new RegExp(`^(?:${LEADING_FILLER.join("|")})(?:\\s*[,!.:]\\s*|\\s+)`, "iu");
// "(?:\s*,)?\s+", not "\s*,?\s+": two adjacent space runs backtrack cubically on long ones.
const TRAILING = new RegExp(`(?:(?:\\s*,)?\\s+(?:${TRAILING_FILLER.join("|")}))$`, "iu");
const LIST_TOPIC_RE = new RegExp(LIST_TOPIC, "iu");
const NEGATED = /\b(?:not|never|no longer)\b|n't\b|\bnot yet\b/iu;
const INDEFINITE = /^(?:a|an|new|another|some|any)\s/iu;
const SUBJECT =
  /^(?:i|i'm|i've|im|we|we're|you|he|she|they|it's|that's|this is)$|^(?:i|we|you|he|she|they)\s/iu;
const ASK_WHICH =
  /^(?:it|that|this|them|those|these|(?:that|this|the|a|one) (?:one|task|item|todo)|one of (?:them|these|those|my tasks|the tasks)|a task|an item|something|one|the task)$/iu;
const GENERIC_DONE = /^(?:done|complete|completed|finished|over|sorted|handled|ready|✅|✔️|✔|✓)$/iu;
const QUESTION_WORD = /^(?:what|which|how|when|where|who|why|is|are|do|does|did|can|could)\b/iu;

/** Normalise typography and spacing; keep case (titles keep the user's wording). */
export function cleanMessage(message: string): string {
  const spaced = message
    .replace(/[\u2018\u2019\u02bc]/gu, "'")
    .replace(/[\u201c\u201d]/gu, '"')
    .replace(/\s+/gu, " ")
    .trim();
  return trimEnd(trimStart(spaced, /[\s.,!]/u), /[\s.!]/u).trim();
}

/** Trailing spaces and punctuation, as stripFiller and smallTalk drop them. */
const endPunctuation = (text: string): string => trimEnd(text, /[\s?!.,]/u);

export function stripFiller(text: string): string {
  let out = text;
  for (let prev = "", pass = 0; prev !== out && pass < MAX_STRIP_PASSES; pass++) {
    prev = out;
    out = endPunctuation(out.replace(LEADING, "").replace(TRAILING, "")).trim();
  }
  return out;
}

function smallTalk(text: string): ChatTopic | undefined {
  const t = endPunctuation(text).trim() || text.trim();
  for (const [topic, re] of SMALL_TALK_RES) if (re.test(t)) return topic;
  return undefined;
}

/**
 * A reference captured by a rule: undefined = "ask which", null = the rule does not apply.
 * "delete a task" asks which; "set a reminder to …" is not about an existing task at all.
 */
function refFrom(groups: Groups, generic: "ask" | "skip"): Ref | undefined | null {
  const raw = (groups.ref ?? "").trim();
  if (raw === "" || QUESTION_WORD.test(raw)) return null;
  if (SUBJECT.test(raw)) return null;
  if (INDEFINITE.test(raw)) return generic === "ask" && EMPTY_TITLE.test(raw) ? undefined : null;
  const ref = parseRef(raw);
  // No reference words at all ("completed tasks"): only a pronoun means "ask which".
  return ref === undefined && !ASK_WHICH.test(raw) ? null : ref;
}

function build(tag: RuleTag, groups: Groups, text: string, depth: number): Intent | null {
  switch (tag) {
    case "update:title":
    case "update:description":
    case "update:ask": {
      const ref = refFrom(groups, tag === "update:ask" ? "ask" : "skip");
      if (ref === null) return null;
      if (tag === "update:ask") return { kind: "update", ref };
      const value = groups.value ?? "";
      if (tag === "update:description") {
        const description = unquote(trimEnd(value, /[.!?]/u));
        return description ? { kind: "update", ref, description } : null;
      }
      const { title, description } = splitTitle(value);
      if (!title && !description) return null;
      return { kind: "update", ref, title, description };
    }
    case "delete":
    case "complete": {
      if (tag === "complete" && NEGATED.test(text)) return null;
      const ref = refFrom(groups, "ask");
      if (ref === null) return null;
      return { kind: tag, ref };
    }
    case "complete:state": {
      const state = groups.state ?? "";
      if (NEGATED.test(text) || !isDoneState(state)) return null;
      const ref = refFrom(groups, "ask");
      if (ref === null) return null;
      // The state word is evidence too: "the bill is paid" should meet "Pay bills".
      // (Not for plain "done": it says nothing about which task.)
      const telling = ref?.kind === "words" && !GENERIC_DONE.test(state);
      return {
        kind: "complete",
        ref: telling && ref ? { kind: "words", text: `${ref.text} ${state}` } : ref,
      };
    }
    case "list":
      return LIST_TOPIC_RE.test(text) ? { kind: "list", status: statusOf(text) } : null;
    case "add": {
      const words = groups.text ?? "";
      // "note that I need to buy batteries": the inner request names the task.
      const inner =
        depth < 2 && !/^["'`]/u.test(words)
          ? parseMessage(words.replace(/^that\s+/iu, ""), depth + 1)
          : undefined;
      if (inner?.kind === "add" && inner.title) return inner;
      return { kind: "add", ...splitTitle(words) };
    }
    case "add:reparse": {
      const inner = groups.text ?? "";
      if (QUESTION_WORD.test(text) && /\?$/u.test(text)) return null;
      // "I have bought the milk", "I got the groceries done" report work done, not a new task.
      if (isDoneStatement(inner) || /\b(?:done|finished|completed)$/iu.test(inner)) return null;
      const sub = depth < 2 ? parseMessage(inner, depth + 1) : undefined;
      // "I want to delete task 3" is a command; "I need to finish the report" is a new task.
      const command =
        sub !== undefined &&
        sub.kind !== "chat" &&
        !(sub.kind === "complete" && sub.ref?.kind === "words" && !/\btask\b/iu.test(inner));
      if (command && sub) return sub;
      return { kind: "add", ...splitTitle(inner) };
    }
  }
}

/** The predicate of "I've (just) paid the bill" → "paid the bill", used as the reference. */
function donePredicate(text: string): string {
  return text.replace(
    /^(?:i|we)(?:'ve| have| had)?\s+(?:(?:just|already|finally|now|also|actually)\s+)*/iu,
    "",
  );
}

/**
 * What the user wants, from one message. Every step of a turn asks again about the same
 * message, so recent answers are remembered (treat the Intent as read-only).
 */
export function parseMessage(message: string, depth = 0): Intent {
  if (depth > 0) return understand(message, depth);
  const known = PARSED.get(message);
  if (known) return known;
  const intent = understand(message, 0);
  if (message.length > MAX_REQUEST_CHARS) return intent;
  if (PARSED.size >= PARSED_MAX) {
    const oldest = PARSED.keys().next().value;
    if (oldest !== undefined) PARSED.delete(oldest);
  }
  PARSED.set(message, intent);
  return intent;
}

const PARSED = new Map<string, Intent>();
const PARSED_MAX = 256;

function understand(message: string, depth: number): Intent {
  const cleaned = cleanMessage(message);
  if (cleaned.length > MAX_REQUEST_CHARS) return { kind: "chat", topic: "too_long" };
  const early = smallTalk(cleaned);
  if (early) return { kind: "chat", topic: early };
  const text = gerundToCommand(stripFiller(cleaned));
  if (text === "") return { kind: "chat", topic: "unknown" };
  const late = smallTalk(text);
  if (late) return { kind: "chat", topic: late };

  for (const rule of ORDERED) {
    const m = rule.re.exec(text);
    if (!m) continue;
    const intent = build(rule.tag, m.groups ?? {}, text, depth);
    if (intent) return intent;
  }
  if (!NEGATED.test(text) && isDoneStatement(text)) {
    const ref = parseRef(donePredicate(text));
    if (ref) return { kind: "complete", ref };
  }
  return { kind: "chat", topic: "unknown" };
}

/** Read a bare reply to "which one?" ("the second one", "task 2", "the one for Ana"). */
export function parseFollowUpRef(message: string): Ref | undefined {
  const cleaned = cleanMessage(message);
  if (cleaned.length > MAX_REQUEST_CHARS) return undefined;
  const text = stripFiller(cleaned).replace(
    /^(?:i meant|i mean|meant|mean|it's|it is|go with|pick|choose|the one (?:about|for|called|named|with|that says)|number)\s+/iu,
    "",
  );
  return parseRef(text);
}
