/**
 * How much work one message may cost. The offline assistant runs on the event loop, so a
 * slow parse stalls every user of the server (issue 17: a 7.9k-char "complete task 1 2 3 …"
 * took 36 s). compromise is superlinear on some inputs (its punctuation repair, number
 * phrases, many short sentences), and a loop that strips one word per pass over the whole
 * string is quadratic. So each stage reads a bounded amount, and everything else is a
 * single linear pass. See README.md ("Bounded work").
 */

/** Longer requests are not parsed; the assistant asks for a shorter one. */
export const MAX_REQUEST_CHARS = 1000;

/** One request changes at most this many tasks ("delete tasks 1 2 3 …" is one tool call each). */
export const MAX_TASKS_PER_REQUEST = 50;

/** Pages of list_tasks (of LIST_PAGE_SIZE tasks) one request reads to find a task or a period. */
export const MAX_LIST_PAGES = 5;

/** Tasks asked of list_tasks per page (the tool's maximum). */
export const LIST_PAGE_SIZE = 100;

/** Search words sent as list_tasks `q` (the tool's SEARCH_MAX). */
export const MAX_SEARCH_CHARS = 200;

/** An answer streams in at most this many pieces, however long it is. */
export const MAX_STREAM_CHUNKS = 200;

/** "More than one task matches": at most this many are named. */
export const MAX_CANDIDATES_NAMED = 10;

/** compromise never sees more than this much text in one call; words after it are stemmed. */
export const NLP_MAX_CHARS = 80;

/** Characters of task titles compromise reads for one word reference (about 50 short titles). */
export const TITLES_NLP_BUDGET = 1000;

/** A number phrase ("tasks two, five and nine") is read by compromise only up to this many words. */
export const NUMBER_WORDS_MAX = 16;

/** Longer "words" are not English words: no verb, gerund or state word is looked up for them. */
export const WORD_MAX_CHARS = 40;

/** Passes of a strip-one-piece-per-pass loop (fillers, trailers); real messages need two or three. */
export const MAX_STRIP_PASSES = 12;

/** The start of `text`, at most `max` characters, cut at a space when there is one. */
export function lead(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  const space = cut.lastIndexOf(" ");
  return space > 0 ? cut.slice(0, space) : cut;
}

/**
 * `text` without the trailing characters that `char` (a one-character class such as
 * /[.!?]/u) accepts: one backward scan, where `replace(/[.!?]+$/u, "")` is quadratic on a
 * long run of such characters that does not reach the end.
 */
export function trimEnd(text: string, char: RegExp): string {
  let end = text.length;
  while (end > 0 && char.test(text.charAt(end - 1))) end--;
  return text.slice(0, end);
}

/** `text` without the leading characters that `char` accepts (one forward scan). */
export function trimStart(text: string, char: RegExp): string {
  let start = 0;
  while (start < text.length && char.test(text.charAt(start))) start++;
  return text.slice(start);
}
