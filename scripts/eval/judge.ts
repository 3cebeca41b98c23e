/**
 * Judging one turn: what changed between the task lists before and after it, and the
 * reply, against one expectation (shared/examples/README.md). Returns why it failed, or
 * undefined when it held. The due/priority/list checks are shared with the in-process
 * checker (due-checks.ts).
 */
import { type Expect, isObject, type Status, type TaskJson, toRegExp } from "./cases.ts";
import { dueProblems } from "./due-checks.ts";

export interface ToolCall {
  name: string;
  arguments: unknown;
  result: unknown;
}

export interface Observation {
  before: TaskJson[];
  after: TaskJson[];
  reply: string;
  toolCalls: ToolCall[];
  status: string;
}

/** The user's zone and the instant the turn was sent, for "+N" and weekday checks. */
export interface Clock {
  timezone: string;
  now: Date;
}

const EDGE = /^[\s"'`“”‘’«».,!?;:()[\]{}*_-]+|[\s"'`“”‘’«».,!?;:()[\]{}*_-]+$/gu;

/** Case-insensitive, surrounding punctuation and quotes ignored, spaces collapsed. */
export function normTitle(s: string): string {
  return plain(s).replace(EDGE, "");
}

export function plain(s: string): string {
  return s.normalize("NFKC").replace(/[‘’]/g, "'").replace(/\s+/g, " ").trim().toLowerCase();
}

const FIELDS = ["title", "description", "completed", "due", "priority", "list", "labels"] as const;
const show = (t: TaskJson, key: (typeof FIELDS)[number]) =>
  JSON.stringify(
    key === "due" && t.due
      ? { date: t.due.date, time: t.due.time, recurrence: t.due.recurrence ?? null }
      : t[key],
  );

/** What changed between two snapshots, in words, for failure reports. */
export function describeChanges(before: TaskJson[], after: TaskJson[]): string[] {
  const out: string[] = [];
  const old = new Map(before.map((t) => [t.id, t]));
  const now = new Set(after.map((t) => t.id));
  for (const t of after) {
    const b = old.get(t.id);
    if (!b) {
      const extras = FIELDS.filter((k) => k !== "title" && k !== "completed").map(
        (k) => `${k} ${show(t, k)}`,
      );
      out.push(`added #${t.id} ${JSON.stringify(t.title)} (${extras.join(", ")})`);
      continue;
    }
    for (const key of FIELDS) {
      if (show(b, key) !== show(t, key)) {
        out.push(`#${t.id} ${key} ${show(b, key)} → ${show(t, key)}`);
      }
    }
  }
  for (const b of before) {
    if (!now.has(b.id)) out.push(`deleted #${b.id} ${JSON.stringify(b.title)}`);
  }
  return out;
}

/** Compares the whole list with what it should be; returns the differences, if any. */
export function compareState(expected: TaskJson[], after: TaskJson[]): string | undefined {
  const now = new Map(after.map((t) => [t.id, t]));
  const problems: string[] = [];
  for (const e of expected) {
    const a = now.get(e.id);
    now.delete(e.id);
    if (!a) {
      problems.push(`task ${e.id} should still exist`);
      continue;
    }
    const diffs = FIELDS.filter((k) => show(e, k) !== show(a, k)).map(
      (k) => `${k} ${show(e, k)} (is ${show(a, k)})`,
    );
    if (diffs.length > 0) problems.push(`task ${e.id} should have ${diffs.join(", ")}`);
  }
  if (now.size > 0) {
    problems.push(`task(s) ${[...now.keys()].map((n) => `#${n}`).join(", ")} should not exist`);
  }
  return problems.length > 0 ? problems.join("; ") : undefined;
}

const ids = (tasks: TaskJson[]) => new Set(tasks.map((t) => t.id));

function judgeAdded(want: NonNullable<Expect["added"]>, o: Observation, clock: Clock) {
  const old = ids(o.before);
  const added = o.after.filter((t) => !old.has(t.id));
  if (added.length !== 1) return `expected one new task, got ${added.length}`;
  const rest = compareState(
    o.before,
    o.after.filter((t) => old.has(t.id)),
  );
  if (rest) return rest;
  const t = added[0] as TaskJson;
  const title = normTitle(t.title);
  if (want.title !== undefined && title !== normTitle(want.title)) {
    return `title should be ${JSON.stringify(want.title)}`;
  }
  if (want.title_contains !== undefined && !title.includes(normTitle(want.title_contains))) {
    return `title should contain ${JSON.stringify(want.title_contains)}`;
  }
  if (want.title_lacks !== undefined && title.includes(normTitle(want.title_lacks))) {
    return `title ${JSON.stringify(t.title)} should not contain ${JSON.stringify(want.title_lacks)}`;
  }
  if (
    want.description_contains !== undefined &&
    !plain(t.description).includes(plain(want.description_contains))
  ) {
    return `description should contain ${JSON.stringify(want.description_contains)}`;
  }
  if (want.label !== undefined) {
    const label = want.label.replace(/^#/, "").toLowerCase();
    if (!t.labels.includes(label)) return `labels should include ${label} (are ${t.labels})`;
  }
  const due = dueProblems(t, want, clock.timezone, clock.now);
  if (due.length > 0) return due.join("; ");
  return undefined;
}

function judgeUpdated(want: NonNullable<Expect["updated"]>, o: Observation, clock: Clock) {
  const target = o.after.find((t) => t.id === want.task);
  const was = o.before.find((t) => t.id === want.task);
  if (!target || !was) return `task ${want.task} should exist`;
  const others = compareState(
    o.before.filter((t) => t.id !== want.task),
    o.after.filter((t) => t.id !== want.task),
  );
  if (others) return others;
  if (target.completed !== was.completed) return `task ${want.task} changed its completion`;
  const title = want.title ?? was.title;
  if (normTitle(target.title) !== normTitle(title)) {
    return `task ${want.task} should be titled ${JSON.stringify(title)}`;
  }
  if (want.description_contains === undefined) {
    if (target.description !== was.description) {
      return `description of task ${want.task} should not change`;
    }
  } else if (!plain(target.description).includes(plain(want.description_contains))) {
    return `description of task ${want.task} should contain ${JSON.stringify(want.description_contains)}`;
  }
  const due = dueProblems(target, want, clock.timezone, clock.now);
  if (due.length > 0) return `task ${want.task}: ${due.join("; ")}`;
  if (compareState([was], [target]) === undefined) return `task ${want.task} did not change`;
  return undefined;
}

function judgeListed(status: Status, o: Observation): string | undefined {
  const call = o.toolCalls.find(
    (t) =>
      t.name === "list_tasks" &&
      ((isObject(t.arguments) ? t.arguments.status : undefined) ?? "all") === status,
  );
  if (!call) {
    const lists = o.toolCalls.filter((t) => t.name === "list_tasks");
    return lists.length === 0
      ? "list_tasks was not called"
      : `list_tasks was called with ${lists.map((t) => JSON.stringify(t.arguments)).join(", ")}, not status ${status}`;
  }
  const reply = plain(o.reply);
  const wanted = (t: TaskJson) =>
    status === "all" || (status === "completed" ? t.completed : !t.completed);
  const missing = o.before.filter((t) => wanted(t) && !reply.includes(normTitle(t.title)));
  if (missing.length > 0) {
    return `reply does not name ${missing.map((t) => JSON.stringify(t.title)).join(", ")}`;
  }
  // "Call mom" is not named just because the reply names "Call mom tonight".
  const inWanted = (t: TaskJson) =>
    o.before.some((w) => wanted(w) && normTitle(w.title).includes(normTitle(t.title)));
  const extra = o.before.filter(
    (t) => !wanted(t) && reply.includes(normTitle(t.title)) && !inWanted(t),
  );
  if (extra.length > 0) {
    return `reply names ${extra.map((t) => JSON.stringify(t.title)).join(", ")}, which is not ${status}`;
  }
  return undefined;
}

/** The state kinds: the list after the turn must be exactly the expected one. */
function judgeState(e: Expect, o: Observation, clock: Clock): string | undefined {
  const { before, after } = o;
  if (e.added) return judgeAdded(e.added, o, clock);
  if (e.updated) return judgeUpdated(e.updated, o, clock);
  if (e.completed) {
    const n = e.completed;
    const notPending = n.filter((id) => !before.some((t) => t.id === id && !t.completed));
    if (notPending.length > 0) return `task(s) ${notPending} were not pending before the turn`;
    return compareState(
      before.map((t) => (n.includes(t.id) ? { ...t, completed: true } : t)),
      after,
    );
  }
  if (e.completed_one_of) {
    const done = after.filter(
      (t) => t.completed && before.some((b) => b.id === t.id && !b.completed),
    );
    if (done.length !== 1 || !e.completed_one_of.includes((done[0] as TaskJson).id)) {
      return `exactly one of ${e.completed_one_of} should be completed (completed: ${done.map((t) => t.id).join(", ") || "none"})`;
    }
    const id = (done[0] as TaskJson).id;
    return compareState(
      before.filter((t) => t.id !== id),
      after.filter((t) => t.id !== id),
    );
  }
  if (e.reopened) {
    const n = e.reopened;
    const notDone = n.filter((id) => !before.some((t) => t.id === id && t.completed));
    if (notDone.length > 0) return `task(s) ${notDone} were not completed before the turn`;
    return compareState(
      before.map((t) => (n.includes(t.id) ? { ...t, completed: false } : t)),
      after,
    );
  }
  if (e.deleted) {
    const n = e.deleted;
    const absent = n.filter((id) => !ids(before).has(id));
    if (absent.length > 0) return `task(s) ${absent} did not exist before the turn`;
    return compareState(
      before.filter((t) => !n.includes(t.id)),
      after,
    );
  }
  if (e.restored) {
    const back = e.restored.filter((id) => !ids(before).has(id) && ids(after).has(id));
    if (back.length !== e.restored.length) {
      return `task(s) ${e.restored} should be back (${back.length} of ${e.restored.length} are)`;
    }
    const restored = e.restored;
    return compareState(
      before,
      after.filter((t) => !restored.includes(t.id)),
    );
  }
  const unchanged = compareState(before, after);
  if (unchanged) return `nothing should change: ${unchanged}`;
  if (e.listed) return judgeListed(e.listed, o);
  const u = isObject(e.unchanged) ? e.unchanged : {};
  const reply = plain(o.reply);
  const missing = (u.names ?? []).filter((name) => !reply.includes(plain(name)));
  if (missing.length > 0) return `reply does not name ${missing.map((s) => JSON.stringify(s))}`;
  const named = (u.omits ?? []).filter((name) => reply.includes(plain(name)));
  if (named.length > 0) return `reply names ${named.map((s) => JSON.stringify(s))}`;
  if (u.reply_matches !== undefined && !toRegExp(u.reply_matches).test(o.reply)) {
    return `reply does not match /${u.reply_matches}/`;
  }
  return undefined;
}

/** Returns why the turn failed `e`, or undefined when it held. */
export function judge(e: Expect, o: Observation, clock: Clock): string | undefined {
  if (e.any_of) {
    const reasons = e.any_of.map((sub) => judge(sub, o, clock));
    if (reasons.some((r) => r === undefined)) return undefined;
    return `none of any_of held: ${reasons.map((r, i) => `(${i + 1}) ${r}`).join(" | ")}`;
  }
  const reason = judgeState(e, o, clock);
  if (reason) return reason;
  if (e.reply_matches !== undefined && !toRegExp(e.reply_matches).test(o.reply)) {
    return `reply does not match /${e.reply_matches}/`;
  }
  return undefined;
}

/** The kind of an expectation, for the per-intent counts. */
export function intentOf(e: Expect): string {
  if (e.listed) return `listed ${e.listed}`;
  if (e.any_of) return `any_of(${e.any_of.map(intentOf).join("|")})`;
  const kind = Object.keys(e).find((k) => k !== "reply_matches" && k !== "confirm_ok");
  return `${kind ?? "?"}${e.confirm_ok ? " (confirm ok)" : ""}`;
}
