import { PGlite, type PGliteOptions } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import pg from "pg";
import type { Config } from "../config.ts";
import { serializeError } from "../http/log.ts";
import { type DirLock, lockDataDir } from "./lock.ts";
import { type PgMaintenanceRun, startPgMaintenance } from "./pg-maintenance.ts";
import { handleStatementNames, type StatementMode } from "./pg-statements.ts";
import { withNamedStatements } from "./pglite-statements.ts";
import { copyTemplate, findTemplate, isFreshDataDir } from "./pglite-template.ts";
import * as schema from "./schema.ts";

export type Schema = typeof schema;
/** The database handle every repository receives (a transaction handle is one too). */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
/** A transaction handle: functions that must run inside a transaction ask for this type. */
export type Tx = PgTransaction<PgQueryResultHKT, Schema>;
/** What a repository function runs on: the database, or a transaction inside it. */
export type Executor = Db | Tx;

export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
  max: number;
}

export interface Database {
  readonly kind: "pglite" | "pg";
  readonly db: Db;
  /** One round trip; returns its latency in ms. */
  ping(): Promise<number>;
  /**
   * How long a health check may wait for the database before calling it unreachable:
   * a partitioned server never answers, so checks race this bound (the connect timeout).
   */
  readonly probeTimeoutMs: number;
  poolStats(): PoolStats | undefined;
  /** PGlite only: the embedded instance (the job queue runs on it through its adapter). */
  readonly pglite?: PGlite;
  /**
   * PGlite only: how the data directory came to be — it `existed`, was loaded from the
   * migrated `template` npm ci built, or was made by `initdb` (no matching template).
   */
  readonly dataDirFrom?: "existed" | "template" | "initdb" | "memory";
  /** PostgreSQL only: how statements are named now (src/db/pg-statements.ts). */
  readonly statements?: Readonly<StatementMode>;
  /**
   * What autovacuum would do (it also runs on a timer): always on PGlite, which has no
   * autovacuum; on PostgreSQL only while the server's autovacuum is off (pg-maintenance.ts).
   */
  maintain?(): Promise<PgMaintenanceRun | undefined>;
  close(): Promise<void>;
}

/**
 * Where the database layer reports what it cannot throw (dropped connections, maintenance).
 * Errors are handed over already serialized without query parameters, whatever logger
 * the caller supplies (the app's, or the stdio MCP entry's plain pino).
 */
export interface DbLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export async function openDatabase(
  config: Config["database"],
  logger?: DbLogger,
): Promise<Database> {
  return config.kind === "pglite" ? openPglite(config, logger) : openPg(config, logger);
}

/**
 * PGlite runs PostgreSQL as a single standalone backend: there is no autovacuum worker, so
 * nothing collects statistics or cleans the small tables every turn updates. Without
 * statistics the planner can pick plans that read a whole conversation (bench/growth.ts
 * found one). So the process does autovacuum's job itself: shortly after start, then every
 * few minutes, it vacuums the hot small tables and analyzes all of them (sampled: 0.3–0.7 s
 * on the benchmark's 240k-message database, during which queries wait).
 */
/** PGlite is in-process: only a long maintenance pass can hold a check up this long. */
const PGLITE_PROBE_TIMEOUT_MS = 5000;
const PGLITE_MAINTENANCE_FIRST_MS = 30_000;
const PGLITE_MAINTENANCE_EVERY_MS = 10 * 60_000;
/** Separate statements: VACUUM cannot run inside the transaction a multi-statement exec is. */
const PGLITE_MAINTENANCE_SQL = ["vacuum conversations, task_counters, session", "analyze"];

/**
 * PGlite's PostgreSQL allocates shared_buffers inside its WebAssembly memory and touches
 * all of it at start, so PostgreSQL's default of 128 MB is resident from the first second
 * (bench/rss.ts: 153 MB of WebAssembly memory resident at idle; 31 MB with 16 MB). One
 * process's working set (a window of 50 messages per turn) fits in far less, and pages
 * that miss are read from the operating system's file cache.
 */
export const PGLITE_SHARED_BUFFERS_MB = 16;

/** How the app opens PGlite (also bench/rss.ts, to read the settings it runs with). */
export function pgliteOptions(sharedBuffersMb = PGLITE_SHARED_BUFFERS_MB): PGliteOptions {
  return {
    // PGlite's own start parameters, plus ours (a -c given later wins).
    startParams: [...PGlite.defaultStartParams, "-c", `shared_buffers=${sharedBuffersMb}MB`],
  };
}

async function openPglite(
  config: Extract<Config["database"], { kind: "pglite" }>,
  logger?: DbLogger,
): Promise<Database> {
  const { dataDir } = config;
  const inMemory = dataDir.startsWith("memory://");
  const lock: DirLock | undefined = inMemory ? undefined : lockDataDir(dataDir);
  let client: PGlite;
  let dataDirFrom: Database["dataDirFrom"];
  try {
    // A first start copies the migrated template `npm ci` built, instead of initdb plus
    // every migration (src/db/pglite-template.ts); without one it initializes as before.
    const fresh = !inMemory && isFreshDataDir(dataDir);
    const template = fresh ? findTemplate() : undefined;
    if (template) copyTemplate(template, dataDir);
    dataDirFrom = inMemory ? "memory" : !fresh ? "existed" : template ? "template" : "initdb";
    client = await PGlite.create(
      inMemory ? undefined : dataDir,
      pgliteOptions(config.sharedBuffersMb),
    );
  } catch (error) {
    lock?.release();
    throw error;
  }
  // Drizzle's statements run as named statements on this one backend (pglite-statements.ts).
  const db = drizzlePglite({ client: withNamedStatements(client), schema }) as unknown as Db;
  const maintain = async () => {
    for (const statement of PGLITE_MAINTENANCE_SQL) {
      if (!client.closed) await client.exec(statement);
    }
    return undefined;
  };
  const onTimer = () => {
    maintain().catch((error: unknown) => {
      if (!client.closed)
        logger?.warn({ err: serializeError(error), category: "database" }, "maintenance failed");
    });
  };
  const first = setTimeout(onTimer, PGLITE_MAINTENANCE_FIRST_MS).unref();
  const every = setInterval(onTimer, PGLITE_MAINTENANCE_EVERY_MS).unref();
  return {
    kind: "pglite",
    db,
    pglite: client,
    dataDirFrom,
    probeTimeoutMs: PGLITE_PROBE_TIMEOUT_MS,
    ping: () => timed(db),
    poolStats: () => undefined,
    maintain,
    async close() {
      clearTimeout(first);
      clearInterval(every);
      try {
        if (!client.closed) await client.close();
      } finally {
        lock?.release();
      }
    },
  };
}

/** Idle time before the first TCP keepalive probe on a pooled connection. */
const PG_KEEPALIVE_DELAY_MS = 10_000;

async function openPg(
  config: Extract<Config["database"], { kind: "pg" }>,
  logger?: DbLogger,
): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: config.url,
    max: config.poolMax,
    connectionTimeoutMillis: config.connectTimeoutMs,
    idleTimeoutMillis: config.idleTimeoutMs,
    application_name: "tasktalk",
    // A network partition answers nothing and closes nothing: without a client-side bound
    // a query (and the request awaiting it) waits forever. query_timeout fails it ("Query
    // read timeout", classified as a lost connection → 503); TCP keepalive lets the OS
    // notice idle pooled connections whose peer is gone.
    ...(config.queryTimeoutMs > 0 ? { query_timeout: config.queryTimeoutMs } : {}),
    keepAlive: true,
    keepAliveInitialDelayMillis: PG_KEEPALIVE_DELAY_MS,
    // Startup parameters, not session SETs: safe through transaction-mode poolers that
    // accept them (PgBouncer needs ignore_startup_parameters; 0 leaves them out).
    ...(config.statementTimeoutMs > 0 ? { statement_timeout: config.statementTimeoutMs } : {}),
    ...(config.idleInTransactionTimeoutMs > 0
      ? { idle_in_transaction_session_timeout: config.idleInTransactionTimeoutMs }
      : {}),
  });
  // Without these listeners a server-side drop of a connection (idle, or checked out
  // between queries) is an unhandled 'error' event, which crashes the process.
  const onConnectionError = (error: Error) => {
    logger?.warn(
      { err: serializeError(error), category: "database" },
      "database connection failed",
    );
  };
  pool.on("error", onConnectionError);
  // Statements are named until the server refuses a name (pg-statements.ts).
  const statements: StatementMode = { named: config.namedStatements ?? true };
  const onSwitch = (error: unknown) => {
    logger?.warn(
      { err: serializeError(error), category: "database" },
      "the database refused a named statement: behind a transaction-mode pooler that does not keep them (PgBouncer before 1.21) statements in transactions are sent unnamed from now on and the others parsed again where missing; after a schema change none is named; PG_NAMED_STATEMENTS=false sends none named",
    );
  };
  pool.on("connect", (client) => {
    client.on("error", onConnectionError);
    guardPooledClient(client);
    handleStatementNames(client, statements, onSwitch);
  });
  const db = drizzlePg({ client: pool, schema }) as unknown as Db;
  const maintenance = startPgMaintenance(pool, (error) => {
    logger?.warn({ err: serializeError(error), category: "database" }, "maintenance failed");
  });
  let closed = false;
  return {
    kind: "pg",
    db,
    statements,
    probeTimeoutMs: config.connectTimeoutMs,
    ping: () => timed(db),
    poolStats: () => ({
      total: pool.totalCount,
      idle: pool.idleCount,
      waiting: pool.waitingCount,
      max: config.poolMax,
    }),
    maintain: maintenance.run,
    async close() {
      if (closed) return;
      closed = true;
      await maintenance.stop();
      await pool.end();
    },
  };
}

/**
 * Two ways a pooled connection escapes the pool's care, both made visible by outages:
 * - A query that hit query_timeout leaves its connection in an unknown state: the answer
 *   may still come, or never (a dead peer nobody told us about). pg's pool drops such a
 *   client only when the query ran through pool.query; a transaction's client (Drizzle
 *   releases it without the error) would go back to the pool and make the next request
 *   wait out the timeout again. So the client is ended: the pool discards an ending one.
 * - Drizzle sends BEGIN outside its try/finally: when BEGIN fails (connection lost, read
 *   timeout) the client is never released, and the pool slot is lost for good — after
 *   PG_POOL_MAX such failures every request waits for a slot that never frees. So a
 *   failed BEGIN releases the client here, with the error (the pool destroys it).
 */
function guardPooledClient(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  const onFailure = (text: unknown, error: unknown, pooled: boolean) => {
    if (!(error instanceof Error)) return;
    // pool.query (the callback form) releases with the error itself.
    if (!pooled && typeof text === "string" && /^\s*begin\b/i.test(text)) {
      client.release(error);
    } else if (error.message === "Query read timeout") {
      client.end().catch(() => {});
    }
  };
  const wrapped = (...args: unknown[]): unknown => {
    const first = args[0];
    const text = typeof first === "string" ? first : (first as { text?: unknown } | null)?.text;
    const callback = args.at(-1);
    if (typeof callback === "function") {
      args[args.length - 1] = (error: unknown, result: unknown) => {
        onFailure(text, error, true);
        (callback as (error: unknown, result: unknown) => void)(error, result);
      };
      return query(...args);
    }
    const result = query(...args);
    // A side branch: the caller still receives the rejection.
    if (result instanceof Promise) result.catch((error: unknown) => onFailure(text, error, false));
    return result;
  };
  (client as unknown as { query: typeof wrapped }).query = wrapped;
}

async function timed(db: Db): Promise<number> {
  const start = performance.now();
  await db.execute(sql`select 1`);
  return performance.now() - start;
}

/** Settles like `work`, or rejects with DeadlineError after `ms`, whichever comes first. */
export function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(ms)), ms);
  });
  // The losing query still settles later (bounded by query_timeout); its outcome is moot.
  work.catch(() => {});
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

export class DeadlineError extends Error {
  constructor(ms: number) {
    super(`the database did not answer within ${ms} ms`);
    this.name = "DeadlineError";
  }
}

/** Whether one round trip succeeds within the database's probe bound. */
export async function databaseReachable(database: Database): Promise<boolean> {
  try {
    await withDeadline(database.ping(), database.probeTimeoutMs);
    return true;
  } catch {
    return false;
  }
}

/** Rows of a raw `db.execute` result; both drivers return `{ rows }`. */
export function rowsOf<T>(result: unknown): T[] {
  return (result as { rows: T[] }).rows;
}
