import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { InjectOptions } from "fastify";
import { type RequestContext, systemContext } from "../../src/context.ts";
import { nextOccurrence } from "../../src/tasks/recurrence.ts";
import { findRecurrence } from "../../src/tasks/recurrence-phrases.ts";
import * as service from "../../src/tasks/task.service.ts";
import { callTool, connectClient } from "../mcp/support.ts";
import { signUp, startTestApp, type TestApp, type TestUser } from "../support/app.ts";
import { availableBackends } from "../support/databases.ts";

// Recurring tasks (issue 14 item 1): RRULEs and words, computed on the user's wall clock;
// completing moves the same task on; COUNT/UNTIL end it; a reschedule keeps the pattern.

describe("recurrence words", () => {
  const now = new Date("2026-12-02T10:30:00Z"); // a Wednesday
  const cases: Array<[string, string, string | undefined, string]> = [
    ["water the plants every Monday", "FREQ=WEEKLY;BYDAY=MO", undefined, "every Monday"],
    [
      "water the plants every Monday at 8am",
      "FREQ=WEEKLY;BYDAY=MO",
      "08:00",
      "every Monday at 8am",
    ],
    [
      "pay rent on the 1st of every month",
      "FREQ=MONTHLY;BYMONTHDAY=1",
      undefined,
      "on the 1st of every month",
    ],
    ["every weekday at 9", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "09:00", "every weekday at 9"],
    ["every 2 weeks", "FREQ=WEEKLY;INTERVAL=2", undefined, "every 2 weeks"],
    ["every other day", "FREQ=DAILY;INTERVAL=2", undefined, "every other day"],
    [
      "31st of every month",
      "FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1",
      undefined,
      "31st of every month",
    ],
    [
      "the 3rd Tuesday of every month",
      "FREQ=MONTHLY;BYDAY=3TU",
      undefined,
      "the 3rd Tuesday of every month",
    ],
    [
      "gym every mon, wed and fri at 18:30",
      "FREQ=WEEKLY;BYDAY=MO,WE,FR",
      "18:30",
      "every mon, wed and fri at 18:30",
    ],
    ["every day until Dec 31", "FREQ=DAILY;UNTIL=20261231", undefined, "every day until Dec 31"],
    ["every week for 5 times", "FREQ=WEEKLY;COUNT=5", undefined, "every week for 5 times"],
    [
      "the last day of every month",
      "FREQ=MONTHLY;BYMONTHDAY=-1",
      undefined,
      "the last day of every month",
    ],
    ["water plants daily", "FREQ=DAILY", undefined, "daily"],
  ];
  for (const [text, rule, time, phrase] of cases) {
    test(`"${text}" → ${rule}`, () => {
      const found = findRecurrence(text, "UTC", now);
      assert.equal(found?.pattern.rule, rule);
      assert.equal(found?.pattern.time, time);
      assert.equal(found?.phrase, phrase);
    });
  }
  test("repeat from completion, and words that are titles, not patterns", () => {
    assert.equal(findRecurrence("every 2 weeks after I finish it")?.pattern.from, "completion");
    assert.equal(findRecurrence("prepare the daily standup"), undefined);
    assert.equal(findRecurrence("review the weekly report"), undefined);
  });
});

describe("nextOccurrence", () => {
  test("a weekly 09:00 stays at 09:00 local across the DST change (New York and Berlin)", () => {
    // New York leaves DST on 1 Nov 2026, Berlin on 25 Oct 2026.
    const repeat = { rule: "FREQ=WEEKLY;BYDAY=MO", from: "due" as const, time: "09:00" };
    const ny = nextOccurrence(
      repeat,
      "2026-10-26",
      "America/New_York",
      new Date("2026-10-26T14:00:00Z"),
      0,
    );
    assert.deepEqual(ny, { date: "2026-11-02", time: "09:00" });
    const berlin = nextOccurrence(
      repeat,
      "2026-10-19",
      "Europe/Berlin",
      new Date("2026-10-19T08:00:00Z"),
      0,
    );
    assert.deepEqual(berlin, { date: "2026-10-26", time: "09:00" });
  });
  test("COUNT counts completions; missed occurrences are skipped", () => {
    const repeat = { rule: "FREQ=DAILY;COUNT=3", from: "due" as const, time: null };
    const now = new Date("2026-12-10T12:00:00Z");
    assert.deepEqual(nextOccurrence(repeat, "2026-12-01", "UTC", now, 0), {
      date: "2026-12-11",
      time: null,
    });
    assert.equal(nextOccurrence(repeat, "2026-12-01", "UTC", now, 2), null);
  });
});

interface Due {
  date: string;
  time: string | null;
  timezone: string;
  at: string | null;
  string: string | null;
  recurrence: string | null;
  repeat_from: string | null;
}
interface TaskBody {
  id: number;
  completed: boolean;
  due: Due | null;
  completed_occurrences: number;
  last_completed_at: string | null;
}

for (const backend of await availableBackends()) {
  describe(`recurring tasks [${backend}]`, () => {
    let t: TestApp;
    let url: string;
    const clients: Client[] = [];
    before(async () => {
      t = await startTestApp(backend, { LLM_PROVIDER: "offline" });
      url = await t.listen();
    });
    after(async () => {
      for (const client of clients) await client.close();
      await t.close();
    });

    const call = (user: TestUser, opts: InjectOptions) =>
      t.app.inject({ ...opts, headers: { ...opts.headers, ...user.headers } });
    const inZone = async (timezone: string) => {
      const user = await signUp(t.app);
      const res = await call(user, { method: "PATCH", url: "/api/me", payload: { timezone } });
      assert.equal(res.statusCode, 200, res.body);
      return user;
    };
    const ctxOf = (user: TestUser, timezone: string): RequestContext =>
      systemContext(t.server.database.db, user.id, { timezone });
    const add = async (user: TestUser, payload: Record<string, unknown>) => {
      const res = await call(user, { method: "POST", url: "/api/tasks", payload });
      assert.equal(res.statusCode, 201, res.body);
      return res.json() as TaskBody;
    };
    const patch = async (user: TestUser, n: number, payload: Record<string, unknown>) => {
      const res = await call(user, { method: "PATCH", url: `/api/tasks/${n}`, payload });
      assert.equal(res.statusCode, 200, res.body);
      return res.json() as TaskBody;
    };
    const get = async (user: TestUser, n: number) =>
      (await call(user, { url: `/api/tasks/${n}` })).json() as TaskBody;

    test("DST weeks in two zones: a weekly 09:00 task completed each week stays at 09:00 local", async () => {
      for (const [zone, first, offsets] of [
        ["America/New_York", "2026-10-26", ["-04:00", "-05:00", "-05:00"]],
        ["Europe/Berlin", "2026-10-19", ["+02:00", "+01:00", "+01:00"]],
      ] as const) {
        const user = await inZone(zone);
        const ctx = ctxOf(user, zone);
        const task = await service.addTask(ctx, {
          title: "standup",
          due: { date: first, time: "09:00" },
          recurrence: "FREQ=WEEKLY;BYDAY=MO",
        });
        let due = task.due;
        for (let week = 0; week < 3; week++) {
          assert.equal(due?.time, "09:00", zone);
          const offset = offsets[week] ?? "";
          const wall = new Date(`${due?.date}T09:00:00${offset}`).toISOString();
          assert.equal(due?.at, wall, `${zone} week ${week}`);
          // Completed an hour after it was due.
          const now = new Date(new Date(wall).getTime() + 3_600_000);
          const done = await service.updateTask(ctx, task.number, { completed: true }, { now });
          assert.equal(done.completed, false);
          assert.equal(done.number, task.number);
          assert.equal(done.completedOccurrences, week + 1);
          assert.equal(done.occurrence?.completedFor.date, due?.date);
          due = done.due;
        }
        assert.equal(due?.recurrence, "FREQ=WEEKLY;BYDAY=MO");
      }
    });

    test('month end: "31st of every month" clamps; a raw BYMONTHDAY=31 skips short months', async () => {
      const user = await inZone("UTC");
      const ctx = ctxOf(user, "UTC");
      const walk = async (recurrence: string) => {
        const task = await service.addTask(ctx, {
          title: "rent",
          due: { date: "2027-01-31" },
          recurrence,
        });
        const dates = [task.due?.date];
        let now = new Date("2027-01-31T12:00:00Z");
        for (let i = 0; i < 3; i++) {
          const done = await service.updateTask(ctx, task.number, { completed: true }, { now });
          dates.push(done.due?.date);
          now = new Date(`${done.due?.date}T12:00:00Z`);
        }
        return dates;
      };
      assert.deepEqual(await walk("31st of every month"), [
        "2027-01-31",
        "2027-02-28",
        "2027-03-31",
        "2027-04-30",
      ]);
      assert.deepEqual(await walk("FREQ=MONTHLY;BYMONTHDAY=31"), [
        "2027-01-31",
        "2027-03-31",
        "2027-05-31",
        "2027-07-31",
      ]);
    });

    test("repeat_from completion counts from the day it was done", async () => {
      const user = await inZone("Europe/Lisbon");
      const ctx = ctxOf(user, "Europe/Lisbon");
      const task = await service.addTask(
        ctx,
        {
          title: "water the ferns",
          due: { string: "every 2 weeks after I finish it" },
        },
        { now: new Date("2026-12-01T09:00:00Z") },
      );
      assert.equal(task.due?.repeat_from, "completion");
      assert.equal(task.due?.date, "2026-12-01");
      const done = await service.updateTask(
        ctx,
        task.number,
        { completed: true },
        {
          now: new Date("2026-12-10T18:00:00Z"),
        },
      );
      assert.equal(done.due?.date, "2026-12-24");
    });

    test("COUNT and UNTIL end the series: the last completion really completes", async () => {
      const user = await inZone("UTC");
      const ctx = ctxOf(user, "UTC");
      const now = new Date("2030-01-01T08:00:00Z");
      const twice = await service.addTask(ctx, {
        title: "two doses",
        due: { date: "2030-01-01" },
        recurrence: "FREQ=DAILY;COUNT=2",
      });
      const one = await service.updateTask(ctx, twice.number, { completed: true }, { now });
      assert.equal(one.completed, false);
      assert.equal(one.due?.date, "2030-01-02");
      const two = await service.updateTask(ctx, twice.number, { completed: true }, { now });
      assert.equal(two.completed, true);
      assert.equal(two.completedOccurrences, 2);
      assert.equal(two.occurrence?.next, null);
      assert.equal(two.due?.date, "2030-01-02");

      const until = await service.addTask(ctx, {
        title: "advent",
        due: { date: "2030-12-23" },
        recurrence: "FREQ=DAILY;UNTIL=20301224",
      });
      const a = await service.updateTask(ctx, until.number, { completed: true }, { now });
      assert.equal(a.due?.date, "2030-12-24");
      const b = await service.updateTask(ctx, until.number, { completed: true }, { now });
      assert.equal(b.completed, true);
    });

    test("REST: RRULE or words; a bad RRULE is 422 invalid_recurrence and stores nothing", async () => {
      const user = await inZone("UTC");
      const rrule = await add(user, {
        title: "report",
        due: { date: "2030-01-07", time: "10:00" },
        recurrence: "RRULE:freq=weekly;byday=mo",
      });
      assert.equal(rrule.due?.recurrence, "FREQ=WEEKLY;BYDAY=MO");
      assert.equal(rrule.due?.repeat_from, "due");
      assert.equal(rrule.due?.string, "every Monday at 10:00");
      const words = await add(user, { title: "plants", recurrence: "every monday at 8am" });
      assert.equal(words.due?.recurrence, "FREQ=WEEKLY;BYDAY=MO");
      assert.equal(words.due?.time, "08:00");
      assert.equal(new Date(`${words.due?.date}T00:00:00Z`).getUTCDay(), 1);
      for (const bad of [
        "FREQ=HOURLY",
        "FREQ=WEEKLY;BYDAY=XX",
        "FREQ=WEEKLY;BYHOUR=9",
        "sometimes",
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
      ]) {
        const res = await call(user, {
          method: "POST",
          url: "/api/tasks",
          payload: { title: "x", recurrence: bad },
        });
        assert.equal(res.statusCode, 422, `${bad}: ${res.body}`);
        assert.equal(res.json().code, "invalid_recurrence");
        const res2 = await call(user, {
          method: "PATCH",
          url: `/api/tasks/${rrule.id}`,
          payload: { recurrence: bad },
        });
        assert.equal(res2.statusCode, 422, res2.body);
      }
      const plain = await add(user, { title: "plain", due: { date: "2030-01-08" } });
      const from = await call(user, {
        method: "PATCH",
        url: `/api/tasks/${plain.id}`,
        payload: { repeat_from: "completion" },
      });
      assert.equal(from.statusCode, 422, from.body);
      assert.equal(from.json().code, "invalid_recurrence");
      // due: null clears the date and the pattern.
      const cleared = await patch(user, words.id, { due: null });
      assert.equal(cleared.due, null);
      const again = await patch(user, words.id, { due: { date: "2030-01-09" } });
      assert.equal(again.due?.recurrence, null);
      const list = (await call(user, { url: "/api/tasks" })).json() as { items: TaskBody[] };
      assert.equal(list.items.length, 3);
      assert.equal((await get(user, rrule.id)).due?.recurrence, "FREQ=WEEKLY;BYDAY=MO");
    });

    test("REST: complete moves the same task; reschedule keeps the pattern; stop repeating keeps the date", async () => {
      const user = await inZone("America/New_York");
      const task = await add(user, {
        title: "water the plants",
        due: { date: "2030-01-07", time: "08:00" },
        recurrence: "every monday at 8am",
      });
      const done = await patch(user, task.id, { completed: true });
      assert.equal(done.id, task.id);
      assert.equal(done.completed, false);
      assert.equal(done.due?.date, "2030-01-14");
      assert.equal(done.due?.time, "08:00");
      assert.equal(done.completed_occurrences, 1);
      assert.ok(done.last_completed_at);
      const list = (await call(user, { url: "/api/tasks" })).json() as { items: TaskBody[] };
      assert.equal(list.items.length, 1, "one task, never copies");

      // Reschedule this occurrence to Wednesday 10:00: the pattern (and its 08:00) stay.
      const moved = await patch(user, task.id, { due: { date: "2030-01-16", time: "10:00" } });
      assert.equal(moved.due?.recurrence, "FREQ=WEEKLY;BYDAY=MO");
      assert.equal(moved.due?.string, "every monday at 8am");
      const after = await patch(user, task.id, { completed: true });
      assert.equal(after.due?.date, "2030-01-21");
      assert.equal(after.due?.time, "08:00");

      const stopped = await patch(user, task.id, { recurrence: null });
      assert.equal(stopped.due?.recurrence, null);
      assert.equal(stopped.due?.date, "2030-01-21");
      const final = await patch(user, task.id, { completed: true });
      assert.equal(final.completed, true);

      // A repeat set on a dated task snaps to its first occurrence on or after that date.
      const dated = await add(user, { title: "gym", due: { date: "2030-01-08" } });
      const friday = await patch(user, dated.id, { recurrence: "every friday" });
      assert.equal(friday.due?.date, "2030-01-11");
      assert.equal(friday.due?.string, "every friday");
    });

    test("MCP: complete_task moves a repeating task and says done for / next", async () => {
      const user = await inZone("UTC");
      const client = await connectClient(url, user.headers);
      clients.push(client);
      const added = (await callTool(client, "add_task", {
        title: "pay rent",
        due: { date: "2030-02-01" },
        recurrence: "on the 1st of every month",
      })) as CallToolResult;
      assert.equal(added.isError, undefined, JSON.stringify(added));
      const id = (added.structuredContent as { task_id: number }).task_id;
      const done = (await callTool(client, "complete_task", { task_id: id })) as CallToolResult;
      const result = done.structuredContent as {
        due: Due;
        occurrence: { completed_for: string; next: string; note: string };
      };
      assert.equal(result.due.date, "2030-03-01");
      assert.match(result.occurrence.note, /^done for Fri 1 Feb 2030; next: Fri 1 Mar 2030$/);
      const stop = (await callTool(client, "update_task", {
        task_id: id,
        recurrence: null,
      })) as CallToolResult;
      assert.equal((stop.structuredContent as { due: Due }).due.recurrence, null);
    });

    test("chat (offline assistant): add a repeating task, complete it, stop it", async () => {
      const user = await inZone("Europe/Berlin");
      const say = async (message: string) => {
        const res = await call(user, { method: "POST", url: "/api/chat", payload: { message } });
        assert.equal(res.statusCode, 200, res.body);
        return (res.json() as { response: string }).response;
      };
      const reply = await say("water the plants every Monday at 8am");
      const [task] = (
        (await call(user, { url: "/api/tasks" })).json() as {
          items: (TaskBody & { title: string })[];
        }
      ).items;
      assert.equal(task?.title, "water the plants", reply);
      assert.equal(task?.due?.recurrence, "FREQ=WEEKLY;BYDAY=MO");
      assert.equal(task?.due?.time, "08:00");
      assert.match(reply, /every Monday at 8am/i);
      const first = task?.due?.date ?? "";
      const done = await say(`mark task ${task?.id} as done`);
      const after = await get(user, task?.id ?? 0);
      assert.equal(after.completed, false);
      assert.ok((after.due?.date ?? "") > first);
      assert.match(done, /next: Mon/);
      const stop = await say(`stop repeating task ${task?.id}`);
      assert.equal((await get(user, task?.id ?? 0)).due?.recurrence, null, stop);
    });
  });
}
