import { and, asc, eq, sql } from "drizzle-orm";
import type { StoredToolCall } from "../conversations/conversation.ts";
import type { Db, Executor, Tx } from "../db/client.ts";
import { jsonText, prepared } from "../db/prepared.ts";
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
  await insertToolCallQuery(tx as unknown as Db).execute({
    ...call,
    arguments: jsonText(call.arguments),
    result: jsonText(call.result),
  });
}

// Once per tool call with an effect, in its transaction: built once per connection
// (src/db/prepared.ts).
const insertToolCallQuery = prepared((db) =>
  db.insert(turnToolCalls).values({
    userId: sql.placeholder("userId"),
    messageId: sql.placeholder("messageId"),
    toolCallId: sql.placeholder("toolCallId"),
    name: sql.placeholder("name"),
    arguments: sql`${sql.placeholder("arguments")}::jsonb`,
    result: sql`${sql.placeholder("result")}::jsonb`,
  }),
);

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
