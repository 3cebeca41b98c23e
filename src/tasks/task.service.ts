import type { z } from "zod";
import { recordActivity } from "../activity/activity.repository.ts";
import type { RequestContext } from "../context.ts";
import { joinOrBegin, retryingRead, retryingWrite } from "../db/transaction.ts";
import { AppError } from "../errors.ts";
import { syncTaskReminders } from "../reminders/reminder.service.ts";
import { enqueueTaskEvent } from "../webhooks/webhook.service.ts";
import { todayIn } from "./due.ts";
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
import {
  type TaskSnapshot,
  taskChanged,
  taskCreated,
  taskRestored,
  taskTrashed,
} from "./task-activity.ts";
import * as queries from "./task-query.repository.ts";

// Each write runs in one transaction with its activity entry (recordActivity): the chat
// turn's when a tool calls it (joinOrBegin), its own otherwise. A list upsert may run
// before it (lists are created on first use and never deleted, so a list left by a
// failed write is harmless), and the parent checks.
//
// Deleting moves a task to the trash (deleted_at), with its live subtasks; a trashed task
// is invisible to every read but the trash's (status "deleted") and to every write but
// restore. Restoring a task brings back the subtasks trashed WITH it (same instant); a
// subtask whose parent is in the trash cannot be restored alone (restore the parent).
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
  return joinOrBegin(ctx.db, async (tx, db) => {
    const task = await repo.insertTask(db, ctx.userId, {
      title,
      description,
      due: schedule?.due ?? null,
      repeat: schedule?.repeat ?? null,
      priority: input.priority ?? "none",
      listId,
      labels: normalizeLabels(input.labels ?? []),
      parentNumber,
    });
    await recordActivity(tx, ctx, taskCreated(task));
    if (input.reminders !== undefined || task.due?.at)
      await syncTaskReminders(tx, ctx, task, input.reminders, { dueChanged: true });
    await enqueueTaskEvent(tx, ctx, "task.created", task);
    return task;
  });
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
  if (
    Object.keys(patch).length === 0 &&
    changes.list === undefined &&
    !schedules &&
    changes.reminders === undefined
  ) {
    throw new AppError(
      "validation_failed",
      "Give at least one of title, description, completed, due, recurrence, repeat_from, priority, list, labels, parent_id, reminders",
    );
  }
  if (changes.list !== undefined) {
    // A missing (or someone else's) task is answered before a list is created for it.
    if (!(await retryingRead(() => repo.findTaskByNumber(ctx.db, ctx.userId, n)))) {
      throw notFound(n);
    }
    patch.listId = await listIdOf(ctx, changes.list);
  }

  const only = (key: "completed") => Object.keys(patch).length === 1 && key in patch && !schedules;
  const kind =
    changes.completed === true && only("completed")
      ? "task.completed"
      : changes.completed === false && only("completed")
        ? "task.reopened"
        : "task.updated";
  return applyPatch(ctx, n, patch, kind, options.ifMatchVersion, {
    reminders: changes.reminders,
    schedule: { changes, now: options.now ?? new Date() },
  });
}

/**
 * The one write of a task's fields: reads the task locked, checks the expected version,
 * plans its due date and pattern (a completed occurrence of a repeating task moves it to
 * the next one), applies the patch and records before/after of what changed — with its
 * reminders and webhook events — in one transaction.
 */
async function applyPatch(
  ctx: RequestContext,
  n: number,
  base: repo.TaskPatch,
  kind: "task.updated" | "task.completed" | "task.reopened",
  expected: number | undefined,
  with_: {
    reminders?: TaskChanges["reminders"];
    schedule?: { changes: TaskChanges; now: Date };
  } = {},
): Promise<UpdatedTask> {
  return joinOrBegin(ctx.db, async (tx, db) => {
    const before = await repo.findTaskByNumber(db, ctx.userId, n, { lock: true });
    if (!before) throw notFound(n);
    if (expected !== undefined && before.version !== expected) throw stale(n, expected, before);
    const patch: repo.TaskPatch = { ...base };
    let occurrence: OccurrenceDone | undefined;
    if (with_.schedule) {
      const { changes, now } = with_.schedule;
      const planned = planSchedule(before, changes, ctx.timezone, now);
      if (planned) Object.assign(patch, planned);
      const due = planned ? planned.due : before.due;
      const repeat = planned ? planned.repeat : before.repeat;
      if (changes.completed === true && !before.completed && due && repeat) {
        occurrence = completeOccurrence(
          due,
          repeat,
          before.completedOccurrences,
          ctx.timezone,
          now,
        );
        patch.occurrenceDone = true;
        if (occurrence.next) {
          patch.due = occurrence.next;
          delete patch.completed;
        }
      }
    }
    const updated = await repo.updateTask(db, ctx.userId, n, patch);
    if (!updated) throw notFound(n);
    await recordActivity(tx, ctx, taskChanged(before, updated, kind));
    // Reminders follow the due time and the completion; subscribers hear of the change.
    const reminders = with_.reminders;
    if (patch.due !== undefined || patch.completed !== undefined || reminders !== undefined)
      await syncTaskReminders(tx, ctx, updated, reminders, { dueChanged: patch.due !== undefined });
    const event = kind === "task.completed" ? "task.completed" : "task.updated";
    await enqueueTaskEvent(tx, ctx, event, updated);
    return occurrence ? { ...updated, occurrence } : updated;
  });
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
 * Moves one task to the trash, with its subtasks (counted), and returns it. It keeps its
 * number (never handed out again); restoreTask brings it back until the trash is purged
 * (TRASH_DAYS). With `ifMatchVersion`, only if nobody changed it since (else 412).
 */
export async function deleteTask(
  ctx: RequestContext,
  number: number,
  options: { ifMatchVersion?: number | undefined } = {},
): Promise<{ task: Task; subtasksDeleted: number }> {
  const n = checkNumber(number);
  return joinOrBegin(ctx.db, async (tx, db) => {
    const trashed = await repo.trashTask(db, ctx.userId, n, options.ifMatchVersion);
    if (!trashed) {
      const current = await repo.findTaskByNumber(db, ctx.userId, n);
      if (!current || options.ifMatchVersion === undefined) throw notFound(n);
      throw stale(n, options.ifMatchVersion, current);
    }
    await recordActivity(tx, ctx, taskTrashed(trashed.task, trashed.subtasks));
    await enqueueTaskEvent(tx, ctx, "task.deleted", trashed.task);
    return { task: trashed.task, subtasksDeleted: trashed.subtasks.length };
  });
}

/**
 * Takes one task out of the trash (with the subtasks trashed together with it), under
 * its own number. A task that is not in the trash is 409 `not_in_trash`; a subtask whose
 * parent is in the trash is 409 `parent_in_trash`. With `ifMatchVersion`: 412 if changed.
 */
export async function restoreTask(
  ctx: RequestContext,
  number: number,
  options: { ifMatchVersion?: number | undefined } = {},
): Promise<{ task: Task; subtasksRestored: number }> {
  const n = checkNumber(number);
  return joinOrBegin(ctx.db, async (tx, db) => {
    const current = await repo.findTaskByNumber(db, ctx.userId, n, {
      includeDeleted: true,
      lock: true,
    });
    if (!current) throw notFound(n);
    const expected = options.ifMatchVersion;
    if (expected !== undefined && current.version !== expected) throw stale(n, expected, current);
    if (!current.deletedAt) {
      throw new AppError("not_in_trash", `Task ${n} is not in the trash`);
    }
    if (current.parentNumber !== null) {
      const parent = await repo.findTaskByNumber(db, ctx.userId, current.parentNumber, {
        includeDeleted: true,
      });
      if (parent?.deletedAt) {
        throw new AppError(
          "parent_in_trash",
          `Task ${n} is a subtask of task ${parent.number}, which is in the trash: restore task ${parent.number} (it brings back its subtasks)`,
        );
      }
    }
    const restored = await repo.restoreTask(db, ctx.userId, n, current.deletedAt);
    if (!restored) throw notFound(n);
    await recordActivity(
      tx,
      ctx,
      taskRestored(restored.task, current.deletedAt, restored.subtasks),
    );
    return { task: restored.task, subtasksRestored: restored.subtasks.length };
  });
}

/**
 * Puts a task's fields back to a logged before-state (an undo), only while the task is
 * still at `expectedVersion` (412 otherwise); recorded as a task.updated entry.
 */
export async function revertTaskFields(
  ctx: RequestContext,
  number: number,
  fields: Partial<TaskSnapshot>,
  expectedVersion: number,
): Promise<Task> {
  const n = checkNumber(number);
  const patch: repo.TaskPatch = {};
  if (fields.title !== undefined) patch.title = fields.title;
  if (fields.description !== undefined) patch.description = fields.description;
  if (fields.completed !== undefined) patch.completed = fields.completed;
  if (fields.completed_at !== undefined)
    patch.completedAt = fields.completed_at === null ? null : new Date(fields.completed_at);
  if (fields.due !== undefined) patch.due = fields.due;
  if (fields.priority !== undefined) patch.priority = fields.priority;
  if (fields.labels !== undefined) patch.labels = fields.labels;
  if (fields.parent_id !== undefined) {
    if (fields.parent_id !== null) await checkParent(ctx, fields.parent_id);
    patch.parentNumber = fields.parent_id;
  }
  if (fields.list !== undefined) patch.listId = await listIdOf(ctx, fields.list);
  const onlyCompletion = Object.keys(patch).every((k) => k === "completed" || k === "completedAt");
  const kind =
    onlyCompletion && patch.completed === true
      ? "task.completed"
      : onlyCompletion && patch.completed === false
        ? "task.reopened"
        : "task.updated";
  return applyPatch(ctx, n, patch, kind, expectedVersion);
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
