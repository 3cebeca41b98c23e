import * as apiKeys from "../api-keys/api-key.service.ts";
import type { RequestContext } from "../context.ts";
import * as conversations from "../conversations/conversation.service.ts";
import type { Db } from "../db/client.ts";
import { joinOrBegin, retryingRead } from "../db/transaction.ts";
import { AppError } from "../errors.ts";
import { findTaskByNumber } from "../tasks/task.repository.ts";
import * as tasks from "../tasks/task.service.ts";
import type { TaskSnapshot } from "../tasks/task-activity.ts";
import * as repo from "./activity.repository.ts";
import { type Activity, isUndoable } from "./activity.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const notFound = () => new AppError("not_found", "Activity entry not found");

/**
 * The caller's activity, newest first, one page at a time; `task` narrows it to one task
 * (its number; a task that is not the caller's — trashed ones included — is 404).
 */
export async function listActivity(
  ctx: RequestContext,
  query: { limit: number; cursor?: string | undefined; task?: number | undefined },
): Promise<{ items: Activity[]; nextCursor: string | null }> {
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  if (query.task !== undefined) {
    const n = query.task;
    const task = await retryingRead(() =>
      findTaskByNumber(ctx.db, ctx.userId, n, { includeDeleted: true }),
    );
    if (!task) throw new AppError("not_found", `Task ${n} was not found`);
  }
  const subject =
    query.task === undefined ? undefined : { type: "task" as const, id: String(query.task) };
  const rows = await retryingRead(() =>
    repo.listActivity(ctx.db, ctx.userId, { limit: query.limit + 1, after, subject }),
  );
  const items = rows.slice(0, query.limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > query.limit && last ? encodeCursor(last) : null };
}

/**
 * Reverts one logged change of the caller's, logged itself as a new entry (this request's
 * door, `undo_of` = the entry). Refused with 409: `already_undone` (an entry is undone at
 * most once), `not_undoable` (a deleted conversation, a revoked key, a sign-in), and
 * `undo_conflict` when the subject changed since the entry (nothing is overwritten).
 */
export async function undoActivity(ctx: RequestContext, id: string): Promise<Activity> {
  if (!UUID.test(id)) throw new AppError("invalid_id", "An activity id is a UUID");
  return joinOrBegin(ctx.db, async (tx) => {
    const entry = await repo.findActivity(tx, ctx.userId, id, { lock: true });
    if (!entry) throw notFound();
    return revert({ ...ctx, db: tx as unknown as Db }, entry);
  });
}

/** One entry reverted inside the caller's transaction (ctx.db is it). */
async function revert(ctx: RequestContext, entry: Activity): Promise<Activity> {
  if (entry.undoneBy !== null) {
    throw new AppError(
      "already_undone",
      `This change was already undone (entry ${entry.undoneBy})`,
    );
  }
  if (!isUndoable(entry)) {
    throw new AppError("not_undoable", `${entry.summary}: this kind of change cannot be undone`);
  }
  const undoCtx: RequestContext = { ...ctx, undoOf: entry.id };
  try {
    await apply(undoCtx, entry);
  } catch (error) {
    if (error instanceof AppError && error.code === "precondition_failed") {
      const [latest] = await repo.listActivity(ctx.db, ctx.userId, {
        limit: 1,
        subject: { type: entry.subjectType, id: entry.subject },
      });
      const since =
        latest && latest.id !== entry.id ? ` (${latest.summary}, via ${latest.door})` : "";
      throw new AppError(
        "undo_conflict",
        `Task ${entry.subject} was changed since${since}; undoing “${entry.summary}” would overwrite that, so nothing was changed`,
        { cause: error },
      );
    }
    throw error;
  }
  const undo = await repo.findUndoOf(ctx.db, ctx.userId, entry.id);
  if (!undo) throw new Error("the undo left no activity entry");
  return undo;
}

async function apply(ctx: RequestContext, entry: Activity): Promise<void> {
  const after = entry.after ?? {};
  const version = Number(after.version);
  switch (entry.kind) {
    case "task.created":
    case "task.restored":
      await tasks.deleteTask(ctx, Number(entry.subject), { ifMatchVersion: version });
      return;
    case "task.deleted":
      await tasks.restoreTask(ctx, Number(entry.subject), { ifMatchVersion: version });
      return;
    case "task.updated":
    case "task.completed":
    case "task.reopened": {
      const { version: _v, ...fields } = entry.before ?? {};
      await tasks.revertTaskFields(
        ctx,
        Number(entry.subject),
        fields as Partial<TaskSnapshot>,
        version,
      );
      return;
    }
    case "conversation.renamed":
      await conversations.renameConversation(ctx, entry.subject, String(entry.before?.title), {
        expectedTitle: String(after.title),
      });
      return;
    case "api_key.created":
      await apiKeys.revokeApiKey(ctx, entry.subject).catch((error: unknown) => {
        if (error instanceof AppError && error.code === "not_found") {
          throw new AppError("undo_conflict", "That API key was already revoked", { cause: error });
        }
        throw error;
      });
      return;
    case "conversation.deleted":
    case "api_key.revoked":
    case "session.new_client":
      throw new AppError("not_undoable", `${entry.summary}: this kind of change cannot be undone`);
  }
}

export interface TurnUndo {
  undone: Activity[];
  skipped: { entry: Activity; reason: string }[];
}

/**
 * Reverts the changes of the caller's previous chat turn in this conversation (the latest
 * turn other than this one that changed something), newest change first, in the caller's
 * transaction. An entry changed since by anything else is skipped with the reason (never
 * clobbered); one already undone is left out. `nothing_to_undo` when nothing is left.
 */
export async function undoLastTurn(ctx: RequestContext): Promise<TurnUndo> {
  const turn = ctx.turn;
  if (!turn) throw new AppError("nothing_to_undo", "Undo of a turn is only possible in a chat");
  return joinOrBegin(ctx.db, async (tx) => {
    const txCtx: RequestContext = { ...ctx, db: tx as unknown as Db };
    const entries = await repo.listLastTurnEntries(
      tx,
      ctx.userId,
      turn.conversationId,
      turn.messageId,
    );
    const pending = entries.filter((e) => e.undoneBy === null && isUndoable(e)).reverse();
    if (pending.length === 0) {
      throw new AppError(
        "nothing_to_undo",
        "Your previous request in this conversation changed nothing that can still be undone",
      );
    }
    const result: TurnUndo = { undone: [], skipped: [] };
    for (const entry of pending) {
      const locked = await repo.findActivity(tx, ctx.userId, entry.id, { lock: true });
      if (!locked) continue;
      try {
        result.undone.push(await revert(txCtx, locked));
      } catch (error) {
        if (!(error instanceof AppError) || error.status >= 500) throw error;
        result.skipped.push({ entry, reason: error.detail });
      }
    }
    return result;
  });
}

function encodeCursor(a: Activity): string {
  return Buffer.from(JSON.stringify([a.cursorAt, a.id])).toString("base64url");
}

const CURSOR_AT = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

function decodeCursor(cursor: string): { createdAt: string; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown[];
    if (
      typeof at === "string" &&
      CURSOR_AT.test(at) &&
      !Number.isNaN(new Date(at).getTime()) &&
      typeof id === "string" &&
      UUID.test(id)
    ) {
      return { createdAt: at, id };
    }
  } catch {
    // fall through
  }
  throw new AppError("validation_failed", "cursor: use next_cursor from a previous page");
}
