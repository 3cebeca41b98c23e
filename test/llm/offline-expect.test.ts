/**
 * The judged case format (shared/examples/README.md: added / completed / deleted /
 * updated / listed / unchanged + reply_matches), its checker, and the fixtures and row
 * builders the phrasing tables use. No tests of its own.
 */
import assert from "node:assert/strict";
import { type DueChecks, dueProblems } from "../../scripts/eval/due-checks.ts";
import { type Clock, NOW, type Outcome, type Row, type SeedTask } from "./offline-harness.test.ts";

export interface Expect {
  added?: {
    title?: string;
    title_contains?: string;
    title_lacks?: string;
    description_contains?: string;
    label?: string;
  } & DueChecks;
  completed?: number[];
  reopened?: number[];
  deleted?: number[];
  /** Tasks gone before the turn that are back (undo, restore). */
  restored?: number[];
  /** A bulk change may ask first: the caller then says "yes" (the eval's confirm_ok). */
  confirm_ok?: boolean;
  updated?: { task: number; title?: string; description_contains?: string } & DueChecks;
  listed?: "all" | "pending" | "completed";
  unchanged?: boolean | { names?: string[]; omits?: string[]; reply_matches?: string };
  reply_matches?: string;
}

export interface Case {
  id?: string;
  /** The user's time zone (default UTC). */
  tz?: string;
  tasks: SeedTask[];
  say: string;
  expect: Expect;
}

function checkDue(row: Row, e: DueChecks, clock: Clock, why: string): void {
  // The same checks as the end-to-end eval (scripts/eval/due-checks.ts).
  assert.deepEqual(dueProblems(row, e, clock.timezone, clock.now), [], why);
}

const norm = (s: string) =>
  s
    .toLowerCase()
    .replace(/^[\s"'`.,!?;:]+|[\s"'`.,!?;:]+$/g, "")
    .trim();

function sameExcept(before: Row[], after: Row[], ids: number[]): void {
  const others = (rows: Row[]) => rows.filter((r) => !ids.includes(r.id));
  assert.deepEqual(others(after), others(before), "other tasks must not change");
}

/** Assert an outcome meets the judged expectation. */
export function check(c: Case, o: Outcome): void {
  const e = c.expect;
  const clock: Clock = { timezone: c.tz ?? "UTC", now: NOW };
  const why = `reply: ${o.text}\ncalls: ${JSON.stringify(o.calls)}`;
  if (e.added) {
    assert.equal(o.rows.length, o.before.length + 1, `one task added\n${why}`);
    sameExcept(o.before, o.rows.slice(0, o.before.length), []);
    const added = o.rows[o.rows.length - 1];
    assert.ok(added);
    if (e.added.title) assert.equal(norm(added.title), norm(e.added.title), why);
    if (e.added.title_contains) {
      assert.ok(
        norm(added.title).includes(norm(e.added.title_contains)),
        `title ${added.title}\n${why}`,
      );
    }
    if (e.added.description_contains) {
      assert.ok(
        (added.description ?? "")
          .toLowerCase()
          .includes(e.added.description_contains.toLowerCase()),
        `description ${added.description}\n${why}`,
      );
    }
    if (e.added.title_lacks) {
      assert.ok(
        !norm(added.title).includes(norm(e.added.title_lacks)),
        `title ${added.title}\n${why}`,
      );
    }
    if (e.added.label) assert.ok(added.labels.includes(e.added.label), `labels\n${why}`);
    checkDue(added, e.added, clock, why);
  }
  if (e.reopened) {
    const open = o.rows.filter(
      (r) => !r.completed && o.before.find((b) => b.id === r.id)?.completed,
    );
    assert.deepEqual(open.map((r) => r.id).sort(), [...e.reopened].sort(), why);
    sameExcept(o.before, o.rows, e.reopened);
  }
  if (e.completed) {
    const done = o.rows.filter(
      (r) => r.completed && !o.before.find((b) => b.id === r.id)?.completed,
    );
    assert.deepEqual(done.map((r) => r.id).sort(), [...e.completed].sort(), why);
    assert.equal(o.rows.length, o.before.length, why);
    sameExcept(o.before, o.rows, e.completed);
  }
  if (e.deleted) {
    const gone = o.before.filter((b) => !o.rows.some((r) => r.id === b.id)).map((b) => b.id);
    assert.deepEqual(gone.sort(), [...e.deleted].sort(), why);
    sameExcept(o.before, o.rows, e.deleted);
  }
  if (e.restored) {
    const back = o.rows.filter((r) => !o.before.some((b) => b.id === r.id)).map((r) => r.id);
    assert.deepEqual(back.sort(), [...e.restored].sort(), why);
    sameExcept(o.before, o.rows, e.restored);
  }
  if (e.updated) {
    const row = o.rows.find((r) => r.id === e.updated?.task);
    assert.ok(row, why);
    if (e.updated.title) assert.equal(norm(row.title), norm(e.updated.title), why);
    if (e.updated.description_contains) {
      const d = (row.description ?? "").toLowerCase();
      assert.ok(
        d.includes(e.updated.description_contains.toLowerCase()),
        `description ${d}\n${why}`,
      );
    }
    checkDue(row, e.updated, clock, why);
    sameExcept(o.before, o.rows, [e.updated.task]);
  }
  if (e.listed) {
    const status = e.listed;
    assert.deepEqual(o.rows, o.before, why);
    assert.ok(
      o.calls.some(
        (c) =>
          c.name === "list_tasks" && ((c.input as { status?: string }).status ?? "all") === status,
      ),
      `list_tasks(${status}) called\n${why}`,
    );
    const reply = o.text.toLowerCase();
    for (const r of o.before) {
      const wanted = status === "all" || r.completed === (status === "completed");
      assert.equal(
        reply.includes(r.title.toLowerCase()),
        wanted,
        `"${r.title}" ${wanted ? "named" : "not named"}\n${why}`,
      );
    }
  }
  if (e.unchanged) assert.deepEqual(o.rows, o.before, why);
  const u = typeof e.unchanged === "object" ? e.unchanged : {};
  for (const name of u.names ?? []) {
    assert.ok(o.text.toLowerCase().includes(name.toLowerCase()), `names "${name}"\n${why}`);
  }
  for (const name of u.omits ?? []) {
    assert.ok(!o.text.toLowerCase().includes(name.toLowerCase()), `omits "${name}"\n${why}`);
  }
  const matches = u.reply_matches ?? e.reply_matches;
  if (matches) {
    const ci = matches.startsWith("(?i)");
    const re = new RegExp(matches.replace(/^\(\?i\)/, ""), ci ? "i" : "");
    assert.match(o.text, re, why);
  }
}

// Fixtures and row builders for the phrasing tables.
export const HOME: SeedTask[] = [
  { title: "Buy groceries" },
  { title: "Pay bills" },
  { title: "Call mom", completed: true },
];
export const WORK: SeedTask[] = [
  { title: "Write the quarterly report" },
  { title: "Book dentist appointment" },
  { title: "Team meeting prep", completed: true },
  { title: "Water the plants" },
  { title: "Do laundry" },
];
export const CALLS: SeedTask[] = [
  { title: "Call mom" },
  { title: "Call the bank" },
  { title: "Buy milk" },
];
export const FOUR: SeedTask[] = [
  { title: "Walk the dog" },
  { title: "Renew ID" },
  { title: "Prepare slides" },
  { title: "Buy milk", completed: true },
];

export const NOT_FOUND =
  "(?i)(not find|couldn't find|could not find|no task|not found|doesn't exist|does not exist)";
export const WHICH = "(?i)(which|more than one|several|multiple)";

export const add = (say: string, title: string, description_contains?: string): Case => ({
  tasks: HOME,
  say,
  expect: { added: description_contains ? { title, description_contains } : { title } },
});
export const addLike = (say: string, title_contains: string): Case => ({
  tasks: HOME,
  say,
  expect: { added: { title_contains } },
});
export const done = (tasks: SeedTask[], say: string, ...ids: number[]): Case => ({
  tasks,
  say,
  expect: { completed: ids },
});
export const del = (tasks: SeedTask[], say: string, ...ids: number[]): Case => ({
  tasks,
  say,
  expect: { deleted: ids },
});
export const upd = (
  tasks: SeedTask[],
  say: string,
  task: number,
  title?: string,
  description_contains?: string,
): Case => ({
  tasks,
  say,
  expect: {
    updated: {
      task,
      ...(title ? { title } : {}),
      ...(description_contains ? { description_contains } : {}),
    },
  },
});
export const list = (
  say: string,
  listed: "all" | "pending" | "completed",
  tasks: SeedTask[] = WORK,
): Case => ({
  tasks,
  say,
  expect: { listed },
});
export const same = (tasks: SeedTask[], say: string, reply_matches = "."): Case => ({
  tasks,
  say,
  expect: { unchanged: true, reply_matches },
});
