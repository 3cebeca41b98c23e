import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { signUp, startTestApp, type TestApp } from "../support/app.ts";
import { availableBackends, createTestDatabase, type TestDatabase } from "../support/databases.ts";
import { PGBOUNCER, type PgBouncer, startPgBouncer } from "../support/pgbouncer.ts";

const backends = await availableBackends();
const present = existsSync(PGBOUNCER);
if (!present && backends.includes("pg")) {
  if (process.env.CI === "true")
    throw new Error(`${PGBOUNCER} is missing: .ci/run installs pgbouncer`);
  console.warn(
    `\n!!! ${PGBOUNCER} not installed (apt-get install pgbouncer): skipping the PgBouncer tests\n`,
  );
}

describe("through PgBouncer in transaction mode", {
  skip: !present || !backends.includes("pg"),
}, () => {
  let bouncer: PgBouncer;
  let testDb: TestDatabase;
  let t: TestApp;
  before(async () => {
    testDb = await createTestDatabase("pg");
    const direct = new URL(testDb.url ?? "");
    bouncer = await startPgBouncer(direct.pathname.slice(1), Number(direct.port || 5432), 4);
    const pooled = new URL(direct);
    pooled.port = String(bouncer.port);
    // Migrations run through the pooler too: one transaction with a transaction-scoped lock.
    t = await startTestApp(
      "pg",
      { DATABASE_URL: pooled.toString(), PG_POOL_MAX: "20", JOBS_POLL_INTERVAL_MS: "500" },
      { testDb },
    );
  });
  after(async () => {
    await t?.close();
    await bouncer?.stop();
    await testDb.drop();
  });

  test("concurrent chat turns and task writes: no prepared-statement or session errors", async () => {
    const users = await Promise.all([signUp(t.app), signUp(t.app), signUp(t.app)]);
    const results = await Promise.all(
      users.flatMap((user) =>
        Array.from({ length: 12 }, (_, i) =>
          t.app.inject({
            method: "POST",
            url: "/api/chat",
            headers: user.headers,
            payload: { message: `remind me to do thing ${i}` },
          }),
        ),
      ),
    );
    for (const res of results) assert.equal(res.statusCode, 200, res.body);
    for (const user of users) {
      const tasks = (await t.app.inject({ url: "/api/tasks", headers: user.headers })).json()
        .items as { id: number }[];
      assert.deepEqual(
        tasks.map((x) => x.id).sort((a, b) => a - b),
        Array.from({ length: 12 }, (_, i) => i + 1),
      );
    }
    assert.equal((await t.app.inject({ url: "/health/ready" })).statusCode, 200);
  });

  test("the job queue works through the pooler: a reminder fires into the inbox", async () => {
    const user = await signUp(t.app);
    const at = new Date(Date.now() + 1500).toISOString();
    const created = await t.app.inject({
      method: "POST",
      url: "/api/tasks",
      headers: user.headers,
      payload: { title: "through pgbouncer", reminders: [{ at }] },
    });
    assert.equal(created.statusCode, 201, created.body);
    const deadline = Date.now() + 20_000;
    let items: { scheduled_for: string }[] = [];
    while (items.length === 0 && Date.now() < deadline) {
      await sleep(250);
      items = (await t.app.inject({ url: "/api/notifications", headers: user.headers })).json()
        .items;
    }
    assert.equal(items.length, 1);
    assert.equal(items[0]?.scheduled_for, at);
  });
});
