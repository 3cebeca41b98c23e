import type pg from "pg";

// Named statements on PostgreSQL (src/db/prepared.ts names the hot path's statements after
// their text). A connection parses and plans such a statement once, then only binds and
// executes it. Two things can make the server refuse a name:
// - a transaction-mode pooler that does not keep named statements per client (PgBouncer
//   before 1.21): the client's next transaction may run on a server connection that never
//   parsed the statement (26000), or where another client already did (42P05). Statements
//   stay on the server connections, so once every one of them has parsed a statement the
//   name works wherever the client lands. So, from the first refusal on ("pooled"): a
//   transaction's BEGIN also asks which of our statements its server connection holds
//   (the pooler keeps that connection until COMMIT), so the statements inside it are sent
//   parsed or bound only as that connection needs — never refused (a refusal there would
//   abort the transaction); one outside a transaction is sent named, and a refused one is
//   sent again at once, parsed (26000) or not (42P05), a few times, then unnamed. Refusals
//   stop once the server connections hold the statements; the first one is logged.
// - a schema change that altered a parsed statement's result columns (0A000, "cached plan
//   must not change result type"), as during a rolling deploy's migration: the pool stops
//   naming statements for the rest of the process.
// A statement refused outside a transaction did nothing, so it is simply sent again.
// Inside one (before the switch) the transaction is aborted: the error is thrown as
// NamedStatementRefused, which inTransaction retries as a whole (src/db/transaction.ts).

/**
 * How the pool names statements: `named` false from the start with
 * PG_NAMED_STATEMENTS=false, or after a schema change; `pooled` after the first refusal
 * of a name by a pooler. `refusals` counts every refused name (tests, logs).
 */
export interface StatementMode {
  named: boolean;
  pooled?: boolean;
  refusals?: number;
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

/** Tries of a statement outside a transaction while the pooler's connections catch up. */
const POOLED_TRIES = 4;

/** Our statements' names (src/db/prepared.ts statementName). */
const OURS = /^tt_/;

/** What a pooled transaction's BEGIN also asks: the server connection's statements of ours. */
const HELD = "select name, statement from pg_prepared_statements where name like 'tt\\_%'";

/** A transaction's opening statement as Drizzle sends it (simple protocol, no values). */
function isBegin(first: unknown, values: unknown): boolean {
  const text = typeof first === "string" ? first : (first as QueryConfig | null)?.text;
  return (
    typeof text === "string" &&
    /^begin\b[^;]*$/i.test(text) &&
    (values === undefined || (Array.isArray(values) && values.length === 0))
  );
}

/** pg's record of the statements it believes this connection has parsed (name → text). */
function parsedOn(client: pg.PoolClient): Record<string, string> | undefined {
  return (client as unknown as { connection?: { parsedStatements?: Record<string, string> } })
    .connection?.parsedStatements;
}

/**
 * Wraps a pooled client's query, naming statements as `mode` says; the first refusal of a
 * name calls `onSwitch` (to log it) and changes the mode as described above.
 */
export function handleStatementNames(
  client: pg.PoolClient,
  mode: StatementMode,
  onSwitch: (error: unknown) => void,
): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  const refused = (error: unknown) => {
    mode.refusals = (mode.refusals ?? 0) + 1;
    const code = (error as { code?: unknown }).code;
    const first = mode.named && !mode.pooled;
    if (code === "0A000") mode.named = false;
    else mode.pooled = true;
    if (first) onSwitch(error);
  };
  /** After a refusal: whether the next try sends the statement parsed or bound only. */
  const relearn = (config: QueryConfig & { name: string }, error: unknown) => {
    const parsed = parsedOn(client);
    if (!parsed) return;
    if ((error as { code?: unknown }).code === "42P05") parsed[config.name] = String(config.text);
    else delete parsed[config.name];
  };
  /**
   * The server connection under this transaction holds exactly these statements of ours
   * (set by a pooled BEGIN, cleared by the next statement outside a transaction).
   */
  let synced = false;
  /** BEGIN, and which of our statements the server connection it landed on holds. */
  const beginAndSync = (first: unknown, rest: unknown[]): unknown => {
    const config: QueryConfig =
      typeof first === "string" ? { text: first } : { ...(first as QueryConfig) };
    const both = query({ ...config, text: `${String(config.text)}; ${HELD}` }, ...rest);
    return (both as Promise<unknown>).then((results) => {
      const [begun, held] = results as [unknown, { rows: { name: string; statement: string }[] }];
      const parsed = parsedOn(client);
      if (parsed) {
        for (const name of Object.keys(parsed)) if (OURS.test(name)) delete parsed[name];
        for (const row of held.rows) parsed[row.name] = row.statement;
        synced = true;
      }
      return begun;
    });
  };
  const wrapped = (...args: unknown[]): unknown => {
    const first = args[0];
    // The client's state before this statement: not in a transaction ("T", or "E" failed)
    // means it runs in one of its own, so a refused one did nothing and can be sent again.
    // (null: no ReadyForQuery read yet, as on a new connection through PgBouncer.)
    const status = client.getTransactionStatus();
    const alone = status !== "T" && status !== "E";
    if (alone) synced = false;
    if (
      mode.pooled &&
      mode.named &&
      alone &&
      typeof args.at(-1) !== "function" &&
      isBegin(first, args[1])
    ) {
      return beginAndSync(first, args.slice(1));
    }
    if (!isNamed(first)) return query(...args);
    if (!mode.named) return query(unnamed(first), ...args.slice(1));
    if (mode.pooled && !alone && !synced) return query(unnamed(first), ...args.slice(1));
    // pg-pool's own query() passes a callback (autocommit statements); Drizzle's
    // transactions await the promise. One retry loop serves both.
    const rest = args.slice(1);
    const callback =
      typeof rest.at(-1) === "function"
        ? (rest.pop() as (error: unknown, result?: unknown) => void)
        : undefined;
    const attempt = (tries: number): Promise<unknown> => {
      const config = tries < POOLED_TRIES && mode.named ? first : unnamed(first);
      return (query(config, ...rest) as Promise<unknown>).catch((error: unknown) => {
        if (!refusedName(error) || config !== first) throw error;
        refused(error);
        if (!alone) throw new NamedStatementRefused(error);
        relearn(first, error);
        return attempt(tries + 1);
      });
    };
    const answer = attempt(0);
    if (!callback) return answer;
    answer.then(
      (result) => callback(null, result),
      (error: unknown) => callback(error),
    );
    return undefined;
  };
  (client as unknown as { query: typeof wrapped }).query = wrapped;
}
