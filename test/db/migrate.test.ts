import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { sql } from "drizzle-orm";
import { loadConfig } from "../../src/config.ts";
import { openDatabase, rowsOf } from "../../src/db/client.ts";
import {
  appliedMigrations,
  EXPECTED_MIGRATIONS,
  migratePg,
  migratePglite,
} from "../../src/db/migrate.ts";
import { availableBackends, createTestDatabase, PG_PARTITIONED } from "../support/databases.ts";

const TABLES = [
  "account",
  "activity",
  "api_keys",
  "app_settings",
  "caldav_objects",
  "conversations",
  "ical_feeds",
  "import_jobs",
  "import_keys",
  "lists",
  "messages",
  "notification_settings",
  "notifications",
  "oauth_access_token",
  "oauth_client",
  "oauth_client_assertion",
  "oauth_client_resource",
  "oauth_consent",
  "oauth_refresh_token",
  "oauth_resource",
  "pending_actions",
  "quota_counters",
  "rate_limit",
  "role_features",
  "session",
  "sign_in_failures",
  "task_change_counters",
  "task_counters",
  "task_reminders",
  "tasks",
  "turn_tool_calls",
  "user",
  "user_features",
  "verification",
  "webhook_deliveries",
  "webhooks",
];

for (const backend of await availableBackends()) {
  const skip =
    backend === "pg" && PG_PARTITIONED
      ? "TEST_PG_PARTITIONED: the migrations build the unpartitioned layout from an empty database"
      : false;
  describe(`migrations [${backend}]`, { skip }, () => {
    test("apply every migration on an empty database, and again as a no-op", async () => {
      const testDb = await createTestDatabase(backend);
      const config = loadConfig({
        DATA_DIR: testDb.dataDir,
        ...(testDb.url ? { DATABASE_URL: testDb.url } : {}),
      });
      const database = await openDatabase(config.database);
      try {
        const migrate = () =>
          config.database.kind === "pg"
            ? migratePg(config.database.url, 5000)
            : migratePglite(database.db);
        if (backend === "pg") {
          // Several instances starting at once: the advisory lock serializes them.
          await Promise.all([migrate(), migrate(), migrate()]);
        } else {
          await migrate();
        }
        await migrate();
        assert.equal(await appliedMigrations(database.db), EXPECTED_MIGRATIONS);
        const rows = rowsOf<{ table_name: string }>(
          await database.db.execute(
            sql`select table_name from information_schema.tables where table_schema = 'public' order by 1`,
          ),
        );
        assert.deepEqual(
          rows.map((r) => r.table_name),
          TABLES,
        );
      } finally {
        await database.close();
        await testDb.drop();
      }
    });
  });
}
