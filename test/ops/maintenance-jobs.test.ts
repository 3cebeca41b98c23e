import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { sql } from "drizzle-orm";
import pg from "pg";
import { rowsOf } from "../../src/db/client.ts";
import { runMaintenance } from "../../src/ops/maintenance.ts";
import { signUp, startTestApp, type TestApp } from "../support/app.ts";
import { availableBackends } from "../support/databases.ts";

// Housekeeping (issue 18 item 7): expired sessions and verification rows go, dead turns'
// leases are cleared, live data stays — and only one instance does it at a time.

const backends = await availableBackends();

for (const backend of backends) {
  describe(`maintenance [${backend}]`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(backend, { MAINTENANCE_INTERVAL_MS: "0" });
    });
    after(() => t.close());

    const count = async (query: ReturnType<typeof sql>) =>
      rowsOf<{ n: number }>(await t.server.database.db.execute(query))[0]?.n;

    test("removes what expired long ago, keeps what is live", async () => {
      const db = t.server.database.db;
      const user = await signUp(t.app);
      await db.execute(sql`insert into "session" (id, expires_at, token, user_id)
        values ('old-session', now() - interval '3 days', 'old-token', ${user.id})`);
      await db.execute(sql`insert into verification (id, identifier, value, expires_at)
        values ('old-v', 'x', 'y', now() - interval '3 days'), ('new-v', 'x', 'y', now() + interval '1 hour')`);
      const chat = await t.app.inject({
        method: "POST",
        url: "/api/tasks",
        headers: user.headers,
        payload: { title: "still here" },
      });
      assert.equal(chat.statusCode, 201);
      await db.execute(sql`insert into quota_counters (key, points, expire)
        values ('quota:chat_per_minute:old', 3, now() - interval '2 hours'),
               ('quota:chat_per_minute:live', 1, now() + interval '30 seconds')`);
      await db.execute(sql`insert into conversations (user_id, title, active_turn_id, active_turn_expires_at)
        values (${user.id}, 'dead turn', gen_random_uuid(), now() - interval '2 hours')`);

      const result = await runMaintenance(db);
      assert.equal(result.ran, true);
      assert.equal(result.deleted.sessions, 1);
      assert.equal(result.deleted.verifications, 1);
      assert.equal(result.deleted.stale_leases, 1);
      assert.equal(result.deleted.quota_counters, 1);
      assert.equal(
        await count(sql`select count(*)::int as n from quota_counters where key like '%:live'`),
        1,
      );
      assert.equal(
        await count(sql`select count(*)::int as n from "session" where id = 'old-session'`),
        0,
      );
      assert.equal(
        await count(sql`select count(*)::int as n from verification where id = 'new-v'`),
        1,
      );
      // The user's own session and data are untouched.
      const still = await t.app.inject({ url: "/api/tasks", headers: user.headers });
      assert.equal(still.statusCode, 200);
      assert.equal(still.json().items.length, 1);
      assert.equal(
        await count(
          sql`select count(*)::int as n from conversations where active_turn_id is not null and user_id = ${user.id}`,
        ),
        0,
      );
    });

    test("another instance holding the job's lock makes this run skip", {
      skip: backend !== "pg",
    }, async () => {
      const other = new pg.Client({ connectionString: t.testDb.url });
      await other.connect();
      try {
        await other.query("begin");
        await other.query("select pg_advisory_xact_lock(7411002001)");
        const skipped = await runMaintenance(t.server.database.db);
        assert.deepEqual(skipped, { ran: false, deleted: {} });
        await other.query("commit");
        assert.equal((await runMaintenance(t.server.database.db)).ran, true);
      } finally {
        await other.end();
      }
    });
  });
}

for (const backend of backends) {
  describe(`maintenance on the job queue [${backend}]`, () => {
    test("runs on its own every MAINTENANCE_INTERVAL_MS; one run waits at most", async () => {
      const t = await startTestApp(backend, {
        MAINTENANCE_INTERVAL_MS: "1000",
        JOBS_POLL_INTERVAL_MS: "500",
      });
      try {
        const db = t.server.database.db;
        const user = await signUp(t.app);
        await db.execute(sql`insert into "session" (id, expires_at, token, user_id)
          values ('old-session-q', now() - interval '3 days', 'old-token-q', ${user.id})`);
        const deadline = Date.now() + 20_000;
        let left = 1;
        while (left > 0 && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 250));
          left =
            rowsOf<{ n: number }>(
              await db.execute(
                sql`select count(*)::int as n from "session" where id = 'old-session-q'`,
              ),
            )[0]?.n ?? 0;
        }
        assert.equal(left, 0, "the queued maintenance run removed the expired session");
        // One run waiting at most (the stately queue), however many starts queued one.
        const [queue] = (await t.server.jobs.stats()).filter((q) => q.name === "maintenance");
        assert.ok(queue && queue.queued <= 1, JSON.stringify(queue));
      } finally {
        await t.close();
      }
    });
  });
}
