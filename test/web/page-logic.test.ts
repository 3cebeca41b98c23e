import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Activity, Due, Task } from "../../web/src/api.ts";
import { dueLabel, isDueToday, isOverdue, todayIn } from "../../web/src/due.ts";
import { type Notification, reminderText, toToast } from "../../web/src/reminders.ts";
import { merge, nest, parseLabels, queriesOf } from "../../web/src/taskViews.ts";
import { toolSummary } from "../../web/src/tools.ts";
import { offerOf, turnEntries } from "../../web/src/undoOffer.ts";

// The page's own logic without a browser: what the tool lines say, how a due date reads in
// the user's zone, and what each view asks the server.

const due = (over: Partial<Due>): Due => ({
  date: "2026-12-01",
  time: null,
  timezone: "Europe/Lisbon",
  at: null,
  string: null,
  recurrence: null,
  repeat_from: null,
  ...over,
});

describe("tool lines", () => {
  test("a task result says what was understood, from its due_label", () => {
    const line = toolSummary({
      id: "1",
      name: "add_task",
      input: { title: "call mom" },
      state: "done",
      output: { task_id: 3, status: "created", title: "call mom", due_label: "Tue 1 Dec, 17:00" },
    });
    assert.deepEqual(line, { ok: true, text: "added task 3 · call mom — due Tue 1 Dec, 17:00" });
    const plain = toolSummary({
      id: "2",
      name: "add_task",
      input: {},
      state: "done",
      output: { task_id: 4, status: "created", title: "buy milk", due_label: null },
    });
    assert.equal(plain.text, "added task 4 · buy milk");
  });

  test("update_task that reopens says so", () => {
    const line = toolSummary({
      id: "1",
      name: "update_task",
      input: { task_id: 8, completed: false },
      state: "done",
      output: { task_id: 8, status: "reopened", title: "water plants", due_label: null },
    });
    assert.equal(line.text, "reopened task 8 · water plants");
  });

  test("list_tasks reads the paginated answer and its filters; old array answers still read", () => {
    const page = (items: number, total: number) => ({
      items: Array.from({ length: items }, (_, i) => ({ id: i + 1 })),
      total,
      next_cursor: null,
    });
    const line = (input: unknown, output: unknown) =>
      toolSummary({ id: "1", name: "list_tasks", input, state: "done", output }).text;
    assert.equal(line({ status: "pending" }, page(0, 0)), "listed 0 pending tasks");
    assert.equal(line({ due: "today" }, page(2, 2)), "listed 2 tasks due today");
    assert.equal(line({ due: "overdue" }, page(1, 1)), "listed 1 overdue task");
    assert.equal(line({}, page(50, 5000)), "listed 50 of 5000 tasks");
    assert.equal(
      line({ due: "upcoming", status: "pending" }, page(2, 2)),
      "listed 2 upcoming tasks",
    );
    assert.equal(line({ list: "Shopping" }, page(3, 3)), "listed 3 tasks in Shopping");
    assert.equal(line({ status: "completed" }, [{ id: 1 }]), "listed 1 completed task");
  });

  test("a tool error is shown as one", () => {
    const line = toolSummary({
      id: "1",
      name: "update_task",
      input: {},
      state: "done",
      output: { error: { code: "not_found", message: "No task 9." } },
    });
    assert.deepEqual(line, { ok: false, text: "couldn't update the task · No task 9." });
  });
});

describe("due dates on the page", () => {
  test("labels: all day, timed, and a timed due seen from another zone", () => {
    assert.equal(dueLabel(due({}), "Europe/Lisbon"), "Tue 1 Dec");
    const timed = due({ time: "17:00", at: "2026-12-01T17:00:00.000Z" });
    assert.equal(dueLabel(timed, "Europe/Lisbon"), "Tue 1 Dec, 17:00");
    // 17:00 in Lisbon (UTC+0 in December) is 02:00 the next day in Tokyo.
    assert.equal(dueLabel(timed, "Asia/Tokyo"), "Wed 2 Dec, 02:00");
    // An all-day due is a calendar day wherever one is.
    assert.equal(dueLabel(due({}), "America/Los_Angeles"), "Tue 1 Dec");
  });

  test("overdue and today are the user's, not the browser's or UTC's", () => {
    // 23:30 UTC on 1 Dec is already 2 Dec in Tokyo, still 1 Dec in Lisbon.
    const now = new Date("2026-12-01T23:30:00.000Z");
    assert.equal(todayIn("Asia/Tokyo", now), "2026-12-02");
    assert.equal(todayIn("Europe/Lisbon", now), "2026-12-01");
    assert.equal(isOverdue(due({}), "Europe/Lisbon", now), false);
    assert.equal(isOverdue(due({}), "Asia/Tokyo", now), true);
    assert.equal(isDueToday(due({}), "Europe/Lisbon", now), true);
    const timed = due({ time: "17:00", at: "2026-12-01T17:00:00.000Z" });
    assert.equal(isOverdue(timed, "Europe/Lisbon", now), true);
    assert.equal(isOverdue(timed, "Europe/Lisbon", new Date("2026-12-01T16:59:00Z")), false);
    // An unknown zone reads as UTC instead of throwing.
    assert.equal(todayIn("Not/AZone", now), "2026-12-01");
  });
});

describe("views", () => {
  const base = { view: "all", list: "", status: "all", q: "" } as const;

  test("Today asks for overdue and due today; search searches every view", () => {
    assert.deepEqual(
      queriesOf({ ...base, view: "today" }).map((q) => q.due),
      ["overdue", "today"],
    );
    assert.deepEqual(
      queriesOf({ ...base, view: "today", status: "completed" }).map((q) => q.due),
      ["today"],
    );
    assert.deepEqual(
      queriesOf({ ...base, view: "upcoming", list: "Shopping" }).map((q) => [q.due, q.list]),
      [["upcoming", "Shopping"]],
    );
    const [search] = queriesOf({ ...base, view: "today", q: "  folder " });
    assert.equal(search?.q, "folder");
    assert.equal(search?.due, undefined);
  });

  test("subtasks come right under their parent; one without its parent stands alone", () => {
    const task = (id: number, parent_id: number | null) => ({ id, parent_id }) as Task;
    const groups = nest([task(1, null), task(2, 1), task(3, null), task(4, 1), task(5, 9)]);
    assert.deepEqual(
      groups.map((g) => [g.task.id, g.subtasks.map((s) => s.id), g.orphan]),
      [
        [1, [2, 4], false],
        [3, [], false],
        [5, [], true],
      ],
    );
    assert.deepEqual(
      merge([task(1, null), task(2, null)], [task(2, null), task(3, null)]).map((t) => t.id),
      [1, 2, 3],
    );
  });

  test("labels typed in the editor", () => {
    assert.deepEqual(parseLabels("Errands, #home  errands,,"), ["errands", "home"]);
    assert.deepEqual(parseLabels("  "), []);
  });
});

describe("undo and the trash", () => {
  const entry = (over: Partial<Activity>): Activity => ({
    id: "e1",
    kind: "task.deleted",
    door: "chat",
    conversation_id: "c1",
    message_id: "m1",
    task_id: 3,
    summary: "Deleted task 3 “Pay rent” (in the trash)",
    undo_of: null,
    undone_by: null,
    undoable: true,
    created_at: "2026-11-30T10:00:00.000Z",
    ...over,
  });

  test("a turn's undoable entries become one offer; one entry says what it was", () => {
    const items = [
      entry({ id: "e3", message_id: "m2", summary: "Added task 5 “x”" }),
      entry({ id: "e2", kind: "task.completed", summary: "Completed task 4 “y”" }),
      entry({ id: "e1" }),
      entry({ id: "e0", undoable: false, undone_by: "e9" }),
    ];
    const mine = turnEntries(items, "m1");
    assert.deepEqual(
      mine.map((e) => e.id),
      ["e2", "e1"],
    );
    assert.deepEqual(offerOf(mine, "Assistant: "), {
      text: "Assistant: 2 changes",
      ids: ["e2", "e1"],
    });
    assert.deepEqual(offerOf([entry({})]), {
      text: "Deleted task 3 “Pay rent” (in the trash)",
      ids: ["e1"],
    });
    assert.equal(offerOf([entry({ undoable: false })]), null);
  });

  test("the Trash is one query of deleted tasks, whatever the view", () => {
    assert.deepEqual(queriesOf({ view: "today", list: "", status: "deleted", q: "" }), [
      { status: "deleted", limit: 100, sort: "number" },
    ]);
  });

  test("restore and undo tool lines", () => {
    const restored = toolSummary({
      id: "1",
      name: "restore_task",
      input: { task_id: 3 },
      state: "done",
      output: { task_id: 3, status: "restored", title: "Pay rent", due_label: null },
    });
    assert.equal(restored.text, "restored task 3 · Pay rent");
    const undone = toolSummary({
      id: "2",
      name: "undo_last_turn",
      input: {},
      state: "done",
      output: { undone: [{}, {}], skipped: [{ task_id: 4, reason: "changed since" }] },
    });
    assert.equal(undone.text, "undid 2 changes · 1 left as it was (changed since)");
  });
});

describe("reminder toasts", () => {
  const n = (id: string, firedAt: string, read = false): Notification => ({
    id,
    type: "reminder",
    task_id: 1,
    title: "Call the plumber",
    due_at: null,
    scheduled_for: "2026-12-01T09:30:00.000Z",
    fired_at: firedAt,
    read,
  });
  const now = new Date("2026-12-01T09:31:00Z");

  test("the first poll toasts only what fired in the last minutes; later polls what is new", () => {
    const old = n("a", "2026-12-01T06:00:00Z");
    const recent = n("b", "2026-12-01T09:30:05Z");
    assert.deepEqual(
      toToast(null, [recent, old], now).map((x) => x.id),
      ["b"],
    );
    const next = n("c", "2026-12-01T09:40:00Z");
    assert.deepEqual(
      toToast(new Set(["a", "b"]), [next, recent, old], now).map((x) => x.id),
      ["c"],
    );
    assert.deepEqual(toToast(new Set(["a"]), [n("d", "2026-12-01T09:30:59Z", true)], now), []);
  });

  test("a reminder shows its own time, and says late when it fired well after it", () => {
    assert.equal(reminderText(n("a", "2026-12-01T09:30:01Z"), "UTC"), "Call the plumber — 09:30");
    assert.equal(
      reminderText(n("a", "2026-12-01T11:00:00Z"), "UTC"),
      "Call the plumber — 09:30 (late)",
    );
  });
});
