import { createHash } from "node:crypto";
import { is } from "drizzle-orm";
import { PgTransaction } from "drizzle-orm/pg-core";
import type { Db } from "./client.ts";

/**
 * Drizzle builds a query's SQL text on every call (~0.2 ms of CPU each, about a tenth of
 * a turn's CPU: bench/profile.ts). The statements on the hot path of a turn are built
 * once per database connection instead, with `sql.placeholder()` for their values, and
 * then only executed.
 *
 * They are NAMED after their text (`statementName`): on PostgreSQL a connection parses
 * and plans one the first time only, then binds and executes it (issue 16: 0.08 ms
 * instead of 0.22 for the session lookup, measured on a raw client). A name is a digest of
 * the text, so whichever connection a pooler hands over, a statement of that name is this
 * very text. A transaction-mode pooler that does not keep named statements (PgBouncer
 * before 1.21) makes the server refuse one; the pool then sends them unnamed for good
 * (src/db/pg-statements.ts). On PGlite the name is not used: src/db/pglite-statements.ts
 * names statements itself.
 */
export function prepared<P>(
  build: (db: Db) => { prepare(name: string): P; toSQL(): { sql: string } },
): (db: Db) => P {
  const cache = new WeakMap<object, P>();
  return (db) => {
    const key = cacheKey(db);
    let statement = cache.get(key);
    if (!statement) {
      const query = build(db);
      statement = query.prepare(statementName(query.toSQL().sql));
      cache.set(key, statement);
    }
    return statement;
  };
}

/** A statement's name: a digest of its text (at most 63 bytes, PostgreSQL's limit). */
export function statementName(text: string): string {
  return `tt_${createHash("sha256").update(text).digest("base64url").slice(0, 24)}`;
}

/**
 * A jsonb value for a prepared statement's placeholder (written `${placeholder}::jsonb`), as
 * `.values()` would send it: JSON text, and SQL NULL for null or undefined (a bare
 * placeholder would send null as the JSON `null`, which a NOT NULL column would accept).
 */
export function jsonText(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

/**
 * What a statement is bound to. A database handle: itself. A transaction handle is a new
 * object for every transaction (a chat tool's effect runs in one), but Drizzle binds its
 * statements to the transaction's connection (`session.client`), and a pool hands out the
 * same few connections again and again: keyed by that connection, a statement built in one
 * transaction is reused by the next transaction on the same connection — the statement it
 * would have built, on the connection it would have used.
 */
function cacheKey(db: Db): object {
  if (!is(db, PgTransaction)) return db;
  const client = (db as unknown as { session?: { client?: unknown } }).session?.client;
  return typeof client === "object" && client !== null ? client : db;
}
