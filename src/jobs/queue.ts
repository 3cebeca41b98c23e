import { sql } from "drizzle-orm";
import { fromDrizzle, fromPglite, type Job, PgBoss, type Queue, type SendOptions } from "pg-boss";
import type { Config } from "../config.ts";
import type { Log } from "../context.ts";
import type { Database, Executor } from "../db/client.ts";
import { JOBS_SCHEMA } from "./schema.ts";

/**
 * The job queue: pg-boss on the app's own database (docs/decisions.md). Jobs are rows in
 * the `pgboss` schema; a worker claims one with `FOR UPDATE SKIP LOCKED`, so across any
 * number of instances one job runs in one worker at a time, and a job whose worker died
 * is retried after it expires. Jobs sent inside a transaction (`send(tx, …)`) exist only
 * if that transaction commits: the queue is the outbox.
 *
 * On PGlite pg-boss runs through its PGlite adapter on the same embedded instance; on
 * PostgreSQL it has its own small pool (the `pg` driver) and polls: no LISTEN, no
 * session state, so it works through a transaction-mode pooler.
 */
export const QUEUES = {
  maintenance: "maintenance",
  reminderFire: "reminder-fire",
  webhookDeliver: "webhook-deliver",
  emailDeliver: "email-deliver",
  importRun: "import-run",
} as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

export interface QueueStat {
  name: QueueName;
  /** Jobs waiting: due now or later (`startAfter` ahead). */
  queued: number;
  ready: number;
  deferred: number;
  active: number;
  /** Failed jobs still kept (a rolling window, not an all-time count). */
  failed: number;
}

export interface Jobs {
  /** Sends a job inside `tx`: it exists only if the transaction commits. */
  send(tx: Executor, name: QueueName, data: object, options?: SendOptions): Promise<string | null>;
  /** Sends a job on its own (outside any transaction). */
  sendNow(name: QueueName, data: object, options?: SendOptions): Promise<string | null>;
  work<T extends object>(name: QueueName, handler: (job: Job<T>) => Promise<void>): Promise<void>;
  stats(): Promise<QueueStat[]>;
  stop(): Promise<void>;
}

/** Pool size of pg-boss's own connections on PostgreSQL (workers poll; supervision is rare). */
const PG_POOL_MAX = 3;

/**
 * Creates (or upgrades) pg-boss's schema, its queues, and starts it. No worker runs until
 * a module registers one with `work`.
 */
export async function startJobs(
  database: Database,
  config: Config,
  log: Log,
  queueOptions: Partial<Record<QueueName, Omit<Queue, "name">>> = {},
): Promise<Jobs> {
  const common = { schema: JOBS_SCHEMA, supervise: true, schedule: false, migrate: true };
  const boss =
    database.kind === "pglite" && database.pglite
      ? new PgBoss({ ...common, backend: "pglite", db: fromPglite(database.pglite) })
      : new PgBoss({
          ...common,
          connectionString: config.database.kind === "pg" ? config.database.url : "",
          max: PG_POOL_MAX,
          application_name: "tasktalk-jobs",
          connectionTimeoutMillis:
            config.database.kind === "pg" ? config.database.connectTimeoutMs : 5000,
        });
  boss.on("error", (error: Error) => log.warn({ err: error, category: "jobs" }, "job queue error"));
  boss.on("warning", (warning: { message?: string }) =>
    log.warn({ category: "jobs", warning: warning.message }, "job queue warning"),
  );
  await boss.start();
  const existing = new Set((await boss.getQueues()).map((q) => q.name));
  for (const name of Object.values(QUEUES)) {
    const options = queueOptions[name] ?? {};
    if (existing.has(name)) {
      const { policy: _policy, partition: _partition, deadLetter: _dl, ...mutable } = options;
      const { retryDelayMax: _max, heartbeatSeconds: _hb, ...updatable } = mutable;
      if (Object.keys(updatable).length > 0) await boss.updateQueue(name, updatable);
    } else {
      await boss.createQueue(name, options);
    }
  }
  await primeQueueCache(boss);
  const pollingIntervalSeconds = config.jobs.pollIntervalMs / 1000;
  let stopped = false;
  return {
    send: (tx, name, data, options = {}) =>
      boss.send(name, data, { ...options, db: fromDrizzle(tx as never, sql as never) }),
    sendNow: (name, data, options = {}) => boss.send(name, data, options),
    async work<T extends object>(name: QueueName, handler: (job: Job<T>) => Promise<void>) {
      await boss.work<T>(name, { pollingIntervalSeconds, batchSize: 1 }, async (jobs) => {
        for (const job of jobs) await handler(job);
      });
    },
    async stats() {
      const queues = await boss.getQueues(Object.values(QUEUES));
      return queues.map((q) => ({
        name: q.name as QueueName,
        queued: q.queuedCount,
        ready: q.readyCount,
        deferred: q.deferredCount,
        active: q.activeCount,
        failed: q.failedCount,
      }));
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      // Not graceful beyond a short wait: an interrupted job is retried by another
      // instance (or this one after a restart) once it expires.
      // pg-boss's own pool has no query timeout: with the database unreachable (a
      // partition) its stop would wait for ever on a query that never returns. Shutdown
      // waits at most a few seconds more, then goes on (the process is ending).
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<"late">((resolve) => {
        timer = setTimeout(() => resolve("late"), STOP_DEADLINE_MS);
        timer.unref();
      });
      const outcome = await Promise.race([
        boss.stop({ graceful: true, timeout: 5000, close: true }).then(() => "stopped" as const),
        deadline,
      ]);
      clearTimeout(timer);
      if (outcome === "late") {
        log.warn({ category: "jobs" }, "job queue did not stop in time; going on without it");
      }
    },
  };
}

/** How long stop() waits for pg-boss (its graceful timeout is 5 s) before going on. */
const STOP_DEADLINE_MS = 8000;

/**
 * pg-boss looks a queue up (and caches it) on the first send to it; queues created after
 * start are not cached yet. A first send to each queue here, outside any transaction,
 * keeps that lookup from ever happening inside one (on PGlite it would wait for the one
 * connection the transaction holds). The warm-up job is deleted at once.
 */
async function primeQueueCache(boss: PgBoss): Promise<void> {
  for (const name of Object.values(QUEUES)) {
    const id = await boss.send(name, { warmup: true }, { startAfter: 86_400 });
    if (id) await boss.deleteJob(name, id);
  }
}
