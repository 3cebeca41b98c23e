import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { sql } from "drizzle-orm";
import { readMigrationFiles } from "drizzle-orm/migrator";
import { loadConfig } from "../../src/config.ts";
import { type Database, openDatabase, rowsOf } from "../../src/db/client.ts";
import {
  appliedMigrations,
  EXPECTED_MIGRATIONS,
  MIGRATIONS_FOLDER,
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

/**
 * Keys of user data that do not include user_id, each with why it is global: looked up by a
 * secret or by a name before the user is known (Better Auth's and OAuth's rows, API keys,
 * the calendar feed token). docs/architecture.md, "Sharding by user".
 */
const GLOBAL_KEYS = new Map([
  ["session_pkey", "Better Auth session, found by id or token before the user is known"],
  ["session_token_unique", "Better Auth session token lookup"],
  ["account_pkey", "Better Auth account"],
  ["oauth_client_pkey", "OAuth client (registered by a client, not owned data)"],
  ["oauth_client_client_id_unique", "OAuth client_id lookup"],
  ["oauth_consent_pkey", "OAuth consent (Better Auth's plugin)"],
  ["oauth_access_token_pkey", "OAuth access token"],
  ["oauth_access_token_token_unique", "OAuth access token lookup by hash"],
  ["oauth_refresh_token_pkey", "OAuth refresh token"],
  ["oauth_refresh_token_token_unique", "OAuth refresh token lookup by hash"],
  ["api_keys_pkey", "API key, found by its hash before the user is known"],
  ["api_keys_key_hash_uq", "API key lookup by hash"],
  ["ical_feeds_token_hash_unique", "calendar feed lookup by token hash"],
]);

async function keysWithoutUserId(database: Database): Promise<string[]> {
  const rows = rowsOf<{ name: string }>(
    await database.db.execute(sql`
      select ic.relname as name
        from pg_index i
        join pg_class ic on ic.oid = i.indexrelid
        join pg_class t on t.oid = i.indrelid
        join pg_namespace n on n.oid = t.relnamespace and n.nspname = 'public'
        join pg_attribute a on a.attrelid = t.oid and a.attname = 'user_id'
       where i.indisunique and not (a.attnum = any(i.indkey::int2[]))
       order by 1`),
  );
  return rows.map((r) => r.name).filter((name) => !GLOBAL_KEYS.has(name));
}

/** Foreign keys between two tables that both carry user_id, and do not match on it. */
async function foreignKeysNotColocated(database: Database): Promise<string[]> {
  const rows = rowsOf<{ name: string }>(
    await database.db.execute(sql`
      select c.conname as name
        from pg_constraint c
        join pg_attribute a on a.attrelid = c.conrelid and a.attname = 'user_id'
        join pg_attribute fa on fa.attrelid = c.confrelid and fa.attname = 'user_id'
       where c.contype = 'f'
         and c.confrelid not in (select oid from pg_class where relname in
             ('session', 'oauth_client', 'oauth_refresh_token', 'api_keys'))
         and (array_position(c.conkey, a.attnum) is null
              or array_position(c.conkey, a.attnum) <> array_position(c.confkey, fa.attnum))
       order by 1`),
  );
  return rows.map((r) => r.name);
}

/** Rows of every user table that 0018 re-keys, written under the 0017 schema. */
const USER_DATA_0017 = `
insert into "user" (id, name, email) values ('u1', 'A', 'a@example.com'), ('u2', 'B', 'b@example.com');
insert into conversations (id, user_id, title) values
  ('00000000-0000-4000-8000-0000000000c1', 'u1', 'one'),
  ('00000000-0000-4000-8000-0000000000c2', 'u2', 'two');
insert into messages (id, conversation_id, user_id, seq, role, content, reply_to) values
  ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-0000000000c1', 'u1', 1, 'user', 'hi', null),
  ('00000000-0000-4000-8000-0000000000a2', '00000000-0000-4000-8000-0000000000c1', 'u1', 2, 'assistant', 'hello', '00000000-0000-4000-8000-0000000000a1'),
  ('00000000-0000-4000-8000-0000000000a3', '00000000-0000-4000-8000-0000000000c2', 'u2', 1, 'user', 'hey', null);
insert into turn_tool_calls (user_id, message_id, tool_call_id, name, arguments, result) values
  ('u1', '00000000-0000-4000-8000-0000000000a1', 'call_1', 'add_task', '{}', '{}');
insert into pending_actions (user_id, conversation_id, message_id, seq, calls, question) values
  ('u1', '00000000-0000-4000-8000-0000000000c1', '00000000-0000-4000-8000-0000000000a1', 1, '[]', 'sure?');
insert into lists (id, user_id, name) values ('00000000-0000-4000-8000-0000000000b1', 'u1', 'Shopping');
insert into tasks (id, user_id, number, title, list_id, parent_number) values
  ('00000000-0000-4000-8000-0000000000d1', 'u1', 1, 'milk', '00000000-0000-4000-8000-0000000000b1', null),
  ('00000000-0000-4000-8000-0000000000d2', 'u1', 2, 'oat milk', null, 1),
  ('00000000-0000-4000-8000-0000000000d3', 'u2', 1, 'bread', null, null);
insert into caldav_objects (task_id, user_id, uid, name) values
  ('00000000-0000-4000-8000-0000000000d1', 'u1', 'uid-1', 'milk.ics');
insert into task_reminders (id, user_id, task_id, at) values
  ('00000000-0000-4000-8000-0000000000e1', 'u1', '00000000-0000-4000-8000-0000000000d1', now());
insert into notifications (user_id, reminder_id, task_number, title, scheduled_for) values
  ('u1', '00000000-0000-4000-8000-0000000000e1', 1, 'milk', now());
insert into webhooks (id, user_id, url, secret) values
  ('00000000-0000-4000-8000-0000000000f1', 'u1', 'https://example.com/hook', 'whsec_x');
insert into webhook_deliveries (user_id, webhook_id, event_type, payload) values
  ('u1', '00000000-0000-4000-8000-0000000000f1', 'task.created', '{}');
insert into activity (id, user_id, door, request_id, kind, subject_type, subject, summary, undo_of) values
  ('00000000-0000-4000-8000-000000000101', 'u1', 'rest', 'r1', 'task.created', 'task', '1', 'added', null),
  ('00000000-0000-4000-8000-000000000102', 'u1', 'rest', 'r2', 'task.deleted', 'task', '1', 'undone', '00000000-0000-4000-8000-000000000101');
insert into import_jobs (id, user_id, format, body, total) values
  ('00000000-0000-4000-8000-000000000201', 'u1', 'todoist', '', 0);
`;

const RE_KEYED = [
  "conversations",
  "messages",
  "turn_tool_calls",
  "pending_actions",
  "lists",
  "tasks",
  "caldav_objects",
  "task_reminders",
  "notifications",
  "webhooks",
  "webhook_deliveries",
  "activity",
  "import_jobs",
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

    test("0018 (shard by user) upgrades a database with data; every key of user data includes user_id", async () => {
      const testDb = await createTestDatabase(backend);
      const config = loadConfig({
        DATA_DIR: testDb.dataDir,
        ...(testDb.url ? { DATABASE_URL: testDb.url } : {}),
      });
      const database = await openDatabase(config.database);
      const exec = (text: string) => database.db.execute(sql.raw(text));
      const count = async (table: string) =>
        rowsOf<{ n: number }>(await exec(`select count(*)::int as n from "${table}"`))[0]?.n;
      try {
        // The database as 0017 left it, recorded as drizzle's migrator records it.
        const files = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER });
        const before = files.slice(0, 18);
        await exec(`create schema if not exists drizzle`);
        await exec(
          `create table if not exists drizzle.__drizzle_migrations (id serial primary key, hash text not null, created_at bigint)`,
        );
        for (const migration of before) {
          for (const statement of migration.sql) if (statement.trim()) await exec(statement);
          await exec(
            `insert into drizzle.__drizzle_migrations (hash, created_at) values ('${migration.hash}', ${migration.folderMillis})`,
          );
        }
        for (const statement of USER_DATA_0017.split(";\n")) {
          if (statement.trim()) await exec(statement);
        }
        // The checks below can fail: under 0017 they name the keys 0018 changes.
        assert.ok((await keysWithoutUserId(database)).includes("messages_pkey"));
        assert.ok(
          (await foreignKeysNotColocated(database)).includes(
            "messages_conversation_id_conversations_id_fk",
          ),
        );
        const counts = new Map<string, number | undefined>();
        for (const table of RE_KEYED) counts.set(table, await count(table));

        if (config.database.kind === "pg") await migratePg(config.database.url, 5000);
        else await migratePglite(database.db);
        assert.equal(await appliedMigrations(database.db), EXPECTED_MIGRATIONS);

        for (const table of RE_KEYED) assert.equal(await count(table), counts.get(table), table);
        assert.deepEqual(await keysWithoutUserId(database), []);
        assert.deepEqual(await foreignKeysNotColocated(database), []);

        // The composite foreign keys act as the one-column ones did.
        await exec(`delete from lists where id = '00000000-0000-4000-8000-0000000000b1'`);
        const task = rowsOf<{ user_id: string; list_id: string | null }>(
          await exec(`select user_id, list_id from tasks where number = 1 and user_id = 'u1'`),
        );
        assert.deepEqual(task, [{ user_id: "u1", list_id: null }], "SET NULL (list_id) only");
        await exec(`delete from task_reminders where user_id = 'u1'`);
        assert.equal(await count("notifications"), 1, "the inbox keeps what was shown");
        await exec(`delete from tasks where user_id = 'u1' and number = 1`);
        assert.equal(await count("tasks"), 1, "the parent's delete took its subtask");
        assert.equal(await count("caldav_objects"), 0);
        await exec(`delete from conversations where user_id = 'u1'`);
        assert.equal(await count("messages"), 1, "only u2's message is left");
        assert.equal(await count("turn_tool_calls"), 0);
        assert.equal(await count("pending_actions"), 0);
        // A message must belong to a conversation of the same user.
        await assert.rejects(
          exec(
            `insert into messages (conversation_id, user_id, seq, role, content) values ('00000000-0000-4000-8000-0000000000c2', 'u1', 9, 'user', 'x')`,
          ),
        );
      } finally {
        await database.close();
        await testDb.drop();
      }
    });
  });
}
