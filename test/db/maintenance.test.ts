import assert from "node:assert/strict";
import { test } from "node:test";
import { sql } from "drizzle-orm";
import { loadConfig } from "../../src/config.ts";
import { type Db, openDatabase, rowsOf } from "../../src/db/client.ts";
import { migratePg, migratePglite } from "../../src/db/migrate.ts";
import type { PgMaintenanceRun } from "../../src/db/pg-maintenance.ts";
import { availableBackends, createTestDatabase } from "../support/databases.ts";

/** A user with one conversation of `count` messages, inserted in one statement. */
async function seedConversation(db: Db, count: number): Promise<void> {
  await db.execute(
    sql`insert into "user" (id, name, email, email_verified) values ('u1', 'U', 'u1@example.com', true)`,
  );
  await db.execute(sql`insert into conversations (id, user_id, title, model, last_seq)
    values ('00000000-0000-4000-8000-000000000001', 'u1', 't', 'm', ${count})`);
  await db.execute(sql`insert into messages (conversation_id, user_id, seq, role, content)
    select '00000000-0000-4000-8000-000000000001', 'u1', g, 'user', 'message ' || g
    from generate_series(1, ${count}) g`);
}

/** `messages`, or one of its partitions, is among the tables a pass analyzed. */
const analyzedMessages = (names: string[]) =>
  names.some((name) => name.startsWith("public.messages"));

// PGlite has no autovacuum worker: the process vacuums and analyzes it itself. Without
// statistics the planner reads and sorts a whole conversation for the newest messages.
test("PGlite maintenance gathers statistics, and the window read then uses the index", async () => {
  const testDb = await createTestDatabase("pglite");
  const config = loadConfig({ DATA_DIR: testDb.dataDir });
  const database = await openDatabase(config.database);
  try {
    await migratePglite(database.db);
    const db = database.db;
    await seedConversation(db, 5000);
    const stats = async () =>
      rowsOf<{ reltuples: number }>(
        await db.execute(sql`select reltuples from pg_class where relname = 'messages'`),
      )[0]?.reltuples ?? -1;
    const plan = async () =>
      rowsOf<{ "QUERY PLAN": string }>(
        await db.execute(sql`explain select * from messages
          where user_id = 'u1' and conversation_id = '00000000-0000-4000-8000-000000000001'
            and seq <= 5000 order by seq desc limit 40`),
      )
        .map((r) => r["QUERY PLAN"])
        .join("\n");
    assert.ok((await stats()) <= 0, "no statistics before maintenance");
    assert.ok(database.maintain, "PGlite has a maintenance step");
    await database.maintain();
    assert.equal(await stats(), 5000);
    const after = await plan();
    assert.match(after, /Index Scan Backward/, after);
    assert.doesNotMatch(after, /Sort/, after);
  } finally {
    await database.close();
    await testDb.drop();
  }
});

// PostgreSQL with autovacuum off (this machine's server: conf.d/90-ci.conf) never analyzes,
// and a connection's generic plans keep the statistics of a nearly empty table: the
// foreign-key check of turn_tool_calls then scanned all of a user's messages by user_id
// (bench/growth.ts: 1.4× the turn at 10k messages). The app analyzes in autovacuum's place.
test("PostgreSQL maintenance analyzes grown tables when the server's autovacuum is off", async (t) => {
  if (!(await availableBackends()).includes("pg")) return t.skip("PostgreSQL not reachable");
  const testDb = await createTestDatabase("pg");
  const url = testDb.url ?? "";
  const config = loadConfig({ DATA_DIR: testDb.dataDir, DATABASE_URL: url });
  await migratePg(url, 5000);
  const database = await openDatabase(config.database);
  try {
    const db = database.db;
    const autovacuum = rowsOf<{ autovacuum: string }>(
      await db.execute(sql`select current_setting('autovacuum') as autovacuum`),
    )[0]?.autovacuum;
    await seedConversation(db, 3000);
    assert.ok(database.maintain, "PostgreSQL has a maintenance step");
    if (autovacuum !== "off") {
      const run = (await database.maintain()) as PgMaintenanceRun;
      assert.equal(run.autovacuum, true);
      assert.deepEqual(run.analyzed, []);
      return;
    }
    // A backend reports its row counts to the shared statistics within about a second.
    const analyzed: string[] = [];
    for (let i = 0; i < 40 && !analyzedMessages(analyzed); i++) {
      const run = (await database.maintain()) as PgMaintenanceRun;
      assert.equal(run.autovacuum, false);
      analyzed.push(...run.analyzed);
      if (!analyzedMessages(analyzed)) await new Promise((resolve) => setTimeout(resolve, 500));
    }
    assert.ok(analyzedMessages(analyzed), `messages analyzed: ${analyzed.join(", ")}`);
    const stats = rowsOf<{ tuples: number }>(
      await db.execute(sql`select sum(c.reltuples)::int as tuples from pg_class c
        where c.relname like 'messages%' and c.relkind = 'r'`),
    )[0];
    assert.equal(stats?.tuples, 3000);
    // Nothing past the thresholds is left: a second pass does nothing.
    const again = (await database.maintain()) as PgMaintenanceRun;
    assert.ok(!analyzedMessages(again.analyzed), again.analyzed.join());
  } finally {
    await database.close();
    await testDb.drop();
  }
});
