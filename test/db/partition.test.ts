import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ConfigError, loadConfig } from "../../src/config.ts";
import { signUp, startTestApp, type TestApp, type TestUser } from "../support/app.ts";
import { availableBackends, createTestDatabase, type TestDatabase } from "../support/databases.ts";
import { type FaultProxy, startFaultProxy } from "./fault-proxy.ts";

const backends = await availableBackends();
const CONNECT_TIMEOUT_MS = 500;
const QUERY_TIMEOUT_MS = 1500;

test("PG_QUERY_TIMEOUT_MS must exceed the statement timeout, so the server's clean cancel wins", () => {
  const env = { DATA_DIR: "memory://", DATABASE_URL: "postgres://u@127.0.0.1/db" };
  assert.throws(
    () => loadConfig({ ...env, PG_STATEMENT_TIMEOUT_MS: "15000", PG_QUERY_TIMEOUT_MS: "15000" }),
    (e: unknown) => e instanceof ConfigError && /PG_QUERY_TIMEOUT_MS/.test(e.message),
  );
  const ok = loadConfig({ ...env, PG_STATEMENT_TIMEOUT_MS: "0", PG_QUERY_TIMEOUT_MS: "5000" });
  assert.equal(ok.database.kind === "pg" && ok.database.queryTimeoutMs, 5000);
  const dflt = loadConfig(env);
  assert.equal(dflt.database.kind === "pg" && dflt.database.queryTimeoutMs, 20_000);
});

/** Issue 17 item 7: a partition (nothing answers, nothing closes) must not hang requests. */
describe("network partition to PostgreSQL [pg]", { skip: !backends.includes("pg") }, () => {
  let testDb: TestDatabase;
  let proxy: FaultProxy;
  let t: TestApp;
  let user: TestUser;
  before(async () => {
    testDb = await createTestDatabase("pg");
    const url = new URL(testDb.url ?? "");
    proxy = await startFaultProxy(Number(url.port || 5432));
    url.port = String(proxy.port);
    t = await startTestApp(
      "pg",
      {
        DATABASE_URL: url.toString(),
        PG_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
        PG_STATEMENT_TIMEOUT_MS: "1000",
        PG_QUERY_TIMEOUT_MS: String(QUERY_TIMEOUT_MS),
      },
      { testDb },
    );
    user = await signUp(t.app);
    // Open pooled connections: the partition must catch some mid-use, not only new ones.
    await Promise.all(
      Array.from({ length: 4 }, () => t.app.inject({ url: "/api/tasks", headers: user.headers })),
    );
  });
  after(async () => {
    await t.close();
    await proxy.close();
    await testDb.drop();
  });

  const timed = async (run: () => Promise<{ statusCode: number; body: string }>) => {
    const start = performance.now();
    const res = await run();
    return { res, ms: performance.now() - start };
  };

  test("readiness answers 503 within the connect timeout; API requests 503 within the query timeout; both recover", {
    timeout: 30_000,
  }, async () => {
    proxy.blackhole();
    try {
      const ready = await timed(() => t.app.inject({ url: "/health/ready" }));
      assert.equal(ready.res.statusCode, 503, ready.res.body);
      assert.ok(ready.ms < CONNECT_TIMEOUT_MS + 700, `readiness took ${ready.ms} ms`);

      const health = await timed(() => t.app.inject({ url: "/health" }));
      assert.equal(health.res.statusCode, 503, health.res.body);
      assert.ok(health.ms < CONNECT_TIMEOUT_MS + 700, `/health took ${health.ms} ms`);

      const api = await Promise.all(
        Array.from({ length: 3 }, () =>
          timed(() => t.app.inject({ url: "/api/tasks", headers: user.headers })),
        ),
      );
      for (const { res, ms } of api) {
        assert.equal(res.statusCode, 503, res.body);
        assert.ok(ms < 2 * QUERY_TIMEOUT_MS + 1000, `an API request took ${ms} ms`);
      }
    } finally {
      proxy.heal();
    }
    // Held bytes are delivered on heal, as TCP would after a partition: no restart needed.
    let status = 0;
    for (let i = 0; i < 20 && status !== 200; i++) {
      status = (await t.app.inject({ url: "/health/ready" })).statusCode;
      if (status !== 200) await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(status, 200, "ready again after the partition heals");
    const res = await t.app.inject({ url: "/api/tasks", headers: user.headers });
    assert.equal(res.statusCode, 200, res.body);
  });
});

describe("connections that died silently in a partition are not reused [pg]", {
  skip: !backends.includes("pg"),
}, () => {
  let testDb: TestDatabase;
  let proxy: FaultProxy;
  let t: TestApp;
  let user: TestUser;
  before(async () => {
    testDb = await createTestDatabase("pg");
    const url = new URL(testDb.url ?? "");
    proxy = await startFaultProxy(Number(url.port || 5432));
    url.port = String(proxy.port);
    t = await startTestApp(
      "pg",
      {
        DATABASE_URL: url.toString(),
        PG_POOL_MAX: "2",
        PG_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
        PG_STATEMENT_TIMEOUT_MS: "1000",
        PG_QUERY_TIMEOUT_MS: String(QUERY_TIMEOUT_MS),
      },
      { testDb },
    );
    user = await signUp(t.app);
  });
  after(async () => {
    await t.close();
    await proxy.close();
    await testDb.drop();
  });

  test("chat turns (transactions) caught by the partition time out; afterwards none waits on a dead connection or a lost pool slot", {
    timeout: 60_000,
  }, async () => {
    // A chat turn opens its transaction with BEGIN (the offline model answers it).
    const write = (title: string) =>
      t.app.inject({
        method: "POST",
        url: "/api/chat",
        headers: user.headers,
        payload: { message: `add ${title}` },
      });
    // The network goes just as a turn sends BEGIN (signed in already, so the turn gets
    // that far); the turn's retries then find it gone too.
    proxy.blackholeOn(Buffer.from("begin"));
    const during = await write("a");
    assert.equal(during.statusCode, 503, during.body);
    // The server side of those connections is gone; nobody tells the client.
    proxy.heal({ dropHeld: true });
    for (let i = 0; i < 6; i++) {
      const start = performance.now();
      const res = await write(`after ${i}`);
      const ms = performance.now() - start;
      assert.equal(res.statusCode, 200, res.body);
      assert.ok(ms < QUERY_TIMEOUT_MS, `turn ${i} took ${ms} ms: it waited on a dead connection`);
    }
    // Nothing is left checked out: a client lost by a failed BEGIN would hold its pool slot
    // (and make close() wait) forever.
    const stats = t.server.database.poolStats();
    assert.equal(stats?.total, stats?.idle, `clients still checked out: ${JSON.stringify(stats)}`);
  });
});
