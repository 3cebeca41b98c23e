import type pg from "pg";

// Named statements on PostgreSQL (src/db/prepared.ts names the hot path's statements after
// their text). A connection parses and plans such a statement once, then only binds and
// executes it. Two things can make the server refuse a name:
// - a transaction-mode pooler that does not keep named statements (PgBouncer before 1.21):
//   the next transaction may run on a server connection that never parsed it (26000), or
//   one where another client already did (42P05);
// - a schema change that altered a parsed statement's result columns (0A000, "cached plan
//   must not change result type"), as during a rolling deploy's migration.
// Either way the pool stops naming statements for the rest of the process (one warning),
// and the refused statement is sent again unnamed when that is safe: it ran outside a
// transaction, so nothing happened. Inside one the transaction is aborted: the error is
// thrown as NamedStatementRefused, which inTransaction retries as a whole
// (src/db/transaction.ts), now unnamed.

/** Whether the pool still names statements (false from the start with PG_NAMED_STATEMENTS=false). */
export interface StatementMode {
  named: boolean;
}

/**
 * A statement the server refused because of its name, inside a transaction (aborted, and
 * rolled back by the caller): safe to retry as a whole. Its SQLSTATE is the server's
 * "no such prepared statement" (db-errors.ts classifies it as retryable).
 */
export class NamedStatementRefused extends Error {
  override name = "NamedStatementRefused";
  readonly code = "26000";
  constructor(cause: unknown) {
    super("the server refused a named statement; the transaction is retried unnamed", { cause });
  }
}

/** The server refused the statement's name, not its content. */
export function refusedName(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return (
    code === "26000" ||
    code === "42P05" ||
    (code === "0A000" &&
      typeof message === "string" &&
      /cached plan must not change result type/i.test(message))
  );
}

type QueryConfig = { name?: unknown; text?: unknown; submit?: unknown };

function isNamed(first: unknown): first is QueryConfig & { name: string } {
  return (
    typeof first === "object" &&
    first !== null &&
    typeof (first as QueryConfig).name === "string" &&
    typeof (first as QueryConfig).submit !== "function"
  );
}

function unnamed(config: QueryConfig): QueryConfig {
  const { name: _, ...rest } = config;
  return rest;
}

/**
 * Wraps a pooled client's query: names are stripped once the mode says unnamed; a refused
 * name switches the mode (calling `onSwitch` once) and is handled as described above.
 */
export function handleStatementNames(
  client: pg.PoolClient,
  mode: StatementMode,
  onSwitch: (error: unknown) => void,
): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  const refuse = (error: unknown) => {
    if (mode.named) {
      mode.named = false;
      onSwitch(error);
    }
  };
  const wrapped = (...args: unknown[]): unknown => {
    const first = args[0];
    if (!isNamed(first)) return query(...args);
    if (!mode.named) return query(unnamed(first), ...args.slice(1));
    // The client's state before this statement: not in a transaction ("T", or "E" failed)
    // means it runs in one of its own, so a refused one did nothing and can be sent again.
    // (null: no ReadyForQuery read yet, as on a new connection through PgBouncer.)
    const status = client.getTransactionStatus();
    const alone = status !== "T" && status !== "E";
    const callback = args.at(-1);
    if (typeof callback === "function") {
      const done = callback as (error: unknown, result?: unknown) => void;
      args[args.length - 1] = (error: unknown, result: unknown) => {
        if (!refusedName(error)) return done(error, result);
        refuse(error);
        if (!alone) return done(new NamedStatementRefused(error));
        query(unnamed(first), ...args.slice(1, -1), done);
      };
      return query(...args);
    }
    const result = query(...args);
    if (!(result instanceof Promise)) return result;
    return result.catch((error: unknown) => {
      if (!refusedName(error)) throw error;
      refuse(error);
      if (!alone) throw new NamedStatementRefused(error);
      return query(unnamed(first), ...args.slice(1));
    });
  };
  (client as unknown as { query: typeof wrapped }).query = wrapped;
}
