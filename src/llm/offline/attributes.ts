/**
 * The task model in a message: priority marks ("urgent:", "high priority", "!!"), labels
 * ("#errands"), a named list ("to my shopping list") and the due-date words, taken out of
 * the words that become the title. Dates come from the same library the server parses
 * with (dates.ts); a quoted title is never searched for one.
 */
import { trimStart } from "./bounds.ts";
import type { Clock } from "./clock.ts";
import { findDuePhrase } from "./dates.ts";
import type { Priority } from "./types.ts";
import { GENERIC_LIST } from "./views.ts";

const LEVEL: Record<string, Priority> = {
  urgent: "high",
  asap: "high",
  important: "high",
  top: "high",
  high: "high",
  p1: "high",
  "!!": "high",
  "!!!": "high",
  medium: "medium",
  normal: "medium",
  p2: "medium",
  low: "low",
  p3: "low",
};

function levelOf(word: string): Priority | undefined {
  return LEVEL[word.toLowerCase().replace(/[\s-]*priority$|^priority[\s:-]*/u, "")];
}

const PREFIX =
  /^(?<p>(?:urgent|asap|important)(?=\s*[:!,—–-])|(?:high|top|low|medium)[- ]priority|priority (?:high|low|medium)|p[123](?=\s*[:,—–-])|!{2,3})\s*[:!,—–-]*\s*/iu;
const SUFFIX =
  /(?:\s*,|\s+[—–-]|\s+(?:with|as|at|it's|its|is|marked|mark it|flag it|make it))?\s+\(?(?:a )?(?<p>(?:high|top|low|medium)[- ]priority|priority (?:high|low|medium)|urgent|asap|!{2,3}|p[123])\)?[.!]*$/iu;
const ADJECTIVE =
  /\b(?<p>urgent|important|high[- ]priority|low[- ]priority|top[- ]priority)(?= (?:task|todo|to-?do|item|reminder)\b)\s*/iu;
const LABEL = /(?:^|\s)#(?<l>\p{L}[\p{L}\p{N}_-]{0,39})(?=$|[\s,.!?;:])/gu;

export interface Marks {
  text: string;
  /** A leading priority mark or a label: the message is a new task even without a verb. */
  marked?: boolean;
  priority?: Priority;
  labels?: string[];
}

/** Priority and labels out of the message; the rest is parsed as before. */
export function pullMarks(text: string): Marks {
  let out = text;
  let priority: Priority | undefined;
  const prefix = PREFIX.exec(out);
  if (prefix?.groups?.p) {
    priority = levelOf(prefix.groups.p);
    out = out.slice(prefix[0].length);
  }
  const suffix = SUFFIX.exec(out);
  if (!priority && suffix?.groups?.p && suffix.index > 0) {
    priority = levelOf(suffix.groups.p);
    out = out.slice(0, suffix.index);
  }
  const adjective = ADJECTIVE.exec(out);
  if (!priority && adjective?.groups?.p) {
    priority = levelOf(adjective.groups.p);
    out = out.slice(0, adjective.index) + out.slice(adjective.index + adjective[0].length);
  }
  const labels = [...out.matchAll(LABEL)].map((m) => (m.groups?.l ?? "").toLowerCase());
  if (labels.length > 0) out = out.replace(LABEL, " ");
  out = out.replace(/\s+/gu, " ").trim();
  return {
    text: out,
    ...(prefix?.groups?.p || labels.length > 0 ? { marked: true } : {}),
    ...(priority ? { priority } : {}),
    // The tools take at most 20 labels (LABELS_MAX); more is not a request anyone makes.
    ...(labels.length > 0 ? { labels: [...new Set(labels)].sort().slice(0, 20) } : {}),
  };
}

/**
 * Quoted stretches replaced by letters of the same length, so no date is found in them;
 * apostrophes inside words ("don't … it's") become ’ so they are not read as quotes.
 */
export function maskQuotes(text: string): string {
  return text
    .replace(/(?<=[\p{L}\p{N}])'(?=[\p{L}\p{N}])/gu, "\u2019")
    .replace(/(["“«`])[^"”»`]*(["”»`])|(?<![\p{L}\p{N}])'[^']*'(?![\p{L}\p{N}])/gu, (m) =>
      "q".repeat(m.length),
    );
}

// A preposition left hanging once the date words are gone: "call mom on", "pay rent due".
const DANGLING = /(?:\s+|^)(?:on|at|by|due|for|before|until|till|from|in|this|next|,)\s*$/iu;

export interface DueFound {
  phrase: string;
  /** The text without the date words. */
  rest: string;
}

/** The date words of a message, if a date reads as one outside quotes. */
export function takeDue(text: string, clock: Clock): DueFound | undefined {
  const found = findDuePhrase(maskQuotes(text), clock.timezone, clock.now);
  if (!found || found.phrase.trim() === "") return undefined;
  const { index, phrase } = found;
  const after = text.slice(index + phrase.length);
  // "Monday's meeting", "the 5th wave": a date that is part of a name, not a due date.
  if (
    /^'s\b|^\s*(?:wave|element|avenue|street|floor|grade|edition|anniversary|birthday)\b/iu.test(
      after,
    )
  ) {
    return undefined;
  }
  if (/^\d+(?:st|nd|rd|th)?$/iu.test(phrase.trim())) return undefined;
  const before = text.slice(0, index);
  let head = before;
  for (let pass = 0; pass < 3 && DANGLING.test(head); pass++) head = head.replace(DANGLING, "");
  const rest = trimStart(
    `${head} ${after.replace(/^\s*[,.]\s*/u, " ")}`.replace(/\s+/gu, " ").trim(),
    /[\s:;,.—–-]/u,
  );
  return { phrase: phrase.trim(), rest };
}

export interface ListFound {
  name: string;
  rest: string;
}

const NAMED_LIST =
  /\s+(?:to|on|onto|in|into|under)\s+(?:my |the |our )?(?<name>[\p{L}\p{N}'][\p{L}\p{N}' -]{0,30}?) list(?=$|[\s,.!?])/iu;

/** "… to my shopping list": a list by name (not "my list", "my to-do list"). */
export function takeList(text: string): ListFound | undefined {
  const m = NAMED_LIST.exec(text);
  const name = m?.groups?.name?.trim();
  if (!m || !name || GENERIC_LIST.test(name)) return undefined;
  const rest = `${text.slice(0, m.index)} ${text.slice(m.index + m[0].length)}`
    .replace(/\s+/gu, " ")
    .trim();
  return { name, rest };
}
