import { setTimeout as sleep } from "node:timers/promises";
import type { FastifyInstance } from "fastify";
import { buildApp } from "./app.ts";
import { createAuth } from "./auth/auth.ts";
import { seedMcpResource } from "./auth/oauth-resource.ts";
import { sharedAuthSecret } from "./auth/secret.ts";
import { type Config, existingDevSecret } from "./config.ts";
import type { Log } from "./context.ts";
import { type Database, type DbLogger, openDatabase } from "./db/client.ts";
import { migratePg, migratePglite } from "./db/migrate.ts";
import { type Jobs, QUEUES, startJobs } from "./jobs/queue.ts";
import { startEmailWorker } from "./notifications/email.ts";
import { startMaintenance } from "./ops/maintenance.ts";
import { IMPORT_RETRY_LIMIT, startImportWorker } from "./portability/import.jobs.ts";
import { requeueReminders, startReminderWorker } from "./reminders/reminder.jobs.ts";
import { requeuePendingDeliveries, startWebhookWorker } from "./webhooks/webhook.jobs.ts";

export interface Server {
  app: FastifyInstance;
  database: Database;
  /** The job queue (pg-boss): reminders, webhook and e-mail deliveries, maintenance. */
  jobs: Jobs;
  /**
   * Stops accepting, drains in-flight requests (bounded), closes the database. With
   * `graceMs`, readiness fails that long first while requests are still served (SIGTERM
   * behind a load balancer); tests that close in-process skip it.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

/** Opens the database, applies migrations and builds the app: everything but listen(). */
export async function createServer(
  config: Config,
  options: { logger?: boolean | object } = {},
): Promise<Server> {
  // The app's logger exists only once the app is built: until then nothing is reported.
  let log: DbLogger | undefined;
  let jobs: Jobs | undefined;
  const database = await openDatabase(config.database, {
    warn: (obj, msg) => log?.warn(obj, msg),
    error: (obj, msg) => log?.error(obj, msg),
  });
  try {
    if (config.database.kind === "pg") {
      await migratePg(config.database.url, config.database.connectTimeoutMs);
    } else {
      await migratePglite(database.db);
    }
    // On PostgreSQL without BETTER_AUTH_SECRET, every instance uses the one secret kept in
    // the database: a session signed in through one instance works on all of them.
    const secret =
      config.auth.secret ??
      (await sharedAuthSecret(database.db, existingDevSecret(config.dataDir)));
    await seedMcpResource(database.db, config.auth.baseURL);
    const auth = createAuth(database.db, { ...config.auth, secret });
    jobs = await startJobs(
      database,
      config,
      jobsLog(() => log),
      queueOptions(config),
    );
    const app = await buildApp({ config, database, auth, jobs, ...options });
    log = app.log;
    await startWorkers(jobs, database, config, app.log);
    let closing: Promise<void> | undefined;
    const queue = jobs;
    return {
      app,
      database,
      jobs: queue,
      close(closeOptions = {}) {
        closing ??= drainAndClose(app, database, queue, {
          graceMs: closeOptions.graceMs ?? 0,
          drainMs: config.http.shutdownDrainMs,
        });
        return closing;
      },
    };
  } catch (error) {
    await jobs?.stop().catch(() => {});
    await database.close();
    throw error;
  }
}

/** Each queue's retry and uniqueness rules (docs/decisions.md, "Job queue"). */
function queueOptions(config: Config) {
  return {
    // One maintenance run waiting and one running at most, across instances.
    [QUEUES.maintenance]: { policy: "stately" as const, retryLimit: 2, retryDelay: 60 },
    // One queued job per reminder and time (the singleton key).
    [QUEUES.reminderFire]: {
      policy: "short" as const,
      retryLimit: 5,
      retryDelay: 5,
      retryBackoff: true,
      expireInSeconds: 300,
    },
    [QUEUES.webhookDeliver]: {
      policy: "short" as const,
      retryLimit: config.webhooks.retryLimit,
      retryDelay: config.webhooks.retryDelaySeconds,
      retryBackoff: true,
      retryDelayMax: 6 * 3600,
      expireInSeconds: Math.ceil(config.webhooks.timeoutMs / 1000) + 60,
    },
    [QUEUES.emailDeliver]: { retryLimit: 5, retryDelay: 30, retryBackoff: true },
    // A retried import resumes: items already in are skipped (their import keys).
    [QUEUES.importRun]: {
      retryLimit: IMPORT_RETRY_LIMIT,
      retryDelay: 10,
      expireInSeconds: 3600,
    },
  };
}

async function startWorkers(jobs: Jobs, database: Database, config: Config, log: Log) {
  // What was written where no queue was at hand (the stdio MCP entry) is queued at start
  // and by every maintenance run.
  const requeue = async () => {
    await requeueReminders(jobs, database.db);
    await requeuePendingDeliveries(jobs, database.db);
  };
  if (config.maintenanceIntervalMs > 0) {
    await startMaintenance(
      jobs,
      database.db,
      config.maintenanceIntervalMs,
      log,
      requeue,
      config.retention,
    );
  }
  await startReminderWorker(jobs, database.db, config, log);
  await startWebhookWorker(jobs, database.db, config.webhooks, log);
  await startEmailWorker(jobs, database.db, config.smtp);
  await startImportWorker(jobs, database.db, log);
  await requeue();
}

/** The queue starts before the app's logger exists: its reports go there once it does. */
function jobsLog(current: () => DbLogger | undefined): Log {
  return {
    debug() {},
    info() {},
    warn: (obj: object, msg?: string) => current()?.warn(obj, msg ?? ""),
    error: (obj: object, msg?: string) => current()?.error(obj, msg ?? ""),
  } as Log;
}

async function drainAndClose(
  app: FastifyInstance,
  database: Database,
  jobs: Jobs,
  timing: { graceMs: number; drainMs: number },
) {
  if (timing.graceMs > 0) {
    // Readiness fails, everything else is served (with Connection: close): a balancer's
    // health checks mark the instance down before it stops accepting, so no request of
    // its is sent to a closed port or refused.
    app.shutdown.enter("grace");
    app.log.info({ graceMs: timing.graceMs }, "shutting down: readiness fails, still serving");
    await sleep(timing.graceMs);
  }
  app.shutdown.enter("closing");
  // Past the deadline, cut whatever is still open (a stream that will not end, say).
  const deadline = setTimeout(() => app.server.closeAllConnections(), timing.drainMs);
  deadline.unref();
  // server.close() closes the connections idle at that moment only; one whose last
  // in-flight response ends later would stay open until its keep-alive timeout.
  const reaper = setInterval(() => app.server.closeIdleConnections(), 100);
  reaper.unref();
  try {
    await app.close();
  } finally {
    clearTimeout(deadline);
    clearInterval(reaper);
    // After the requests (a change sends its jobs in its transaction), before the database.
    await jobs
      .stop()
      .catch((error: unknown) => app.log.warn({ err: error }, "job queue stop failed"));
    await database.close();
  }
}
