import { readFileSync } from "node:fs";
import { sql } from "drizzle-orm";
import { readMigrationFiles } from "drizzle-orm/migrator";
import type { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePgliteDb } from "drizzle-orm/pglite/migrator";
import pg from "pg";
import { rootPath } from "../paths.ts";
import { type Db, rowsOf } from "./client.ts";

export const MIGRATIONS_FOLDER = rootPath("drizzle");
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
 * PostgreSQL: every pending migration in ONE transaction that first takes a
 * transaction-scoped advisory lock, so several instances starting at once apply each
 * migration exactly once — and it stays correct through a transaction-mode pooler
 * (PgBouncer, Supavisor, Neon), where a session-level lock could be taken on one server
 * connection and "released" on another. The bookkeeping is drizzle's own (the same
 * `drizzle.__drizzle_migrations` table and rules as its migrator), so drizzle-kit stays
 * compatible.
 */
export async function migratePg(url: string, connectTimeoutMs: number): Promise<void> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: connectTimeoutMs,
    application_name: "tasktalk-migrate",
  });
  client.on("error", () => {}); // surfaced by the failing query instead
  await client.connect();
  const table = `"${MIGRATIONS_SCHEMA}"."${MIGRATIONS_TABLE}"`;
  try {
    await client.query("begin");
    await client.query("select pg_advisory_xact_lock($1)", [MIGRATION_LOCK_KEY]);
    await client.query(`create schema if not exists "${MIGRATIONS_SCHEMA}"`);
    await client.query(
      `create table if not exists ${table} (id serial primary key, hash text not null, created_at bigint)`,
    );
    const last = await client.query<{ created_at: string }>(
      `select created_at from ${table} order by created_at desc limit 1`,
    );
    const lastMillis = Number(last.rows[0]?.created_at ?? -1);
    for (const migration of readMigrationFiles(options)) {
      if (migration.folderMillis <= lastMillis) continue;
      for (const statement of migration.sql) {
        if (statement.trim()) await client.query(statement);
      }
      await client.query(`insert into ${table} (hash, created_at) values ($1, $2)`, [
        migration.hash,
        migration.folderMillis,
      ]);
    }
    await client.query("commit");
  } catch (error) {
    await client.query("rollback").catch(() => {});
    throw error;
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
