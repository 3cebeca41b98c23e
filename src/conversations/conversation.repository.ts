import { and, asc, desc, eq, gt, isNull, lt, or, sql } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import { conversations, messages } from "../db/schema.ts";
import type {
  Conversation,
  Message,
  MessageRole,
  MessageStatus,
  StoredToolCall,
} from "./conversation.ts";

const conversationColumns = {
  id: conversations.id,
  userId: conversations.userId,
  title: conversations.title,
  model: conversations.model,
  lastSeq: conversations.lastSeq,
  createdAt: conversations.createdAt,
  updatedAt: conversations.updatedAt,
};

export async function findConversation(
  db: Executor,
  userId: string,
  id: string,
  options: { lock?: boolean } = {},
): Promise<Conversation | undefined> {
  const query = db
    .select(conversationColumns)
    .from(conversations)
    .where(and(eq(conversations.userId, userId), eq(conversations.id, id)));
  const [row] = options.lock ? await query.for("update") : await query;
  return row;
}

/**
 * updated_at to the microsecond, as the page cursor needs it: a JS Date keeps milliseconds
 * only, and a cursor cut to the millisecond skips rows updated within that millisecond.
 */
const cursorAt = sql<string>`to_char(${conversations.updatedAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** Newest activity first; the cursor is the (updated_at, id) of the last item seen. */
export async function listConversations(
  db: Executor,
  userId: string,
  limit: number,
  after?: { updatedAt: string; id: string },
): Promise<(Conversation & { cursorAt: string })[]> {
  const at = after ? sql`${after.updatedAt}::timestamptz` : undefined;
  const page = after
    ? or(
        sql`${conversations.updatedAt} < ${at}`,
        and(sql`${conversations.updatedAt} = ${at}`, lt(conversations.id, after.id)),
      )
    : undefined;
  return db
    .select({ ...conversationColumns, cursorAt })
    .from(conversations)
    .where(and(eq(conversations.userId, userId), page))
    .orderBy(desc(conversations.updatedAt), desc(conversations.id))
    .limit(limit);
}

export async function updateConversationModel(
  db: Executor,
  userId: string,
  id: string,
  model: string,
): Promise<Conversation | undefined> {
  const [row] = await db
    .update(conversations)
    .set({ model, updatedAt: sql`now()` })
    .where(and(eq(conversations.userId, userId), eq(conversations.id, id)))
    .returning(conversationColumns);
  return row;
}

/** The model id stored with a conversation (null before models were chosen); undefined if missing. */
export async function findConversationModel(
  db: Executor,
  userId: string,
  id: string,
): Promise<{ model: string | null } | undefined> {
  const [row] = await db
    .select({ model: conversations.model })
    .from(conversations)
    .where(and(eq(conversations.userId, userId), eq(conversations.id, id)));
  return row;
}

export async function updateConversationTitle(
  db: Executor,
  userId: string,
  id: string,
  title: string,
): Promise<Conversation | undefined> {
  const [row] = await db
    .update(conversations)
    .set({ title, updatedAt: sql`now()` })
    .where(and(eq(conversations.userId, userId), eq(conversations.id, id)))
    .returning(conversationColumns);
  return row;
}

/** Deletes one conversation (messages cascade); its title as it was, or undefined. */
export async function deleteConversation(
  db: Executor,
  userId: string,
  id: string,
): Promise<{ title: string } | undefined> {
  const rows = await db
    .delete(conversations)
    .where(and(eq(conversations.userId, userId), eq(conversations.id, id)))
    .returning({ title: conversations.title });
  return rows[0];
}

// ---- messages ----

/** A message row, as selected (snake_case keys) or as json_agg renders it (timestamps as text). */
export interface MessageRow {
  id: string;
  conversation_id: string;
  seq: number;
  role: MessageRole;
  content: string;
  tool_calls: StoredToolCall[] | null;
  reply_to: string | null;
  status: MessageStatus;
  client_message_id: string | null;
  usage: Record<string, number | undefined> | null;
  created_at: Date | string;
  error_code: string | null;
  model: string | null;
  /** bigint: a string from node-postgres and json_agg alike, or a number. */
  cost_micros: number | string | null;
  replaced_by: string | null;
}

/** The one mapper from a stored message row to the domain type. */
export function toMessage(row: MessageRow): Message {
  return {
    id: row.id,
    conversationId: row.conversation_id,
    seq: Number(row.seq),
    role: row.role,
    content: row.content,
    toolCalls: row.tool_calls,
    replyTo: row.reply_to,
    status: row.status,
    clientMessageId: row.client_message_id,
    usage: row.usage,
    createdAt: row.created_at instanceof Date ? row.created_at : new Date(row.created_at),
    errorCode: row.error_code,
    model: row.model,
    costMicros: row.cost_micros === null ? null : Number(row.cost_micros),
    replacedBy: row.replaced_by,
  };
}

/**
 * What one message may cost a read, in SQL before anything reaches the process: content
 * over CONTENT_MAX characters is cut, and tool calls whose stored (compressed) size is over
 * TOOL_CALLS_MAX bytes are left out — measured with pg_column_size, which does not
 * decompress them. New rows are bounded when written (chat/tool-calls.ts); this also
 * bounds rows written before that, whatever they hold.
 */
export const CONTENT_MAX = 32_000;
export const TOOL_CALLS_MAX = 64_000;

/** Every column of a message, under the keys of MessageRow, with the bounds above. */
export const messageColumns = {
  id: messages.id,
  conversation_id: messages.conversationId,
  seq: messages.seq,
  role: messages.role,
  content: sql<string>`left(${messages.content}, ${sql.raw(String(CONTENT_MAX))})`,
  tool_calls: sql<
    StoredToolCall[] | null
  >`case when pg_column_size(${messages.toolCalls}) > ${sql.raw(String(TOOL_CALLS_MAX))} then '[]'::jsonb else ${messages.toolCalls} end`,
  reply_to: messages.replyTo,
  status: messages.status,
  client_message_id: messages.clientMessageId,
  usage: messages.usage,
  created_at: messages.createdAt,
  error_code: messages.errorCode,
  model: messages.model,
  cost_micros: messages.costMicros,
  replaced_by: messages.replacedBy,
};

/** A page of messages in seq order: after `afterSeq` (forwards) or before `beforeSeq` (backwards). */
export async function listMessages(
  db: Executor,
  userId: string,
  conversationId: string,
  page: { limit: number; afterSeq?: number; beforeSeq?: number; includeReplaced?: boolean },
): Promise<Message[]> {
  const scope = and(
    eq(messages.userId, userId),
    eq(messages.conversationId, conversationId),
    page.includeReplaced ? undefined : isNull(messages.replacedBy),
  );
  if (page.beforeSeq !== undefined) {
    const rows = await db
      .select(messageColumns)
      .from(messages)
      .where(and(scope, lt(messages.seq, page.beforeSeq)))
      .orderBy(desc(messages.seq))
      .limit(page.limit);
    return rows.map(toMessage).reverse();
  }
  const rows = await db
    .select(messageColumns)
    .from(messages)
    .where(and(scope, gt(messages.seq, page.afterSeq ?? 0)))
    .orderBy(asc(messages.seq))
    .limit(page.limit);
  return rows.map(toMessage);
}

/** One message's context manifest (jsonb as stored), in the user's conversation. */
export async function findMessageContext(
  db: Executor,
  userId: string,
  conversationId: string,
  messageId: string,
): Promise<{ id: string; seq: number; context: unknown } | undefined> {
  const [row] = await db
    .select({ id: messages.id, seq: messages.seq, context: messages.context })
    .from(messages)
    .where(
      and(
        eq(messages.userId, userId),
        eq(messages.conversationId, conversationId),
        eq(messages.id, messageId),
      ),
    );
  return row && { ...row, seq: Number(row.seq) };
}
