import { and, asc, eq } from "drizzle-orm";
import type { StoredToolCall } from "../conversations/conversation.ts";
import type { Executor, Tx } from "../db/client.ts";
import { turnToolCalls } from "../db/schema.ts";

/** Records one tool call with its result: inside the transaction of its effect. */
export async function insertToolCall(
  tx: Tx,
  call: {
    userId: string;
    messageId: string;
    toolCallId: string;
    name: string;
    arguments: unknown;
    result: unknown;
  },
): Promise<void> {
  await tx.insert(turnToolCalls).values(call);
}

/** The recorded calls of one turn (its user message), in the order they ran. */
export async function listToolCalls(
  db: Executor,
  userId: string,
  messageId: string,
): Promise<StoredToolCall[]> {
  const rows = await db
    .select({
      id: turnToolCalls.toolCallId,
      name: turnToolCalls.name,
      arguments: turnToolCalls.arguments,
      result: turnToolCalls.result,
    })
    .from(turnToolCalls)
    .where(and(eq(turnToolCalls.userId, userId), eq(turnToolCalls.messageId, messageId)))
    .orderBy(asc(turnToolCalls.createdAt), asc(turnToolCalls.id));
  return rows;
}
