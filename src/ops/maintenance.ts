import { sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { rowsOf } from "../db/client.ts";
import { inTransaction } from "../db/transaction.ts";
import { type Jobs, QUEUES } from "../jobs/queue.ts";

/**
 * Housekeeping that no request does: expired sessions and verification rows, sign-in
 * failure streaks long forgotten, rate-limit counters from windows long past, tasks in the
 * trash for more than TRASH_DAYS, activity older than ACTIVITY_RETENTION_DAYS, and turn
 * leases of turns that died (their holders are gone; a new turn would take them anyway,
 * but they should not linger as "a reply is being generated").
 *
 * It runs on the job queue (src/jobs/queue.ts): one `maintenance` job at a time, which
 * schedules its successor `MAINTENANCE_INTERVAL_MS` later before doing its work (so a
 * failed run does not break the chain; pg-boss retries it). The queue's `stately` policy
 * with one singleton key keeps at most one such job waiting and one running, whatever the
 * number of instances that start the chain. The run still takes a transaction-scoped
 * advisory lock (pg_try_advisory_xact_lock), so a manual `runMaintenance` never overlaps
 * the job; it is safe through a transaction-mode pooler (it ends with the transaction).
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
  // Finished import jobs (src/portability/import.jobs.ts): their progress is read once, soon.
  [
    "import_jobs",
    sql`delete from import_jobs where state in ('done', 'failed')
        and updated_at < now() - interval '7 days'`,
  ],
  [
    "stale_leases",
    sql`update conversations set active_turn_id = null, active_turn_expires_at = null
        where active_turn_id is not null and active_turn_expires_at < now() - interval '1 hour'`,
  ],
];

/** How long the trash and the activity log keep things (TRASH_DAYS, ACTIVITY_RETENTION_DAYS). */
export interface Retention {
  trashDays: number;
  activityDays: number;
}

export const DEFAULT_RETENTION: Retention = { trashDays: 30, activityDays: 90 };

function retentionStatements(r: Retention): [string, ReturnType<typeof sql>][] {
  return [
    // Purged for good: the parent foreign key cascades to subtasks (trashed with it).
    [
      "trashed_tasks",
      sql`delete from tasks where deleted_at is not null
          and deleted_at < now() - make_interval(days => ${r.trashDays})`,
    ],
    [
      "activity",
      sql`delete from activity where created_at < now() - make_interval(days => ${r.activityDays})`,
    ],
  ];
}

/** One maintenance pass; `ran` is false when another instance holds the lock. */
export async function runMaintenance(
  db: Db,
  retention: Retention = DEFAULT_RETENTION,
): Promise<MaintenanceResult> {
  return inTransaction(db, async (tx) => {
    const [got] = rowsOf<{ locked: boolean }>(
      await tx.execute(sql`select pg_try_advisory_xact_lock(${LOCK_KEY}) as locked`),
    );
    if (!got?.locked) return { ran: false, deleted: {} };
    const deleted: Record<string, number> = {};
    for (const [name, statement] of [...STATEMENTS, ...retentionStatements(retention)]) {
      const result = (await tx.execute(statement)) as {
        rowCount?: number | null;
        affectedRows?: number;
      };
      deleted[name] = Number(result.rowCount ?? result.affectedRows ?? 0);
    }
    return { ran: true, deleted };
  });
}

const CHAIN_KEY = "maintenance";

/**
 * Starts this instance's maintenance worker and makes sure one run is queued: the first a
 * minute after start (or `everyMs`, if shorter). A chain already queued by another
 * instance (or before a restart) is kept: the stately queue refuses a second waiting job.
 */
export async function startMaintenance(
  jobs: Jobs,
  db: Db,
  everyMs: number,
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void },
  /** More upkeep owned by other modules, run after the purge. */
  also: () => Promise<void> = async () => {},
  retention: Retention = DEFAULT_RETENTION,
): Promise<void> {
  const next = (delayMs: number) => ({
    singletonKey: CHAIN_KEY,
    startAfter: new Date(Date.now() + delayMs),
  });
  await jobs.work(QUEUES.maintenance, async () => {
    await jobs.sendNow(QUEUES.maintenance, {}, next(everyMs));
    const result = await runMaintenance(db, retention);
    if (result.ran) log.info({ deleted: result.deleted }, "maintenance");
    await also();
  });
  await jobs.sendNow(QUEUES.maintenance, {}, next(Math.min(60_000, everyMs)));
}
