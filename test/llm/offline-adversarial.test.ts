/**
 * Issue 17 item 1: the offline assistant runs on the event loop, so every message, of any
 * content up to the API's limit, must be answered in milliseconds. Generated adversarial
 * messages (repeated numbers, quotes, punctuation, unicode, very long words, mixed verbs,
 * up to 8000 characters) go through streamText's tool loop, as the app drives the model,
 * and each turn is timed. The two reported messages are fixed cases.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import type { ModelMessage } from "ai";
import fc from "fast-check";
import { MAX_REQUEST_CHARS, MAX_TASKS_PER_REQUEST } from "../../src/llm/offline/bounds.ts";
import { cleanMessage } from "../../src/llm/offline/parse.ts";
import { askChange, askTitle, askWhich, CHAT, tooMany } from "../../src/llm/offline/replies.ts";
import {
  MESSAGE_LIMIT,
  REPORTED_NUMBERS,
  REPORTED_QUOTES,
  upTo,
  WORST_CASE_MESSAGES,
} from "./adversarial.ts";
import { type Outcome, type Row, seed, turn } from "./offline-harness.test.ts";

/**
 * One turn, however hostile the message, answers within this (on a slow shared 2-core box).
 * The reported attack took 35.9 s. Warm, the slowest generated turn measures 60–130 ms of
 * the thread's CPU (mean 9–13 ms; `.prof`-style sampling of 600 messages, 2026-11-30).
 * The 204 ms and 402 ms turns full CI runs saw were not the parser's steady state: the
 * first message down a new path pays V8's compilation of the parser's large regexes and
 * compromise's match nets (150–360 ms once per process), and `process.cpuUsage()` also
 * counted the collector's and the compiler's background threads. So turns are measured
 * with `process.threadCpuUsage()`, the `before` hook walks every path once, and a turn over
 * budget is run twice more and judged by its fastest run: a blow-up in the parser is slow
 * every time, a pause is not.
 */
const TURN_BUDGET_MS = 200;
const RUNS = 300;

const TASKS = [
  { title: "Buy groceries" },
  { title: "Call mom", completed: true },
  { title: "Team meeting prep" },
  { title: "Pay the electricity bill" },
];

/**
 * A turn and the CPU time it cost this thread. CPU time, not wall time: the machine is
 * shared, and a descheduled test is not a slow parser. (The bystander test in
 * test/security/ measures wall time, as another user sees it.) Over the budget, the same
 * turn runs twice more on fresh rows and the fastest run counts (see TURN_BUDGET_MS).
 */
async function timed(
  message: string,
  rows: Row[] = seed(TASKS),
  history: ModelMessage[] = [],
  budget = TURN_BUDGET_MS,
): Promise<{ ms: number; outcome: Outcome }> {
  const once = async (on: Row[]) => {
    const before = process.threadCpuUsage();
    const outcome = await turn(on, message, history);
    const used = process.threadCpuUsage(before);
    return { ms: (used.user + used.system) / 1000, outcome };
  };
  const snapshot = structuredClone(rows);
  const first = await once(rows);
  let ms = first.ms;
  for (let retry = 0; retry < 2 && ms >= budget; retry++) {
    ms = Math.min(ms, (await once(structuredClone(snapshot))).ms);
  }
  return { ms, outcome: first.outcome };
}

const show = (message: string) =>
  `${message.length} chars: ${JSON.stringify(message.slice(0, 60))}…`;

// --- generators ---------------------------------------------------------------------------

const number = fc.oneof(
  fc.nat({ max: 3000 }).map(String),
  fc.nat({ max: 99 }).map((n) => `#${n}`),
  fc.constantFrom("1st", "2nd", "3rd", "4th", "1,000", "3.5", "-2", "$5", "10%", "1/2"),
);
const word = fc.constantFrom(
  ...(
    "add delete complete rename mark remind me to task tasks the done as with description " +
    "please thanks I i've paid bought picked up and or one three third first twenty hundred " +
    "list show my what's is are at on it called new note that should be it's not finished " +
    "adding walked june tomorrow all everything last " +
    "due today overdue urgent high priority !! #errands reopen friday next week in 3 days at 5pm"
  ).split(" "),
);
const punctuation = fc.constantFrom(
  ...[".", ",", "!", "?", ";", ":", "-", "—", '"', "'", "`", "«", "»", "(", ")", "#", "&"],
  ...["/", "...", "\u2019", "\u201c", "\u201d", "\n", "\t", "  ", "✅", ":)", "=", "*"],
);
const unicode = fc.string({ unit: "grapheme", minLength: 1, maxLength: 4 });
const binary = fc.string({ unit: "binary", minLength: 1, maxLength: 6 });
// Built by repetition: generating thousands of characters one by one would leave garbage
// for the collector to sweep during the timed turns.
const longWord = fc
  .tuple(
    fc.string({ unit: fc.constantFrom("a", "e", "b", "d", "s", "é"), minLength: 1, maxLength: 6 }),
    fc.integer({ min: 40, max: 3000 }),
    fc.constantFrom("", "ing", "ed", "s"),
  )
  .map(([letters, n, suffix]) => upTo(n, letters) + suffix);

const piece = fc.oneof(
  { weight: 3, arbitrary: number },
  { weight: 4, arbitrary: word },
  { weight: 3, arbitrary: punctuation },
  { weight: 1, arbitrary: unicode },
  { weight: 1, arbitrary: binary },
  { weight: 1, arbitrary: longWord },
);
/** A short run of pieces, repeated to fill the message. */
const unit = fc
  .array(fc.tuple(piece, fc.constantFrom(" ", " ", "", ", ")), { minLength: 1, maxLength: 8 })
  .map((parts) => parts.map(([p, sep]) => p + sep).join(""));
const prefix = fc.constantFrom(
  "",
  "add ",
  "delete ",
  "complete task ",
  "mark ",
  "rename task 1 to ",
  "remind me ",
  "I paid ",
  "please ",
  "what's ",
);
/** Lengths crowd the edges: short, around MAX_REQUEST_CHARS, and up to the API's limit. */
const length = fc.oneof(
  fc.integer({ min: 1, max: 300 }),
  fc.integer({ min: MAX_REQUEST_CHARS - 100, max: MAX_REQUEST_CHARS + 100 }),
  fc.integer({ min: MAX_REQUEST_CHARS, max: MESSAGE_LIMIT }),
  fc.constantFrom(MAX_REQUEST_CHARS, MESSAGE_LIMIT),
);
const message = fc
  .tuple(prefix, unit, length)
  .map(([p, u, n]) => upTo(n, u, p))
  .filter((m) => m.trim() !== "");

/** An earlier message and the question the assistant asked about it. */
const earlier = fc.tuple(
  fc.oneof(message, fc.constantFrom("add a task", "delete a task", "rename task 2")),
  fc.constantFrom(askTitle(), askWhich("delete"), askChange("task 2")),
);

/** One message down each of the parser's paths, to warm them before anything is timed. */
const WARM_UP = [
  "delete the meeting task",
  "I paid the bill",
  "add buy milk tomorrow at 5pm high priority #errands to Shopping",
  "pay rent on the 1st of every month",
  "remind me to call mom every monday at 9am",
  "remind me ✅ “, ✅ “",
  "complete tasks 1 and 2",
  "rename task 1 to Buy bread",
  "change task 3 due to next friday",
  "what's pending?",
  "show my overdue tasks",
  "what did I finish this week?",
  "reopen task 2",
  "don't delete anything",
  "undo that",
  "hello",
  "thanks!",
];

// --- tests --------------------------------------------------------------------------------

describe("offline assistant: bounded work per message", () => {
  before(async () => {
    // The first turn down each path of a process compiles the parser's regexes and
    // compromise's lexicon and match nets: walk the paths once, by hand and by a sample of
    // the generator (a different one from the property's runs).
    for (const say of WARM_UP) await turn(seed(TASKS), say);
    for (const ask of [askTitle(), askWhich("delete"), askChange("task 2")]) {
      const history: ModelMessage[] = [
        { role: "user", content: "add a task" },
        { role: "assistant", content: ask },
      ];
      await turn(seed(TASKS), "remind me to call the bank tomorrow at 5pm", history);
      await turn(seed(TASKS), "the second one", history);
    }
    for (const [say, before] of fc.sample(fc.tuple(message, fc.option(earlier)), {
      numRuns: 60,
      seed: 20261130,
    })) {
      const history: ModelMessage[] = before
        ? [
            { role: "user", content: before[0] },
            { role: "assistant", content: before[1] },
          ]
        : [];
      await turn(seed(TASKS), say, history);
    }
  });

  test("the reported 'complete task 1 2 3 …' (7,934 chars) is answered at once", async () => {
    const { ms, outcome } = await timed(REPORTED_NUMBERS);
    assert.ok(ms < TURN_BUDGET_MS, `${Math.round(ms)} ms`);
    assert.equal(outcome.text, CHAT.too_long);
    assert.deepEqual(outcome.calls, []);
  });

  test('the reported \'add "a"b"a"b…\' (8,000 chars) is answered at once', async () => {
    const { ms, outcome } = await timed(REPORTED_QUOTES);
    assert.ok(ms < TURN_BUDGET_MS, `${Math.round(ms)} ms`);
    assert.equal(outcome.text, CHAT.too_long);
    assert.deepEqual(outcome.calls, []);
  });

  test("every known worst case, at the API's limit and at the parser's, within the budget", async () => {
    for (const m of WORST_CASE_MESSAGES) {
      const { ms } = await timed(m);
      assert.ok(ms < TURN_BUDGET_MS, `${Math.round(ms)} ms for ${show(m)}`);
    }
  });

  test("a request just over the limit asks for a shorter one; one at the limit is read", async () => {
    const atLimit = upTo(MAX_REQUEST_CHARS, "x", "add call the bank ");
    assert.equal((await timed(`${atLimit}x`)).outcome.text, CHAT.too_long);
    const read = await timed(atLimit);
    assert.equal(read.outcome.calls[0]?.name, "add_task");
  });

  test(`more than ${MAX_TASKS_PER_REQUEST} tasks in one request are refused, not acted on`, async () => {
    const many = Array.from({ length: MAX_TASKS_PER_REQUEST + 1 }, (_, i) => i + 1).join(" ");
    const { outcome } = await timed(`delete tasks ${many}`);
    assert.equal(outcome.text, tooMany("delete"));
    assert.deepEqual(outcome.calls, []);
    const all = seed(
      Array.from({ length: MAX_TASKS_PER_REQUEST + 1 }, (_, i) => ({ title: `T${i}` })),
    );
    const everything = await timed("delete everything", all);
    assert.equal(everything.outcome.text, tooMany("delete"));
    assert.equal(all.length, MAX_TASKS_PER_REQUEST + 1, "nothing was deleted");
  });

  test("a follow-up answer made of long runs of spaces is read as cleaned text", async () => {
    const history: ModelMessage[] = [
      { role: "user", content: "add a task" },
      { role: "assistant", content: askTitle() },
    ];
    const spaced = `buy${" ".repeat(MESSAGE_LIMIT - 20)}milk with description x`;
    const { ms, outcome } = await timed(spaced, seed(TASKS), history);
    assert.ok(ms < TURN_BUDGET_MS, `${Math.round(ms)} ms`);
    assert.deepEqual(outcome.calls[0]?.input, { title: "buy milk", description: "x" });
  });

  test("word references against 1000 long, hostile titles stay within the budget", async () => {
    const rows = seed(
      Array.from({ length: 1000 }, (_, i) => ({ title: upTo(200, "a. 1, june 5! ", `${i} `) })),
    );
    // A short reference, and one of some 150 words, each compared with every title word.
    const long = upTo(MAX_REQUEST_CHARS, "june trip plan ", "delete the ");
    for (const say of ["delete the june task", long]) {
      const { ms, outcome } = await timed(say, rows, [], TURN_BUDGET_MS * 2);
      assert.ok(ms < TURN_BUDGET_MS * 2, `${Math.round(ms)} ms for ${show(say)}`);
      assert.equal(outcome.calls[0]?.name, "list_tasks");
      assert.equal(rows.length, 1000, "nothing was deleted");
    }
  });

  test(`${RUNS} generated adversarial messages: each turn within ${TURN_BUDGET_MS} ms`, async (t) => {
    let slowest = { ms: 0, message: "" };
    let total = 0;
    await fc.assert(
      fc.asyncProperty(message, fc.option(earlier, { freq: 3 }), async (say, before) => {
        // Sometimes after a message and a question, so the answer is read as a follow-up.
        const history: ModelMessage[] = before
          ? [
              { role: "user", content: before[0] },
              { role: "assistant", content: before[1] },
            ]
          : [];
        const { ms, outcome } = await timed(say, seed(TASKS), history);
        total += ms;
        if (ms > slowest.ms) slowest = { ms, message: say };
        assert.ok(ms < TURN_BUDGET_MS, `${Math.round(ms)} ms for ${show(say)}`);
        assert.ok(outcome.text.length > 0, "every turn ends with an answer");
        assert.ok(outcome.calls.length <= MAX_TASKS_PER_REQUEST + 1);
        if (cleanMessage(say).length > MAX_REQUEST_CHARS) assert.equal(outcome.text, CHAT.too_long);
      }),
      // A timing failure is not shrunk: the failing message itself is the report.
      { numRuns: RUNS, endOnFailure: true },
    );
    t.diagnostic(`slowest turn ${Math.round(slowest.ms)} ms CPU, ${show(slowest.message)}`);
    t.diagnostic(`mean ${(total / RUNS).toFixed(1)} ms CPU per turn`);
    // Bounded in total too: the runs are milliseconds each, not just under the cap.
    assert.ok(total < RUNS * 50, `${RUNS} turns took ${Math.round(total)} ms CPU`);
  });
});
