import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { eq, sql } from "drizzle-orm";
import { integer, pgTable, text } from "drizzle-orm/pg-core";
import type pg from "pg";
import { loadConfig } from "../../src/config.ts";
import { type Database, type DbLogger, openDatabase } from "../../src/db/client.ts";
import { classifyDbError } from "../../src/db/db-errors.ts";
import { NamedStatementRefused } from "../../src/db/pg-statements.ts";
import { prepared, statementName } from "../../src/db/prepared.ts";
import { inTransaction } from "../../src/db/transaction.ts";
import { availableBackends, createTestDatabase, type TestDatabase } from "../support/databases.ts";
import { PGBOUNCER, startPgBouncer } from "../support/pgbouncer.ts";

// src/db/prepared.ts names the hot path's statements after their text, so PostgreSQL parses
// and plans each once per connection; src/db/pg-statements.ts turns naming off for good
// when the server refuses a name (a pooler that does not keep them, a schema change), and
// the refused statement still succeeds: sent again unnamed, or its transaction retried.

const backends = await availableBackends();

const items = pgTable("items", { id: integer().primaryKey(), note: text() });
const byId = prepared((db) =>
  db
    .select({ id: items.id, note: items.note })
    .from(items)
    .where(eq(items.id, sql.placeholder("id"))),
);
const byIdText = 'select "id", "note" from "items" where "items"."id" = $1';
/** A statement only ever run inside transactions (the PgBouncer test). */
const byNote = prepared((db) =>
  db
    .select({ id: items.id })
    .from(items)
    .where(eq(items.note, sql.placeholder("note"))),
);
const byNoteText = 'select "id" from "items" where "items"."note" = $1';

function capture(): DbLogger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, warn: (_obj, msg) => warnings.push(msg), error: () => {} };
}

async function open(
  url: string,
  logger: DbLogger,
  options: { named?: boolean; poolMax?: number } = {},
) {
  return openDatabase(
    {
      kind: "pg",
      url,
      poolMax: options.poolMax ?? 1,
      connectTimeoutMs: 5000,
      idleTimeoutMs: 10_000,
      statementTimeoutMs: 0,
      idleInTransactionTimeoutMs: 0,
      queryTimeoutMs: 0,
      ...(options.named === undefined ? {} : { namedStatements: options.named }),
    },
    logger,
  );
}

/** PgBouncer 1.18 in transaction mode on two server connections, and its URL. */
async function bouncerFor(url: string) {
  const direct = new URL(url);
  const bouncer = await startPgBouncer(direct.pathname.slice(1), Number(direct.port || 5432), 2);
  const pooled = new URL(direct);
  pooled.port = String(bouncer.port);
  return { bouncer, pooled: pooled.toString() };
}

/** The statements parsed on the (single) pooled connection, by name. */
async function parsed(database: Database): Promise<Record<string, string>> {
  const result = (await database.db.execute(
    sql`select name, statement from pg_prepared_statements`,
  )) as unknown as { rows: { name: string; statement: string }[] };
  return Object.fromEntries(result.rows.map((r) => [r.name, r.statement]));
}

describe("PostgreSQL named statements", { skip: !backends.includes("pg") }, () => {
  let testDb: TestDatabase;
  const url = () => testDb.url ?? "";
  before(async () => {
    testDb = await createTestDatabase("pg");
    const setup = await open(url(), capture());
    await setup.db.execute(sql`create table items (id int primary key, note text)`);
    await setup.db.execute(sql`insert into items values (1, 'one'), (2, 'two')`);
    await setup.close();
  });
  after(() => testDb.drop());

  test("a statement is named after its text and parsed once per connection", async () => {
    const log = capture();
    const database = await open(url(), log);
    try {
      for (const id of [1, 2, 1]) {
        const rows = await byId(database.db).execute({ id });
        assert.deepEqual(rows, [{ id, note: id === 1 ? "one" : "two" }]);
      }
      const statements = await parsed(database);
      assert.deepEqual(statements, { [statementName(byIdText)]: byIdText });
      assert.deepEqual(log.warnings, []);
    } finally {
      await database.close();
    }
  });

  test("PG_NAMED_STATEMENTS=false: nothing is parsed under a name", async () => {
    const configured = (env: Record<string, string>) => {
      const { database } = loadConfig({ DATABASE_URL: url(), ...env });
      return database.kind === "pg" ? database.namedStatements : undefined;
    };
    assert.equal(configured({}), true);
    assert.equal(configured({ PG_NAMED_STATEMENTS: "false" }), false);
    const database = await open(url(), capture(), { named: false });
    try {
      assert.deepEqual(await byId(database.db).execute({ id: 2 }), [{ id: 2, note: "two" }]);
      assert.deepEqual(await parsed(database), {});
    } finally {
      await database.close();
    }
  });

  test("a name the connection lost, outside a transaction: parsed again and answered; one warning", async () => {
    const log = capture();
    const database = await open(url(), log);
    try {
      await byId(database.db).execute({ id: 1 });
      // The server forgets it; the client still believes it parsed (as after a pooler
      // handed it another server connection).
      await database.db.execute(sql`deallocate all`);
      assert.deepEqual(await byId(database.db).execute({ id: 2 }), [{ id: 2, note: "two" }]);
      assert.deepEqual(await byId(database.db).execute({ id: 1 }), [{ id: 1, note: "one" }]);
      assert.deepEqual(await parsed(database), { [statementName(byIdText)]: byIdText });
      assert.equal(log.warnings.length, 1);
      assert.match(log.warnings[0] ?? "", /refused a named statement.*PG_NAMED_STATEMENTS=false/);
    } finally {
      await database.close();
    }
  });

  test("a name the connection already holds (42P05): bound, not parsed again", async () => {
    const log = capture();
    const database = await open(url(), log);
    try {
      await byId(database.db).execute({ id: 1 });
      // The client forgets it parsed it (as a client new to a pooler's server connection
      // that another client prepared it on): its Parse is refused, the retry binds it.
      const pool = (database.db as unknown as { $client: pg.Pool }).$client;
      const client = await pool.connect();
      const parsedStatements = (
        client as unknown as { connection: { parsedStatements: Record<string, string> } }
      ).connection.parsedStatements;
      delete parsedStatements[statementName(byIdText)];
      client.release();
      assert.deepEqual(await byId(database.db).execute({ id: 2 }), [{ id: 2, note: "two" }]);
      assert.equal(parsedStatements[statementName(byIdText)], byIdText);
      assert.equal(log.warnings.length, 1);
    } finally {
      await database.close();
    }
  });

  test("a name lost inside a transaction: the transaction is retried whole, unnamed", async () => {
    const log = capture();
    const database = await open(url(), log);
    try {
      await byId(database.db).execute({ id: 1 });
      await database.db.execute(sql`deallocate all`);
      let attempts = 0;
      const rows = await inTransaction(database.db, async (tx) => {
        attempts++;
        await tx.execute(sql`update items set note = note || '!' where id = 2`);
        return byId(tx as never).execute({ id: 2 });
      });
      assert.equal(attempts, 2);
      // The first attempt's update was rolled back: exactly one "!".
      assert.deepEqual(rows, [{ id: 2, note: "two!" }]);
      assert.equal(log.warnings.length, 1);
      await database.db.execute(sql`update items set note = 'two' where id = 2`);
    } finally {
      await database.close();
    }
  });

  test("the refusal inside a transaction is retryable (db-errors)", () => {
    const error = new NamedStatementRefused(Object.assign(new Error("x"), { code: "26000" }));
    assert.equal(classifyDbError(error)?.category, "serialization");
  });

  test("a schema change under a parsed statement (0A000): sent again unnamed with the new columns' type", async () => {
    const log = capture();
    const database = await open(url(), log);
    const other = await open(url(), capture(), { named: false });
    try {
      await byId(database.db).execute({ id: 1 });
      await other.db.execute(sql`alter table items alter column note type varchar(20)`);
      assert.deepEqual(await byId(database.db).execute({ id: 1 }), [{ id: 1, note: "one" }]);
      assert.equal(log.warnings.length, 1);
    } finally {
      await other.db.execute(sql`alter table items alter column note type text`);
      await other.close();
      await database.close();
    }
  });

  test("through PgBouncer 1.18 in transaction mode: every statement answered; once the server connections hold it, no more refusals", {
    skip: !existsSync(PGBOUNCER),
  }, async () => {
    const { bouncer, pooled } = await bouncerFor(url());
    const log = capture();
    const database = await open(pooled, log, { poolMax: 6 });
    const rounds = async (n: number) => {
      for (let round = 0; round < n; round++) {
        const results = await Promise.all(
          Array.from({ length: 6 }, (_, i) =>
            i % 2
              ? byId(database.db).execute({ id: 1 })
              : inTransaction(database.db, (tx) => byId(tx as never).execute({ id: 2 })),
          ),
        );
        for (const [i, rows] of results.entries()) {
          assert.deepEqual(rows, [i % 2 ? { id: 1, note: "one" } : { id: 2, note: "two" }]);
        }
      }
    };
    try {
      await rounds(20);
      assert.equal(database.statements?.pooled, true);
      assert.equal(database.statements?.named, true);
      assert.equal(log.warnings.length, 1, "logged once");
      const refused = database.statements?.refusals ?? 0;
      assert.ok(refused >= 1);
      await rounds(20);
      assert.equal(database.statements?.refusals, refused, "no refusal once warmed up");
      // Whichever server connection answers holds the statement, under its name.
      for (let i = 0; i < 4; i++) {
        const names = Object.keys(await parsed(database));
        assert.ok(names.includes(statementName(byIdText)), names.join());
      }
    } finally {
      await database.close();
      await bouncer.stop();
    }
  });

  test("through PgBouncer, once it refused a name: a transaction's statements are named too, as its server connection needs, never refused", {
    skip: !existsSync(PGBOUNCER),
  }, async () => {
    const { bouncer, pooled } = await bouncerFor(url());
    const database = await open(pooled, capture(), { poolMax: 6 });
    try {
      // The switch: statements outside transactions, until the pooler makes one refused.
      for (let round = 0; round < 20 && !database.statements?.pooled; round++) {
        await Promise.all(Array.from({ length: 6 }, () => byId(database.db).execute({ id: 1 })));
      }
      assert.equal(database.statements?.pooled, true);
      const refused = database.statements?.refusals ?? 0;
      for (let round = 0; round < 20; round++) {
        const results = await Promise.all(
          Array.from({ length: 6 }, () =>
            inTransaction(database.db, (tx) => byNote(tx as never).execute({ note: "two" })),
          ),
        );
        for (const rows of results) assert.deepEqual(rows, [{ id: 2 }]);
      }
      assert.equal(database.statements?.refusals, refused, "no refusal in a transaction");
      // Both server connections (two transactions at once) hold it under its name.
      const held = await Promise.all(
        [0, 1].map(() =>
          inTransaction(database.db, async (tx) => {
            await tx.execute(sql`select pg_sleep(0.1)`);
            const r = (await tx.execute(
              sql`select pg_backend_pid() as pid, array(select name from pg_prepared_statements) as names`,
            )) as unknown as { rows: { pid: number; names: string[] }[] };
            return r.rows[0];
          }),
        ),
      );
      assert.notEqual(held[0]?.pid, held[1]?.pid, "two server connections");
      for (const row of held)
        assert.ok(row?.names.includes(statementName(byNoteText)), row?.names.join());
    } finally {
      await database.close();
      await bouncer.stop();
    }
  });
});
