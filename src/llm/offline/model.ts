/**
 * The message, read with the task model: first the looks at the list (views.ts), reopening,
 * and changes of a task's due date, priority or list; then everything the grammar reads
 * (parse.ts), with the priority, labels, list and due-date words of a new task taken out
 * of its title. Needs the user's clock, so the result is memoised per message and clock.
 */
import { pullMarks, takeDue, takeList } from "./attributes.ts";
import { MAX_REQUEST_CHARS } from "./bounds.ts";
import type { Clock } from "./clock.ts";
import {
  askedAbout,
  fixTypos,
  isQuestion,
  readNegation,
  readQuestion,
  readUndo,
} from "./judgement.ts";
import { cleanMessage, parseMessage, stripFiller } from "./parse.ts";
import { parseRef, splitTitle } from "./phrases.ts";
import { readRepeatChange, repeats } from "./recurrence.ts";
import type { Intent, Priority } from "./types.ts";
import { GENERIC_LIST, readView } from "./views.ts";

const REOPEN = [
  /^(?:re-?open|un-?complete|un-?check|un-?tick|un-?cross|un-?finish|reactivate|re-?activate)(?: again)? (?<ref>.+?)(?: again)?$/iu,
  /^(?:mark|set|flag|put|move|change|turn|switch|make)(?: the status of)? (?!sure\b)(?<ref>.+?) (?:as |to |back to |back as |back into |back )?(?:not (?:yet )?(?:done|complete|completed|finished)|undone|incomplete|uncompleted|unfinished|pending|open|to ?do|active|not started|in progress|unchecked)(?: again)?$/iu,
  /^(?<ref>.+?) (?:isn't|is not|wasn't|was not|ain't)(?: actually| really)? (?:done|finished|complete|completed)(?: yet| after all)?,? (?:so |please |can you |could you )?(?:re-?open|uncheck|un-?complete|(?:mark|set|put) (?:it|that|this) (?:back )?(?:as |to )?(?:not (?:yet )?(?:done|finished|complete|completed)|undone|pending|incomplete|unfinished|open))(?: it| that| this)?(?: again)?$/iu,
  /^un-?do (?:the )?(?:completion|completing|check(?:mark)?|tick|done) (?:of|on|for) (?<ref>.+)$/iu,
  /^(?:i )?(?:didn't|did not|haven't|have not|never) (?:actually |really |yet )?(?<ref>.+?),? (?:so |please |can you |could you )?(?:re-?open|uncheck|un-?complete|mark (?:it|that) (?:as )?(?:not done|undone|pending|incomplete)|undo (?:the )?(?:check|tick)) (?:it|that|this)(?: again)?$/iu,
];

const DUE_MOVE = [
  /^(?:move|reschedule|re-schedule|postpone|push(?: back)?|shift|delay|bump|defer|put off|change|set|make|schedule|plan) (?<ref>.+?) (?:to|till|until|for|on|by|due|back to|out to) (?<when>.+)$/iu,
  /^(?:set|change|update|make|move|push|put) (?:the )?(?:due date|deadline|due|date) (?:of|for|on) (?<ref>.+?) (?:to|for|as|on) (?<when>.+)$/iu,
  /^(?<ref>.+?) (?:is|should be|will be|must be) (?:now )?(?:due|scheduled for|moved to|postponed to|pushed to|rescheduled (?:to|for)) (?<when>.+)$/iu,
  /^make (?<ref>.+?) due (?<when>.+)$/iu,
];
const DUE_CLEARS = [
  /^(?:remove|clear|delete|drop|unset|take off|get rid of|erase) (?:the )?(?:due date|deadline|due|date) (?:of|from|for|on) (?<ref>.+)$/iu,
  /^(?<ref>.+?) (?:doesn't|does not|no longer|won't|will not|shouldn't) (?:have|has|need|needs) (?:a |any )?(?:due date|deadline|date)(?: anymore| any more| now)?$/iu,
  /^(?:there's|there is) no (?:due date|deadline) (?:for|on) (?<ref>.+?)(?: anymore| any more)?$/iu,
];

const LEVELS: Record<string, Priority> = {
  high: "high",
  top: "high",
  urgent: "high",
  important: "high",
  medium: "medium",
  normal: "medium",
  low: "low",
  no: "none",
  none: "none",
};
const PRIORITY_SET = [
  /^(?:make|set|mark|flag|change|switch|put|bump|raise|lower|give)(?: (?:the )?priority (?:of|for|on))? (?<ref>.+?) (?:as |to |at |a )?(?:a )?(?<p>high|top|low|medium|normal|urgent|important|no(?= priority))(?: priority)?$/iu,
  /^(?:set|change|make|put) (?:the )?priority (?:of|for|on) (?<ref>.+?) (?:to|as|at) (?<p>high|top|low|medium|normal|urgent|none|no)$/iu,
  /^(?<p>prioriti[sz]e|de-?prioriti[sz]e) (?<ref>.+)$/iu,
  /^(?<ref>.+?) is (?:now )?(?<p>urgent|high priority|top priority|low priority|important)$/iu,
];
const LIST_MOVE =
  /^(?:move|put|file|shift|transfer) (?<ref>.+?) (?:to|into|in|under|onto|on) (?:my |the |our )?(?<name>[\p{L}\p{N}'][\p{L}\p{N}' -]{0,30}?) list$/iu;

/** Words after the date that change nothing: "to Friday instead". */
const DUE_LEFTOVER = /^(?:instead|please|then|now|thanks|thank you)?$/iu;

const LABEL_WORD = /^#?(\p{L}[\p{L}\p{N}_-]{0,39})$/u;
// Label words exclude the separators (space, comma, #): with \S+ a run like "#a,#a,#a…"
// splits in exponentially many ways when the rest of the pattern fails.
const LABELS_ADD = [
  /^(?:add|put|attach|apply|stick)(?: the)? (?:labels? |tags? )?(?<labels>#[^\s,#]+(?:(?:\s*,\s*|\s+and\s+|\s+)#[^\s,#]+)*)(?: labels?| tags?)? (?:to|on|onto) (?<ref>.+)$/iu,
  /^(?:tag|label) (?<ref>.+?) (?:with|as) (?:the )?(?:labels? |tags? )?(?<labels>.+)$/iu,
  /^(?:tag|label) (?<ref>.+?) (?<labels>#[^\s#]+(?:\s+#[^\s#]+)*)$/iu,
];
const LABELS_REMOVE =
  /^(?:remove|delete|drop|take off|take|clear|untag)(?: the)? (?:labels? |tags? )?(?<labels>#?[^\s,#]+(?:(?:\s*,\s*|\s+and\s+|\s+)#[^\s,#]+)*)(?: labels?| tags?)? (?:from|on|off|off of) (?<ref>.+)$/iu;

/** "#home, errands and #post" → ["home", "errands", "post"]; undefined if any is not a word. */
function labelList(text: string, needHash: boolean): string[] | undefined {
  const words = text.split(/\s*,\s*|\s+and\s+|\s+/u).filter((w) => w !== "");
  if (words.length === 0 || words.length > 20) return undefined;
  if (needHash && !words.every((w) => w.startsWith("#"))) return undefined;
  const out: string[] = [];
  for (const w of words) {
    const m = LABEL_WORD.exec(w);
    if (!m?.[1]) return undefined;
    out.push(m[1].toLowerCase());
  }
  return [...new Set(out)];
}

function readLabels(text: string): Intent | undefined {
  const removed = LABELS_REMOVE.exec(text);
  if (removed?.groups?.labels && removed.groups.ref) {
    const hashed = /(?:^|\s)#/u.test(removed.groups.labels) || /\b(?:label|tag)s?\b/iu.test(text);
    const labels = hashed ? labelList(removed.groups.labels, false) : undefined;
    const ref = parseRef(removed.groups.ref);
    if (labels && ref) return { kind: "update", ref, removeLabels: labels };
  }
  for (const re of LABELS_ADD) {
    const m = re.exec(text);
    if (!m?.groups?.labels || !m.groups.ref) continue;
    const labels = labelList(m.groups.labels, re !== LABELS_ADD[1]);
    const ref = parseRef(m.groups.ref);
    if (labels && ref) return { kind: "update", ref, addLabels: labels };
  }
  return undefined;
}

function levelOf(p: string): Priority {
  const w = p.toLowerCase();
  if (/^de-?prioriti/u.test(w)) return "low";
  if (/^prioriti/u.test(w)) return "high";
  return LEVELS[w.replace(/ priority$/u, "")] ?? "high";
}

function readChange(text: string, clock: Clock): Intent | undefined {
  const labelled = readLabels(text) ?? readRepeatChange(text, clock);
  if (labelled) return labelled;
  for (const re of DUE_CLEARS) {
    const clear = re.exec(text);
    if (clear?.groups?.ref) return { kind: "update", ref: parseRef(clear.groups.ref), due: null };
  }
  for (const re of REOPEN) {
    const m = re.exec(text);
    if (m?.groups?.ref) return { kind: "reopen", ref: parseRef(m.groups.ref) };
  }
  for (const re of PRIORITY_SET) {
    const m = re.exec(text);
    const ref = m?.groups?.ref ? parseRef(m.groups.ref) : undefined;
    if (m?.groups?.p && ref) return { kind: "update", ref, priority: levelOf(m.groups.p) };
  }
  const moved = LIST_MOVE.exec(text);
  const name = moved?.groups?.name?.trim();
  if (moved?.groups?.ref && name && !GENERIC_LIST.test(name) && !/^(?:to-?)?do$/iu.test(name)) {
    const raw = moved.groups.ref;
    const ref = parseRef(raw);
    // "Put 'renew passport' on my work list" adds a task; "put task 3 on …" moves one.
    const existing =
      /^(?:move|shift|transfer)\b/iu.test(text) ||
      ref?.kind === "numbers" ||
      ref?.kind === "last" ||
      /\b(?:task|item|todo|to-do)\b/iu.test(raw);
    if (ref && existing && !/^["'`]/u.test(raw)) {
      return { kind: "update", ref, list: name.charAt(0).toUpperCase() + name.slice(1) };
    }
  }
  for (const re of DUE_MOVE) {
    const m = re.exec(text);
    const when = m?.groups?.when;
    if (!m?.groups?.ref || !when) continue;
    const due = takeDue(when, clock);
    if (!due || !DUE_LEFTOVER.test(due.rest.replace(/[.!?]+$/u, "").trim())) continue;
    const ref = parseRef(m.groups.ref);
    if (ref) return { kind: "update", ref, due: { string: due.phrase } };
  }
  return undefined;
}

/** A new task's priority, labels, list and due date, out of its title. */
function readAdd(cleaned: string, clock: Clock, bangs: Bangs): Intent | undefined {
  const pulled = pullMarks(cleaned);
  // "!!" at either end: cleanMessage drops it with the other punctuation.
  const marks =
    bangs.lead || (bangs.tail && !pulled.priority)
      ? { ...pulled, priority: pulled.priority ?? "high", marked: pulled.marked || bangs.lead }
      : pulled;
  const plain = parseMessage(marks.text);
  let due = takeDue(marks.text, clock);
  // A date in the description stays there: "…, details: in March".
  if (
    due &&
    plain.kind === "add" &&
    plain.description?.includes(due.phrase) &&
    !plain.title?.includes(due.phrase)
  ) {
    due = undefined;
  }
  const core = due?.rest ?? marks.text;
  let base = parseMessage(core);
  if ((base.kind !== "add" || !base.title) && marks.marked && base.kind === "chat") {
    // "urgent: fix the sink", "buy milk #errands": the marks say it is a new task.
    base = { kind: "add", ...splitTitle(core) };
  }
  const named = base.kind === "chat" ? takeList(core) : undefined;
  const verb =
    named && /^(?:put|stick|place|add|throw|pop|include|write|note|save|jot)\s+/iu.exec(named.rest);
  if (named && verb) {
    // "put 'email Bob' on my work list": the grammar knows only "my list", "my to-do list".
    const inner = splitTitle(named.rest.slice(verb[0].length));
    if (inner.title) base = { kind: "add", ...inner };
  }
  if (
    (base.kind !== "add" || !base.title) &&
    due &&
    base.kind === "chat" &&
    (bareTask(core) || (/^\p{L}{3,}$/u.test(core) && repeats(due.phrase, clock)))
  ) {
    // "call the bank tomorrow", "schedule a call with Ana next Tuesday": a dated
    // imperative is a new task.
    base = { kind: "add", ...splitTitle(core) };
  }
  if (base.kind !== "add" || !base.title) {
    if (!due && !marks.priority && !marks.labels) return undefined;
    if (plain.kind !== "add" || !plain.title) return undefined;
    // The date words were the request's frame ("tomorrow: call mom" → ": call mom").
    return { ...plain, ...extras(marks, undefined) };
  }
  const list = takeList(core);
  const inList = list ? parseMessage(list.rest) : undefined;
  // The grammar may have dropped "on the shopping list" from the title already.
  const listTitle =
    inList?.kind === "add" && inList.title
      ? inList.title
      : list && !base.title.toLowerCase().includes(`${list.name.toLowerCase()} list`)
        ? base.title
        : undefined;
  const listed =
    list && listTitle
      ? { name: list.name, title: listTitle, fallbackTitle: base.title }
      : undefined;
  return {
    kind: "add",
    title: listed?.title ?? base.title,
    ...(base.description ? { description: base.description } : {}),
    ...extras(marks, due?.phrase),
    ...(listed ? { list: { name: listed.name, fallbackTitle: listed.fallbackTitle } } : {}),
  };
}

const NOT_A_COMMAND =
  /^(?:i|i'm|i've|we|you|he|she|they|it|it's|did|do|does|have|has|had|is|are|was|were|what|which|when|where|who|how|why|can|could|should|would|will|my|the|a|an|this|that|there|nothing|no|not|don't|yes|yeah|ok|okay|so|and|but|good|hi|hello|hey|thanks|thank|please|sorry|bye|see|have a|enjoy)\b/iu;

/** Two words or more that start like a command, not a question or a report. */
function bareTask(text: string): boolean {
  return /\S\s+\S/u.test(text) && !NOT_A_COMMAND.test(text) && !/\?$/u.test(text);
}

interface Bangs {
  lead: boolean;
  tail: boolean;
}

function extras(marks: { priority?: Priority; labels?: string[] }, due: string | undefined) {
  return {
    ...(due ? { due: { string: due } } : {}),
    ...(marks.priority ? { priority: marks.priority } : {}),
    ...(marks.labels ? { labels: marks.labels } : {}),
  };
}

const MEMO = new Map<string, Intent>();
const MEMO_MAX = 256;

/** What the user wants, with the task model, read against the user's clock. */
export function understandTask(message: string, clock: Clock): Intent {
  const key = `${clock.timezone}|${clock.now.toISOString().slice(0, 16)}|${message}`;
  const known = MEMO.get(key);
  if (known) return known;
  const intent = read(message, clock);
  if (message.length <= MAX_REQUEST_CHARS) {
    if (MEMO.size >= MEMO_MAX) {
      const oldest = MEMO.keys().next().value;
      if (oldest !== undefined) MEMO.delete(oldest);
    }
    MEMO.set(key, intent);
  }
  return intent;
}

function read(raw: string, clock: Clock): Intent {
  if (cleanMessage(raw).length > MAX_REQUEST_CHARS) return parseMessage(raw);
  // "delte the car task", "add a tsak to …": the verb and "task" are read through typos.
  // The message as sent when nothing was corrected: the parser's memo is keyed by it.
  const fixed = fixTypos(cleanMessage(raw));
  const message = fixed === cleanMessage(raw) ? raw : fixed;
  const cleaned = cleanMessage(message);
  const text = stripFiller(cleaned);
  const base = parseMessage(message);
  if (base.kind === "chat" && base.topic !== "unknown") return base;
  const undo = readUndo(text);
  if (undo) return undo;
  const understood = readRequest(raw, cleaned, text, base, clock);
  // A question or a negation never acts: it is answered from the list (issue 13).
  const negation = readNegation(text, understood);
  if (negation) return negation;
  if (isQuestion(cleaned) && understood.kind !== "list" && understood.kind !== "add") {
    return readQuestion(text, understood) ?? understood;
  }
  // "Did I finish the quarterly report?" asks about one task, not for the completed list.
  if (understood.kind === "list" && !understood.view) return askedAbout(text) ?? understood;
  return understood;
}

function readRequest(
  /** The message as sent: its "!!" priority marks, which cleaning drops. */
  message: string,
  cleaned: string,
  text: string,
  base: Intent,
  clock: Clock,
): Intent {
  return (
    readView(text, /\?$/u.test(cleaned)) ??
    readChange(text, clock) ??
    readAdd(cleaned, clock, {
      lead: /^\s*!{2,3}(?!!)/u.test(message),
      tail: /[^!]!{2,3}\s*$/u.test(message),
    }) ??
    base
  );
}
