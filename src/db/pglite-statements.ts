import {
  messages,
  type PGlite,
  parse,
  protocol,
  type QueryOptions,
  type Results,
  type Transaction,
} from "@electric-sql/pglite";

// PGlite's query() sends every statement unnamed: for each query it parses and analyzes the
// SQL text, describes it, binds, describes the portal, executes and syncs — six calls into
// the WebAssembly backend — and then copies its whole table of type parsers
// (`{...defaults, ...options.parsers}`) to read the rows. On a turn's hot path that was most
// of a statement's time. PGlite is one backend in this process with no pooler in front, so
// a statement parsed once under a name stays valid for the life of the instance (as
// node-postgres does with a named query). The wrapper below parses a statement text once
// (Parse + Describe + Sync, one call) and then runs it as Bind + Execute + Sync in ONE call,
// under the same two mutexes PGlite's query() takes. Anything it does not handle goes to
// PGlite's own query(). docs/decisions.md, "PGlite: named statements".

/** Statement texts kept per instance; beyond this, new texts run as PGlite runs them. */
const MAX_STATEMENTS = 1000;

interface Statement {
  name: string;
  /** The parameters' type oids (ParameterDescription), to serialize values as PGlite does. */
  paramTypes: number[];
  /** The result's columns; none for a statement that returns no rows (NoData). */
  columns?: messages.RowDescriptionMessage;
}

/** PGlite's table of type parsers, by type oid. */
type Parsers = Parameters<typeof parse.parseResults>[1];
type Serializer = (value: unknown) => string;
type Internals = {
  parsers: Parsers;
  serializers: Record<number, Serializer>;
  _runExclusiveQuery<T>(fn: () => Promise<T>): Promise<T>;
  _runExclusiveTransaction<T>(fn: () => Promise<T>): Promise<T>;
};

/**
 * The PGlite instance as Drizzle sees it: query() (and a transaction's query()) run named
 * statements; every other member is the instance's own.
 */
export function withNamedStatements(client: PGlite): PGlite {
  const internal = client as unknown as Internals;
  if (
    typeof internal._runExclusiveQuery !== "function" ||
    typeof internal._runExclusiveTransaction !== "function"
  ) {
    return client; // another PGlite: its own query() is still correct
  }
  const statements = new Map<string, Statement>();
  /** The merged parser table for one `options.parsers` object (Drizzle passes two, fixed). */
  const parserTables = new WeakMap<object, Parsers>();
  let named = 0;

  const parsersFor = (options: QueryOptions | undefined): Parsers => {
    const extra = options?.parsers;
    if (!extra) return internal.parsers;
    let table = parserTables.get(extra);
    if (!table) {
      table = { ...internal.parsers, ...extra };
      parserTables.set(extra, table);
    }
    return table;
  };

  /** Parse + Describe once; undefined when the instance already holds too many. */
  const prepare = async (text: string): Promise<Statement | undefined> => {
    const known = statements.get(text);
    if (known || statements.size >= MAX_STATEMENTS) return known;
    const name = `tt_${++named}`;
    const replies = await client.execProtocolStream(
      Buffer.concat([
        protocol.serialize.parse({ name, text }),
        protocol.serialize.describe({ type: "S", name }),
        protocol.serialize.sync(),
      ]),
      { syncToFs: false },
    );
    const statement: Statement = { name, paramTypes: parse.parseDescribeStatementResults(replies) };
    for (const reply of replies) {
      if (reply instanceof messages.RowDescriptionMessage) statement.columns = reply;
    }
    statements.set(text, statement);
    return statement;
  };

  /**
   * A statement whose result columns changed since it was parsed (DDL on its tables: the
   * backend answers 0A000, "cached plan must not change result type") is closed and
   * parsed again: once more at once outside a transaction; inside one, the transaction
   * has failed and the error is the caller's, and the next use parses it again.
   */
  const run = async <T>(
    text: string,
    params: unknown[],
    options: QueryOptions | undefined,
  ): Promise<Results<T> | undefined> => {
    try {
      return await runOnce<T>(text, params, options);
    } catch (error) {
      const statement = statements.get(text);
      if (!statement || (error as { code?: unknown }).code !== "0A000") throw error;
      statements.delete(text);
      await client.execProtocolStream(
        Buffer.concat([
          protocol.serialize.close({ type: "S", name: statement.name }),
          protocol.serialize.sync(),
        ]),
        { syncToFs: false },
      );
      if (client.isInTransaction()) throw error;
      return runOnce<T>(text, params, options);
    }
  };

  const runOnce = async <T>(
    text: string,
    params: unknown[],
    options: QueryOptions | undefined,
  ): Promise<Results<T> | undefined> => {
    const statement = await prepare(text);
    if (!statement) return undefined;
    const values = params.map((value, i) => {
      if (value === null || value === undefined) return null;
      const oid = statement.paramTypes[i] as number;
      const serialize =
        (options?.serializers as Record<number, Serializer> | undefined)?.[oid] ??
        internal.serializers[oid];
      return serialize ? serialize(value) : String(value);
    });
    const replies = await client.execProtocolStream(
      Buffer.concat([
        protocol.serialize.bind({ statement: statement.name, values: values as string[] }),
        protocol.serialize.execute({}),
        protocol.serialize.sync(),
      ]),
      { syncToFs: false },
    );
    if (!client.isInTransaction()) await client.syncToFs();
    // PGlite's own reading of the rows, given the columns from the parse and the merged
    // parser table (passed as the defaults, so it is not copied again).
    const [results] = parse.parseResults(
      statement.columns ? [statement.columns, ...replies] : replies,
      parsersFor(options),
      { rowMode: options?.rowMode },
    );
    return results as Results<T>;
  };

  /** PGlite's own query() where this one does not apply (a blob, a given param type). */
  const handles = (options: QueryOptions | undefined) =>
    !client.closed && options?.blob === undefined && options?.paramTypes === undefined;

  const queryIn =
    (fallback: Transaction["query"], exclusive: (fn: () => Promise<unknown>) => Promise<unknown>) =>
    async <T>(
      text: string,
      params: unknown[] = [],
      options?: QueryOptions,
    ): Promise<Results<T>> => {
      if (!handles(options)) return fallback<T>(text, params, options);
      const ran = (await exclusive(() =>
        internal._runExclusiveQuery(() =>
          run<T>(text, params, options).catch((error: unknown) => {
            throw withQuery(error, text, params, options);
          }),
        ),
      )) as Results<T> | undefined;
      return ran ?? fallback<T>(text, params, options);
    };

  const query = queryIn(client.query.bind(client), (fn) => internal._runExclusiveTransaction(fn));

  const transaction: PGlite["transaction"] = (callback) =>
    client.transaction((tx) => {
      // The transaction already holds the transaction mutex: only the query mutex is taken.
      const fast = queryIn(tx.query.bind(tx), (fn) => fn());
      return callback(
        new Proxy(tx, {
          get: (target, prop) => (prop === "query" ? fast : Reflect.get(target, prop, target)),
        }),
      );
    });

  return new Proxy(client, {
    get(target, prop) {
      if (prop === "query") return query;
      if (prop === "transaction") return transaction;
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** A database error carries its query as PGlite's own errors do (makePGliteError). */
function withQuery(error: unknown, query: string, params: unknown[], options?: QueryOptions) {
  if (error instanceof messages.DatabaseError) {
    Object.assign(error, { query, params, queryOptions: options });
  }
  return error;
}
