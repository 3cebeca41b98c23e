import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { sql } from "drizzle-orm";
import { rowsOf } from "../../src/db/client.ts";
import { runMaintenance } from "../../src/ops/maintenance.ts";
import { callTool, connectClient, createApiKey, textJson } from "../mcp/support.ts";
import { signUp, startTestApp, type TestApp, type TestUser } from "../support/app.ts";
import { availableBackends } from "../support/databases.ts";

// The activity log, the trash and undo through REST and MCP, on real databases.

interface Entry {
  id: string;
  kind: string;
  door: string;
  task_id: number | null;
  summary: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  undo_of: string | null;
  undone_by: string | null;
  undoable: boolean;
  request_id: string;
}

for (const backend of await availableBackends()) {
  describe(`activity, trash and undo [${backend}]`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(backend);
    });
    after(() => t.close());

    const call = (user: TestUser, method: string, url: string, payload?: unknown) =>
      t.app.inject({
        method: method as "GET",
        url,
        headers: user.headers,
        ...(payload === undefined ? {} : { payload: payload as object }),
      });
    const add = async (user: TestUser, body: Record<string, unknown>) => {
      const res = await call(user, "POST", "/api/tasks", body);
      assert.equal(res.statusCode, 201, res.body);
      return res.json() as { id: number; title: string };
    };
    const activityOf = async (user: TestUser, query = "") => {
      const res = await call(user, "GET", `/api/activity${query}`);
      assert.equal(res.statusCode, 200, res.body);
      return res.json() as { items: Entry[]; next_cursor: string | null };
    };

    test("every task change is logged with before/after, door and request id, newest first", async () => {
      const a = await signUp(t.app);
      const task = await add(a, { title: "Buy milk" });
      const patched = await call(a, "PATCH", `/api/tasks/${task.id}`, { title: "Buy oat milk" });
      assert.equal(patched.statusCode, 200);
      await call(a, "PATCH", `/api/tasks/${task.id}`, { completed: true });
      await call(a, "PATCH", `/api/tasks/${task.id}`, { completed: false });
      const deleted = await call(a, "DELETE", `/api/tasks/${task.id}`);
      assert.equal(deleted.statusCode, 200);
      const restored = await call(a, "POST", `/api/tasks/${task.id}/restore`);
      assert.equal(restored.statusCode, 200, restored.body);

      const { items } = await activityOf(a, `?task=${task.id}`);
      assert.deepEqual(
        items.map((e) => e.kind),
        [
          "task.restored",
          "task.deleted",
          "task.reopened",
          "task.completed",
          "task.updated",
          "task.created",
        ],
      );
      assert.ok(items.every((e) => e.door === "rest" && e.task_id === task.id));
      const updated = items[4];
      assert.deepEqual(updated?.before, { title: "Buy milk", version: 1 });
      assert.deepEqual(updated?.after, { title: "Buy oat milk", version: 2 });
      assert.match(updated?.summary ?? "", /Changed task 1 “Buy oat milk” \(title\)/);
      // One request, one id: six requests made six entries with six request ids.
      assert.equal(new Set(items.map((e) => e.request_id)).size, 6);
    });

    test("the log is paged by cursor and is the caller's only; another user's task is 404", async () => {
      const a = await signUp(t.app);
      const b = await signUp(t.app);
      for (let i = 0; i < 5; i++) await add(a, { title: `task ${i}` });
      const first = await activityOf(a, "?limit=2");
      assert.equal(first.items.length, 2);
      assert.ok(first.next_cursor);
      const second = await activityOf(a, `?limit=2&cursor=${first.next_cursor}`);
      const third = await activityOf(a, `?limit=2&cursor=${second.next_cursor}`);
      const all = [...first.items, ...second.items, ...third.items];
      // Five tasks added and the sign-up's new client: each entry once, in order.
      assert.equal(new Set(all.map((e) => e.id)).size, 6);
      assert.equal(all.at(-1)?.kind, "session.new_client");
      assert.equal(third.next_cursor, null);
      // b sees none of it; a's task number is unknown to b.
      assert.equal((await activityOf(b)).items.filter((e) => e.kind.startsWith("task.")).length, 0);
      const foreign = await call(b, "GET", "/api/activity?task=1");
      assert.equal(foreign.statusCode, 404);
      const other = await call(b, "POST", `/api/activity/${first.items[0]?.id}/undo`);
      assert.equal(other.statusCode, 404);
      const bad = await call(a, "GET", "/api/activity?cursor=nonsense");
      assert.equal(bad.statusCode, 400);
      assert.equal(bad.json().code, "validation_failed");
    });

    test("a trashed task keeps its number and is invisible to every other read and write", async () => {
      const a = await signUp(t.app);
      const parent = await add(a, { title: "Plan trip", list: "Travel" });
      const child = await add(a, { title: "Book hotel", parent_id: parent.id });
      const other = await add(a, { title: "Water plants" });
      const del = await call(a, "DELETE", `/api/tasks/${parent.id}`);
      assert.equal(del.statusCode, 200);
      assert.ok(del.json().deleted_at);

      for (const n of [parent.id, child.id]) {
        assert.equal((await call(a, "GET", `/api/tasks/${n}`)).statusCode, 404);
        assert.equal((await call(a, "PATCH", `/api/tasks/${n}`, { title: "x" })).statusCode, 404);
        assert.equal((await call(a, "DELETE", `/api/tasks/${n}`)).statusCode, 404);
      }
      const list = (await call(a, "GET", "/api/tasks")).json() as { items: { id: number }[] };
      assert.deepEqual(
        list.items.map((x) => x.id),
        [other.id],
      );
      const search = (await call(a, "GET", "/api/tasks?q=hotel")).json() as { items: unknown[] };
      assert.equal(search.items.length, 0);
      const lists = (await call(a, "GET", "/api/lists")).json() as {
        items: { name: string; task_count: number }[];
      };
      assert.equal(lists.items.find((l) => l.name === "Travel")?.task_count, 0);
      // A trashed task cannot become a parent.
      const reparent = await call(a, "PATCH", `/api/tasks/${other.id}`, { parent_id: parent.id });
      assert.equal(reparent.statusCode, 404);

      const trash = (await call(a, "GET", "/api/tasks?status=deleted")).json() as {
        items: { id: number; deleted_at: string | null }[];
      };
      assert.deepEqual(
        trash.items.map((x) => x.id),
        [parent.id, child.id],
      );
      assert.ok(trash.items.every((x) => x.deleted_at));

      // A subtask whose parent is in the trash comes back with its parent only.
      const alone = await call(a, "POST", `/api/tasks/${child.id}/restore`);
      assert.equal(alone.statusCode, 409);
      assert.equal(alone.json().code, "parent_in_trash");
      const restored = await call(a, "POST", `/api/tasks/${parent.id}/restore`);
      assert.equal(restored.statusCode, 200);
      assert.equal(restored.json().id, parent.id);
      assert.equal(restored.json().deleted_at, null);
      assert.equal((await call(a, "GET", `/api/tasks/${child.id}`)).json().parent_id, parent.id);
      const again = await call(a, "POST", `/api/tasks/${parent.id}/restore`);
      assert.equal(again.statusCode, 409);
      assert.equal(again.json().code, "not_in_trash");
      // Numbers are still never reused.
      assert.equal((await add(a, { title: "next" })).id, other.id + 1);
    });

    test("undo reverts a logged change once, is logged, and refuses to clobber a later change", async () => {
      const a = await signUp(t.app);
      const task = await add(a, { title: "Call mum", priority: "low" });
      await call(a, "PATCH", `/api/tasks/${task.id}`, { title: "Call mom", priority: "high" });
      const [change] = (await activityOf(a, `?task=${task.id}`)).items;
      assert.equal(change?.kind, "task.updated");
      const undo = await call(a, "POST", `/api/activity/${change?.id}/undo`);
      assert.equal(undo.statusCode, 201, undo.body);
      assert.equal(undo.json().undo_of, change?.id);
      assert.equal(undo.json().door, "rest");
      const now = (await call(a, "GET", `/api/tasks/${task.id}`)).json();
      assert.equal(now.title, "Call mum");
      assert.equal(now.priority, "low");
      const twice = await call(a, "POST", `/api/activity/${change?.id}/undo`);
      assert.equal(twice.statusCode, 409);
      assert.equal(twice.json().code, "already_undone");
      const listed = (await activityOf(a, `?task=${task.id}`)).items.find(
        (e) => e.id === change?.id,
      );
      assert.equal(listed?.undone_by, undo.json().id);
      assert.equal(listed?.undoable, false);

      // Completed, then changed again by someone else: the completion is not undone.
      await call(a, "PATCH", `/api/tasks/${task.id}`, { completed: true });
      const [completion] = (await activityOf(a, `?task=${task.id}`)).items;
      await call(a, "PATCH", `/api/tasks/${task.id}`, { title: "Call mum today" });
      const conflict = await call(a, "POST", `/api/activity/${completion?.id}/undo`);
      assert.equal(conflict.statusCode, 409);
      assert.equal(conflict.json().code, "undo_conflict");
      assert.match(conflict.json().detail, /changed since/);
      const still = (await call(a, "GET", `/api/tasks/${task.id}`)).json();
      assert.equal(still.completed, true);
      assert.equal(still.title, "Call mum today");

      // Undo of a delete restores; undo of a create trashes.
      await call(a, "DELETE", `/api/tasks/${task.id}`);
      const [deletion] = (await activityOf(a, `?task=${task.id}`)).items;
      assert.equal((await call(a, "POST", `/api/activity/${deletion?.id}/undo`)).statusCode, 201);
      assert.equal((await call(a, "GET", `/api/tasks/${task.id}`)).statusCode, 200);
      const fresh = await add(a, { title: "Oops" });
      const [creation] = (await activityOf(a, `?task=${fresh.id}`)).items;
      assert.equal((await call(a, "POST", `/api/activity/${creation?.id}/undo`)).statusCode, 201);
      assert.equal((await call(a, "GET", `/api/tasks/${fresh.id}`)).statusCode, 404);
      const bad = await call(a, "POST", "/api/activity/not-a-uuid/undo");
      assert.equal(bad.statusCode, 400);
    });

    test("conversations and API keys are logged; a revoked key cannot be undone", async () => {
      const a = await signUp(t.app);
      const key = await createApiKey(t.app, a, "laptop");
      const revoked = await call(a, "DELETE", `/api/api-keys/${key.id}`);
      assert.equal(revoked.statusCode, 204, revoked.body);
      const { items } = await activityOf(a);
      const kinds = items.map((e) => e.kind);
      assert.ok(kinds.includes("api_key.created"));
      assert.ok(kinds.includes("session.new_client"), "the sign-up's first client");
      const revocation = items.find((e) => e.kind === "api_key.revoked");
      assert.equal(revocation?.undoable, false);
      const refused = await call(a, "POST", `/api/activity/${revocation?.id}/undo`);
      assert.equal(refused.statusCode, 409);
      assert.equal(refused.json().code, "not_undoable");
    });

    test("a task deleted through MCP is logged with door mcp and can be restored", async () => {
      const a = await signUp(t.app);
      const task = await add(a, { title: "Dentist" });
      const url = t.url ?? (await t.listen());
      const client = await connectClient(url, a.headers);
      try {
        const res = await callTool(client, "delete_task", { task_id: task.id });
        assert.equal(res.isError ?? false, false);
        const [entry] = (await activityOf(a, `?task=${task.id}`)).items;
        assert.equal(entry?.kind, "task.deleted");
        assert.equal(entry?.door, "mcp");
        const back = await callTool(client, "restore_task", { task_id: task.id });
        assert.equal((textJson(back) as { status: string }).status, "restored");
        const [restore] = (await activityOf(a, `?task=${task.id}`)).items;
        assert.equal(restore?.kind, "task.restored");
        assert.equal(restore?.door, "mcp");
        // …and the page's way: REST undo of the MCP delete after trashing it again.
        await callTool(client, "delete_task", { task_id: task.id });
        const [again] = (await activityOf(a, `?task=${task.id}`)).items;
        const undo = await call(a, "POST", `/api/activity/${again?.id}/undo`);
        assert.equal(undo.statusCode, 201);
        assert.equal((await call(a, "GET", `/api/tasks/${task.id}`)).json().title, "Dentist");
      } finally {
        await client.close();
      }
    });

    test("maintenance purges the trash after TRASH_DAYS and the log after its retention", async () => {
      const a = await signUp(t.app);
      const old = await add(a, { title: "old" });
      const recent = await add(a, { title: "recent" });
      await call(a, "DELETE", `/api/tasks/${old.id}`);
      await call(a, "DELETE", `/api/tasks/${recent.id}`);
      const db = t.server.database.db;
      await db.execute(
        sql`update tasks set deleted_at = now() - interval '31 days' where user_id = ${a.id} and number = ${old.id}`,
      );
      await db.execute(
        sql`update activity set created_at = now() - interval '100 days' where user_id = ${a.id} and kind = 'task.created'`,
      );
      const result = await runMaintenance(db, { trashDays: 30, activityDays: 90 });
      assert.equal(result.ran, true);
      assert.ok((result.deleted.trashed_tasks ?? 0) >= 1);
      const numbers = rowsOf<{ number: number }>(
        await db.execute(sql`select number from tasks where user_id = ${a.id} order by number`),
      ).map((r) => r.number);
      assert.deepEqual(numbers, [recent.id]);
      const kinds = (await activityOf(a)).items.map((e) => e.kind);
      assert.ok(!kinds.includes("task.created"));
      assert.ok(kinds.includes("task.deleted"));
    });
  });
}
