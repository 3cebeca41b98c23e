import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { isUniqueViolation } from "../../src/db/db-errors.ts";
import { migratePg } from "../../src/db/migrate.ts";
import { type ChatFixture, chat, messagesOf, signUp, startChatApp } from "../support/chat.ts";
import {
  availableBackends,
  createTestDatabase,
  PG_PARTITIONED,
  type TestDatabase,
} from "../support/databases.ts";
import { toolCallThenText } from "../support/fake-llm.ts";
import {
  PARTITIONED_TABLES,
  PARTITIONS,
  partitionByUser,
  partitionedTables,
} from "../support/partition-schema.ts";

/**
 * Issue 16 item 7: the schema is ready to shard by user. On real PostgreSQL, `tasks`,
 * `conversations` and `messages` become hash-partitioned by user_id (the key rules Citus
 * applies to distributed tables), and the app's chat turns, task writes and deletes work
 * on it. TEST_PG_PARTITIONED=1 runs the whole pg suite on that schema (.ci/run).
 */
const backends = await availableBackends();

async function withClient<T>(url: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** A migrated database, partitioned here unless TEST_PG_PARTITIONED already made it so. */
async function partitionedDatabase(): Promise<TestDatabase> {
  const testDb = await createTestDatabase("pg");
  const url = testDb.url ?? "";
  if (!PG_PARTITIONED) {
    await migratePg(url, 5000);
    await partitionByUser(url);
  }
  return testDb;
}

describe("the schema hash-partitioned by user_id [pg]", { skip: !backends.includes("pg") }, () => {
  let testDb: TestDatabase;
  let f: ChatFixture;
  before(async () => {
    testDb = await partitionedDatabase();
    f = await startChatApp("pg", {}, { testDb });
  });
  after(async () => {
    await f.close();
    await testDb.drop();
  });
  const query = <R extends pg.QueryResultRow>(text: string, values: unknown[] = []) =>
    withClient(testDb.url ?? "", async (client) => (await client.query<R>(text, values)).rows);

  test("tasks, conversations and messages are partitioned, each key kept under its name", async () => {
    const tables = await withClient(testDb.url ?? "", partitionedTables);
    assert.deepEqual(tables, [...PARTITIONED_TABLES].sort());
    for (const table of PARTITIONED_TABLES) {
      const parts = await query<{ n: number }>(
        "select count(*)::int as n from pg_inherits where inhparent = $1::regclass",
        [table],
      );
      assert.equal(parts[0]?.n, PARTITIONS, table);
    }
    const keys = await query<{ name: string }>(
      `select conname as name from pg_constraint
        where conrelid = any($1::regclass[]) and contype in ('p', 'f')
          and conparentid = 0 -- not the per-partition copies PostgreSQL adds
        order by 1`,
      [[...PARTITIONED_TABLES]],
    );
    assert.deepEqual(
      keys.map((k) => k.name),
      [
        "conversations_pkey",
        "conversations_user_id_user_id_fk",
        "messages_conversation_fk",
        "messages_pkey",
        "tasks_list_fk",
        "tasks_parent_fk",
        "tasks_pkey",
        "tasks_user_id_user_id_fk",
      ],
    );
    const triggers = await query<{ name: string }>(
      "select tgname as name from pg_trigger where tgrelid = 'tasks'::regclass and not tgisinternal order by 1",
    );
    assert.deepEqual(
      triggers.map((t) => t.name),
      ["tasks_change_seq", "tasks_forget_change_seq"],
    );
  });

  test("a unique violation in a partition names the parent's key, and the app still tells which", async () => {
    const user = await signUp(f.t.app);
    const conversation = randomUUID();
    const clientMessageId = randomUUID();
    await query("insert into conversations (id, user_id) values ($1, $2)", [conversation, user.id]);
    const insert = (seq: number) =>
      query(
        `insert into messages (conversation_id, user_id, seq, role, content, client_message_id)
         values ($1, $2, $3, 'user', 'x', $4)`,
        [conversation, user.id, seq, clientMessageId],
      );
    await insert(1);
    const error = await insert(2).then(
      () => assert.fail("a second message with the same client id was stored"),
      (e: unknown) => e as { constraint?: string },
    );
    assert.match(error.constraint ?? "", /^messages_user_client_message_uq_p\d$/);
    assert.ok(isUniqueViolation(error, "messages_user_client_message_uq"));
    assert.ok(!isUniqueViolation(error, "messages_user_client"));
    assert.ok(!isUniqueViolation(error, "messages_reply_to_uq"));
  });

  test("chat turns, task writes, replays and deletes run on it; rows land in partitions", async () => {
    const users = [await signUp(f.t.app), await signUp(f.t.app), await signUp(f.t.app)];
    f.llm.setDefault(toolCallThenText("add_task", { title: "Pay bills" }, "Added task 1."));
    const conversations: string[] = [];
    for (const user of users) {
      const id = randomUUID();
      const first = await chat(f.t, user, {
        message: "remind me to pay bills",
        client_message_id: id,
      });
      assert.equal(first.statusCode, 200, first.body);
      // The same client message id again: the unique violation is a replay, not a 500.
      const again = await chat(f.t, user, {
        message: "remind me to pay bills",
        client_message_id: id,
      });
      assert.equal(again.statusCode, 200, again.body);
      assert.deepEqual(again.json(), first.json());
      const conversationId = first.json().conversation_id as string;
      conversations.push(conversationId);
      const second = await chat(f.t, user, {
        message: "and another",
        conversation_id: conversationId,
      });
      assert.equal(second.statusCode, 200, second.body);
      assert.equal((await messagesOf(f.t, user, conversationId)).items.length, 4);
    }
    const [owner, other] = users as [(typeof users)[0], (typeof users)[0]];
    // Another user's conversation is still a 404.
    const foreign = await chat(f.t, other, { message: "hi", conversation_id: conversations[0] });
    assert.equal(foreign.statusCode, 404);

    // Task writes: a list, a subtask, an edit, a delete of the list (SET NULL of list_id
    // only) and of the parent (its subtask goes with it).
    const post = (url: string, payload: object) =>
      f.t.app.inject({ method: "POST", url, headers: owner.headers, payload });
    const parent = await post("/api/tasks", { title: "Trip", list: "Travel" });
    assert.equal(parent.statusCode, 201, parent.body);
    const child = await post("/api/tasks", { title: "Pack", parent_id: parent.json().id });
    assert.equal(child.statusCode, 201, child.body);
    const edit = await f.t.app.inject({
      method: "PATCH",
      url: `/api/tasks/${parent.json().id}`,
      headers: owner.headers,
      payload: { title: "Trip to Rome" },
    });
    assert.equal(edit.statusCode, 200, edit.body);
    const lists = await query<{ id: string }>("select id from lists where user_id = $1", [
      owner.id,
    ]);
    await query("delete from lists where user_id = $1 and id = $2", [owner.id, lists[0]?.id]);
    const trip = await query<{ list_id: string | null; user_id: string }>(
      "select list_id, user_id from tasks where user_id = $1 and title = 'Trip to Rome'",
      [owner.id],
    );
    assert.deepEqual(trip, [{ list_id: null, user_id: owner.id }]);
    await query("delete from tasks where user_id = $1 and number = $2", [
      owner.id,
      parent.json().id,
    ]);
    const left = await query<{ title: string }>(
      "select title from tasks where user_id = $1 order by number",
      [owner.id],
    );
    assert.deepEqual(left, [{ title: "Pay bills" }, { title: "Pay bills" }], "one per turn");

    // A conversation deleted through the API takes its messages.
    const deleted = await f.t.app.inject({
      method: "DELETE",
      url: `/api/conversations/${conversations[0]}`,
      headers: owner.headers,
    });
    assert.equal(deleted.statusCode, 204, deleted.body);
    const gone = await query<{ n: number }>(
      "select count(*)::int as n from messages where user_id = $1",
      [owner.id],
    );
    assert.equal(gone[0]?.n, 0);

    // Every row is in a partition (the parents hold none), and they are spread.
    const where = await query<{ part: string }>(
      `select distinct tableoid::regclass::text as part from messages where user_id = any($1)`,
      [users.map((u) => u.id)],
    );
    assert.ok(
      where.every((row) => /^messages_p\d$/.test(row.part)),
      JSON.stringify(where),
    );
    const only = await query<{ n: number }>("select count(*)::int as n from only messages");
    assert.equal(only[0]?.n, 0);
  });
});

describe("a key without user_id cannot be partitioned [pg]", {
  skip: !backends.includes("pg"),
}, () => {
  test("the converter fails, and leaves the database as it was", async () => {
    const testDb = await createTestDatabase("pg");
    const url = testDb.url ?? "";
    try {
      if (!PG_PARTITIONED) await migratePg(url, 5000);
      await withClient(url, async (client) => {
        if (PG_PARTITIONED) {
          // Already partitioned: a key without user_id is refused right away.
          await assert.rejects(
            client.query("create unique index messages_id_only on messages (id)"),
            /partition/,
          );
          return;
        }
        await client.query("create unique index messages_id_only on messages (id)");
      });
      if (PG_PARTITIONED) return;
      await assert.rejects(partitionByUser(url), /must include all partitioning columns/);
      assert.deepEqual(await withClient(url, partitionedTables), []);
    } finally {
      await testDb.drop();
    }
  });
});
