import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { sql } from "drizzle-orm";
import type { Db } from "../../src/db/client.ts";
import { classifyDbError } from "../../src/db/db-errors.ts";
import { inTransaction } from "../../src/db/transaction.ts";
import { AppError, ERROR_CODES } from "../../src/errors.ts";
import { signUp, startTestApp, type TestApp } from "../support/app.ts";
import { availableBackends } from "../support/databases.ts";

/** Statements that make the real database raise each error class. */
const INDUCED: {
  name: string;
  sqlstate: string;
  code: keyof typeof ERROR_CODES;
  run: (db: Db) => Promise<unknown>;
}[] = [
  {
    name: "bad uuid text",
    sqlstate: "22P02",
    code: "validation_failed",
    run: (db) => db.execute(sql`select 'abc'::uuid`),
  },
  {
    name: "unique violation",
    sqlstate: "23505",
    code: "conflict",
    run: (db) =>
      db.execute(
        sql`insert into "user"(id, name, email) select id, name, email from "user" limit 1`,
      ),
  },
  {
    name: "foreign key violation",
    sqlstate: "23503",
    code: "conflict",
    run: (db) => db.execute(sql`insert into conversations(user_id) values ('no-such-user')`),
  },
  {
    name: "serialization failure",
    sqlstate: "40001",
    code: "transaction_conflict",
    run: (db) =>
      db.execute(sql`do $$ begin raise exception 'conflict' using errcode = '40001'; end $$`),
  },
  {
    name: "deadlock",
    sqlstate: "40P01",
    code: "transaction_conflict",
    run: (db) =>
      db.execute(sql`do $$ begin raise exception 'deadlock' using errcode = '40P01'; end $$`),
  },
  {
    name: "statement timeout",
    sqlstate: "57014",
    code: "database_timeout",
    // A real timeout on the server; PGlite runs queries on the caller's thread and has no
    // statement timer, so there the same SQLSTATE is raised by the database itself.
    run: (db) =>
      db.transaction(async (tx) => {
        await tx.execute(sql`set local statement_timeout = 50`);
        await tx.execute(sql`do $$ begin
          if version() ilike '%emscripten%' or version() ilike '%wasm%' then
            raise exception 'canceling statement due to statement timeout' using errcode = '57014';
          end if;
          perform pg_sleep(2);
        end $$`);
      }),
  },
  {
    name: "admin shutdown",
    sqlstate: "57P01",
    code: "database_unavailable",
    run: (db) =>
      db.execute(sql`do $$ begin raise exception 'shutdown' using errcode = '57P01'; end $$`),
  },
];

for (const backend of await availableBackends()) {
  describe(`database errors [${backend}]`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(backend);
      t.app.get("/induce/:name", { config: { auth: "public" } }, async (request) => {
        const c = INDUCED.find((i) => i.name === (request.params as { name: string }).name);
        await c?.run(t.server.database.db);
        return {};
      });
      await signUp(t.app); // a user row for the unique-violation case
    });
    after(() => t.close());

    for (const c of INDUCED) {
      test(`${c.sqlstate} (${c.name}) → ${c.code} ${ERROR_CODES[c.code].status}, as a problem response (I5)`, async () => {
        const error = await c.run(t.server.database.db).then(
          () => assert.fail("expected the database to raise"),
          (e: unknown) => e,
        );
        const info = classifyDbError(error);
        assert.equal(info?.sqlstate, c.sqlstate);
        assert.equal(info?.code, c.code);

        const res = await t.app.inject({ url: `/induce/${encodeURIComponent(c.name)}` });
        assert.equal(res.statusCode, ERROR_CODES[c.code].status);
        assert.equal(res.headers["content-type"], "application/problem+json; charset=utf-8");
        const body = res.json();
        assert.equal(body.code, c.code);
        assert.equal(body.request_id, res.headers["x-request-id"]);
        assert.deepEqual(Object.keys(body).slice(0, 6), [
          "type",
          "title",
          "status",
          "detail",
          "code",
          "request_id",
        ]);
        assert.doesNotMatch(res.body, /select|insert|raise/i); // no SQL or internals leak
      });
    }

    test("a transient failure (40001) is retried and the whole transaction runs again (D1)", async () => {
      let attempts = 0;
      const retries: number[] = [];
      const result = await inTransaction(
        t.server.database.db,
        async (tx) => {
          attempts++;
          await tx.execute(sql`create temp table if not exists d1_probe(n int) on commit drop`);
          await tx.execute(sql`insert into d1_probe values (${attempts})`);
          if (attempts < 3)
            await tx.execute(sql`do $$ begin raise exception 'x' using errcode = '40001'; end $$`);
          return attempts;
        },
        { onRetry: ({ delayMs }) => retries.push(delayMs) },
      );
      assert.equal(result, 3);
      assert.equal(retries.length, 2);
      assert.ok(
        retries.every((d) => d >= 0 && d <= 400),
        "jittered, capped backoff",
      );
    });

    test("a transient failure that persists stops after 3 attempts with transaction_conflict", async () => {
      let attempts = 0;
      const error = await inTransaction(t.server.database.db, async (tx) => {
        attempts++;
        await tx.execute(sql`do $$ begin raise exception 'x' using errcode = '40P01'; end $$`);
      }).catch((e: unknown) => e);
      assert.equal(attempts, 3);
      assert.ok(error instanceof AppError);
      assert.equal(error.code, "transaction_conflict");
    });

    test("a non-transient failure (23503) is not retried", async () => {
      let attempts = 0;
      const error = await inTransaction(t.server.database.db, async (tx) => {
        attempts++;
        await tx.execute(sql`insert into conversations(user_id) values ('nobody')`);
      }).catch((e: unknown) => e);
      assert.equal(attempts, 1);
      assert.ok(error instanceof AppError);
      assert.equal(error.code, "conflict");
    });

    if (backend === "pg") {
      test("a connection killed before COMMIT is retried on a new connection (D2)", async () => {
        let attempts = 0;
        const value = await inTransaction(t.server.database.db, async (tx) => {
          attempts++;
          if (attempts === 1) await tx.execute(sql`select pg_terminate_backend(pg_backend_pid())`);
          return attempts;
        });
        assert.equal(value, 2);
        const health = await t.app.inject({ url: "/health/ready" });
        assert.equal(health.statusCode, 200);
      });

      test("an idle pooled connection killed by the server does not crash the process (D2)", async () => {
        await t.server.database.db.execute(sql`select 1`);
        await t.server.database.db.execute(
          sql`select pg_terminate_backend(pid) from pg_stat_activity
              where datname = current_database() and pid <> pg_backend_pid() and application_name = 'tasktalk'`,
        );
        await new Promise((r) => setTimeout(r, 100));
        const res = await t.app.inject({ url: "/health/ready" });
        assert.equal(res.statusCode, 200);
      });
    }
  });
}
