import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { sql } from "drizzle-orm";
import { signUp, startTestApp, type TestApp } from "../support/app.ts";
import { adminQuery, availableBackends } from "../support/databases.ts";

const backends = await availableBackends();

describe("pool exhausted (D5) [pg]", { skip: !backends.includes("pg") }, () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp("pg", { PG_POOL_MAX: "2", PG_CONNECT_TIMEOUT_MS: "300" });
  });
  after(() => t.close());

  test("requests fail fast with 503 while every connection is busy, then recover; nothing leaks", async () => {
    const user = await signUp(t.app);
    // Occupy both pooled connections for 2 s.
    // (Drizzle queries are lazy: Promise.resolve starts them now.)
    const hogs = [1, 2].map(() =>
      Promise.resolve(t.server.database.db.execute(sql`select pg_sleep(2)`)),
    );
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(t.server.database.poolStats()?.idle, 0);
    const started = performance.now();
    const results = await Promise.all(
      Array.from({ length: 10 }, () => t.app.inject({ url: "/api/tasks", headers: user.headers })),
    );
    const elapsed = performance.now() - started;
    for (const res of results) {
      assert.equal(res.statusCode, 503, res.body);
      assert.equal(res.json().code, "database_unavailable");
      assert.ok(res.headers["retry-after"]);
    }
    assert.ok(
      elapsed < 1900,
      `answered in ${elapsed.toFixed(0)} ms, before the busy connections freed up`,
    );
    await Promise.all(hogs);
    const ok = await t.app.inject({ url: "/api/tasks", headers: user.headers });
    assert.equal(ok.statusCode, 200);
    const stats = t.server.database.poolStats();
    assert.equal(stats?.waiting, 0);
    const idleInTx = await adminQuery(
      "select count(*)::int as n from pg_stat_activity where application_name = 'tasktalk' and state like 'idle in transaction%'",
    );
    assert.equal(idleInTx.rows[0]?.n, 0);
  });
});
