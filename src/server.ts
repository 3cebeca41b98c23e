import type { FastifyInstance } from "fastify";
import { buildApp } from "./app.ts";
import { createAuth } from "./auth/auth.ts";
import { sharedAuthSecret } from "./auth/secret.ts";
import type { Config } from "./config.ts";
import { type Database, type DbLogger, openDatabase } from "./db/client.ts";
import { migratePg, migratePglite } from "./db/migrate.ts";

export interface Server {
  app: FastifyInstance;
  database: Database;
  /** Stops accepting, drains in-flight requests (bounded), closes the database. */
  close(): Promise<void>;
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
    const secret = config.auth.secret ?? (await sharedAuthSecret(database.db));
    const auth = createAuth(database.db, { ...config.auth, secret });
    const app = await buildApp({ config, database, auth, ...options });
    log = app.log;
    let closing: Promise<void> | undefined;
    return {
      app,
      database,
      close() {
        closing ??= drainAndClose(app, database, config.http.shutdownDrainMs);
        return closing;
      },
    };
  } catch (error) {
    await database.close();
    throw error;
  }
}

async function drainAndClose(app: FastifyInstance, database: Database, drainMs: number) {
  // Past the deadline, cut whatever is still open (a stream that will not end, say).
  const deadline = setTimeout(() => app.server.closeAllConnections(), drainMs);
  deadline.unref();
  try {
    await app.close();
  } finally {
    clearTimeout(deadline);
    await database.close();
  }
}
