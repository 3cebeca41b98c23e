/**
 * Messages built to make the offline assistant's parser slow (issue 17 item 1), shared by
 * the property test (test/llm/offline-adversarial.test.ts) and the bystander-latency test
 * (test/security/bystander.test.ts). No tests of its own.
 */

/** The longest chat message the API accepts (MESSAGE_MAX in src/chat/chat.routes.ts). */
export const MESSAGE_LIMIT = 8000;

const upTo = (length: number, unit: string, prefix = ""): string =>
  (prefix + unit.repeat(Math.ceil(length / unit.length))).slice(0, length);

/** "complete task 1 2 3 4 5 …", 7,934 characters: took 35.9 s before the fix. */
export const REPORTED_NUMBERS =
  `complete task ${Array.from({ length: 2000 }, (_, i) => i + 1).join(" ")}`.slice(0, 7934);

/** `add "a"b"a"b…`, 8,000 characters: took 7.4 s before the fix. */
export const REPORTED_QUOTES = upTo(MESSAGE_LIMIT, '"a"b', "add ");

/** The two reported messages, then the slowest others found while fixing them. */
export const WORST_CASE_MESSAGES: string[] = [
  REPORTED_NUMBERS,
  REPORTED_QUOTES,
  upTo(MESSAGE_LIMIT, "#1 #2 ", "delete "),
  upTo(MESSAGE_LIMIT, "1, ", "delete task "),
  upTo(MESSAGE_LIMIT, "add delete complete rename task 1 to 2 and 3 "),
  upTo(MESSAGE_LIMIT, "third fourth ", "delete task "),
  upTo(MESSAGE_LIMIT, "at xat ", "remind me "),
  upTo(MESSAGE_LIMIT, ". ", "add milk"),
];
