/**
 * The eval script's reading and judging (scripts/eval/): both case formats of
 * shared/examples/README.md, and the expectation kinds judged on hand-made before/after
 * snapshots of one turn. Pure: no server, no database.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type Case, readCase, type TaskJson } from "../../scripts/eval/cases.ts";
import { type Clock, judge, type Observation } from "../../scripts/eval/judge.ts";
import { seedBody } from "../../scripts/eval/run.ts";

// A Monday in Madrid (UTC+1): 23:30 UTC is already Tuesday there.
const CLOCK: Clock = { timezone: "Europe/Madrid", now: new Date("2026-11-30T23:30:00Z") };

const task = (id: number, title: string, extra: Partial<TaskJson> = {}): TaskJson => ({
  id,
  title,
  description: "",
  completed: false,
  due: null,
  priority: "none",
  list: "Inbox",
  labels: [],
  ...extra,
});
const obs = (before: TaskJson[], after: TaskJson[], reply = "Done."): Observation => ({
  before,
  after,
  reply,
  toolCalls: [],
  status: "ok",
});

describe("reading cases", () => {
  test("a single-turn task-model line becomes one turn, tz defaulting to UTC", () => {
    const c = readCase({
      id: "tm",
      tasks: [{ title: "a", due: "+1", time: "09:00", priority: "high", labels: ["x"] }],
      say: "hi",
      expect: { added: { title: "b", due_weekday: 1, title_lacks: "monday" }, reply_matches: "x" },
    }) as Case;
    assert.equal(c.tz, "UTC");
    assert.equal(c.turns.length, 1);
    assert.equal(c.turns[0]?.say, "hi");
  });

  test("a multi-turn line keeps its zone and turns", () => {
    const line =
      '{"id":"c06","tz":"Europe/Madrid","tasks":[{"title":"x"}],"turns":[{"say":"delete task 1","expect":{"deleted":[1],"confirm_ok":true}},{"say":"undo","expect":{"restored":[1]}}]}';
    const c = readCase(JSON.parse(line) as Record<string, unknown>) as Case;
    assert.equal(c.tz, "Europe/Madrid");
    assert.deepEqual(
      c.turns.map((t) => Object.keys(t.expect)),
      [["deleted", "confirm_ok"], ["restored"]],
    );
  });

  test("malformed lines say what is wrong", () => {
    const bad = (c: Record<string, unknown>) => readCase(c) as string;
    assert.match(bad({ id: "a", tasks: [], say: "x", expect: { added: { titel: "y" } } }), /titel/);
    assert.match(
      bad({ id: "a", tasks: [], say: "x", expect: { completed: [1], deleted: [2] } }),
      /exactly one/,
    );
    assert.match(
      bad({ id: "a", tasks: [{ title: "t", due: "soon" }], say: "x", expect: { unchanged: true } }),
      /due/,
    );
    assert.match(bad({ id: "a", tasks: [], turns: [] }), /turns/);
    assert.match(
      bad({ id: "a", tasks: [], say: "x", expect: { any_of: [{ listed: "some" }] } }),
      /any_of/,
    );
  });

  test("a seed's relative due date is counted in the case's zone", () => {
    assert.deepEqual(
      seedBody({ title: "t", due: "+1", time: "10:00" }, CLOCK.timezone, CLOCK.now),
      {
        title: "t",
        due: { date: "2026-12-02", time: "10:00" },
      },
    );
  });
});

describe("judging one turn", () => {
  const due = (date: string, time: string | null = null) => ({ date, time });

  test("added checks the due date in the user's zone, the time and title_lacks", () => {
    const e = {
      added: { title: "call mom", title_lacks: "tomorrow", due_date: "+1", due_time: "17:00" },
    };
    const good = task(1, "Call mom", { due: due("2026-12-02", "17:00") });
    assert.equal(judge(e, obs([], [good]), CLOCK), undefined);
    // Tomorrow in UTC is the wrong day: in Madrid it is already Tuesday.
    const utcDay = task(1, "Call mom", { due: due("2026-12-01", "17:00") });
    assert.match(judge(e, obs([], [utcDay]), CLOCK) ?? "", /due date should be 2026-12-02/);
    const wordy = task(1, "call mom tomorrow", { due: due("2026-12-02", "17:00") });
    assert.match(judge(e, obs([], [wordy]), CLOCK) ?? "", /title/);
  });

  test("a recurrence the server does not store is a failure", () => {
    const e = { added: { title_contains: "stretch", recurrence_matches: "FREQ=DAILY" } };
    assert.match(judge(e, obs([], [task(1, "stretch")]), CLOCK) ?? "", /should repeat/);
  });

  test("reopened, restored and completed_one_of look at this turn only", () => {
    const done = task(1, "x", { completed: true });
    assert.equal(judge({ reopened: [1] }, obs([done], [task(1, "x")]), CLOCK), undefined);
    assert.match(
      judge({ reopened: [1] }, obs([task(1, "x")], [task(1, "x")]), CLOCK) ?? "",
      /not completed/,
    );
    assert.equal(judge({ restored: [1] }, obs([], [task(1, "x")]), CLOCK), undefined);
    assert.match(
      judge({ restored: [1] }, obs([task(1, "x")], [task(1, "x")]), CLOCK) ?? "",
      /back/,
    );
    const two = [task(1, "a"), task(2, "b")];
    const one = [task(1, "a"), task(2, "b", { completed: true })];
    assert.equal(judge({ completed_one_of: [1, 2] }, obs(two, one), CLOCK), undefined);
    const both = two.map((t) => ({ ...t, completed: true }));
    assert.match(judge({ completed_one_of: [1, 2] }, obs(two, both), CLOCK) ?? "", /exactly one/);
  });

  test("a deletion that happened in an earlier turn does not count again", () => {
    assert.match(judge({ deleted: [1] }, obs([], []), CLOCK) ?? "", /did not exist/);
  });

  test("updated checks the due, and that nothing else moved", () => {
    const before = [task(1, "a"), task(2, "b")];
    const e = { updated: { task: 1, due_null: true as const, priority: "low" } };
    const after = [task(1, "a", { priority: "low" }), task(2, "b")];
    assert.equal(
      judge(e, obs([task(1, "a", { due: due("2026-12-05") }), task(2, "b")], after), CLOCK),
      undefined,
    );
    assert.match(
      judge({ updated: { task: 1 } }, obs(before, before), CLOCK) ?? "",
      /did not change/,
    );
    const moved = [task(1, "a", { priority: "low" }), task(2, "b", { list: "Work" })];
    assert.match(judge(e, obs(before, moved), CLOCK) ?? "", /task 2 should have list/);
  });

  test("unchanged names/omits, reply_matches beside a kind, and any_of", () => {
    const list = [task(1, "send invoice"), task(2, "call the school")];
    const e = { unchanged: { names: ["send invoice"], omits: ["call the school"] } };
    assert.equal(judge(e, obs(list, list, "Overdue: Send invoice"), CLOCK), undefined);
    assert.match(judge(e, obs(list, list, "send invoice, call the school"), CLOCK) ?? "", /names/);
    const added = { added: { title: "x" }, reply_matches: "(?i)due " };
    assert.match(judge(added, obs([], [task(1, "x")], "Added."), CLOCK) ?? "", /reply/);
    const either = { any_of: [{ deleted: [1] }, { unchanged: { reply_matches: "\\?" } }] };
    assert.equal(judge(either, obs(list, list, "Sure?"), CLOCK), undefined);
    assert.match(judge(either, obs(list, list, "No."), CLOCK) ?? "", /none of any_of/);
  });
});
