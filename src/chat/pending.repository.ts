import { and, eq, sql } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import { pendingActions } from "../db/schema.ts";

/** One held tool call: what confirm_pending_action will run. */
export interface HeldCall {
  name: string;
  input: Record<string, unknown>;
}

export interface PendingAction {
  messageId: string;
  seq: number;
  calls: HeldCall[];
  question: string;
}

/** Stores the conversation's pending action, replacing any earlier one. */
export async function savePending(
  db: Executor,
  row: { userId: string; conversationId: string } & PendingAction,
): Promise<void> {
  await db
    .insert(pendingActions)
    .values(row)
    .onConflictDoUpdate({
      target: [pendingActions.userId, pendingActions.conversationId],
      set: {
        messageId: row.messageId,
        seq: row.seq,
        calls: row.calls,
        question: row.question,
        createdAt: sql`now()`,
      },
    });
}

/**
 * Removes and returns the conversation's pending action (whatever its age): a pending
 * action is used, cancelled or found stale exactly once. Inside the caller's transaction,
 * so the removal commits with the effects it allowed.
 */
export async function takePending(
  db: Executor,
  userId: string,
  conversationId: string,
): Promise<PendingAction | undefined> {
  const rows = await db
    .delete(pendingActions)
    .where(
      and(eq(pendingActions.userId, userId), eq(pendingActions.conversationId, conversationId)),
    )
    .returning({
      messageId: pendingActions.messageId,
      seq: pendingActions.seq,
      calls: pendingActions.calls,
      question: pendingActions.question,
    });
  const row = rows[0];
  return row ? { ...row, calls: row.calls as HeldCall[] } : undefined;
}
