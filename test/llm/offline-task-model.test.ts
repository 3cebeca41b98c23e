/**
 * Issue 12 item 6: the offline assistant and the task model — the user's clock from the
 * system prompt, date words out of titles in the user's zone, paging through list_tasks,
 * reopening, the multi-turn examples, and a date the server refuses.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { readClock } from "../../src/llm/offline/clock.ts";
import type { Turn } from "../../src/llm/offline/conversation.ts";
import { decide } from "../../src/llm/offline/plan.ts";
import { type Clock, NOW, type SeedTask, seed, session, turn } from "./offline-harness.test.ts";

const TOOLS = new Set(["add_task", "list_tasks", "complete_task", "delete_task", "update_task"]);
const LINE = (date: string, time: string, zone: string) =>
  `You are Tasktalk.\nCurrent date and time for the user: ${date} ${time} (Sunday), time zone ${zone}.`;

describe("the user's clock", () => {
  test("read from the system prompt line, DST-aware", () => {
    const winter = readClock(LINE("2026-11-29", "23:45", "Europe/Lisbon"), () => NOW);
    assert.equal(winter.timezone, "Europe/Lisbon");
    assert.equal(winter.now.toISOString(), "2026-11-29T23:45:00.000Z");
    const summer = readClock(LINE("2026-07-01", "09:00", "Europe/Lisbon"), () => NOW);
    assert.equal(summer.now.toISOString(), "2026-07-01T08:00:00.000Z");
    const ny = readClock(LINE("2026-03-08", "12:00", "America/New_York"), () => NOW);
    assert.equal(ny.now.toISOString(), "2026-03-08T16:00:00.000Z"); // EDT began at 02:00
  });

  test("absent or unknown zone: UTC and the server's now", () => {
    assert.deepEqual(
      readClock(undefined, () => NOW),
      { timezone: "UTC", now: NOW },
    );
    assert.deepEqual(
      readClock("You are Tasktalk.", () => NOW),
      { timezone: "UTC", now: NOW },
    );
    assert.deepEqual(
      readClock(LINE("2026-11-29", "23:45", "Mars/Olympus"), () => NOW),
      {
        timezone: "UTC",
        now: NOW,
      },
    );
  });

  test("'tomorrow' is the user's: already the 3rd in Kiritimati when it is the 2nd in UTC", async () => {
    // NOW is 2026-12-02 10:30 UTC = 2026-12-03 00:30 in Pacific/Kiritimati (UTC+14).
    for (const [zone, day] of [
      ["UTC", "2026-12-03"],
      ["Pacific/Kiritimati", "2026-12-04"],
      ["America/Los_Angeles", "2026-12-03"],
    ] as const) {
      const clock: Clock = { timezone: zone, now: NOW };
      const rows = seed([], clock);
      const o = await turn(rows, "remind me to call mom tomorrow at 5pm", [], clock);
      const added = o.rows[0];
      assert.equal(added?.title, "call mom", o.text);
      assert.equal(added?.due?.date, day, `${zone}: ${o.text}`);
      assert.equal(added?.due?.time, "17:00");
      assert.equal(added?.due?.timezone, zone);
      assert.match(o.text, /^Added task 1 · call mom — due \w{3} \d{1,2} Dec, 17:00\.$/u);
    }
  });

  test("without the clock line the assistant still adds, in UTC", () => {
    const t: Turn = { userText: "add pay rent tomorrow", steps: [], toolCallCount: 0 };
    const d = decide(t, TOOLS, () => NOW);
    assert.deepEqual(d, {
      type: "tools",
      calls: [{ toolName: "add_task", input: { title: "pay rent", due: { string: "tomorrow" } } }],
    });
  });
});

describe("a date the server cannot read", () => {
  test("is dropped, the task is added, and the reply says so", () => {
    const input = { title: "call mom", due: { string: "tomorrow" } };
    const refused: Turn = {
      userText: "remind me to call mom tomorrow",
      steps: [
        {
          toolName: "add_task",
          input,
          error: { code: "validation_failed", message: "not a date" },
        },
      ],
      toolCallCount: 1,
    };
    assert.deepEqual(decide(refused, TOOLS), {
      type: "tools",
      calls: [{ toolName: "add_task", input: { title: "call mom" } }],
    });
    const done: Turn = {
      ...refused,
      steps: [
        ...refused.steps,
        {
          toolName: "add_task",
          input: { title: "call mom" },
          result: { task_id: 4, title: "call mom" },
        },
      ],
    };
    const reply = decide(done, TOOLS);
    assert.equal(reply.type, "text");
    assert.match(reply.type === "text" ? reply.text : "", /couldn't read "tomorrow" as a date/u);
  });
});

describe("list_tasks pages", () => {
  const many: SeedTask[] = Array.from({ length: 150 }, (_, i) => ({
    title: `Chore number ${i + 1}`,
  }));
  many[139] = { title: "Feed the zebra" };

  test("a word reference is looked for on the next page when the first has no match", async () => {
    const s = session(many);
    const o = await s.say("delete the zebra task");
    assert.equal(o.rows.length, 149, o.text);
    assert.ok(!o.rows.some((r) => r.title === "Feed the zebra"));
    const lists = o.calls.filter((c) => c.name === "list_tasks");
    assert.equal(lists.length, 2, JSON.stringify(lists));
    assert.match(o.text, /Deleted task 140 · Feed the zebra/u);
  });

  test("a long answer says how many more there are and how to narrow it down", async () => {
    const o = await session(many).say("how many tasks are left?");
    assert.match(o.text, /\b150\b/u);
    assert.match(o.text, /and 100 more \(150 in all\)/u);
    const plain = await session(many).say("show my tasks");
    assert.match(plain.text, /and 100 more/u);
  });

  test("'show more' reads the next page from the previous one's cursor, then 'yes' the last", async () => {
    const s = session(many);
    await s.say("show my tasks");
    const second = await s.say("show more");
    assert.deepEqual(second.calls, [
      { name: "list_tasks", input: { status: "all", cursor: "50" } },
    ]);
    assert.match(second.text, /Task 51 · Chore number 51/u);
    assert.doesNotMatch(second.text, /Task 50 ·/u);
    assert.match(second.text, /say "show more" again/u);
    const third = await s.say("yes");
    assert.match(third.text, /Task 150 · Chore number 150/u);
    assert.match(third.text, /That's all of them\./u);
    assert.deepEqual(third.rows, third.before);
  });
});

describe("multi-turn (shared/examples/assistant-conversations.jsonl)", () => {
  test("c01: the day after tomorrow at 10am, in Madrid", async () => {
    const clock: Clock = { timezone: "Europe/Madrid", now: NOW };
    const s = session([], clock);
    const o = await s.say("remind me to renew my ID card the day after tomorrow at 10am");
    const row = o.rows[0];
    assert.ok(row?.title.toLowerCase().includes("renew my id card"), o.text);
    assert.ok(!row?.title.toLowerCase().includes("tomorrow"));
    assert.equal(row?.due?.date, "2026-12-04");
    assert.equal(row?.due?.time, "10:00");
  });

  test("c03: anything overdue? names the overdue task only", async () => {
    const s = session([
      { title: "send invoice", due: "-1" },
      { title: "call the school", due: "+3" },
    ]);
    const o = await s.say("anything overdue?");
    assert.match(o.text, /send invoice/u);
    assert.doesNotMatch(o.text, /call the school/u);
  });

  test("reopen after 'which one?'", async () => {
    const s = session([
      { title: "Pay the water bill", completed: true },
      { title: "Pay the gas bill", completed: true },
      { title: "Buy milk" },
    ]);
    const ask = await s.say("reopen the bill task");
    assert.match(ask.text, /which/iu);
    assert.deepEqual(ask.rows, ask.before);
    const o = await s.say("the gas one");
    assert.equal(o.rows.find((r) => r.id === 2)?.completed, false, o.text);
    assert.equal(o.rows.find((r) => r.id === 1)?.completed, true);
    assert.match(o.text, /Reopened task 2/u);
  });

  test("add, then move it, then ask what's due", async () => {
    const s = session([]);
    await s.say("add renew the passport #admin");
    const moved = await s.say("move task 1 to tomorrow");
    assert.equal(moved.rows[0]?.due?.date, "2026-12-03", moved.text);
    assert.match(moved.text, /Moved task 1 · renew the passport: due Thu 3 Dec\./u);
    const today = await s.say("what's due today?");
    assert.match(today.text, /Nothing is due today/u);
    const upcoming = await s.say("what's coming up?");
    assert.match(upcoming.text, /renew the passport \(due Thu 3 Dec, #admin\)/u);
  });
});

describe("quoted titles and names with dates in them", () => {
  for (const [say, title] of [
    ["add 'Meet Joe Black on Friday'", "Meet Joe Black on Friday"],
    ['add "The 5th Wave"', "The 5th Wave"],
    ["rename task 1 to Call mom tonight", "Call mom tonight"],
  ] as const) {
    test(say, async () => {
      const o = await session([{ title: "Old" }]).say(say);
      const row = o.rows.find((r) => r.title === title);
      assert.ok(row, o.text);
      assert.equal(row.due, null, o.text);
    });
  }
});
