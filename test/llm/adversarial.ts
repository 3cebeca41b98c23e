/**
 * Messages built to make the offline assistant's parser slow (issue 17 item 1), shared by
 * the property test (test/llm/offline-adversarial.test.ts) and the bystander-latency test
 * (test/security/bystander.test.ts). No tests of its own.
 */
import { MAX_REQUEST_CHARS } from "../../src/llm/offline/bounds.ts";

/** The longest chat message the API accepts (MESSAGE_MAX in src/chat/chat.routes.ts). */
export const MESSAGE_LIMIT = 8000;

/** `prefix` then `unit` repeated, cut to `length` characters. */
export const upTo = (length: number, unit: string, prefix = ""): string =>
  (prefix + unit.repeat(Math.ceil(length / unit.length))).slice(0, length);

/** "complete task 1 2 3 4 5 …", 7,934 characters: took 35.9 s before the fix. */
export const REPORTED_NUMBERS =
  `complete task ${Array.from({ length: 2000 }, (_, i) => i + 1).join(" ")}`.slice(0, 7934);

/** `add "a"b"a"b…`, 8,000 characters: took 7.4 s before the fix. */
export const REPORTED_QUOTES = upTo(MESSAGE_LIMIT, '"a"b', "add ");

/** [prefix, repeated unit]: the slowest shapes found while fixing the two reports. */
const SHAPES: Array<[string, string]> = [
  ["delete ", "#1 #2 "],
  ["delete task ", "1, "],
  ["complete task ", "1 2 "],
  ["", "add delete complete rename task 1 to 2 and 3 "],
  ["delete task ", "third fourth "],
  ["remind me ", "at xat "],
  ["add milk", ". "],
  ["I paid ", "june 5 "],
  ["I paid ", "a! "],
  ["", "é😀ß "],
  ["add ", "to my list "],
  ["rename task 1 to ", "please "],
  // The task model (issue 12): date words, marks, labels, lists and views.
  ["add call mom ", "tomorrow at 5pm "],
  ["remind me to ", "on december 24 in 3 days "],
  ["move task 1 to ", "friday "],
  ["add ", "#a "],
  // "#a,#a,…" split exponentially many ways in a label pattern with \S+ (found by the fuzzer).
  ["add ", "#a,"],
  ["remove the ", "#a, "],
  ["add x ", "!! urgent: "],
  ["add ", "'x don't "],
  ["add eggs ", "to my shopping list "],
  ["what did I finish ", "this week "],
  ["what's due ", "today overdue "],
  ["reopen ", "task 1 not done "],
];

/**
 * The two reported messages, then each shape at the API's limit and at the longest
 * request the assistant still parses (MAX_REQUEST_CHARS), where the parser does most work.
 */
export const WORST_CASE_MESSAGES: string[] = [
  REPORTED_NUMBERS,
  REPORTED_QUOTES,
  ...SHAPES.map(([prefix, unit]) => upTo(MESSAGE_LIMIT, unit, prefix)),
  ...SHAPES.map(([prefix, unit]) => upTo(MAX_REQUEST_CHARS, unit, prefix)),
];
