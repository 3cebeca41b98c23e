import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { MIGRATIONS_FOLDER, migratePg } from "../../src/db/migrate.ts";
import { partitionByUser } from "./partition-schema.ts";

/**
 * Real databases for tests: PGlite, and the PostgreSQL server on 127.0.0.1:5432 in a
 * database created for this test file and dropped afterwards. No mocks.
 */
export type Backend = "pglite" | "pg";

export const PG_ADMIN_URL =
  process.env.TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

/**
 * TEST_PG_PARTITIONED=1: every pg test database starts migrated, with `tasks`,
 * `conversations` and `messages` hash-partitioned by user_id (./partition-schema.ts).
 * Tests about the unpartitioned layout itself (the migrations) skip.
 */
export const PG_PARTITIONED = process.env.TEST_PG_PARTITIONED === "1";

let pgReachable: boolean | undefined;

/** The backends to run on. Outside CI an unreachable server is a loud notice; in CI a failure. */
export async function availableBackends(): Promise<Backend[]> {
  if (process.env.TEST_BACKENDS) return process.env.TEST_BACKENDS.split(",") as Backend[];
  pgReachable ??= await canConnect(PG_ADMIN_URL);
  if (pgReachable) return ["pglite", "pg"];
  const message = `PostgreSQL is not reachable at ${PG_ADMIN_URL}`;
  if (process.env.CI === "true") throw new Error(`${message}: CI requires both backends`);
  console.warn(
    `\n!!! ${message}: running on PGlite ONLY. Start it with:\n!!!   pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n`,
  );
  return ["pglite"];
}

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

export interface TestDatabase {
  /** DATABASE_URL for pg; undefined for PGlite. */
  url: string | undefined;
  /** DATA_DIR (PGlite's directory, or where the dev secret goes). */
  dataDir: string;
  drop(): Promise<void>;
}

/** A fresh, empty database of the given kind. */
export async function createTestDatabase(
  backend: Backend,
  options: { onDisk?: boolean } = {},
): Promise<TestDatabase> {
  const dir = mkdtempSync(join(tmpdir(), "tasktalk-test-"));
  if (backend === "pglite") {
    const dataDir = options.onDisk ? join(dir, "pgdata") : "memory://";
    return {
      url: undefined,
      dataDir,
      async drop() {
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const name = `tasktalk_test_${process.pid}_${randomBytes(4).toString("hex")}`;
  const template = PG_PARTITIONED ? ` template ${await partitionedTemplate()}` : "";
  await adminQuery(`create database ${name}${template}`);
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    dataDir: dir,
    async drop() {
      await adminQuery(`drop database if exists ${name} with (force)`);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function adminQuery(text: string, url = PG_ADMIN_URL): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on("error", () => {});
  await client.connect();
  try {
    return await client.query(text);
  } finally {
    await client.end();
  }
}

let template: Promise<string> | undefined;

/**
 * The migrated, partitioned database every test database is copied from, built once per
 * version of the migrations and of the converter (its name carries their hash), under an
 * advisory lock: test files run in separate processes.
 */
function partitionedTemplate(): Promise<string> {
  template ??= (async () => {
    const hash = createHash("sha256");
    for (const file of readdirSync(MIGRATIONS_FOLDER)
      .filter((f) => f.endsWith(".sql"))
      .sort()) {
      hash.update(readFileSync(join(MIGRATIONS_FOLDER, file)));
    }
    hash.update(readFileSync(new URL("./partition-schema.ts", import.meta.url)));
    const name = `tasktalk_partitioned_${hash.digest("hex").slice(0, 16)}`;
    const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 5000 });
    client.on("error", () => {});
    await client.connect();
    try {
      await client.query("select pg_advisory_lock(7274016)");
      const exists = await client.query("select 1 from pg_database where datname = $1", [name]);
      if (exists.rowCount === 0) {
        const building = `${name}_building`;
        await client.query(`drop database if exists ${building} with (force)`);
        await client.query(`create database ${building}`);
        const url = new URL(PG_ADMIN_URL);
        url.pathname = `/${building}`;
        await migratePg(url.toString(), 5000);
        await partitionByUser(url.toString());
        await client.query(`alter database ${building} rename to ${name}`);
      }
    } finally {
      await client.end();
    }
    return name;
  })();
  return template;
}
