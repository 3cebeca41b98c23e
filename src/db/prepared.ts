import type { Db } from "./client.ts";

/**
 * Drizzle builds a query's SQL text on every call (~0.2 ms of CPU each, about a tenth of
 * a turn's CPU: bench/profile.ts). The statements on the hot path of a turn are built
 * once per database instead, with `sql.placeholder()` for their values, and then only
 * executed.
 *
 * They stay UNNAMED: Drizzle turns a name into a server-side prepared statement, which
 * breaks behind PgBouncer in transaction mode (the next transaction may run on another
 * server connection, where that statement does not exist). Unnamed, each execution sends
 * its text as before; only the client-side building is saved.
 */
const UNNAMED = undefined as unknown as string;

export function prepared<P>(build: (db: Db) => { prepare(name: string): P }): (db: Db) => P {
  const cache = new WeakMap<Db, P>();
  return (db) => {
    let statement = cache.get(db);
    if (!statement) {
      statement = build(db).prepare(UNNAMED);
      cache.set(db, statement);
    }
    return statement;
  };
}
