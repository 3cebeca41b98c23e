import { and, desc, eq, isNull, sql } from "drizzle-orm";
import { messageColumns, toMessage } from "../conversations/conversation.repository.ts";
import type { Message, StoredToolCall } from "../conversations/conversation.ts";
import type { Executor, Tx } from "../db/client.ts";
import { conversations, messages } from "../db/schema.ts";

// The statements of Regenerate (regenerate.ts): find the reply to replace, and store the
// new reply beside it. Rare next to a turn, so built per call (not prepared.ts).

/** One message of the user's conversation, and the conversation's last seq. */
export async function findMessageInConversation(
  db: Executor,
  userId: string,
  conversationId: string,
  messageId: string,
): Promise<{ message: Message; lastSeq: number } | undefined> {
  const [row] = await db
    .select({ ...messageColumns, last_seq: conversations.lastSeq })
    .from(messages)
    .innerJoin(
      conversations,
      and(eq(conversations.id, messages.conversationId), eq(conversations.userId, userId)),
    )
    .where(
      and(
        eq(messages.userId, userId),
        eq(messages.conversationId, conversationId),
        eq(messages.id, messageId),
      ),
    );
  if (!row) return undefined;
  const { last_seq, ...message } = row;
  return { message: toMessage(message), lastSeq: Number(last_seq) };
}

export async function findMessage(
  db: Executor,
  userId: string,
  messageId: string,
): Promise<Message | undefined> {
  const [row] = await db
    .select(messageColumns)
    .from(messages)
    .where(and(eq(messages.userId, userId), eq(messages.id, messageId)));
  return row && toMessage(row);
}

/** The conversation's message with the highest seq. */
export async function findLastMessage(
  db: Executor,
  userId: string,
  conversationId: string,
): Promise<Message | undefined> {
  const [row] = await db
    .select(messageColumns)
    .from(messages)
    .where(and(eq(messages.userId, userId), eq(messages.conversationId, conversationId)))
    .orderBy(desc(messages.seq))
    .limit(1);
  return row && toMessage(row);
}

export type StoreRegenerated =
  | { kind: "stored"; message: Message }
  /** Another run replaced the reply first (a retry that raced): keep that one. */
  | { kind: "already_replaced" }
  /** The conversation was deleted while the model ran. */
  | { kind: "conversation_gone" };

/**
 * In the caller's transaction: marks the old reply replaced by `id`, takes the next seq
 * (freeing the lease if still ours) and inserts the new reply there. The old reply is
 * marked first, so the partial unique index on reply_to (current replies only) holds.
 */
export async function storeRegeneratedReply(
  tx: Tx,
  input: {
    id: string;
    userId: string;
    conversationId: string;
    turnId: string;
    replaces: string;
    replyTo: string;
    content: string;
    toolCalls: StoredToolCall[];
    status: Message["status"];
    usage: Record<string, number | undefined>;
    errorCode: string | null;
    context: unknown;
  },
): Promise<StoreRegenerated> {
  const marked = await tx
    .update(messages)
    .set({ replacedBy: input.id })
    .where(
      and(
        eq(messages.userId, input.userId),
        eq(messages.conversationId, input.conversationId),
        eq(messages.id, input.replaces),
        isNull(messages.replacedBy),
      ),
    )
    .returning({ id: messages.id });
  if (marked.length === 0) return { kind: "already_replaced" };
  // last_seq moves in the same transaction: an early request built before this (speculate.ts)
  // sees its seq taken and is dropped.
  const [next] = await tx
    .update(conversations)
    .set({
      lastSeq: sql`${conversations.lastSeq} + 1`,
      activeTurnId: sql`case when ${conversations.activeTurnId} = ${input.turnId} then null else ${conversations.activeTurnId} end`,
      activeTurnExpiresAt: sql`case when ${conversations.activeTurnId} = ${input.turnId} then null else ${conversations.activeTurnExpiresAt} end`,
      updatedAt: sql`now()`,
    })
    .where(and(eq(conversations.userId, input.userId), eq(conversations.id, input.conversationId)))
    .returning({ lastSeq: conversations.lastSeq });
  if (!next) return { kind: "conversation_gone" };
  const [row] = await tx
    .insert(messages)
    .values({
      id: input.id,
      conversationId: input.conversationId,
      userId: input.userId,
      seq: next.lastSeq,
      role: "assistant",
      content: input.content,
      toolCalls: input.toolCalls,
      replyTo: input.replyTo,
      status: input.status,
      usage: input.usage,
      errorCode: input.errorCode,
      context: input.context as Record<string, unknown>,
    })
    .returning(messageColumns);
  if (!row) throw new Error("insert into messages returned no row");
  return { kind: "stored", message: toMessage(row) };
}
