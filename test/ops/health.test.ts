import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { signUp, startTestApp, type TestApp } from "../support/app.ts";
import { availableBackends, createTestDatabase, type TestDatabase } from "../support/databases.ts";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.ts";

for (const backend of await availableBackends()) {
  describe(`health [${backend}]`, () => {
    let t: TestApp;
    let proxy: TcpProxy | undefined;
    let testDb: TestDatabase;
    before(async () => {
      testDb = await createTestDatabase(backend);
      let env = {};
      if (testDb.url) {
        // The app reaches PostgreSQL through a proxy we can switch off: a real outage.
        const url = new URL(testDb.url);
        proxy = await startTcpProxy(Number(url.port || 5432));
        url.port = String(proxy.port);
        env = { DATABASE_URL: url.toString(), PG_CONNECT_TIMEOUT_MS: "1000" };
      }
      t = await startTestApp(backend, env, { testDb });
      t.app.get("/api/ping-db", async (request) => ({ user: request.user?.id }));
    });
    after(async () => {
      await t.close();
      await proxy?.close();
      await testDb.drop();
    });

    test("live, ready and the detailed health answer with figures", async () => {
      const live = await t.app.inject({ url: "/health/live" });
      assert.equal(live.statusCode, 200);
      const ready = await t.app.inject({ url: "/health/ready" });
      assert.equal(ready.statusCode, 200);
      assert.ok(ready.headers["x-request-id"]);
      const health = (await t.app.inject({ url: "/health" })).json();
      assert.equal(health.status, "ok");
      assert.equal(health.database.kind, backend);
      assert.equal(health.database.migrations.applied, health.database.migrations.expected);
      assert.equal(typeof health.database.latency_ms, "number");
      assert.equal(typeof health.uptime_s, "number");
      if (backend === "pg") assert.equal(typeof health.database.pool.max, "number");
    });

    test("database gone: ready is 503, an authenticated call is 503 with Retry-After, never 401/403 (I4)", async () => {
      const user = await signUp(t.app);
      if (proxy) await proxy.down();
      else await t.server.database.close(); // PGlite: the embedded database is gone
      try {
        const ready = await t.app.inject({ url: "/health/ready" });
        assert.equal(ready.statusCode, 503);
        assert.equal(ready.json().code, "database_unavailable");
        const call = await t.app.inject({ url: "/api/ping-db", headers: user.headers });
        assert.equal(call.statusCode, 503, call.body);
        assert.equal(call.json().code, "database_unavailable");
        assert.equal(call.headers["retry-after"], "1");
        assert.doesNotMatch(call.body, /at .*\.ts:\d+/); // no stack trace
      } finally {
        if (proxy) await proxy.up();
      }
      if (proxy) {
        // Recovers without a restart once the database is back.
        const again = await t.app.inject({ url: "/api/ping-db", headers: user.headers });
        assert.equal(again.statusCode, 200);
        assert.equal((await t.app.inject({ url: "/health/ready" })).statusCode, 200);
      }
    });
  });
}
