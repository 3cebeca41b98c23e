import { setTimeout as sleep } from "node:timers/promises";
import type { FastifyInstance } from "fastify";
import { buildApp } from "./app.ts";
import { createAuth } from "./auth/auth.ts";
import { sharedAuthSecret } from "./auth/secret.ts";
import { type Config, existingDevSecret } from "./config.ts";
import { type Database, type DbLogger, openDatabase } from "./db/client.ts";
import { migratePg, migratePglite } from "./db/migrate.ts";
import { startMaintenance } from "./ops/maintenance.ts";

export interface Server {
  app: FastifyInstance;
  database: Database;
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
    const auth = createAuth(database.db, { ...config.auth, secret });
    const app = await buildApp({ config, database, auth, ...options });
    log = app.log;
    const stopMaintenance =
      config.maintenanceIntervalMs > 0
        ? startMaintenance(database.db, config.maintenanceIntervalMs, app.log, config.retention)
        : () => {};
    let closing: Promise<void> | undefined;
    return {
      app,
      database,
      close(closeOptions = {}) {
        stopMaintenance();
        closing ??= drainAndClose(app, database, {
          graceMs: closeOptions.graceMs ?? 0,
          drainMs: config.http.shutdownDrainMs,
        });
        return closing;
      },
    };
  } catch (error) {
    await database.close();
    throw error;
  }
}

async function drainAndClose(
  app: FastifyInstance,
  database: Database,
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
    await database.close();
  }
}
