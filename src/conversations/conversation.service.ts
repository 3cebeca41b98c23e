import { recordActivity } from "../activity/activity.repository.ts";
import { type ContextManifest, ContextManifestJson } from "../chat/manifest.ts";
import type { RequestContext } from "../context.ts";
import { joinOrBegin, retryingRead } from "../db/transaction.ts";
import { AppError } from "../errors.ts";
import * as repo from "./conversation.repository.ts";
import type { Conversation, Message } from "./conversation.ts";

const notFound = () => new AppError("not_found", "Conversation not found");

/** Newest activity first, paged by an opaque cursor. */
export async function listConversations(
  ctx: RequestContext,
  page: { limit: number; cursor?: string },
): Promise<{ items: Conversation[]; nextCursor: string | null }> {
  const after = page.cursor ? decodeCursor(page.cursor) : undefined;
  const rows = await retryingRead(() =>
    repo.listConversations(ctx.db, ctx.userId, page.limit + 1, after),
  );
  const items = rows.slice(0, page.limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > page.limit && last ? encodeCursor(last) : null };
}

/** One conversation of the caller; someone else's is the same 404 as a missing one. */
export async function getConversation(ctx: RequestContext, id: string): Promise<Conversation> {
  const found = await retryingRead(() => repo.findConversation(ctx.db, ctx.userId, id));
  if (!found) throw notFound();
  return found;
}

/**
 * Renames one conversation of the caller (logged with the old and new title). With
 * `expectedTitle` (an undo), only while the title is still that: 409 undo_conflict else.
 */
export async function renameConversation(
  ctx: RequestContext,
  id: string,
  title: string,
  options: { expectedTitle?: string } = {},
): Promise<Conversation> {
  return joinOrBegin(ctx.db, async (tx) => {
    const before = await repo.findConversation(tx, ctx.userId, id, { lock: true });
    if (!before) throw notFound();
    if (options.expectedTitle !== undefined && before.title !== options.expectedTitle) {
      throw new AppError(
        "undo_conflict",
        `The conversation was renamed since (it is now “${before.title}”); nothing was changed`,
      );
    }
    const updated = await repo.updateConversationTitle(tx, ctx.userId, id, title);
    if (!updated) throw notFound();
    await recordActivity(tx, ctx, {
      kind: "conversation.renamed",
      subjectType: "conversation",
      subject: id,
      summary: `Renamed conversation “${before.title}” to “${updated.title}”`,
      before: { title: before.title },
      after: { title: updated.title },
    });
    return updated;
  });
}

/** Deletes the conversation and (by cascade) every message in it: logged, not undoable. */
export async function deleteConversation(ctx: RequestContext, id: string): Promise<void> {
  await joinOrBegin(ctx.db, async (tx) => {
    const deleted = await repo.deleteConversation(tx, ctx.userId, id);
    if (!deleted) throw notFound();
    await recordActivity(tx, ctx, {
      kind: "conversation.deleted",
      subjectType: "conversation",
      subject: id,
      summary: `Deleted conversation “${deleted.title}”`,
      before: { title: deleted.title },
      after: null,
    });
  });
}

/** A page of messages in seq order, with the cursor for the next page in the same direction. */
export async function listMessages(
  ctx: RequestContext,
  conversationId: string,
  page: { limit: number; afterSeq?: number; beforeSeq?: number; includeReplaced?: boolean },
): Promise<{ items: Message[]; nextCursor: number | null }> {
  await getConversation(ctx, conversationId);
  const rows = await retryingRead(() =>
    repo.listMessages(ctx.db, ctx.userId, conversationId, { ...page, limit: page.limit + 1 }),
  );
  const backwards = page.beforeSeq !== undefined;
  const more = rows.length > page.limit;
  const items = backwards
    ? rows.slice(rows.length - Math.min(rows.length, page.limit))
    : rows.slice(0, page.limit);
  const edge = backwards ? items[0] : items.at(-1);
  return { items, nextCursor: more && edge ? edge.seq : null };
}

/**
 * The context manifest of one message of the caller's conversation (chat/manifest.ts):
 * what the model was given for that reply. null for a message without one.
 */
export async function getMessageContext(
  ctx: RequestContext,
  conversationId: string,
  messageId: string,
): Promise<{ id: string; seq: number; context: ContextManifest | null }> {
  const found = await retryingRead(() =>
    repo.findMessageContext(ctx.db, ctx.userId, conversationId, messageId),
  );
  if (!found) throw new AppError("not_found", "Message not found");
  const parsed = ContextManifestJson.safeParse(found.context);
  return { id: found.id, seq: found.seq, context: parsed.success ? parsed.data : null };
}

function encodeCursor(c: { cursorAt: string; id: string }): string {
  return Buffer.from(JSON.stringify([c.cursorAt, c.id])).toString("base64url");
}

const CURSOR_AT = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A UTC timestamp (to the microsecond) that names a real instant: no 30 February. */
function isInstant(at: string): boolean {
  const date = new Date(`${at.slice(0, 19)}Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 19) === at.slice(0, 19);
}

function decodeCursor(cursor: string): { updatedAt: string; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as [
      unknown,
      unknown,
    ];
    if (
      typeof at === "string" &&
      CURSOR_AT.test(at) &&
      isInstant(at) &&
      typeof id === "string" &&
      UUID.test(id)
    ) {
      return { updatedAt: at, id };
    }
  } catch {
    // fall through
  }
  throw new AppError(
    "validation_failed",
    "The cursor is not valid; use next_cursor from a previous page",
  );
}
