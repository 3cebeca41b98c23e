import assert from "node:assert/strict";
import { test } from "node:test";
import { sql } from "drizzle-orm";
import { loadConfig } from "../../src/config.ts";
import { openDatabase, rowsOf } from "../../src/db/client.ts";
import { migratePglite } from "../../src/db/migrate.ts";
import { createTestDatabase } from "../support/databases.ts";

// PGlite has no autovacuum worker: the process vacuums and analyzes it itself. Without
// statistics the planner reads and sorts a whole conversation for the newest messages.
test("PGlite maintenance gathers statistics, and the window read then uses the index", async () => {
  const testDb = await createTestDatabase("pglite");
  const config = loadConfig({ DATA_DIR: testDb.dataDir });
  const database = await openDatabase(config.database);
  try {
    await migratePglite(database.db);
    const db = database.db;
    await db.execute(
      sql`insert into "user" (id, name, email, email_verified) values ('u1', 'U', 'u1@example.com', true)`,
    );
    await db.execute(sql`insert into conversations (id, user_id, title, model, last_seq)
      values ('00000000-0000-4000-8000-000000000001', 'u1', 't', 'm', 5000)`);
    await db.execute(sql`insert into messages (conversation_id, user_id, seq, role, content)
      select '00000000-0000-4000-8000-000000000001', 'u1', g, 'user', 'message ' || g
      from generate_series(1, 5000) g`);
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
