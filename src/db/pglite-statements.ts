import {
  messages,
  type PGlite,
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
  /** The result's columns (RowDescription); empty for a statement that returns none. */
  fields: { name: string; dataTypeID: number }[];
}

type Parser = (value: string, typeId: number) => unknown;
type Serializer = (value: unknown) => string;
type Internals = {
  parsers: Record<number, Parser>;
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
  const parserTables = new WeakMap<object, Record<number, Parser>>();
  let inTransaction = false;
  let named = 0;

  const parsersFor = (options: QueryOptions | undefined): Record<number, Parser> => {
    const extra = options?.parsers as Record<number, Parser> | undefined;
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
      concat([
        protocol.serialize.parse({ name, text }),
        protocol.serialize.describe({ type: "S", name }),
        protocol.serialize.sync(),
      ]),
      { syncToFs: false },
    );
    const statement: Statement = { name, paramTypes: [], fields: [] };
    for (const reply of replies) {
      if (reply instanceof messages.ParameterDescriptionMessage) {
        statement.paramTypes = reply.dataTypeIDs;
      } else if (reply instanceof messages.RowDescriptionMessage) {
        statement.fields = reply.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID }));
      }
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
        concat([
          protocol.serialize.close({ type: "S", name: statement.name }),
          protocol.serialize.sync(),
        ]),
        { syncToFs: false },
      );
      if (inTransaction) throw error;
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
      concat([
        protocol.serialize.bind({ statement: statement.name, values: values as string[] }),
        protocol.serialize.execute({}),
        protocol.serialize.sync(),
      ]),
      { syncToFs: false },
    );
    if (!inTransaction) await client.syncToFs();
    return toResults<T>(replies, statement.fields, parsersFor(options), options?.rowMode);
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
      inTransaction = true;
      // The transaction already holds the transaction mutex: only the query mutex is taken.
      const fast = queryIn(tx.query.bind(tx), (fn) => fn());
      const wrapped = new Proxy(tx, {
        get: (target, prop) => (prop === "query" ? fast : Reflect.get(target, prop, target)),
      });
      return callback(wrapped).finally(() => {
        inTransaction = false;
      });
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

/** Rows as PGlite's parseResults reads them, for a statement whose columns are known. */
function toResults<T>(
  replies: Awaited<ReturnType<PGlite["execProtocolStream"]>>,
  fields: Statement["fields"],
  parsers: Record<number, Parser>,
  rowMode: QueryOptions["rowMode"],
): Results<T> {
  const rows: unknown[] = [];
  let affectedRows = 0;
  let command: string | undefined;
  let rowCount: number | undefined;
  for (const reply of replies) {
    if (reply instanceof messages.DataRowMessage) {
      const row = reply.fields.map((value, i) => {
        if (value === null) return null;
        const type = (fields[i] as Statement["fields"][number]).dataTypeID;
        const parse = parsers[type];
        return parse ? parse(value, type) : value;
      });
      rows.push(
        rowMode === "array"
          ? row
          : Object.fromEntries(row.map((v, i) => [(fields[i] as { name: string }).name, v])),
      );
    } else if (reply instanceof messages.CommandCompleteMessage) {
      const parts = reply.text.split(" ");
      command = parts[0];
      const count = Number.parseInt(parts.at(-1) as string, 10);
      if (["INSERT", "UPDATE", "DELETE", "COPY", "MERGE"].includes(command as string)) {
        affectedRows += count;
      }
      if (!Number.isNaN(count)) rowCount = count;
    }
  }
  const results = { rows, fields, affectedRows } as Results<T> & {
    command?: string;
    rowCount?: number;
  };
  if (command !== undefined) results.command = command;
  if (rowCount !== undefined) results.rowCount = rowCount;
  return results;
}

/** A database error carries its query as PGlite's own errors do (makePGliteError). */
function withQuery(error: unknown, query: string, params: unknown[], options?: QueryOptions) {
  if (error instanceof messages.DatabaseError) {
    Object.assign(error, { query, params, queryOptions: options });
  }
  return error;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
