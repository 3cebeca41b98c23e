import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { sql } from "drizzle-orm";
import { type RequestContext, systemContext } from "../../src/context.ts";
import { addDays, todayIn } from "../../src/tasks/due.ts";
import { runTool } from "../../src/tools/task-tools.ts";
import { signUp, startTestApp, type TestApp } from "../support/app.ts";
import { availableBackends } from "../support/databases.ts";

// The task model through the AI tools: what one-task results say (due_label…), reopening,
// list_tasks' filters and pages, and a 5,000-task user whose list stays bounded.

interface Page {
  items: { id: number; title: string; due: string | null; [key: string]: unknown }[];
  total: number;
  next_cursor: string | null;
}

for (const backend of await availableBackends()) {
  describe(`task model through the tools [${backend}]`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(backend);
    });
    after(() => t.close());

    const newUser = async (timezone?: string): Promise<RequestContext> =>
      systemContext(t.server.database.db, (await signUp(t.app)).id, { timezone: timezone ?? null });

    test("add_task with due words, priority, list, labels: the result says what was understood", async () => {
      const ctx = await newUser("Europe/Lisbon");
      const result = await runTool(ctx, "add_task", {
        title: "call mom",
        due: { string: "tomorrow at 5pm" },
        priority: "high",
        list: "Family",
        labels: ["#phone"],
      });
      const tomorrow = addDays(todayIn("Europe/Lisbon"), 1);
      const r = result as Record<string, unknown> & { due: { date: string; time: string } };
      assert.equal(r.task_id, 1);
      assert.equal(r.status, "created");
      assert.equal(r.title, "call mom");
      assert.equal(r.due.date, tomorrow);
      assert.equal(r.due.time, "17:00");
      assert.match(String(r.due_label), /^[A-Z][a-z]{2} \d{1,2} [A-Z][a-z]{2}( \d{4})?, 17:00$/);
      assert.deepEqual([r.priority, r.list, r.labels], ["high", "Family", ["phone"]]);

      const page = (await runTool(ctx, "list_tasks", { due: "upcoming" })) as Page;
      assert.deepEqual(page.items, [
        {
          id: 1,
          title: "call mom",
          completed: false,
          completed_at: null,
          due: `${tomorrow} 17:00`,
          priority: "high",
          list: "Family",
          labels: ["phone"],
          parent_id: null,
        },
      ]);
    });

    test("reopen with update_task completed:false; complete with completed:true", async () => {
      const ctx = await newUser();
      await runTool(ctx, "add_task", { title: "water plants" });
      await runTool(ctx, "complete_task", { task_id: 1 });
      const reopened = (await runTool(ctx, "update_task", { task_id: 1, completed: false })) as {
        status: string;
      };
      assert.equal(reopened.status, "reopened");
      assert.deepEqual(
        ((await runTool(ctx, "list_tasks", { status: "pending" })) as Page).total,
        1,
      );
      const done = (await runTool(ctx, "update_task", { task_id: 1, completed: true })) as {
        status: string;
      };
      assert.equal(done.status, "completed");
      const moved = (await runTool(ctx, "update_task", {
        task_id: 1,
        due: { date: "2026-12-24" },
      })) as { status: string; due_label: string };
      assert.equal(moved.status, "updated");
      assert.match(moved.due_label, /^Thu 24 Dec( 2026)?$/);
    });

    test("delete_task says how many subtasks went with the task", async () => {
      const ctx = await newUser();
      await runTool(ctx, "add_task", { title: "trip" });
      await runTool(ctx, "add_task", { title: "passport", parent_id: 1 });
      await runTool(ctx, "add_task", { title: "tickets", parent_id: 1 });
      const nested = await runTool(ctx, "add_task", { title: "deeper", parent_id: 2 });
      assert.equal((nested as { error: { code: string } }).error.code, "validation_failed");
      const deleted = (await runTool(ctx, "delete_task", { task_id: 1 })) as Record<
        string,
        unknown
      >;
      assert.equal(deleted.status, "deleted");
      assert.equal(deleted.subtasks_deleted, 2);
      assert.equal(((await runTool(ctx, "list_tasks", {})) as Page).total, 0);
    });

    test("a 5,000-task user's list_tasks is one bounded page with the total; cursors walk on", async () => {
      const ctx = await newUser();
      const db = t.server.database.db;
      await db.execute(sql`
        insert into tasks (user_id, number, title, description, completed, labels)
        select ${ctx.userId}, g, 'task ' || g, repeat('long description ', 50), g % 2 = 0,
               case when g % 10 = 0 then '{tens}'::text[] else '{}'::text[] end
        from generate_series(1, 5000) g`);
      await db.execute(
        sql`insert into task_counters (user_id, last_number) values (${ctx.userId}, 5000)`,
      );
      const first = (await runTool(ctx, "list_tasks", {})) as Page;
      assert.equal(first.items.length, 50, "the default page");
      assert.equal(first.total, 5000);
      assert.ok(first.next_cursor);
      assert.ok(!("description" in (first.items[0] ?? {})), "compact: no description");
      assert.ok(JSON.stringify(first).length < 8_000, `${JSON.stringify(first).length} chars`);

      const biggest = (await runTool(ctx, "list_tasks", { limit: 100 })) as Page;
      assert.equal(biggest.items.length, 100);
      const second = (await runTool(ctx, "list_tasks", {
        limit: 100,
        cursor: biggest.next_cursor,
      })) as Page;
      assert.deepEqual(
        second.items.map((i) => i.id),
        Array.from({ length: 100 }, (_, i) => 101 + i),
      );
      const over = await runTool(ctx, "list_tasks", { limit: 5000 });
      assert.equal((over as { error: { code: string } }).error.code, "validation_failed");

      const tens = (await runTool(ctx, "list_tasks", { label: "tens", status: "pending" })) as Page;
      assert.equal(tens.total, 0, "every tenth task is even, so completed");
      const done = (await runTool(ctx, "list_tasks", { label: "tens" })) as Page;
      assert.equal(done.total, 500);
      const found = (await runTool(ctx, "list_tasks", { q: "4321" })) as Page;
      assert.deepEqual(
        found.items.map((i) => i.title),
        ["task 4321"],
      );
    });
  });
}
