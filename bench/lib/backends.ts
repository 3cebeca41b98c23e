/**
 * The seeded databases (reused across runs while the fingerprint holds) and the real app
 * on them, in this process (B1, B2) or as a child process `node src/main.ts` (B3, B6).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer as netServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import pino from "pino";
import { loadConfig } from "../../src/config.ts";
import { migratePg } from "../../src/db/migrate.ts";
import { createServer, type Server } from "../../src/server.ts";
import { adminQuery, PG_ADMIN_URL } from "../../test/support/databases.ts";
import { get, makeAgent } from "./http.ts";
import { backgroundMessages, FULL_SCALE, type Scale, SECRET } from "./layout.ts";
import {
  fingerprint,
  markSeeded,
  refreshSessions,
  seededFingerprint,
  seedPeers,
  seedTasktalk,
} from "./seed.ts";
import { pgliteSql, pgSql, type Sql } from "./sql.ts";
import { progress } from "./stats.ts";

export type Backend = "pg" | "pglite";

export const ROOT = resolve(import.meta.dirname, "../..");

/** Where a run's seeded data lives, and how much of it there is. */
export interface Setup {
  scale: Scale;
  /** The seeded PostgreSQL database (kept and reused while its fingerprint holds). */
  pgDb: string;
  /** The seeded PGlite directory (same), with `<dir>.fingerprint` beside it. */
  pgliteDir: string;
}

/** The full run's data, reused across runs. */
export const FULL: Setup = {
  scale: FULL_SCALE,
  pgDb: "tasktalk_bench",
  pgliteDir: join(tmpdir(), "tasktalk-bench", "pglite"),
};

/** A database URL on the benchmark's PostgreSQL server. */
export function pgUrl(db: string): string {
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${db}`;
  return url.toString();
}

/** The environment of the app under test: production defaults, the fake model, info logs. */
export function appEnv(
  setup: Setup,
  backend: Backend,
  modelUrl: string,
  port = 0,
): Record<string, string> {
  return {
    NODE_ENV: "production",
    HOST: "127.0.0.1",
    PORT: String(port),
    LOG_LEVEL: "info",
    BETTER_AUTH_SECRET: SECRET,
    BETTER_AUTH_URL: "http://127.0.0.1:3000",
    LLM_PROVIDER: "openai-compatible",
    LLM_BASE_URL: `${modelUrl}/v1`,
    LLM_MODEL: "fake-model",
    LLM_MAX_RETRIES: "0",
    // Every benchmark client connects from 127.0.0.1 (as clients behind a proxy would):
    // the per-address connection cap would cut B3's 128 clients.
    HTTP_MAX_CONNECTIONS_PER_IP: "0",
    // The benchmarks send far more turns per user than the default quotas allow.
    RATE_LIMITS: "false",
    DATA_DIR: setup.pgliteDir,
    ...(backend === "pg" ? { DATABASE_URL: pgUrl(setup.pgDb) } : {}),
  };
}

/** Creates (or reuses) the seeded PostgreSQL database. */
export async function preparePg(setup: Setup): Promise<void> {
  const { pgDb, scale } = setup;
  const url = pgUrl(pgDb);
  const print = fingerprint(scale);
  const exists = await adminQuery(`select 1 from pg_database where datname = '${pgDb}'`);
  if (exists.rowCount) {
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    const found = await seededFingerprint(pgSql(pool)).finally(() => pool.end());
    if (found === print) {
      progress("seed", `pg: reusing seeded database ${pgDb}`);
      return;
    }
    await adminQuery(`drop database ${pgDb} with (force)`);
  }
  const started = performance.now();
  progress(
    "seed",
    `pg: creating ${pgDb} (${backgroundMessages(scale)} background messages, peers' tables)`,
  );
  await adminQuery(`create database ${pgDb}`);
  await migratePg(url, 5000);
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  try {
    const sql = pgSql(pool);
    await seedTasktalk(sql, scale, true);
    progress(
      "seed",
      `pg: Tasktalk tables in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    await seedPeers(sql);
    await markSeeded(sql, print);
  } finally {
    await pool.end();
  }
  progress("seed", `pg: seeded in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

/**
 * Drops a benchmark database once its last connections are gone. Not `with (force)` at
 * once: pg.Pool#end() resolves while its clients' sockets are still closing, and a client
 * terminated by the server at that moment emits an 'error' nobody listens to (a crash).
 */
export async function dropDatabase(db: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await adminQuery(`drop database if exists ${db}${attempt >= 50 ? " with (force)" : ""}`);
      return;
    } catch (error) {
      // 55006 object_in_use: a connection is still closing.
      if ((error as { code?: string }).code !== "55006" || attempt >= 50) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export interface InProcessApp {
  backend: Backend;
  server: Server;
  url: string;
  /** Direct SQL on the app's database (resets, the PGlite floor). */
  sql: Sql;
  close(): Promise<void>;
}

/** The real app in this process, listening on 127.0.0.1; logs at info to /dev/null. */
export async function startInProcess(
  setup: Setup,
  backend: Backend,
  modelUrl: string,
  /** pg only: the app's DATABASE_URL, when it must go through a pooler or a proxy (B4). */
  databaseUrl?: string,
): Promise<InProcessApp> {
  const config = loadConfig({
    ...appEnv(setup, backend, modelUrl),
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  });
  const logger = {
    level: "info",
    stream: pino.destination({ dest: "/dev/null", sync: false }),
    redact: ["req.headers.authorization", "req.headers.cookie", 'res.headers["set-auth-token"]'],
  };
  let sql: Sql;
  let pool: pg.Pool | undefined;
  let server: Server;
  if (backend === "pglite") {
    // The directory is rebuilt when its fingerprint file says another seed or migrations.
    const print = fingerprint(setup.scale);
    const stamp = `${setup.pgliteDir}.fingerprint`;
    const fresh = !existsSync(stamp) || readFileSync(stamp, "utf8") !== print;
    if (fresh) rmSync(setup.pgliteDir, { recursive: true, force: true });
    server = await createServer(config, { logger });
    sql = pgliteSql((server.database.db as unknown as { $client: PGlite }).$client);
    if (fresh) {
      const started = performance.now();
      progress("seed", `pglite: seeding (${backgroundMessages(setup.scale)} background messages)`);
      await seedTasktalk(sql, setup.scale, false);
      await markSeeded(sql, print);
      writeFileSync(stamp, print);
      progress("seed", `pglite: seeded in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
  } else {
    server = await createServer(config, { logger });
    pool = new pg.Pool({ connectionString: pgUrl(setup.pgDb), max: 2 });
    sql = pgSql(pool);
  }
  await refreshSessions(sql);
  const url = await server.app.listen({ port: 0, host: "127.0.0.1" });
  return {
    backend,
    server,
    url,
    sql,
    async close() {
      await pool?.end();
      await server.close();
    },
  };
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = netServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const address = s.address();
      const port = typeof address === "object" && address ? address.port : 0;
      s.close(() => res(port));
    });
  });
}

export interface ChildApp {
  child: ChildProcess;
  url: string;
  /** ms from spawn to the first 200 from /health/ready. */
  coldStartMs: number;
  rssMb(): number;
  stop(): Promise<void>;
}

/**
 * How the app is started as a process: `npm start` runs the bundle (dist/main.mjs, built by
 * scripts/build-server.ts); `node src/main.ts` runs the sources without a build step.
 */
export const ENTRIES = { bundle: "dist/main.mjs", source: "src/main.ts" } as const;
export type Entry = keyof typeof ENTRIES;

/** The app as a deployment runs it (`npm start`); stdout (info logs) goes to /dev/null. */
export async function startChild(
  setup: Setup,
  backend: Backend,
  modelUrl: string,
  entry: Entry = "bundle",
  env: Record<string, string> = {},
): Promise<ChildApp> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const child = spawn(process.execPath, [ENTRIES[entry]], {
    cwd: ROOT,
    env: { ...process.env, ...appEnv(setup, backend, modelUrl, port), ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const agent = makeAgent(1);
  const coldStartMs = await untilReady(agent, child, url, started, () => stderr);
  agent.destroy();
  return {
    child,
    url,
    coldStartMs,
    rssMb: () => rssMb(child.pid),
    async stop() {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/**
 * Polls `url`/health/ready every `pollMs` until it answers 200; ms since `started`. Throws
 * (with the child's stderr) if the child exits first or is not ready within 60 s.
 */
export async function untilReady(
  agent: ReturnType<typeof makeAgent>,
  child: ChildProcess,
  url: string,
  started: number,
  stderr: () => string,
  pollMs = 5,
): Promise<number> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`app exited at start: ${stderr()}`);
    const ok = await get(agent, `${url}/health/ready`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return performance.now() - started;
    if (performance.now() - started > 60_000) throw new Error(`app not ready: ${stderr()}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** Resident set size of a process, from /proc (Linux). */
export function rssMb(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = /VmRSS:\s+(\d+)/.exec(status)?.[1];
    return kb ? Number(kb) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}
