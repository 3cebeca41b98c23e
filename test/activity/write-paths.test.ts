import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { sql } from "drizzle-orm";
import * as activityService from "../../src/activity/activity.service.ts";
import { activityDoor } from "../../src/activity/activity.ts";
import * as apiKeyService from "../../src/api-keys/api-key.service.ts";
import { type RequestContext, systemContext } from "../../src/context.ts";
import * as conversationService from "../../src/conversations/conversation.service.ts";
import { type Db, rowsOf } from "../../src/db/client.ts";
import { inTransaction } from "../../src/db/transaction.ts";
import * as taskService from "../../src/tasks/task.service.ts";
import { signUp, startTestApp, type TestApp } from "../support/app.ts";
import { availableBackends } from "../support/databases.ts";

// No write path can skip the activity log. Every exported function of the services that
// change things is listed here with a call that makes it write, or listed as a read (with
// why): a new export in neither list fails the first test. The second runs each write in
// a transaction that then fails: the write's entry was there inside it (written on the
// same transaction), and the rollback took the change and the entry away together.

interface Fixture {
  ctx: RequestContext;
  task: number;
  trashed: number;
  conversationId: string;
  keyId: string;
  entryId: string;
}

type Write = (ctx: RequestContext, f: Fixture) => Promise<unknown>;

const MODULES = {
  tasks: taskService,
  conversations: conversationService,
  apiKeys: apiKeyService,
  activity: activityService,
} as const;

const WRITES: Record<string, Write> = {
  "tasks.addTask": (ctx) => taskService.addTask(ctx, { title: "new" }),
  "tasks.updateTask": (ctx, f) => taskService.updateTask(ctx, f.task, { title: "changed" }),
  "tasks.completeTask": (ctx, f) => taskService.completeTask(ctx, f.task),
  "tasks.deleteTask": (ctx, f) => taskService.deleteTask(ctx, f.task),
  "tasks.restoreTask": (ctx, f) => taskService.restoreTask(ctx, f.trashed),
  "tasks.revertTaskFields": async (ctx, f) => {
    const current = await taskService.getTask(ctx, f.task);
    return taskService.revertTaskFields(ctx, f.task, { title: "reverted" }, current.version);
  },
  "conversations.renameConversation": (ctx, f) =>
    conversationService.renameConversation(ctx, f.conversationId, "renamed"),
  "conversations.deleteConversation": (ctx, f) =>
    conversationService.deleteConversation(ctx, f.conversationId),
  "apiKeys.createApiKey": (ctx) => apiKeyService.createApiKey(ctx, { name: "k" }),
  "apiKeys.revokeApiKey": (ctx, f) => apiKeyService.revokeApiKey(ctx, f.keyId),
  "activity.undoActivity": (ctx, f) => activityService.undoActivity(ctx, f.entryId),
  "activity.undoLastTurn": async (ctx, f) => {
    const turn = { conversationId: f.conversationId, messageId: randomUUID() };
    await taskService.addTask({ ...ctx, turn }, { title: "in a turn" });
    return activityService.undoLastTurn({
      ...ctx,
      turn: { conversationId: f.conversationId, messageId: randomUUID() },
    });
  },
};

const READS: Record<string, string> = {
  "tasks.listTasks": "read",
  "tasks.listLists": "read",
  "tasks.getTask": "read",
  "conversations.listConversations": "read",
  "conversations.getConversation": "read",
  "conversations.listMessages": "read",
  "conversations.getMessageContext": "read",
  "apiKeys.listApiKeys": "read",
  "apiKeys.authenticateApiKey":
    "authentication; its only write is last_used_at, bookkeeping of the key's use, not a change",
  "activity.listActivity": "read",
};

test("every exported service function is either a logged write or a listed read", () => {
  const exported = Object.entries(MODULES).flatMap(([module, exports]) =>
    Object.entries(exports)
      .filter(([, value]) => typeof value === "function")
      .map(([name]) => `${module}.${name}`),
  );
  for (const name of exported) {
    assert.ok(
      name in WRITES || name in READS,
      `${name} is new: add it to WRITES (with a call that writes) or READS (with why)`,
    );
    assert.ok(!(name in WRITES && name in READS), name);
  }
  for (const name of [...Object.keys(WRITES), ...Object.keys(READS)]) {
    assert.ok(exported.includes(name), `${name} is listed but not exported any more`);
  }
});

test("the stdio MCP entry is recorded as door mcp; the others as they are", () => {
  assert.equal(activityDoor("stdio"), "mcp");
  for (const door of ["rest", "web", "chat", "mcp", "caldav", "system"] as const) {
    assert.equal(activityDoor(door), door);
  }
});

class Rollback extends Error {}

for (const backend of await availableBackends()) {
  describe(`every write is logged in its own transaction [${backend}]`, () => {
    let t: TestApp;
    let db: Db;
    before(async () => {
      t = await startTestApp(backend);
      db = t.server.database.db;
    });
    after(() => t.close());

    async function fixture(): Promise<Fixture> {
      const user = await signUp(t.app);
      const ctx = systemContext(db, user.id);
      const task = (await taskService.addTask(ctx, { title: "task" })).number;
      const trashed = (await taskService.addTask(ctx, { title: "trashed" })).number;
      await taskService.deleteTask(ctx, trashed);
      const [conversation] = rowsOf<{ id: string }>(
        await db.execute(
          sql`insert into conversations (user_id, title) values (${user.id}, 'chat') returning id`,
        ),
      );
      const { apiKey } = await apiKeyService.createApiKey(ctx, { name: "key" });
      await taskService.updateTask(ctx, task, { priority: "high" });
      const [entry] = (await activityService.listActivity(ctx, { limit: 1 })).items;
      assert.ok(conversation && entry);
      return {
        ctx,
        task,
        trashed,
        conversationId: conversation.id,
        keyId: apiKey.id,
        entryId: entry.id,
      };
    }

    /** Everything of the user's that a write could change, and the log. */
    async function state(userId: string) {
      const rows = async (query: ReturnType<typeof sql>) =>
        JSON.stringify(rowsOf(await db.execute(query)));
      return {
        tasks: await rows(
          sql`select number, title, completed, version, deleted_at from tasks where user_id = ${userId} order by number`,
        ),
        conversations: await rows(
          sql`select id, title from conversations where user_id = ${userId} order by id`,
        ),
        keys: await rows(
          sql`select id, revoked_at from api_keys where user_id = ${userId} order by id`,
        ),
        activity: await rows(sql`select id from activity where user_id = ${userId} order by id`),
      };
    }

    for (const [name, write] of Object.entries(WRITES)) {
      test(`${name} writes its entry in the transaction of its change`, async () => {
        const f = await fixture();
        const before = await state(f.ctx.userId);
        let inside = -1;
        const outside = async () =>
          Number(
            rowsOf<{ n: number }>(
              await db.execute(
                sql`select count(*)::int as n from activity where user_id = ${f.ctx.userId}`,
              ),
            )[0]?.n,
          );
        const count = await outside();
        await assert.rejects(
          inTransaction(db, async (tx) => {
            await write({ ...f.ctx, db: tx as unknown as Db }, f);
            inside = Number(
              rowsOf<{ n: number }>(
                await tx.execute(
                  sql`select count(*)::int as n from activity where user_id = ${f.ctx.userId}`,
                ),
              )[0]?.n,
            );
            throw new Rollback("a failure after the change");
          }),
        );
        assert.ok(inside > count, `${name} wrote no activity entry in its transaction`);
        assert.deepEqual(
          await state(f.ctx.userId),
          before,
          "the change rolled back with its entry",
        );
        // And when it commits, the change and its entry are both there.
        await write(f.ctx, f);
        assert.ok((await outside()) > count);
      });
    }
  });
}
