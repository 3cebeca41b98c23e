import { sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { rowsOf } from "../db/client.ts";
import { inTransaction } from "../db/transaction.ts";

/**
 * Housekeeping that no request does: expired sessions and verification rows, sign-in
 * failure streaks long forgotten, rate-limit counters from windows long past, and turn
 * leases of turns that died (their holders are gone; a new turn would take them anyway,
 * but they should not linger as "a reply is being generated").
 *
 * It runs ONCE across instances: each run takes a transaction-scoped advisory lock with
 * pg_try_advisory_xact_lock — the instance that gets it does the work, the others skip —
 * which is safe through a transaction-mode pooler (the lock ends with the transaction).
 * Until the job queue lands (the reminders issue), a timer per process drives it.
 */
export interface MaintenanceResult {
  ran: boolean;
  deleted: Record<string, number>;
}

/** An arbitrary constant that names this job's advisory lock. */
const LOCK_KEY = 7_411_002_001;

const STATEMENTS: [string, ReturnType<typeof sql>][] = [
  ["sessions", sql`delete from "session" where expires_at < now() - interval '1 day'`],
  ["verifications", sql`delete from verification where expires_at < now() - interval '1 day'`],
  [
    "sign_in_failures",
    sql`delete from sign_in_failures where last_attempt_at < now() - interval '1 day'`,
  ],
  [
    "rate_limits",
    sql`delete from rate_limit where last_request < (extract(epoch from now()) * 1000 - 86400000)`,
  ],
  // Per-user quota windows that ended (src/quotas/): a new request starts a new window anyway.
  ["quota_counters", sql`delete from quota_counters where expire < now() - interval '1 hour'`],
  [
    "stale_leases",
    sql`update conversations set active_turn_id = null, active_turn_expires_at = null
        where active_turn_id is not null and active_turn_expires_at < now() - interval '1 hour'`,
  ],
];

/** One maintenance pass; `ran` is false when another instance holds the lock. */
export async function runMaintenance(db: Db): Promise<MaintenanceResult> {
  return inTransaction(db, async (tx) => {
    const [got] = rowsOf<{ locked: boolean }>(
      await tx.execute(sql`select pg_try_advisory_xact_lock(${LOCK_KEY}) as locked`),
    );
    if (!got?.locked) return { ran: false, deleted: {} };
    const deleted: Record<string, number> = {};
    for (const [name, statement] of STATEMENTS) {
      const result = (await tx.execute(statement)) as {
        rowCount?: number | null;
        affectedRows?: number;
      };
      deleted[name] = Number(result.rowCount ?? result.affectedRows ?? 0);
    }
    return { ran: true, deleted };
  });
}

/** Runs maintenance a minute after start and then every `everyMs`; returns the stop function. */
export function startMaintenance(
  db: Db,
  everyMs: number,
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void },
): () => void {
  const run = () => {
    runMaintenance(db).then(
      (result) => {
        if (result.ran) log.info({ deleted: result.deleted }, "maintenance");
      },
      (error: unknown) => log.warn({ err: error }, "maintenance failed; next run retries"),
    );
  };
  const first = setTimeout(run, Math.min(60_000, everyMs)).unref();
  const every = setInterval(run, everyMs).unref();
  return () => {
    clearTimeout(first);
    clearInterval(every);
  };
}
