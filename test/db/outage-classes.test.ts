import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { sql } from "drizzle-orm";
import type { LightMyRequestResponse } from "fastify";
import { openDatabase } from "../../src/db/client.ts";
import { classifyDbError } from "../../src/db/db-errors.ts";
import { signUp, startTestApp, type TestApp, type TestUser } from "../support/app.ts";
import {
  adminQuery,
  availableBackends,
  createTestDatabase,
  PG_ADMIN_URL,
  type TestDatabase,
} from "../support/databases.ts";
import { type ProxiedDatabase, proxiedTestDatabase } from "../support/tcp-proxy.ts";
import { type FaultProxy, startFaultProxy } from "./fault-proxy.ts";

const backends = await availableBackends();

function assertUnavailable(res: LightMyRequestResponse, what: string) {
  assert.equal(res.statusCode, 503, `${what}: ${res.body}`);
  assert.equal(res.headers["content-type"], "application/problem+json; charset=utf-8");
  assert.equal(res.json().code, "database_unavailable", what);
  assert.equal(res.headers["retry-after"], "1", what);
}

/** Every Better Auth route a client uses, as each would be called. */
function authCalls(user: TestUser) {
  return [
    {
      method: "POST" as const,
      url: "/api/auth/sign-in/email",
      payload: { email: user.email, password: "correct horse battery" },
    },
    {
      method: "POST" as const,
      url: "/api/auth/sign-up/email",
      payload: { email: `new-${Date.now()}@example.com`, password: "long enough pw", name: "N" },
    },
    { method: "GET" as const, url: "/api/auth/get-session", headers: user.headers },
    { method: "GET" as const, url: "/api/auth/list-sessions", headers: user.headers },
    { method: "POST" as const, url: "/api/auth/sign-out", headers: user.headers, payload: {} },
  ];
}

/** SQLSTATEs of outages, raised by the database itself (on PGlite too). */
const OUTAGE_STATES = [
  ["57P04", "database dropped"],
  ["3D000", 'database "gone" does not exist'],
  ["28P01", 'password authentication failed for user "tasktalk"'],
  ["28000", 'no pg_hba.conf entry for host "10.0.0.1"'],
  ["55000", 'database "tasktalk" is not currently accepting connections'],
] as const;

for (const backend of backends) {
  describe(`outage SQLSTATEs and Better Auth during an outage [${backend}]`, () => {
    let t: TestApp;
    let user: TestUser;
    let proxied: ProxiedDatabase | undefined;
    before(async () => {
      proxied = backend === "pg" ? await proxiedTestDatabase() : undefined;
      t = await startTestApp(
        backend,
        proxied ? { DATABASE_URL: proxied.url, PG_CONNECT_TIMEOUT_MS: "500" } : {},
        proxied ? { testDb: proxied.testDb } : {},
      );
      t.app.get("/induce/:state", { config: { auth: "public" } }, async (request) => {
        const { state } = request.params as { state: string };
        const message = state === "55000-other" ? "sequence not yet defined" : undefined;
        const [code, text] = message
          ? ["55000", message]
          : (OUTAGE_STATES.find(([s]) => s === state) ?? ["XX000", "?"]);
        await t.server.database.db.execute(
          sql.raw(`do $$ begin raise exception '${text.replaceAll("'", "''")}'
            using errcode = '${code}'; end $$`),
        );
        return {};
      });
      user = await signUp(t.app);
    });
    after(async () => {
      await t.close();
      await proxied?.close();
    });

    for (const [state, text] of OUTAGE_STATES) {
      test(`${state} (${text}) → 503 database_unavailable with Retry-After`, async () => {
        assertUnavailable(await t.app.inject({ url: `/induce/${state}` }), state);
      });
    }

    test("55000 that is not about connections stays a 500 (a bug, not an outage)", async () => {
      const res = await t.app.inject({ url: "/induce/55000-other" });
      assert.equal(res.statusCode, 500, res.body);
      assert.equal(res.json().code, "internal_error");
    });

    test("with the database really down, every Better Auth route answers 503 (not 500)", async () => {
      if (proxied) await proxied.proxy.down();
      else await t.server.database.close(); // PGlite's only way to be "down": closed
      try {
        for (const call of authCalls(user)) {
          assertUnavailable(await t.app.inject(call), `${call.method} ${call.url}`);
        }
        assertUnavailable(await t.app.inject({ url: "/api/tasks", headers: user.headers }), "api");
      } finally {
        await proxied?.proxy.up();
      }
    });
  });
}

describe("outage SQLSTATEs raised for real by PostgreSQL [pg]", {
  skip: !backends.includes("pg"),
}, () => {
  let testDb: TestDatabase;
  let proxy: FaultProxy;
  let t: TestApp;
  let user: TestUser;
  let name: string;
  before(async () => {
    testDb = await createTestDatabase("pg");
    const url = new URL(testDb.url ?? "");
    name = url.pathname.slice(1);
    proxy = await startFaultProxy(Number(url.port || 5432));
    url.port = String(proxy.port);
    t = await startTestApp(
      "pg",
      { DATABASE_URL: url.toString(), PG_CONNECT_TIMEOUT_MS: "1000" },
      { testDb },
    );
    user = await signUp(t.app);
  });
  after(async () => {
    await t.close();
    await proxy.close();
    await testDb.drop();
  });

  /** Ends the app's open connections, so the next query must connect afresh. */
  const cutAppConnections = async () => {
    await adminQuery(`select pg_terminate_backend(pid) from pg_stat_activity
      where datname = '${name}' and application_name = 'tasktalk'`);
    // The pool learns of each termination asynchronously (an 'error' event): let it.
    await sleep(300);
  };

  const sqlstateOfPing = async () =>
    classifyDbError(await t.server.database.ping().catch((e: unknown) => e));

  test("3D000: connecting to a database that does not exist", async () => {
    const url = new URL(PG_ADMIN_URL);
    url.pathname = "/tasktalk_no_such_database";
    const database = await openDatabase({
      kind: "pg",
      url: url.toString(),
      poolMax: 1,
      connectTimeoutMs: 2000,
      idleTimeoutMs: 1000,
      statementTimeoutMs: 0,
      idleInTransactionTimeoutMs: 0,
      queryTimeoutMs: 0,
    });
    try {
      const info = classifyDbError(await database.ping().catch((e: unknown) => e));
      assert.deepEqual(info, {
        category: "connection",
        code: "database_unavailable",
        sqlstate: "3D000",
        notSent: true,
      });
    } finally {
      await database.close();
    }
  });

  test("55000: the database is not accepting connections (maintenance) → 503, then recovery", async () => {
    await adminQuery(`alter database ${name} allow_connections false`);
    try {
      await cutAppConnections();
      assert.equal((await sqlstateOfPing())?.sqlstate, "55000");
      assertUnavailable(await t.app.inject({ url: "/api/tasks", headers: user.headers }), "api");
      for (const call of authCalls(user)) {
        assertUnavailable(await t.app.inject(call), `${call.method} ${call.url}`);
      }
    } finally {
      await adminQuery(`alter database ${name} allow_connections true`);
    }
    const res = await t.app.inject({ url: "/api/tasks", headers: user.headers });
    assert.equal(res.statusCode, 200, "recovered without a restart");
  });

  for (const [state, message] of [
    ["28P01", 'password authentication failed for user "postgres"'],
    ["28000", 'no pg_hba.conf entry for host "127.0.0.1", user "postgres"'],
  ] as const) {
    test(`${state}: the server refuses the app's credentials → 503 on every route`, async () => {
      // Trust auth is on, so the refusal comes from the fault proxy speaking the protocol.
      proxy.fatal(state, message);
      try {
        await cutAppConnections();
        assert.equal((await sqlstateOfPing())?.sqlstate, state);
        assertUnavailable(await t.app.inject({ url: "/api/tasks", headers: user.headers }), "api");
        assertUnavailable(await t.app.inject({ url: "/health/ready" }), "ready");
        for (const call of authCalls(user)) {
          assertUnavailable(await t.app.inject(call), `${call.method} ${call.url}`);
        }
      } finally {
        proxy.heal();
      }
      const res = await t.app.inject({ url: "/api/tasks", headers: user.headers });
      assert.equal(res.statusCode, 200, "recovered without a restart");
    });
  }

  test("3D000 and 57P01: the app's database dropped under it → 503 on every route", async () => {
    await adminQuery(`drop database ${name} with (force)`);
    const info = await sqlstateOfPing();
    assert.equal(info?.sqlstate, "3D000");
    assertUnavailable(await t.app.inject({ url: "/api/tasks", headers: user.headers }), "api");
    for (const call of authCalls(user)) {
      assertUnavailable(await t.app.inject(call), `${call.method} ${call.url}`);
    }
  });
});
