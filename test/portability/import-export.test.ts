import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { signUp, startTestApp, type TestApp, type TestUser } from "../support/app.ts";
import { availableBackends } from "../support/databases.ts";

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/import/${name}`, import.meta.url), "utf8");

interface TaskJson {
  id: number;
  title: string;
  description: string;
  completed: boolean;
  due: { date: string; time: string | null } | null;
  priority: string;
  list: string;
  labels: string[];
  parent_id: number | null;
}
interface Report {
  tasks: { created: number; skipped: number };
  conversations: { created: number; skipped: number };
  failed: unknown[];
  warnings: { key: string; warning: string }[];
}

async function importFile(t: TestApp, user: TestUser, query: string, body: string, type: string) {
  const res = await t.app.inject({
    method: "POST",
    url: `/api/import?${query}`,
    headers: { ...user.headers, "content-type": type },
    payload: body,
  });
  return res;
}

async function allTasks(t: TestApp, user: TestUser): Promise<TaskJson[]> {
  const res = await t.app.inject({ url: "/api/tasks?limit=100", headers: user.headers });
  return (res.json() as { items: TaskJson[] }).items;
}

const byTitle = (tasks: TaskJson[], title: string) => {
  const found = tasks.find((t) => t.title === title);
  assert.ok(found, `no task "${title}" in ${tasks.map((t) => t.title).join(", ")}`);
  return found;
};

const backends = await availableBackends();

for (const backend of backends) {
  describe(`import and export [${backend}]`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(backend);
    });
    after(() => t.close());

    test("a Todoist CSV (its documented template) imports; the same file again adds nothing", async () => {
      const user = await signUp(t.app, "Todoist");
      const csv = fixture("todoist.csv");
      const first = await importFile(t, user, "format=todoist&list=Home", csv, "text/csv");
      assert.equal(first.statusCode, 200, first.body);
      const report = first.json() as Report;
      assert.equal(report.tasks.created, 6);
      assert.deepEqual(report.failed, []);
      const tasks = await allTasks(t, user);
      assert.equal(tasks.length, 6);
      const rent = byTitle(tasks, "Pay the rent");
      assert.deepEqual(rent.labels, ["bills", "home"]);
      assert.equal(rent.priority, "high");
      assert.equal(rent.description, "Transfer before noon");
      assert.equal(rent.due?.date, "2026-12-01");
      assert.equal(rent.list, "Home");
      const flights = byTitle(tasks, "Book flights");
      assert.equal(flights.priority, "medium");
      const compare = byTitle(tasks, "Compare prices");
      assert.equal(compare.parent_id, flights.id, "INDENT 2 is a subtask of the task above");
      assert.equal(compare.priority, "none");
      assert.match(compare.description, /Check two sites.*\n\nSkyscanner and Kayak/s, "a note row");
      const water = tasks.filter((x) => x.title === "Water the plants");
      assert.equal(water.length, 2, "two identical rows are two tasks");
      assert.ok(
        water.every((w) => w.labels.includes("garden")),
        "the section is kept as a label",
      );
      assert.equal(water.filter((w) => w.due).length, 1, '"tomorrow" is read');
      assert.equal(byTitle(tasks, "Plant the bulbs").due, null, "a German date is left out");

      const again = await importFile(t, user, "format=todoist&list=Home", csv, "text/csv");
      assert.equal(again.statusCode, 200);
      assert.deepEqual((again.json() as Report).tasks, { created: 0, skipped: 6 });
      assert.equal((await allTasks(t, user)).length, 6);
    });

    test("a TickTick CSV backup imports: lists, tags, priorities, all-day and timed dues, status, subtasks", async () => {
      const user = await signUp(t.app, "TickTick");
      const csv = fixture("ticktick.csv");
      const first = await importFile(t, user, "format=ticktick", csv, "text/csv");
      assert.equal(first.statusCode, 200, first.body);
      assert.equal((first.json() as Report).tasks.created, 4);
      const tasks = await allTasks(t, user);
      const dentist = byTitle(tasks, "Call the dentist");
      assert.equal(dentist.priority, "high");
      assert.deepEqual(dentist.labels, ["health"]);
      assert.equal(dentist.list, "Inbox");
      assert.deepEqual(
        { date: dentist.due?.date, time: dentist.due?.time },
        { date: "2026-12-03", time: "14:30" },
        "the same instant on the user's clock (UTC here)",
      );
      const report = byTitle(tasks, "Quarterly report");
      assert.equal(report.list, "Projects");
      assert.deepEqual(report.labels, ["work", "writing"]);
      assert.equal(report.priority, "medium");
      assert.deepEqual(
        { date: report.due?.date, time: report.due?.time },
        { date: "2026-12-07", time: null },
        "an all-day due is the day in the zone it was set in",
      );
      const numbers = byTitle(tasks, "Collect the numbers");
      assert.equal(numbers.parent_id, report.id);
      assert.equal(numbers.completed, true, "status 2 (archived) is done");
      assert.equal(byTitle(tasks, "Buy a kettle").completed, true);
      const again = await importFile(t, user, "format=ticktick", csv, "text/csv");
      assert.deepEqual((again.json() as Report).tasks, { created: 0, skipped: 4 });
    });

    test("an export imports into another account losslessly, and only once", async () => {
      const from = await signUp(t.app, "Exporter");
      await importFile(t, from, "format=todoist", fixture("todoist.csv"), "text/csv");
      await t.app.inject({
        method: "POST",
        url: "/api/chat",
        headers: from.headers,
        payload: { message: "add call mom tomorrow" },
      });
      const exported = await t.app.inject({ url: "/api/export", headers: from.headers });
      assert.equal(exported.statusCode, 200);
      assert.match(String(exported.headers["content-disposition"]), /attachment/);
      const data = exported.json() as {
        tasks: TaskJson[];
        conversations: { messages: { role: string; content: string }[] }[];
      };
      assert.equal(data.tasks.length, 7);
      assert.equal(data.conversations.length, 1);
      assert.equal(data.conversations[0]?.messages.length, 2);

      // Into the same account: nothing new.
      const own = await importFile(t, from, "format=tasktalk", exported.body, "application/json");
      assert.equal(own.statusCode, 200, own.body);
      assert.equal((own.json() as Report).tasks.created, 0);
      assert.equal((own.json() as Report).conversations.created, 0);

      const to = await signUp(t.app, "Importer");
      const first = await importFile(t, to, "format=tasktalk", exported.body, "application/json");
      assert.equal(first.statusCode, 200, first.body);
      assert.deepEqual((first.json() as Report).tasks, { created: 7, skipped: 0 });
      assert.deepEqual((first.json() as Report).conversations, { created: 1, skipped: 0 });
      const second = await importFile(t, to, "format=tasktalk", exported.body, "application/json");
      assert.deepEqual((second.json() as Report).tasks, { created: 0, skipped: 7 });
      assert.deepEqual((second.json() as Report).conversations, { created: 0, skipped: 1 });

      const strip = (tasks: TaskJson[]) =>
        tasks
          .map((x) => ({
            title: x.title,
            description: x.description,
            completed: x.completed,
            date: x.due?.date ?? null,
            time: x.due?.time ?? null,
            priority: x.priority,
            list: x.list,
            labels: x.labels,
            parent: tasks.find((p) => p.id === x.parent_id)?.title ?? null,
          }))
          .sort(
            (a, b) => a.title.localeCompare(b.title) || (a.date ?? "").localeCompare(b.date ?? ""),
          );
      assert.deepEqual(strip(await allTasks(t, to)), strip(data.tasks));
      const reexported = await t.app.inject({ url: "/api/export", headers: to.headers });
      const conversations = (reexported.json() as typeof data).conversations;
      assert.deepEqual(
        conversations[0]?.messages.map((m) => [m.role, m.content]),
        data.conversations[0]?.messages.map((m) => [m.role, m.content]),
      );
      // The imported conversation holds a turn like any other.
      const list = await t.app.inject({ url: "/api/conversations", headers: to.headers });
      const id = (list.json() as { items: { id: string }[] }).items[0]?.id;
      const turn = await t.app.inject({
        method: "POST",
        url: "/api/chat",
        headers: to.headers,
        payload: { message: "what's pending?", conversation_id: id },
      });
      assert.equal(turn.statusCode, 200, turn.body);
    });

    test("bad imports are clear 4xx and change nothing", async () => {
      const user = await signUp(t.app, "Bad");
      const cases: [string, string, string, number, string][] = [
        ["format=todoist", '{"a":1}', "application/json", 415, "unsupported_media_type"],
        ["format=tasktalk", '{"format":"other"}', "application/json", 400, "validation_failed"],
        ["format=tasktalk", "not json", "text/plain", 400, "invalid_json"],
        ["format=evernote", "x", "text/csv", 400, "validation_failed"],
        ["format=todoist", "a,b\n1,2\n", "text/csv", 400, "validation_failed"],
        ["format=ticktick", "just,some\ncsv,rows\n", "text/csv", 400, "validation_failed"],
        ["", "x", "text/csv", 400, "validation_failed"],
      ];
      for (const [query, body, type, status, code] of cases) {
        const res = await importFile(t, user, query, body, type);
        assert.equal(res.statusCode, status, `${query} ${body} → ${res.body}`);
        assert.equal(res.json().code, code);
      }
      assert.equal((await allTasks(t, user)).length, 0);
      const anonymous = await t.app.inject({ url: "/api/export" });
      assert.equal(anonymous.statusCode, 401);
    });
  });
}

if (backends.includes("pglite") && backends.includes("pg")) {
  test("moving from the embedded database to PostgreSQL: export from one, import into the other", async () => {
    const embedded = await startTestApp("pglite");
    const server = await startTestApp("pg");
    try {
      const a = await signUp(embedded.app, "Mover");
      await importFile(embedded, a, "format=ticktick", fixture("ticktick.csv"), "text/csv");
      const exported = await embedded.app.inject({ url: "/api/export", headers: a.headers });
      const b = await signUp(server.app, "Mover");
      const res = await importFile(server, b, "format=tasktalk", exported.body, "application/json");
      assert.equal(res.statusCode, 200, res.body);
      const titles = async (t: TestApp, u: TestUser) =>
        (await allTasks(t, u)).map((x) => [x.title, x.completed, x.due?.date ?? null]).sort();
      assert.deepEqual(await titles(server, b), await titles(embedded, a));
    } finally {
      await embedded.close();
      await server.close();
    }
  });
}
