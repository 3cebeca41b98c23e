import type { z } from "zod";
import type { RequestContext } from "../context.ts";
import { retryingRead, retryingWrite } from "../db/transaction.ts";
import { AppError } from "../errors.ts";
import * as repo from "./task.repository.ts";
import {
  type NewTask,
  type Task,
  type TaskChanges,
  type TaskStatusFilter,
  taskDescription,
  taskNumber,
  taskTitle,
} from "./task.ts";

// Each use case is ONE statement (the number allocation included), so none needs an
// explicit transaction: writes go through retryingWrite, reads through retryingRead.
//
// A stale If-Match version is 412 precondition_failed, not 409: it is exactly what
// RFC 9110 defines 412 for (a conditional request whose precondition is false), and it
// tells the client "read again, then retry" — distinct from 409 data conflicts.

/** Someone else's task is the same answer as a missing one: numbers reveal nothing. */
const notFound = (number: number) => new AppError("not_found", `Task ${number} was not found`);

/** Adds a task with the caller's next task number. */
export async function addTask(ctx: RequestContext, input: NewTask): Promise<Task> {
  const title = check(taskTitle, input.title, "title");
  const description = check(taskDescription, input.description ?? "", "description");
  return retryingWrite(() => repo.insertTask(ctx.db, ctx.userId, { title, description }));
}

/** The caller's tasks in number order; `status` keeps only pending or completed ones. */
export async function listTasks(
  ctx: RequestContext,
  status: TaskStatusFilter = "all",
): Promise<Task[]> {
  return retryingRead(() => repo.listTasks(ctx.db, ctx.userId, status));
}

/** One of the caller's tasks by its number. */
export async function getTask(ctx: RequestContext, number: number): Promise<Task> {
  const n = checkNumber(number);
  const task = await retryingRead(() => repo.findTaskByNumber(ctx.db, ctx.userId, n));
  if (!task) throw notFound(n);
  return task;
}

/**
 * Changes the title, description and/or completion of one task (at least one of them).
 * With `ifMatchVersion`, the change applies only if nobody changed the task since that
 * version was read: otherwise 412, so concurrent edits never silently overwrite each other.
 */
export async function updateTask(
  ctx: RequestContext,
  number: number,
  changes: TaskChanges,
  options: { ifMatchVersion?: number | undefined } = {},
): Promise<Task> {
  const n = checkNumber(number);
  const patch: TaskChanges = {};
  if (changes.title !== undefined) patch.title = check(taskTitle, changes.title, "title");
  if (changes.description !== undefined)
    patch.description = check(taskDescription, changes.description, "description");
  if (changes.completed !== undefined) patch.completed = changes.completed;
  if (Object.keys(patch).length === 0)
    throw new AppError("validation_failed", "Give at least one of title, description, completed");

  const expected = options.ifMatchVersion;
  const updated = await retryingWrite(() =>
    repo.updateTask(ctx.db, ctx.userId, n, patch, expected),
  );
  if (updated) return updated;
  if (expected === undefined) throw notFound(n);
  // The compare-and-set matched nothing: tell a stale version apart from a missing task.
  const current = await retryingRead(() => repo.findTaskByNumber(ctx.db, ctx.userId, n));
  if (!current) throw notFound(n);
  throw new AppError(
    "precondition_failed",
    `Task ${n} changed since version ${expected}; it is now at version ${current.version}`,
    { extra: { current_version: current.version } },
  );
}

/** Marks one task completed; completing it again keeps its first completion time. */
export async function completeTask(ctx: RequestContext, number: number): Promise<Task> {
  return updateTask(ctx, number, { completed: true });
}

/** Deletes one task and returns it as it was. Its number is never handed out again. */
export async function deleteTask(ctx: RequestContext, number: number): Promise<Task> {
  const n = checkNumber(number);
  const deleted = await retryingWrite(() => repo.deleteTaskByNumber(ctx.db, ctx.userId, n));
  if (!deleted) throw notFound(n);
  return deleted;
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
