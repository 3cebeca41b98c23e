import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type RequestContext, systemContext } from "../../src/context.ts";
import * as service from "../../src/tasks/task.service.ts";
import type { DueFilter } from "../../src/tasks/task.ts";
import { signUp, startTestApp, type TestApp } from "../support/app.ts";
import { availableBackends } from "../support/databases.ts";

// "today", "overdue", "upcoming" and "none" are the user's, in their zone, on the days the
// clocks change too. The service is called with a fixed `now`: the day under test.

interface Case {
  zone: string;
  /** The instant the user asks "what's due today?". */
  now: string;
  tasks: { title: string; date: string; time?: string; completed?: boolean }[];
  expected: Record<DueFilter, string[]>;
}

const CASES: Case[] = [
  {
    // Lisbon springs forward on 29 March 2026 at 01:00 UTC (WET → WEST).
    zone: "Europe/Lisbon",
    now: "2026-03-29T12:00:00Z",
    tasks: [
      { title: "early, before the change", date: "2026-03-29", time: "00:30" }, // 00:30Z
      { title: "late, after the change", date: "2026-03-29", time: "23:30" }, // 22:30Z
      // 2026-03-29T23:30Z: still the 29th in UTC, already the 30th in Lisbon.
      { title: "just after midnight", date: "2026-03-30", time: "00:30" },
      { title: "all day today", date: "2026-03-29" },
      { title: "yesterday all day", date: "2026-03-28" },
      { title: "yesterday, done", date: "2026-03-28", completed: true },
      { title: "no date", date: "" },
    ],
    expected: {
      today: ["early, before the change", "late, after the change", "all day today"],
      // Timed: overdue once its instant passed, even today.
      overdue: ["early, before the change", "yesterday all day"],
      upcoming: ["just after midnight"],
      none: ["no date"],
    },
  },
  {
    // New York falls back on 1 November 2026 at 06:00 UTC (EDT → EST).
    zone: "America/New_York",
    now: "2026-11-01T16:00:00Z", // 11:00 EST
    tasks: [
      // 2026-11-01T02:00Z: the 1st in UTC, but still 31 October in New York.
      { title: "halloween night", date: "2026-10-31", time: "22:00" },
      { title: "the repeated hour", date: "2026-11-01", time: "01:30" },
      // 2026-11-02T04:30Z: the 2nd in UTC, still today in New York.
      { title: "late tonight", date: "2026-11-01", time: "23:30" },
      { title: "tomorrow morning", date: "2026-11-02", time: "00:30" },
      { title: "all day today", date: "2026-11-01" },
    ],
    expected: {
      today: ["the repeated hour", "late tonight", "all day today"],
      overdue: ["halloween night", "the repeated hour"],
      upcoming: ["tomorrow morning"],
      none: [],
    },
  },
  {
    // The same zone on an ordinary day, late in the evening: UTC has already moved on.
    zone: "America/New_York",
    now: "2026-12-01T03:30:00Z", // 22:30 EST on 30 November
    tasks: [
      { title: "today all day", date: "2026-11-30" },
      { title: "utc's today", date: "2026-12-01" },
    ],
    expected: { today: ["today all day"], overdue: [], upcoming: ["utc's today"], none: [] },
  },
];

for (const backend of await availableBackends()) {
  describe(`due filters in the user's zone [${backend}]`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(backend);
    });
    after(() => t.close());

    for (const c of CASES) {
      test(`${c.zone} at ${c.now}`, async () => {
        const user = await signUp(t.app);
        const ctx: RequestContext = systemContext(t.server.database.db, user.id, {
          timezone: c.zone,
        });
        const now = new Date(c.now);
        for (const task of c.tasks) {
          const due = task.date ? { date: task.date, time: task.time ?? null } : undefined;
          const added = await service.addTask(ctx, { title: task.title, due }, { now });
          if (task.completed) await service.updateTask(ctx, added.number, { completed: true });
        }
        for (const filter of ["today", "overdue", "upcoming", "none"] as const) {
          const page = await service.listTasks(ctx, { due: [filter] }, { now });
          assert.deepEqual(
            page.tasks.map((x) => x.title),
            c.expected[filter],
            filter,
          );
        }
        // The Today view: due today plus overdue, each task once.
        const view = await service.listTasks(ctx, { due: ["today", "overdue"] }, { now });
        const union = new Set([...c.expected.today, ...c.expected.overdue]);
        assert.deepEqual(new Set(view.tasks.map((x) => x.title)), union);
        assert.equal(view.tasks.length, union.size);
      });
    }
  });
}
