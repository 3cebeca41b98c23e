import { is } from "drizzle-orm";
import { PgTransaction } from "drizzle-orm/pg-core";
import type { Db } from "./client.ts";

/**
 * Drizzle builds a query's SQL text on every call (~0.2 ms of CPU each, about a tenth of
 * a turn's CPU: bench/profile.ts). The statements on the hot path of a turn are built
 * once per database connection instead, with `sql.placeholder()` for their values, and
 * then only executed.
 *
 * They stay UNNAMED: Drizzle turns a name into a server-side prepared statement, which
 * breaks behind PgBouncer in transaction mode (the next transaction may run on another
 * server connection, where that statement does not exist). Unnamed, each execution sends
 * its text as before; only the client-side building is saved.
 */
const UNNAMED = undefined as unknown as string;

export function prepared<P>(build: (db: Db) => { prepare(name: string): P }): (db: Db) => P {
  const cache = new WeakMap<object, P>();
  return (db) => {
    const key = cacheKey(db);
    let statement = cache.get(key);
    if (!statement) {
      statement = build(db).prepare(UNNAMED);
      cache.set(key, statement);
    }
    return statement;
  };
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
