import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/pglite";
import { withNamedStatements } from "../../src/db/pglite-statements.ts";

// src/db/pglite-statements.ts: Drizzle's queries on PGlite run as named statements, parsed
// once. What they return must be what PGlite's own query() returns, errors included, and a
// statement must never run inside a transaction it is not part of.

describe("PGlite named statements", () => {
  let pglite: PGlite;
  let named: PGlite;
  before(async () => {
    pglite = await PGlite.create();
    named = withNamedStatements(pglite);
    await pglite.exec(`
      create table t (
        id int primary key, at timestamptz, day date, amount numeric, tags text[],
        doc jsonb, flag boolean, big bigint, note text);
      insert into t values
        (1, '2026-11-30 10:00:00+00', '2026-11-30', 1.50, '{a,b}', '{"k":[1,2]}', true, 9007199254740993, null),
        (2, null, null, null, null, null, null, null, 'two');`);
  });
  after(() => pglite.close());

  const drizzleParsers = { 1184: (v: string) => v, 1082: (v: string) => v };
  const cases: [string, unknown[], object | undefined][] = [
    ["select * from t order by id", [], undefined],
    ["select * from t where id = $1", [1], { rowMode: "array" }],
    ["select * from t where id = $1", [2], { rowMode: "array", parsers: drizzleParsers }],
    ["select at, day, doc, tags from t where id = any($1::int[])", [[1, 2]], undefined],
    ["select $1::jsonb as j, $2::text as s, $3::int as n", ['{"x":1}', null, 7], undefined],
    ["update t set note = $1 where id > $2", ["n", 0], undefined],
    ["insert into t (id) values ($1), ($2) returning id", [3, 4], { rowMode: "array" }],
    ["delete from t where id >= $1", [3], undefined],
    ["select 1 where false", [], undefined],
  ];

  test("the same rows, fields, counts and parsed types as PGlite's query()", async () => {
    for (const [text, params, options] of cases) {
      // Each twice through the wrapper: the second run uses the parsed statement.
      for (let i = 0; i < 2; i++) {
        // An insert is undone after each run, so both runs meet the same table.
        const undo = () =>
          text.startsWith("insert") ? pglite.query("delete from t where id >= 3") : undefined;
        const mine = await named.query(text, params, options);
        await undo();
        const theirs = await pglite.query(text, params, options);
        await undo();
        assert.deepEqual(
          { rows: mine.rows, fields: mine.fields, affectedRows: mine.affectedRows },
          { rows: theirs.rows, fields: theirs.fields, affectedRows: theirs.affectedRows },
          text,
        );
      }
    }
    const [row] = (await named.query<{ at: Date; big: string }>("select * from t where id = 1"))
      .rows;
    assert.ok(row?.at instanceof Date);
  });

  test("a statement text is parsed once, under one name", async () => {
    const text = "select id from t where id = $1 /* once */";
    for (let i = 0; i < 5; i++) await named.query(text, [1]);
    const held = await pglite.query<{ n: number }>(
      "select count(*)::int as n from pg_prepared_statements where statement = $1",
      [text],
    );
    assert.equal(held.rows[0]?.n, 1);
  });

  test("errors: PGlite's DatabaseError with its code and query; the next statement works", async () => {
    await assert.rejects(
      named.query("insert into t (id) values ($1)", [1]),
      (error: Error & { code?: string; query?: string }) =>
        error.code === "23505" && error.query === "insert into t (id) values ($1)",
    );
    await assert.rejects(named.query("select nope from t", []), { code: "42703" });
    await assert.rejects(named.query("select $1::int", ["x"]), { code: "22P02" });
    const again = await named.query("select count(*)::int as n from t", []);
    assert.deepEqual(again.rows, [{ n: 2 }]);
  });

  test("in a transaction: its statements are in it; one outside waits for it to end", async () => {
    const seen: number[] = [];
    const outside = async () => {
      const r = await named.query<{ n: number }>("select count(*)::int as n from t", []);
      seen.push(r.rows[0]?.n ?? -1);
    };
    let pending: Promise<void> | undefined;
    await assert.rejects(
      named.transaction(async (tx) => {
        await tx.query("insert into t (id) values ($1)", [10]);
        pending = outside(); // must not run inside this transaction
        const inside = await tx.query<{ n: number }>("select count(*)::int as n from t", []);
        assert.equal(inside.rows[0]?.n, 3);
        await tx.query("insert into t (id) values ($1)", [1]); // duplicate: fails
      }),
      { code: "23505" },
    );
    await pending;
    assert.deepEqual(seen, [2], "the outside read ran after the rollback");
    const committed = await named.transaction(async (tx) => {
      await tx.query("insert into t (id) values ($1)", [11]);
      return (await tx.query<{ n: number }>("select count(*)::int as n from t", [])).rows[0]?.n;
    });
    assert.equal(committed, 3);
    await named.query("delete from t where id = $1", [11]);
  });

  test("a table changed under a parsed statement: parsed again, with the new columns", async () => {
    await pglite.exec("create table d (a int); insert into d values (1)");
    assert.deepEqual((await named.query("select * from d", [])).rows, [{ a: 1 }]);
    await pglite.exec("alter table d add column b text default 'x'");
    assert.deepEqual((await named.query("select * from d", [])).rows, [{ a: 1, b: "x" }]);
    await pglite.exec("alter table d drop column b");
    await assert.rejects(
      named.transaction((tx) => tx.query("select * from d", [])),
      { code: "0A000" },
    );
    assert.deepEqual((await named.query("select * from d", [])).rows, [{ a: 1 }]);
  });

  test("through Drizzle, as the app uses it", async () => {
    const db = drizzle({ client: named });
    const rows = await db.execute(sql`select id, note from t where id = ${2}`);
    assert.deepEqual(rows.rows, [{ id: 2, note: "n" }]);
    const counted = await db.transaction(async (tx) => {
      await tx.execute(sql`update t set note = ${"z"} where id = ${2}`);
      return tx.execute(sql`select note from t where id = ${2}`);
    });
    assert.deepEqual(counted.rows, [{ note: "z" }]);
  });
});
