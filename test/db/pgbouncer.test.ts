import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { signUp, startTestApp, type TestApp } from "../support/app.ts";
import { availableBackends, createTestDatabase, type TestDatabase } from "../support/databases.ts";
import { freePort } from "../support/process.ts";

const PGBOUNCER = "/usr/sbin/pgbouncer";
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
  let bouncer: ChildProcess;
  let dir: string;
  let testDb: TestDatabase;
  let t: TestApp;
  before(async () => {
    testDb = await createTestDatabase("pg");
    const direct = new URL(testDb.url ?? "");
    const dbName = direct.pathname.slice(1);
    const port = await freePort();
    dir = mkdtempSync(join(tmpdir(), "tasktalk-pgbouncer-"));
    chmodSync(dir, 0o777);
    writeFileSync(join(dir, "userlist.txt"), '"postgres" ""\n');
    writeFileSync(
      join(dir, "pgbouncer.ini"),
      [
        "[databases]",
        `${dbName} = host=127.0.0.1 port=${direct.port || 5432} dbname=${dbName} user=postgres`,
        "[pgbouncer]",
        "listen_addr = 127.0.0.1",
        `listen_port = ${port}`,
        "auth_type = trust",
        `auth_file = ${join(dir, "userlist.txt")}`,
        "pool_mode = transaction",
        "default_pool_size = 4",
        "max_client_conn = 100",
        "ignore_startup_parameters = extra_float_digits,statement_timeout,idle_in_transaction_session_timeout",
      ].join("\n"),
    );
    // PgBouncer refuses to run as root: -u makes it switch to the postgres user.
    const asPostgres = process.getuid?.() === 0 ? ["-u", "postgres"] : [];
    bouncer = spawn(PGBOUNCER, [...asPostgres, join(dir, "pgbouncer.ini")], { stdio: "ignore" });
    await sleep(500);
    const pooled = new URL(direct);
    pooled.port = String(port);
    // Migrations run through the pooler too: one transaction with a transaction-scoped lock.
    t = await startTestApp(
      "pg",
      { DATABASE_URL: pooled.toString(), PG_POOL_MAX: "20", JOBS_POLL_INTERVAL_MS: "500" },
      { testDb },
    );
  });
  after(async () => {
    await t?.close();
    if (bouncer && bouncer.exitCode === null) {
      const exited = new Promise((resolve) => bouncer.once("exit", resolve));
      bouncer.kill("SIGINT");
      await exited;
    }
    await testDb.drop();
    rmSync(dir, { recursive: true, force: true });
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
