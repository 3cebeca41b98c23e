import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { sql } from "drizzle-orm";
import type { InjectOptions, LightMyRequestResponse } from "fastify";
import { rowsOf } from "../../src/db/client.ts";
import { addDays, todayIn } from "../../src/tasks/due.ts";
import { signUp, startTestApp, type TestApp, type TestUser } from "../support/app.ts";
import { availableBackends } from "../support/databases.ts";

// Issue 12's task model through REST: due dates in the user's zone, priority, lists,
// labels, subtasks, search, filters and cursor pages. Real app, both databases.

interface TaskBody {
  id: number;
  title: string;
  completed: boolean;
  due: {
    date: string;
    time: string | null;
    timezone: string;
    at: string | null;
    string: string | null;
  } | null;
  priority: string;
  list: string;
  labels: string[];
  parent_id: number | null;
}

for (const backend of await availableBackends()) {
  describe(`task model over REST [${backend}]`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(backend);
    });
    after(() => t.close());

    const call = (user: TestUser, opts: InjectOptions) =>
      t.app.inject({ ...opts, headers: { ...opts.headers, ...user.headers } });
    const add = async (user: TestUser, payload: Record<string, unknown>) => {
      const res = await call(user, { method: "POST", url: "/api/tasks", payload });
      assert.equal(res.statusCode, 201, res.body);
      return res.json() as TaskBody;
    };
    const patch = (user: TestUser, n: number, payload: Record<string, unknown>) =>
      call(user, { method: "PATCH", url: `/api/tasks/${n}`, payload });
    const page = async (user: TestUser, query: string) => {
      const res = await call(user, { url: `/api/tasks?${query}` });
      assert.equal(res.statusCode, 200, `${query}: ${res.body}`);
      return res.json() as { items: TaskBody[]; next_cursor: string | null };
    };
    const ids = async (user: TestUser, query: string) =>
      (await page(user, query)).items.map((i) => i.id);
    const inZone = async (timezone: string) => {
      const user = await signUp(t.app);
      const res = await call(user, { method: "PATCH", url: "/api/me", payload: { timezone } });
      assert.equal(res.statusCode, 200, res.body);
      return user;
    };
    const assertProblem = (res: LightMyRequestResponse, status: number, code: string) => {
      assert.equal(res.statusCode, status, res.body);
      assert.equal(res.json().code, code, res.body);
    };

    test("the task JSON: due in the user's zone, priority, list, labels; null clears the due", async () => {
      const a = await inZone("Europe/Lisbon");
      const task = await add(a, {
        title: "Call mom",
        due: { date: "2026-12-01", time: "17:00" },
        priority: "high",
        list: "Family",
        labels: ["#Phone", "phone", "Calls"],
      });
      assert.deepEqual(task.due, {
        date: "2026-12-01",
        time: "17:00",
        timezone: "Europe/Lisbon",
        at: "2026-12-01T17:00:00.000Z", // Lisbon is on UTC in December
        string: null,
        recurrence: null,
        repeat_from: null,
      });
      assert.equal(task.priority, "high");
      assert.equal(task.list, "Family");
      assert.deepEqual(task.labels, ["calls", "phone"], "lowercase, no '#', unique, sorted");
      assert.equal(task.parent_id, null);

      const summer = await add(a, { title: "Swim", due: { date: "2026-07-01", time: "09:30" } });
      assert.equal(summer.due?.at, "2026-07-01T08:30:00.000Z", "WEST is UTC+1");
      const allDay = await add(a, { title: "Pay rent", due: { date: "2026-12-01" } });
      assert.equal(allDay.due?.time, null);
      assert.equal(allDay.due?.at, null);

      const words = await add(a, { title: "Ring Ana", due: { string: "tomorrow at 5pm" } });
      assert.equal(words.due?.date, addDays(todayIn("Europe/Lisbon"), 1));
      assert.equal(words.due?.time, "17:00");
      assert.equal(words.due?.string, "tomorrow at 5pm");

      const cleared = await patch(a, task.id, { due: null, priority: "none", labels: [] });
      assert.equal(cleared.statusCode, 200, cleared.body);
      assert.equal(cleared.json().due, null);
      assert.deepEqual(cleared.json().labels, []);
      assert.equal(cleared.json().list, "Family", "a PATCH changes only what it names");
      const plain = await add(a, { title: "Plain" });
      assert.deepEqual(
        [plain.due, plain.priority, plain.list, plain.labels, plain.parent_id],
        [null, "none", "Inbox", [], null],
      );
    });

    test("bad inputs are 400 validation_failed and write nothing", async () => {
      const a = await signUp(t.app);
      const bad: Record<string, unknown>[] = [
        { title: "x", due: { date: "2026-02-30" } },
        { title: "x", due: { date: "2026-12-01", time: "25:00" } },
        { title: "x", due: { string: "when pigs fly" } },
        { title: "x", due: "tomorrow" },
        { title: "x", due: { date: "2026-12-01", at: "2026-12-01T00:00:00Z" } },
        { title: "x", priority: "urgent" },
        { title: "x", list: "" },
        { title: "x", list: "l".repeat(101) },
        { title: "x", labels: ["two words"] },
        { title: "x", labels: Array.from({ length: 21 }, (_, i) => `l${i}`) },
        { title: "x", parent_id: 0 },
        // server-owned columns of the new model (mass assignment)
        { title: "x", list_id: "00000000-0000-0000-0000-000000000000" },
        { title: "x", due_at: "2026-12-01T00:00:00Z" },
        { title: "x", parent_number: 1 },
        { title: "x", number: 7 },
      ];
      for (const payload of bad) {
        const res = await call(a, { method: "POST", url: "/api/tasks", payload });
        assertProblem(res, 400, "validation_failed");
      }
      assert.deepEqual(await ids(a, ""), []);
      assert.equal((await add(a, { title: "first" })).id, 1, "no refused request used a number");
      for (const payload of [{ version: 9 }, { list_id: null }, { user_id: "x" }, {}]) {
        assertProblem(await patch(a, 1, payload), 400, "validation_failed");
      }
    });

    test("lists: created on first use, one per name ignoring case, Inbox first with counts", async () => {
      const a = await signUp(t.app);
      const b = await signUp(t.app);
      await add(a, { title: "eggs", list: "Shopping" });
      await add(a, { title: "milk", list: "shopping" });
      await add(a, { title: "bread", list: "  SHOPPING " });
      await add(a, { title: "inbox one" });
      await add(a, { title: "inbox two", list: "inbox" });
      await add(a, { title: "report", list: "Work" });
      await patch(a, 3, { completed: true });
      await add(b, { title: "b's", list: "Secret plans" });

      const lists = await call(a, { url: "/api/lists" });
      assert.equal(lists.statusCode, 200, lists.body);
      assert.deepEqual(lists.json(), {
        items: [
          { name: "Inbox", task_count: 2 },
          { name: "Shopping", task_count: 2 },
          { name: "Work", task_count: 1 },
        ],
      });
      assert.deepEqual(await ids(a, "list=SHOPPING"), [1, 2, 3]);
      assert.deepEqual(await ids(a, "list=Inbox"), [4, 5]);
      assert.deepEqual(await ids(a, "list=Secret%20plans"), [], "another user's list is not one");
      const foreign = await patch(b, 2, { list: "Planted" });
      assert.equal(foreign.statusCode, 404, "not B's task 2");
      assert.equal(foreign.json().code, "not_found");
      const moved = await patch(a, 1, { list: "Inbox" });
      assert.equal(moved.json().list, "Inbox");
      assert.deepEqual(
        (await call(b, { url: "/api/lists" })).json().items.map((l: { name: string }) => l.name),
        ["Inbox", "Secret plans"],
      );
    });

    test("search finds a task by a word of its description; label, priority, status filters", async () => {
      const a = await signUp(t.app);
      const b = await signUp(t.app);
      await add(a, { title: "Groceries", description: "eggs, oat milk and bananas" });
      await add(a, { title: "Milk the goats", labels: ["farm"], priority: "high" });
      await add(a, { title: "Taxes", description: "ask the accountant", labels: ["Farm"] });
      await add(b, { title: "Bananas for B", description: "bananas" });
      assert.deepEqual(await ids(a, "q=bananas"), [1], "a word of the description");
      assert.deepEqual(await ids(a, "q=MILK"), [1, 2], "case-insensitive, title or description");
      assert.deepEqual(await ids(a, "q=oat%20bananas"), [1], "every word must match");
      assert.deepEqual(await ids(a, "q=nothing-like-it"), []);
      assert.deepEqual(await ids(a, "q=%27%22%3B%20drop%20table%20tasks"), []);
      assert.deepEqual(await ids(a, "label=farm"), [2, 3]);
      assert.deepEqual(await ids(a, "label=%23FARM"), [2, 3]);
      assert.deepEqual(await ids(a, "priority=high"), [2]);
      await patch(a, 2, { completed: true });
      assert.deepEqual(await ids(a, "label=farm&status=pending"), [3]);
      assert.deepEqual(await ids(a, "label=farm&status=completed"), [2]);
      for (const query of [
        "due=yesterday",
        "due=today,",
        "priority=urgent",
        "sort=random",
        "limit=0",
        "limit=201",
        "limit=ten",
        "status=done",
        "cursor=garbage",
        "user_id=x",
        `q=${"x".repeat(201)}`,
      ]) {
        assertProblem(await call(a, { url: `/api/tasks?${query}` }), 400, "validation_failed");
      }
    });

    test("cursor pages: every task exactly once, in every sort; a cursor of another sort is refused", async () => {
      const a = await signUp(t.app);
      const specs: Record<string, unknown>[] = [
        { title: "t1", priority: "low", due: { date: "2026-12-03" } },
        { title: "t2", priority: "high" },
        { title: "t3", priority: "high", due: { date: "2026-12-01", time: "09:00" } },
        { title: "t4", due: { date: "2026-12-01" } },
        { title: "t5", priority: "medium", due: { date: "2026-12-01", time: "08:00" } },
        { title: "t6" },
        { title: "t7", priority: "low", due: { date: "2026-11-30" } },
      ];
      for (const spec of specs) await add(a, spec);
      const expected: Record<string, number[]> = {
        number: [1, 2, 3, 4, 5, 6, 7],
        created: [7, 6, 5, 4, 3, 2, 1],
        due: [7, 4, 5, 3, 1, 2, 6],
        priority: [2, 3, 5, 1, 7, 4, 6],
      };
      for (const [sort, order] of Object.entries(expected)) {
        const seen: number[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const query: string = `sort=${sort}&limit=2${cursor ? `&cursor=${cursor}` : ""}`;
          const p = await page(a, query);
          seen.push(...p.items.map((i) => i.id));
          cursor = p.next_cursor;
          pages++;
        } while (cursor && pages < 10);
        assert.deepEqual(seen, order, sort);
        assert.equal(pages, 4, `${sort}: 7 tasks in pages of 2`);
      }
      const first = await page(a, "sort=due&limit=2");
      assertProblem(
        await call(a, { url: `/api/tasks?sort=number&cursor=${first.next_cursor}` }),
        400,
        "validation_failed",
      );
      const forged = Buffer.from(JSON.stringify({ s: "number", k: ["1; drop"] })).toString(
        "base64url",
      );
      assertProblem(
        await call(a, { url: `/api/tasks?cursor=${forged}` }),
        400,
        "validation_failed",
      );
    });

    test("subtasks: one level deep, a top-level parent of the same user; deleting the parent deletes them", async () => {
      const a = await signUp(t.app);
      const b = await signUp(t.app);
      await add(b, { title: "b's parent" });
      const parent = await add(a, { title: "Move house" });
      const child = await add(a, { title: "Pack books", parent_id: parent.id });
      assert.equal(child.parent_id, parent.id);
      await add(a, { title: "Book a van", parent_id: parent.id });
      const other = await add(a, { title: "Standalone" });

      assertProblem(
        await call(a, {
          method: "POST",
          url: "/api/tasks",
          payload: { title: "grandchild", parent_id: child.id },
        }),
        400,
        "validation_failed",
      );
      assertProblem(
        await call(a, {
          method: "POST",
          url: "/api/tasks",
          payload: { title: "x", parent_id: 99 },
        }),
        404,
        "not_found",
      );
      const bUser = await signUp(t.app);
      assertProblem(
        await call(bUser, {
          method: "POST",
          url: "/api/tasks",
          payload: { title: "x", parent_id: 1 },
        }),
        404,
        "not_found",
      );
      assertProblem(await patch(a, other.id, { parent_id: other.id }), 400, "validation_failed");
      assertProblem(await patch(a, parent.id, { parent_id: other.id }), 400, "validation_failed");
      assertProblem(await patch(a, other.id, { parent_id: child.id }), 400, "validation_failed");
      const adopted = await patch(a, other.id, { parent_id: parent.id });
      assert.equal(adopted.json().parent_id, parent.id);
      const freed = await patch(a, other.id, { parent_id: null });
      assert.equal(freed.json().parent_id, null);

      const deleted = await call(a, { method: "DELETE", url: `/api/tasks/${parent.id}` });
      assert.equal(deleted.statusCode, 200);
      assert.deepEqual(await ids(a, ""), [other.id], "the subtasks went with their parent");
      assert.deepEqual(await ids(b, ""), [1], "nobody else's tasks");
    });

    test("existing rows migrate to no due, priority none, list Inbox, no labels", async () => {
      const a = await signUp(t.app);
      // A row as the previous schema wrote it: only the old columns named.
      await t.server.database.db.execute(
        sql`insert into tasks (user_id, number, title) values (${a.id}, 1, 'old task')`,
      );
      await t.server.database.db.execute(
        sql`insert into task_counters (user_id, last_number) values (${a.id}, 1)`,
      );
      const [task] = (await page(a, "")).items;
      assert.deepEqual(
        [task?.due, task?.priority, task?.list, task?.labels, task?.parent_id],
        [null, "none", "Inbox", [], null],
      );
      const rows = rowsOf<{ n: number }>(
        await t.server.database.db.execute(
          sql`select count(*)::int as n from pg_indexes where indexname = 'tasks_search_idx'`,
        ),
      );
      assert.equal(rows[0]?.n, 1, "the full-text index exists");
    });
  });
}
