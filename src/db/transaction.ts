import { AsyncLocalStorage } from "node:async_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { is } from "drizzle-orm";
import { PgTransaction } from "drizzle-orm/pg-core";
import { AppError } from "../errors.ts";
import type { Db, Tx } from "./client.ts";
import { classifyDbError, type DbErrorCategory, toAppError } from "./db-errors.ts";

export interface RetryOptions {
  /** Total attempts including the first (default 3). */
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Called before each retry: for logs and metrics. */
  onRetry?: (info: { attempt: number; error: unknown; delayMs: number }) => void;
  isolationLevel?: "read committed" | "repeatable read" | "serializable";
}

const DEFAULTS = { maxAttempts: 3, baseDelayMs: 25, maxDelayMs: 400 };

/** Told of every classified database failure these helpers see, and every retry (metrics). */
export interface DbFailureObserver {
  failure(category: DbErrorCategory): void;
  retry(): void;
}

const observers = new Set<DbFailureObserver>();

/** Subscribes an observer (each app's metrics); returns the unsubscribe. */
export function observeDbFailures(observer: DbFailureObserver): () => void {
  observers.add(observer);
  return () => observers.delete(observer);
}

/**
 * Set while code runs inside inTransaction: a statement there is never retried on its own
 * (after a failure the transaction is aborted); the failure goes up to inTransaction,
 * which retries the WHOLE transaction when that is safe.
 */
const insideTransaction = new AsyncLocalStorage<true>();

/**
 * Runs one use case in one transaction, retrying the WHOLE transaction only when that is
 * known to be safe: serialization failures and deadlocks (always rolled back), and lost
 * connections that happened before COMMIT was sent. A connection lost during COMMIT has
 * an unknown outcome and is never retried blindly: idempotency keys make that case safe.
 * Inside `fn` use only the `tx` handle (on PGlite the outer handle would deadlock).
 */
export async function inTransaction<T>(
  db: Db,
  fn: (tx: Tx) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const config = isolation(options.isolationLevel);
  return retrying(async (state) => {
    state.committing = false;
    return db.transaction(
      (tx) =>
        insideTransaction.run(true, async () => {
          const result = await fn(tx as Tx);
          state.committing = true; // from here on, a lost connection may have committed
          return result;
        }),
      config,
    );
  }, options);
}

/**
 * Runs `fn` in the transaction `db` already is (a chat tool call runs the service inside
 * the transaction that records the turn's effects), or in a new one (inTransaction). Either
 * way a change and its activity entry commit or roll back together. `db` is given to `fn`
 * both as the transaction handle and as a `Db` for repository functions typed with it.
 */
export async function joinOrBegin<T>(db: Db, fn: (tx: Tx, db: Db) => Promise<T>): Promise<T> {
  if (is(db, PgTransaction)) return fn(db as unknown as Tx, db);
  return inTransaction(db, (tx) => fn(tx, tx as unknown as Db));
}

/**
 * `inTransaction`, except that inside a transaction already (a chat tool call runs the
 * task service in the transaction that records its effect, with that transaction as
 * `ctx.db`) it runs `fn` in that one: no SAVEPOINT round trips, and the same all-or-nothing
 * as a single statement had there.
 */
export function inCurrentTransaction<T>(db: Db, fn: (tx: Tx) => Promise<T>): Promise<T> {
  if (insideTransaction.getStore()) return fn(db as unknown as Tx);
  return inTransaction(db, fn);
}

/**
 * Runs a read (or any idempotent statement) outside an explicit transaction, retrying
 * transient failures.
 */
export function retryingRead<T>(fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  return retrying(() => fn(), options);
}

/**
 * Runs ONE write statement (atomic by itself) without BEGIN/COMMIT round trips. It is
 * retried only when it certainly did not take effect: a serialization failure or deadlock.
 * Any lost connection is treated as an unknown outcome and never retried (the driver
 * does not say whether the statement was sent); idempotency keys make that case safe.
 */
export function retryingWrite<T>(fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  return retrying((state) => {
    state.committing = true;
    return fn();
  }, options);
}

async function retrying<T>(
  attemptFn: (state: { committing: boolean }) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const { maxAttempts, baseDelayMs, maxDelayMs } = { ...DEFAULTS, ...options };
  if (insideTransaction.getStore()) return attemptFn({ committing: true });
  for (let attempt = 1; ; attempt++) {
    const state = { committing: false };
    try {
      return await attemptFn(state);
    } catch (error) {
      if (error instanceof AppError) throw error; // a decision of ours, not a fault
      const info = classifyDbError(error);
      if (info) for (const observer of observers) observer.failure(info.category);
      const transient =
        info?.category === "serialization" ||
        (info?.category === "connection" && !state.committing);
      if (!transient || attempt >= maxAttempts) throw toAppError(error);
      // Capped exponential backoff with full jitter, so retrying clients spread out.
      const delayMs = Math.random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
      options.onRetry?.({ attempt, error, delayMs });
      for (const observer of observers) observer.retry();
      await sleep(delayMs);
    }
  }
}

function isolation(level: RetryOptions["isolationLevel"]) {
  return level ? { isolationLevel: level } : undefined;
}
