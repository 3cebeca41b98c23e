/**
 * Turning captured phrases into data: a task reference ("the meeting task", "#3",
 * "tasks two and four") into a Ref, and the user's words for a new task into a title
 * and optional description.
 */
import { MAX_STRIP_PASSES, trimEnd } from "./bounds.ts";
import { MACROS } from "./grammar.ts";
import { lemmas, numbersIn } from "./language.ts";
import {
  DESCRIPTION_SPLITS,
  EMPTY_TITLE,
  LIST_NOUNS,
  NUMBER_FILLER,
  STATUS_WORDS,
  TITLE_TRAILERS,
} from "./lexicon.ts";
import type { Ref, Status } from "./types.ts";

/** Expand {macros} (recursively) into a regular-expression source. */
export function expand(pattern: string): string {
  let out = pattern;
  for (let i = 0; i < 5 && out.includes("{"); i++) {
    out = out.replace(/\{(\w+)\}/g, (whole, name: string) => MACROS[name] ?? whole);
  }
  return out;
}

/** A whole-string, case-insensitive regex from a grammar pattern. */
export function whole(pattern: string): RegExp {
  return new RegExp(`^(?:${expand(pattern)})$`, "iu");
}

const QUOTES: Array<[string, string]> = [
  ['"', '"'],
  ["'", "'"],
  ["`", "`"],
  ["«", "»"],
];

/** Remove one pair of quotes wrapping the whole phrase (but not a lone apostrophe). */
export function unquote(text: string): string {
  const t = text.trim();
  for (const [open, close] of QUOTES) {
    if (t.length >= 2 && t.startsWith(open) && t.endsWith(close)) {
      const inner = t.slice(open.length, -close.length);
      if (!inner.includes(open) || open !== close) return inner.trim();
    }
  }
  return t;
}

// "(?:\s*,)?\s+", not "\s*,?\s+": two adjacent space runs backtrack cubically on long ones.
const TRAILERS = TITLE_TRAILERS.map((p) => new RegExp(`(?:\\s*,)?\\s+(?:${expand(p)})$`, "iu"));
/** Closing punctuation of a phrase, dropped by a backward scan (bounds.ts). */
const endPunctuation = (text: string): string => trimEnd(text, /[.!?,;:]/u);
const SPLITS = DESCRIPTION_SPLITS.map((p) => new RegExp(`^${p}$`, "iu"));

function tidy(text: string): string {
  let out = endPunctuation(text.trim());
  for (let changed = true, pass = 0; changed && pass < MAX_STRIP_PASSES; pass++) {
    changed = false;
    for (const trailer of TRAILERS) {
      const next = out.replace(trailer, "");
      if (next !== out) {
        out = next.trim();
        changed = true;
      }
    }
  }
  return unquote(endPunctuation(out));
}

/**
 * Split the user's words for a task into title and description, keeping their wording:
 * "'Book dentist' with description 'before Friday'" → Book dentist / before Friday.
 * Returns no title when the words are only "a task", "something", ….
 */
export function splitTitle(text: string): { title?: string; description?: string } {
  let title = text.trim();
  let description: string | undefined;
  // A fully quoted title is taken as-is, whatever words it contains.
  const quoted = /^(["'`«])(.+?)(["'`»])(?:\s*[,;:-]?\s*(.*))?$/u.exec(title);
  for (const split of SPLITS) {
    const m = split.exec(title);
    if (
      m?.groups?.title &&
      m.groups.desc &&
      !(quoted && m.groups.title.length < (quoted[2]?.length ?? 0))
    ) {
      title = m.groups.title;
      description = tidy(m.groups.desc);
      break;
    }
  }
  title = tidy(
    title.replace(
      /^(?:to|that|about|really|definitely|also|still|seriously|probably)\s+(?=\S)/iu,
      "",
    ),
  );
  if (EMPTY_TITLE.test(title)) return description ? { description } : {};
  return description ? { title, description } : { title };
}

const STATUS_RES: Array<[Status, RegExp]> = STATUS_WORDS.map(([s, p]) => [s, new RegExp(p, "iu")]);
const LIST_NOUN_RE = new RegExp(LIST_NOUNS, "giu");

/** Which tasks a list request (or an "all …" reference) is about. */
export function statusOf(text: string, fallback: Status = "all"): Status {
  const t = text.toLowerCase().replace(LIST_NOUN_RE, " list ");
  for (const [status, re] of STATUS_RES) if (re.test(t)) return status;
  return fallback;
}

const REF_LEADING =
  /^(?:with|on|about|for|of|the|my|that|this|our|your|a|an|task|todo|to-do|item|entry|reminder|one|called|named|titled|saying|that says|regarding|re|is|:|-)\s+/iu;
// Also a trailing ", delete it": "I don't need the meeting task anymore, delete it".
const REF_TRAILING =
  /,?\s+(?:(?:so |just |please )?(?:delete|remove|drop|cancel|scrap|trash|bin|get rid of|complete|finish|mark) (?:it|that|this|them)(?: off| as done)?|(?:from|off|out of|on|in) (?:my |the )?(?:task |to-?do |todo )?(?:list|tasks)|(?:is|are|isn't|aren't|is not|are not|was|wasn't) (?:no longer |not )?(?:needed|necessary|required|relevant|happening|wanted)|anymore|any more|please|for me|as well|too|now|already|after all|then|again|task|one|item|todo|entry)$/iu;
const PRONOUN =
  /^(?:it|that|this|them|those|these|that one|this one|the one|a task|an item|a new task|some task|something|one of them|which one)$/iu;
const ALL_REF =
  /^(?:all|every|everything|each|the whole|whole|entire)\b|^(?:my|the) (?:tasks|list|whole list|to-?do list|todo list)$/iu;
/** "completed tasks", "the finished ones": every task of a status. */
const STATUS_REF =
  /^(?:all )?(?:of )?(?:the |my )?(?:completed|complete|finished|done|checked off|pending|open|incomplete|unfinished|remaining|outstanding) (?:tasks|ones|items|todos|to-?dos)$/iu;
const LAST_REF =
  /^(?:the )?(?:last|latest|newest|most recent|final|bottom|last added)(?: (?:task|one|item|entry|todo))?(?: (?:i|you) (?:added|created|made))?$/iu;

/**
 * Read a task reference. Numbers ("task 3", "#3", "task three", "the third one",
 * "tasks 2 and 4") become a numbers Ref; "all …"/"everything" an all Ref; "the last one"
 * a last Ref; anything else is matched against titles by words. Pronouns and indefinite
 * phrases ("a task") are no reference at all: the caller must ask which task.
 */
export function parseRef(raw: string): Ref | undefined {
  let text = unquote(endPunctuation(raw.trim()));
  if (PRONOUN.test(text)) return undefined;
  for (let prev = "", pass = 0; prev !== text && pass < MAX_STRIP_PASSES; pass++) {
    prev = text;
    text = unquote(text.replace(REF_LEADING, "").replace(REF_TRAILING, "").trim());
  }
  if (text === "" || PRONOUN.test(text)) return undefined;
  if (/^(?:a|an|new|another|some)\s/iu.test(raw.trim())) return undefined;
  if (LAST_REF.test(text)) return { kind: "last" };
  if (ALL_REF.test(text) || STATUS_REF.test(text)) return { kind: "all", status: statusOf(text) };
  const { values, rest } = numbersIn(text);
  const leftover = rest
    .toLowerCase()
    .split(/[\s,&]+/u)
    .filter((w) => w !== "" && !NUMBER_FILLER.has(w.replace(/^#/u, "")));
  if (values.length > 0 && leftover.length === 0) return { kind: "numbers", numbers: values };
  if (lemmas(text).length === 0) return undefined;
  return { kind: "words", text };
}
