import type { z } from "zod";
import type { RequestContext } from "../context.ts";
import { retryingRead, retryingWrite } from "../db/transaction.ts";
import { AppError } from "../errors.ts";
import { type DueInput, resolveDue, todayIn } from "./due.ts";
import { completeOccurrence, type OccurrenceDone, planSchedule } from "./schedule.ts";
import * as repo from "./task.repository.ts";
import {
  INBOX,
  listName,
  type NewTask,
  normalizeLabels,
  type Task,
  type TaskChanges,
  type TaskQuery,
  taskDescription,
  taskNumber,
  taskTitle,
} from "./task.ts";
import * as queries from "./task-query.repository.ts";

// Each write is one statement, plus at most a list upsert (lists are created on first use
// and never deleted, so a list left by a failed write is harmless) and the parent checks.
//
// A stale If-Match version is 412 precondition_failed, not 409: it is exactly what
// RFC 9110 defines 412 for (a conditional request whose precondition is false), and it
// tells the client "read again, then retry" — distinct from 409 data conflicts.

/** Someone else's task is the same answer as a missing one: numbers reveal nothing. */
const notFound = (number: number) => new AppError("not_found", `Task ${number} was not found`);

/** `now` is for tests: "today" and relative due words are read at that instant. */
export interface Clock {
  now?: Date | undefined;
}

/**
 * A task as a write left it; `occurrence` when the write completed one occurrence of a
 * repeating task ("done for Mon 30 Nov; next: Mon 7 Dec", or `next: null` when it ended).
 */
export type UpdatedTask = Task & { occurrence?: OccurrenceDone };

/** Adds a task with the caller's next task number. */
export async function addTask(
  ctx: RequestContext,
  input: NewTask,
  clock: Clock = {},
): Promise<Task> {
  const title = check(taskTitle, input.title, "title");
  const description = check(taskDescription, input.description ?? "", "description");
  const schedule = planSchedule(
    null,
    { due: input.due, recurrence: input.recurrence, repeat_from: input.repeat_from },
    ctx.timezone,
    clock.now ?? new Date(),
  );
  const parentNumber = input.parent_id ?? null;
  if (parentNumber !== null) await checkParent(ctx, parentNumber);
  const listId = input.list === undefined ? null : await listIdOf(ctx, input.list);
  return retryingWrite(() =>
    repo.insertTask(ctx.db, ctx.userId, {
      title,
      description,
      due: schedule?.due ?? null,
      repeat: schedule?.repeat ?? null,
      priority: input.priority ?? "none",
      listId,
      labels: normalizeLabels(input.labels ?? []),
      parentNumber,
    }),
  );
}

/** One page of the caller's tasks matching the filters, and the cursor of the next page. */
export async function listTasks(
  ctx: RequestContext,
  query: TaskQuery = {},
  options: Clock & { withTotal?: boolean } = {},
): Promise<{ tasks: Task[]; nextCursor: string | null; total?: number }> {
  const now = options.now ?? new Date();
  const filters: queries.TaskFilters = {
    status: query.status ?? "all",
    due: query.due ?? [],
    list: query.list === undefined ? undefined : check(listName, query.list, "list"),
    label: query.label === undefined ? undefined : normalizeLabels([query.label])[0],
    priority: query.priority,
    q: query.q?.trim() ? query.q.trim() : undefined,
    timezone: ctx.timezone,
    today: todayIn(ctx.timezone, now),
    now,
  };
  const sort = query.sort ?? "number";
  const limit = query.limit ?? 100;
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, sort);
  const page = await retryingRead(() =>
    queries.listTasks(ctx.db, ctx.userId, filters, { sort, limit, after }),
  );
  const last = page.tasks.at(-1);
  const nextCursor =
    page.more && last ? encodeCursor(sort, queries.SORTS[sort].valuesOf(last)) : null;
  if (!options.withTotal) return { tasks: page.tasks, nextCursor };
  const total = await retryingRead(() => queries.countTasks(ctx.db, ctx.userId, filters));
  return { tasks: page.tasks, nextCursor, total };
}

/** The caller's lists ("Inbox" first) with how many pending tasks each holds. */
export async function listLists(ctx: RequestContext) {
  return retryingRead(() => queries.listLists(ctx.db, ctx.userId));
}

/** One of the caller's tasks by its number. */
export async function getTask(ctx: RequestContext, number: number): Promise<Task> {
  const n = checkNumber(number);
  const task = await retryingRead(() => repo.findTaskByNumber(ctx.db, ctx.userId, n));
  if (!task) throw notFound(n);
  return task;
}

/**
 * Changes one task: only what is given (at least one field). `completed: false` reopens.
 * With `ifMatchVersion`, the change applies only if nobody changed the task since that
 * version was read: otherwise 412, so concurrent edits never silently overwrite each other.
 * Completing a repeating task moves it to its next occurrence (the same task) instead.
 */
export async function updateTask(
  ctx: RequestContext,
  number: number,
  changes: TaskChanges,
  options: { ifMatchVersion?: number | undefined } & Clock = {},
): Promise<UpdatedTask> {
  const n = checkNumber(number);
  const patch: repo.TaskPatch = {};
  if (changes.title !== undefined) patch.title = check(taskTitle, changes.title, "title");
  if (changes.description !== undefined)
    patch.description = check(taskDescription, changes.description, "description");
  if (changes.completed !== undefined) patch.completed = changes.completed;
  if (changes.priority !== undefined) patch.priority = changes.priority;
  if (changes.labels !== undefined) patch.labels = normalizeLabels(changes.labels);
  if (changes.parent_id !== undefined) {
    if (changes.parent_id !== null) await checkNewParent(ctx, n, changes.parent_id);
    patch.parentNumber = changes.parent_id;
  }
  const schedules =
    changes.due !== undefined ||
    changes.recurrence !== undefined ||
    changes.repeat_from !== undefined;
  if (Object.keys(patch).length === 0 && changes.list === undefined && !schedules) {
    throw new AppError(
      "validation_failed",
      "Give at least one of title, description, completed, due, recurrence, repeat_from, priority, list, labels, parent_id",
    );
  }
  if (changes.list !== undefined) {
    // A missing (or someone else's) task is answered before a list is created for it.
    if (!(await retryingRead(() => repo.findTaskByNumber(ctx.db, ctx.userId, n)))) {
      throw notFound(n);
    }
    patch.listId = await listIdOf(ctx, changes.list);
  }

  const expected = options.ifMatchVersion;
  const now = options.now ?? new Date();
  // One statement when the task's pattern cannot matter: it does not repeat (checked in
  // the statement), or the change sets no date, pattern or completion.
  if (changes.recurrence === undefined && changes.repeat_from === undefined) {
    const due = changes.due === undefined ? undefined : readDue(ctx, changes.due, { now });
    if (!due?.recurrence) {
      const fast: repo.TaskPatch = due === undefined ? patch : { ...patch, due };
      const guard = changes.completed === true || (due !== undefined && due !== null);
      const updated = await retryingWrite(() =>
        repo.updateTask(ctx.db, ctx.userId, n, fast, expected, { unlessRepeating: guard }),
      );
      if (updated) return updated;
      if (!guard) return missingOrStale(ctx, n, expected);
    }
  }
  return updateWithSchedule(ctx, n, changes, patch, expected, now);
}

/**
 * The read-then-write path (compare-and-set on the version): the change needs the task's
 * pattern, due date or completed occurrences.
 */
async function updateWithSchedule(
  ctx: RequestContext,
  n: number,
  changes: TaskChanges,
  base: repo.TaskPatch,
  expected: number | undefined,
  now: Date,
): Promise<UpdatedTask> {
  let seen: number | undefined;
  for (let attempt = 0; attempt < 4; attempt++) {
    const current = await retryingRead(() => repo.findTaskByNumber(ctx.db, ctx.userId, n));
    if (!current) throw notFound(n);
    if (expected !== undefined && current.version !== expected) throw stale(n, expected, current);
    // Someone completed this occurrence while we read: it is done, once.
    if (changes.completed === true && seen !== undefined && current.completedOccurrences > seen) {
      return current;
    }
    seen ??= current.completedOccurrences;
    const schedule = planSchedule(current, changes, ctx.timezone, now);
    const due = schedule ? schedule.due : current.due;
    const repeat = schedule ? schedule.repeat : current.repeat;
    const patch: repo.TaskPatch = schedule ? { ...base, ...schedule } : { ...base };
    let occurrence: OccurrenceDone | undefined;
    if (changes.completed === true && !current.completed && due && repeat) {
      occurrence = completeOccurrence(due, repeat, current.completedOccurrences, ctx.timezone, now);
      patch.occurrenceDone = true;
      if (occurrence.next) {
        patch.due = occurrence.next;
        delete patch.completed;
      }
    }
    const updated = await retryingWrite(() =>
      repo.updateTask(ctx.db, ctx.userId, n, patch, current.version),
    );
    if (updated) return occurrence ? { ...updated, occurrence } : updated;
  }
  throw new AppError("transaction_conflict", `Task ${n} kept changing; try again`);
}

async function missingOrStale(
  ctx: RequestContext,
  n: number,
  expected: number | undefined,
): Promise<never> {
  if (expected === undefined) throw notFound(n);
  // The compare-and-set matched nothing: tell a stale version apart from a missing task.
  const current = await retryingRead(() => repo.findTaskByNumber(ctx.db, ctx.userId, n));
  if (!current) throw notFound(n);
  throw stale(n, expected, current);
}

function stale(n: number, expected: number, current: Task): AppError {
  return new AppError(
    "precondition_failed",
    `Task ${n} changed since version ${expected}; it is now at version ${current.version}`,
    { extra: { current_version: current.version } },
  );
}

/**
 * Marks one task completed; completing it again keeps its first completion time. A
 * repeating task moves to its next occurrence instead (see updateTask).
 */
export async function completeTask(ctx: RequestContext, number: number): Promise<UpdatedTask> {
  return updateTask(ctx, number, { completed: true });
}

/**
 * Deletes one task and returns it as it was; its subtasks are deleted with it (counted).
 * Its number is never handed out again.
 */
export async function deleteTask(
  ctx: RequestContext,
  number: number,
): Promise<{ task: Task; subtasksDeleted: number }> {
  const n = checkNumber(number);
  const deleted = await retryingWrite(() => repo.deleteTaskByNumber(ctx.db, ctx.userId, n));
  if (!deleted) throw notFound(n);
  return deleted;
}

function readDue(ctx: RequestContext, input: DueInput, clock: Clock) {
  return resolveDue(input, ctx.timezone, clock.now ?? new Date());
}

/** "Inbox" (any case) is no list; any other name is the user's list, created on first use. */
async function listIdOf(ctx: RequestContext, name: string): Promise<string | null> {
  const clean = check(listName, name, "list");
  if (clean.toLowerCase() === INBOX.toLowerCase()) return null;
  return (await retryingWrite(() => repo.ensureList(ctx.db, ctx.userId, clean))).id;
}

/** A parent is one of the caller's top-level tasks: subtasks are one level deep. */
async function checkParent(ctx: RequestContext, parent: number): Promise<void> {
  const p = checkNumber(parent);
  const task = await retryingRead(() => repo.findTaskByNumber(ctx.db, ctx.userId, p));
  if (!task) throw new AppError("not_found", `parent_id: task ${p} was not found`);
  if (task.parentNumber !== null) {
    throw new AppError(
      "validation_failed",
      `parent_id: task ${p} is itself a subtask (of task ${task.parentNumber}); subtasks are one level deep`,
    );
  }
}

async function checkNewParent(ctx: RequestContext, n: number, parent: number): Promise<void> {
  if (parent === n)
    throw new AppError("validation_failed", "parent_id: a task cannot be its own parent");
  await checkParent(ctx, parent);
  if (await retryingRead(() => repo.hasSubtasks(ctx.db, ctx.userId, n))) {
    throw new AppError(
      "validation_failed",
      `parent_id: task ${n} has subtasks, so it cannot become a subtask (one level deep)`,
    );
  }
}

/** An opaque page cursor: the sort and the last task's sort-key values. */
function encodeCursor(sort: string, values: (string | number)[]): string {
  return Buffer.from(JSON.stringify({ s: sort, k: values })).toString("base64url");
}

function decodeCursor(cursor: string, sort: string): (string | number)[] {
  const invalid = new AppError(
    "validation_failed",
    "cursor: not a cursor of this listing (pass next_cursor back with the same sort)",
  );
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw invalid;
  }
  const { s, k } = (parsed ?? {}) as { s?: unknown; k?: unknown };
  const spec = queries.SORTS[sort as keyof typeof queries.SORTS];
  if (s !== sort || !Array.isArray(k) || k.length !== spec.keys.length) throw invalid;
  const ok = k.every((v, i) => {
    const cast = spec.keys[i]?.cast;
    if (cast === "integer") return Number.isSafeInteger(v) && Math.abs(v) <= 2_147_483_647;
    if (cast === "date") return typeof v === "string" && /^(\d{4}-\d{2}-\d{2}|infinity)$/.test(v);
    return typeof v === "string" && v.length <= 5 && !v.includes("\u0000");
  });
  if (!ok) throw invalid;
  return k as (string | number)[];
}

function check<T>(schema: z.ZodType<T>, value: unknown, field: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const message = result.error.issues[0]?.message ?? "is not valid";
  throw new AppError("validation_failed", `${field}: ${message}`, { cause: result.error });
}

function checkNumber(number: number): number {
  const result = taskNumber.safeParse(number);
  if (!result.success) throw new AppError("invalid_id", "A task number is a positive integer");
  return result.data;
}
