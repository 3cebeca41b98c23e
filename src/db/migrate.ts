import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import { migrate as migratePgDb } from "drizzle-orm/node-postgres/migrator";
import type { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePgliteDb } from "drizzle-orm/pglite/migrator";
import pg from "pg";
import { type Db, rowsOf } from "./client.ts";

export const MIGRATIONS_FOLDER = fileURLToPath(new URL("../../drizzle", import.meta.url));
const MIGRATIONS_SCHEMA = "drizzle";
const MIGRATIONS_TABLE = "__drizzle_migrations";
/** Any constant shared by every instance: serializes concurrent starts on one server. */
const MIGRATION_LOCK_KEY = 7_274_001;

const journal = JSON.parse(readFileSync(`${MIGRATIONS_FOLDER}/meta/_journal.json`, "utf8")) as {
  entries: unknown[];
};

/** How many migration files this build ships. */
export const EXPECTED_MIGRATIONS = journal.entries.length;

const options = {
  migrationsFolder: MIGRATIONS_FOLDER,
  migrationsSchema: MIGRATIONS_SCHEMA,
  migrationsTable: MIGRATIONS_TABLE,
};

/** PGlite: the app's own handle (the app is the only opener of the directory). */
export async function migratePglite(db: Db): Promise<void> {
  await migratePgliteDb(db as unknown as ReturnType<typeof drizzlePglite>, options);
}

/**
 * PostgreSQL: one dedicated connection holding an advisory lock, so several instances
 * starting at once apply each migration exactly once. Use a direct (non-pooled) URL when
 * the normal one goes through a transaction-mode pooler.
 */
export async function migratePg(url: string, connectTimeoutMs: number): Promise<void> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: connectTimeoutMs,
    application_name: "tasktalk-migrate",
  });
  client.on("error", () => {}); // surfaced by the failing query instead
  await client.connect();
  try {
    await client.query("select pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    try {
      await migratePgDb(drizzlePg({ client }), options);
    } finally {
      await client.query("select pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await client.end();
  }
}

/** One round trip that tells both "the database answers" and "our migrations are applied". */
export async function appliedMigrations(db: Db): Promise<number> {
  const result = await db.execute(
    sql`select count(*)::int as n from ${sql.identifier(MIGRATIONS_SCHEMA)}.${sql.identifier(MIGRATIONS_TABLE)}`,
  );
  return Number(rowsOf<{ n: number }>(result)[0]?.n ?? 0);
}
