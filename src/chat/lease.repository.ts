import { and, eq, lt, or, type Placeholder, sql } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import { conversations } from "../db/schema.ts";

// The statements of the turn lease (see lease.ts): take, renew, release. Step A and step B
// take and free it inside their own statements (turn.repository.ts).

export const interval = (ms: number) => `${ms} milliseconds`;
type Value<T> = T | Placeholder;

/**
 * Takes the conversation's turn lease (if free or expired) and reserves `seqs` sequence
 * numbers in one statement; the row lock makes seq allocation gap-free and unique. Nothing
 * comes back when the conversation is missing, not the user's, or busy.
 */
export function leaseStatement(
  db: Executor,
  input: {
    userId: Value<string>;
    conversationId: Value<string>;
    turnId: Value<string>;
    /** `${ms} milliseconds` */
    leaseInterval: Value<string>;
    seqs: Value<number>;
  },
) {
  return db
    .update(conversations)
    .set({
      lastSeq: sql`${conversations.lastSeq} + ${input.seqs}`,
      activeTurnId: sql`${input.turnId}`,
      activeTurnExpiresAt: sql`now() + ${input.leaseInterval}::interval`,
      updatedAt: sql`now()`,
    })
    .where(
      and(
        eq(conversations.userId, input.userId),
        eq(conversations.id, input.conversationId),
        or(
          sql`${conversations.activeTurnId} is null`,
          lt(conversations.activeTurnExpiresAt, sql`now()`),
        ),
      ),
    )
    .returning({ lastSeq: conversations.lastSeq });
}

export interface LeaseInput {
  userId: string;
  conversationId: string;
  turnId: string;
  leaseMs: number;
}

/** Extends the lease held by `turnId` (the heartbeat while the model runs). */
export async function renewLease(db: Executor, lease: LeaseInput): Promise<void> {
  await db
    .update(conversations)
    .set({ activeTurnExpiresAt: sql`now() + ${interval(lease.leaseMs)}::interval` })
    .where(ownLease(lease));
}

/** Frees the lease held by `turnId` without writing a message. */
export async function releaseLease(db: Executor, lease: Omit<LeaseInput, "leaseMs">) {
  await db
    .update(conversations)
    .set({ activeTurnId: null, activeTurnExpiresAt: null })
    .where(ownLease(lease));
}

const ownLease = (lease: Omit<LeaseInput, "leaseMs">) =>
  and(
    eq(conversations.userId, lease.userId),
    eq(conversations.id, lease.conversationId),
    eq(conversations.activeTurnId, lease.turnId),
  );
