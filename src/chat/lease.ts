import { EventEmitter } from "node:events";
import type { RequestContext } from "../context.ts";
import { retryingRead } from "../db/transaction.ts";
import * as repo from "./lease.repository.ts";

/**
 * The turn lease: one turn at a time per conversation. Correctness rests on the lease row
 * in the database (taken by step A, renewed by the heartbeat, freed by step B or release);
 * the in-process signal below only wakes waiters early.
 */
export interface Lease {
  conversationId: string;
  turnId: string;
}

const turnEnded = new EventEmitter().setMaxListeners(0);

/** Resolves when a turn of this conversation ends in this process, or after `ms`. */
export function waitForTurnEnd(conversationId: string, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      turnEnded.off(conversationId, done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    turnEnded.on(conversationId, done);
  });
}

/** Wakes this process's waiters for the conversation (its turn just ended). */
export function announceTurnEnd(conversationId: string): void {
  turnEnded.emit(conversationId);
}

/**
 * Renews the lease every third of its length while the model runs; returns the stop
 * function. A missed renewal only shortens the lease (the next one retries): logged, not
 * fatal.
 */
export function startHeartbeat(ctx: RequestContext, lease: Lease, leaseMs: number): () => void {
  const timer = setInterval(() => {
    repo
      .renewLease(ctx.db, { userId: ctx.userId, ...lease, leaseMs })
      .catch((error: unknown) =>
        ctx.log.warn({ err: error, conversation_id: lease.conversationId }, "lease renewal failed"),
      );
  }, leaseMs / 3);
  return () => clearInterval(timer);
}

/**
 * Frees the lease without storing a reply. A failure is logged: the lease then expires on
 * its own within TURN_LEASE_MS.
 */
export async function releaseLease(ctx: RequestContext, lease: Lease): Promise<void> {
  try {
    await retryingRead(() => repo.releaseLease(ctx.db, { userId: ctx.userId, ...lease }));
  } catch (error) {
    ctx.log.warn({ err: error, conversation_id: lease.conversationId }, "lease release failed");
  } finally {
    announceTurnEnd(lease.conversationId);
  }
}
