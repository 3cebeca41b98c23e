import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type ICAL from "ical.js";
import { startTestApp, type TestApp } from "../support/app.ts";
import { availableBackends } from "../support/databases.ts";
import { type DavUser, dav, davUser, todoOf, vtodo } from "./support.ts";

// Task ↔ VTODO, both ways, through the real app: every mapped field, what a client sets
// that Tasktalk does not map (kept and given back), recurring completion, reminders,
// parents, and the activity log's door.

interface TaskJson {
  id: number;
  title: string;
  description: string;
  completed: boolean;
  priority: string;
  labels: string[];
  list: string;
  parent_id: number | null;
  completed_occurrences: number;
  due: {
    date: string;
    time: string | null;
    timezone: string;
    recurrence: string | null;
  } | null;
}

for (const backend of await availableBackends()) {
  describe(`CalDAV mapping [${backend}]`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(backend);
    });
    after(() => t.close());

    const put = async (u: DavUser, name: string, body: string, headers = {}) => {
      const res = await dav(t, u, "PUT", `${u.inbox}${name}`, {
        body,
        type: "text/calendar; charset=utf-8",
        headers,
      });
      assert.ok(res.statusCode === 201 || res.statusCode === 204, `${res.statusCode} ${res.body}`);
      return res;
    };
    const tasks = async (u: DavUser): Promise<TaskJson[]> => {
      const res = await t.app.inject({ url: "/api/tasks", headers: u.headers });
      assert.equal(res.statusCode, 200, res.body);
      return res.json().items;
    };
    const only = async (u: DavUser) => {
      const all = await tasks(u);
      assert.equal(all.length, 1, JSON.stringify(all));
      return all[0] as TaskJson;
    };
    const getTodo = async (u: DavUser, name: string) => {
      const res = await dav(t, u, "GET", `${u.inbox}${name}`);
      assert.equal(res.statusCode, 200, res.body);
      return { todo: todoOf(res.body), body: res.body, etag: String(res.headers.etag) };
    };
    /**
     * The server's own rendering of a task: right after a PUT the client's body is served
     * back as sent, so the task is first touched in Tasktalk (a new version).
     */
    const rendered = async (u: DavUser, name: string) => {
      const sent = await getTodo(u, name);
      const summary = String(sent.todo.getFirstPropertyValue("summary"));
      const task = (await tasks(u)).find((x) => x.title === summary);
      assert.ok(task, summary);
      const patch = await t.app.inject({
        method: "PATCH",
        url: `/api/tasks/${task.id}`,
        headers: u.headers,
        payload: { title: task.title },
      });
      assert.equal(patch.statusCode, 200, patch.body);
      const now = await getTodo(u, name);
      assert.notEqual(now.etag, sent.etag);
      return now;
    };
    const reminders = async (u: DavUser, n: number) => {
      const res = await t.app.inject({ url: `/api/tasks/${n}/reminders`, headers: u.headers });
      assert.equal(res.statusCode, 200, res.body);
      return res.json().items as { at: string | null; before_minutes: number | null }[];
    };

    test("client → Tasktalk: every mapped field, DUE with TZID", async () => {
      const u = await davUser(t);
      await put(
        u,
        "full.ics",
        vtodo("full-uid", [
          "SUMMARY:Pay rent",
          "DESCRIPTION:Transfer to the landlord\\, before noon",
          "DUE;TZID=America/New_York:20261215T143000",
          "PRIORITY:5",
          "CATEGORIES:Money,Home",
          "RRULE:FREQ=MONTHLY;BYMONTHDAY=15",
          "BEGIN:VALARM",
          "ACTION:DISPLAY",
          "DESCRIPTION:Pay rent",
          "TRIGGER;RELATED=END:-PT15M",
          "END:VALARM",
        ]),
      );
      const task = await only(u);
      assert.equal(task.title, "Pay rent");
      assert.equal(task.description, "Transfer to the landlord, before noon");
      assert.equal(task.priority, "medium");
      assert.deepEqual(task.labels, ["home", "money"]);
      assert.equal(task.list, "Inbox");
      assert.deepEqual(
        { date: task.due?.date, time: task.due?.time, timezone: task.due?.timezone },
        { date: "2026-12-15", time: "14:30", timezone: "America/New_York" },
      );
      assert.equal(task.due?.recurrence, "FREQ=MONTHLY;BYMONTHDAY=15");
      const r = await reminders(u, task.id);
      assert.deepEqual(
        r.map((x) => x.before_minutes),
        [15],
      );
      // And back, unchanged, as Tasktalk renders it.
      const { todo, body } = await rendered(u, "full.ics");
      const due = todo.getFirstProperty("due");
      assert.equal(due?.getParameter("tzid"), "America/New_York");
      assert.equal(String(due?.getFirstValue()), "2026-12-15T14:30:00");
      assert.match(body, /BEGIN:VTIMEZONE\r\nTZID:America\/New_York/);
      assert.equal(todo.getFirstPropertyValue("priority"), 5);
      assert.equal(String(todo.getFirstPropertyValue("rrule")), "FREQ=MONTHLY;BYMONTHDAY=15");
      assert.equal(todo.getAllSubcomponents("valarm").length, 1);
      assert.equal(
        todo.getFirstPropertyValue("description"),
        "Transfer to the landlord, before noon",
      );
    });

    test("all-day DUE, UTC DUE (read in the user's zone), PRIORITY 1/9, STATUS", async () => {
      const u = await davUser(t);
      const me = await t.app.inject({
        method: "PATCH",
        url: "/api/me",
        headers: u.headers,
        payload: { timezone: "Europe/Berlin" },
      });
      assert.equal(me.statusCode, 200, me.body);
      await put(
        u,
        "day.ics",
        vtodo("day-uid", ["SUMMARY:day", "DUE;VALUE=DATE:20261224", "PRIORITY:1"]),
      );
      await put(
        u,
        "utc.ics",
        vtodo("utc-uid", ["SUMMARY:utc", "DUE:20261224T080000Z", "PRIORITY:9"]),
      );
      const [day, utc] = await tasks(u);
      assert.deepEqual(
        [day?.due?.date, day?.due?.time, day?.priority],
        ["2026-12-24", null, "high"],
      );
      assert.deepEqual(
        [utc?.due?.date, utc?.due?.time, utc?.due?.timezone, utc?.priority],
        ["2026-12-24", "09:00", "Europe/Berlin", "low"],
      );
      const { todo } = await rendered(u, "day.ics");
      const due = todo.getFirstPropertyValue("due") as ICAL.Time;
      assert.equal(due.isDate, true);
      assert.equal(due.toString(), "2026-12-24");
      assert.equal(todo.getFirstPropertyValue("priority"), 1);
      // Completing over CalDAV, then reopening.
      await put(
        u,
        "day.ics",
        vtodo("day-uid", ["SUMMARY:day", "DUE;VALUE=DATE:20261224", "STATUS:COMPLETED"]),
      );
      assert.equal((await tasks(u))[0]?.completed, true);
      const done = await rendered(u, "day.ics");
      assert.equal(done.todo.getFirstPropertyValue("status"), "COMPLETED");
      assert.ok(done.todo.getFirstPropertyValue("completed"), "COMPLETED is set");
      await put(u, "day.ics", vtodo("day-uid", ["SUMMARY:day", "STATUS:NEEDS-ACTION"]));
      const reopened = (await tasks(u))[0];
      assert.equal(reopened?.completed, false);
      assert.equal(reopened?.due, null, "DUE removed by the client");
    });

    test("Tasktalk → client: a task made over REST, with a parent, labels and reminders", async () => {
      const u = await davUser(t);
      const create = async (payload: object) => {
        const res = await t.app.inject({
          method: "POST",
          url: "/api/tasks",
          headers: u.headers,
          payload,
        });
        assert.equal(res.statusCode, 201, res.body);
        return res.json() as TaskJson;
      };
      const parent = await create({ title: "Trip", priority: "high" });
      const child = await create({
        title: "Pack",
        parent_id: parent.id,
        labels: ["travel"],
        due: { date: "2026-12-20", time: "18:00" },
        reminders: [{ before_minutes: 30 }, { at: "2026-12-19T10:00:00Z" }],
      });
      const { todo } = await getTodo(u, `tasktalk-${child.id}.ics`);
      assert.equal(todo.getFirstPropertyValue("summary"), "Pack");
      const related = todo.getFirstProperty("related-to");
      assert.equal(related?.getFirstValue(), `tasktalk-${parent.id}@tasktalk`);
      assert.equal(related?.getParameter("reltype"), "PARENT");
      assert.deepEqual(todo.getFirstProperty("categories")?.getValues(), ["travel"]);
      assert.equal(String(todo.getFirstPropertyValue("due")), "2026-12-20T18:00:00Z");
      const triggers = todo
        .getAllSubcomponents("valarm")
        .map((a) => a.getFirstProperty("trigger")?.toICALString())
        .sort();
      assert.deepEqual(triggers, [
        "TRIGGER;RELATED=END:-PT30M",
        "TRIGGER;VALUE=DATE-TIME:20261219T100000Z",
      ]);
      const p = await getTodo(u, `tasktalk-${parent.id}.ics`);
      assert.equal(p.todo.getFirstPropertyValue("priority"), 1);
    });

    test("unknown properties and components round-trip, also across a change made in Tasktalk", async () => {
      const u = await davUser(t);
      const extras = [
        "X-APPLE-SORT-ORDER:123456",
        "URL:https://example.com/ticket/7",
        "CLASS:PRIVATE",
        "X-CUSTOM;X-PARAM=yes:some value\\, with comma",
        "DTSTART;VALUE=DATE:20261201",
        "RELATED-TO;RELTYPE=SIBLING:other-uid",
      ];
      const oddAlarm = ["BEGIN:VALARM", "ACTION:AUDIO", "TRIGGER;RELATED=END:PT5M", "END:VALARM"];
      await put(u, "x.ics", vtodo("x-uid", ["SUMMARY:keep my stuff", ...extras, ...oddAlarm]));
      const check = (todo: ICAL.Component) => {
        const lines = todo.getAllProperties().map((p) => p.toICALString());
        for (const line of extras)
          assert.ok(lines.includes(line), `${line} in ${lines.join(" | ")}`);
        const alarms = todo.getAllSubcomponents("valarm").map((a) => a.toString());
        assert.ok(
          alarms.some((a) => a.includes("ACTION:AUDIO") && a.includes("PT5M")),
          alarms.join(),
        );
      };
      check((await getTodo(u, "x.ics")).todo);
      check((await rendered(u, "x.ics")).todo);
      const task = await only(u);
      const patch = await t.app.inject({
        method: "PATCH",
        url: `/api/tasks/${task.id}`,
        headers: u.headers,
        payload: { title: "renamed in Tasktalk" },
      });
      assert.equal(patch.statusCode, 200, patch.body);
      const again = await getTodo(u, "x.ics");
      assert.equal(again.todo.getFirstPropertyValue("summary"), "renamed in Tasktalk");
      assert.equal(again.todo.getFirstPropertyValue("uid"), "x-uid");
      check(again.todo);
      // A change of an extra property alone is a new version (a new ETag).
      await put(
        u,
        "x.ics",
        vtodo("x-uid", ["SUMMARY:renamed in Tasktalk", ...extras.slice(1), ...oddAlarm]),
      );
      const third = await getTodo(u, "x.ics");
      assert.notEqual(third.etag, again.etag);
      assert.equal(third.todo.getFirstPropertyValue("x-apple-sort-order"), null);
    });

    test("completing a recurring task over CalDAV moves it to its next occurrence", async () => {
      const u = await davUser(t);
      const lines = ["SUMMARY:Water plants", "DUE;VALUE=DATE:20261201", "RRULE:FREQ=WEEKLY"];
      await put(u, "plants.ics", vtodo("plants-uid", lines));
      const { etag } = await getTodo(u, "plants.ics");
      await put(
        u,
        "plants.ics",
        vtodo("plants-uid", [...lines, "STATUS:COMPLETED", "COMPLETED:20261201T100000Z"]),
        {
          "if-match": etag,
        },
      );
      const task = await only(u);
      assert.equal(task.completed, false);
      assert.equal(task.due?.date, "2026-12-08");
      assert.equal(task.completed_occurrences, 1);
      const next = await getTodo(u, "plants.ics");
      assert.equal(next.todo.getFirstPropertyValue("status"), "NEEDS-ACTION");
      assert.equal(String(next.todo.getFirstPropertyValue("due")), "2026-12-08");
    });

    test("VALARMs become reminders; a client's change of them replaces them", async () => {
      const u = await davUser(t);
      const alarm = (trigger: string) => [
        "BEGIN:VALARM",
        "ACTION:DISPLAY",
        "DESCRIPTION:x",
        trigger,
        "END:VALARM",
      ];
      await put(
        u,
        "r.ics",
        vtodo("r-uid", [
          "SUMMARY:call",
          "DUE:20261210T150000Z",
          ...alarm("TRIGGER:-PT1H"),
          ...alarm("TRIGGER;VALUE=DATE-TIME:20261210T080000Z"),
        ]),
      );
      const task = await only(u);
      const r = await reminders(u, task.id);
      assert.deepEqual(
        r.map((x) => x.before_minutes ?? x.at).sort(),
        [60, "2026-12-10T08:00:00.000Z"].sort(),
      );
      await put(u, "r.ics", vtodo("r-uid", ["SUMMARY:call", "DUE:20261210T150000Z"]));
      assert.deepEqual(await reminders(u, task.id), [], "no VALARM: no reminder");
    });

    test("RELATED-TO sets the parent; a parent not yet known is kept as is", async () => {
      const u = await davUser(t);
      await put(u, "child.ics", vtodo("child-uid", ["SUMMARY:child", "RELATED-TO:parent-uid"]));
      const early = await getTodo(u, "child.ics");
      assert.equal(early.todo.getFirstPropertyValue("related-to"), "parent-uid");
      await put(u, "parent.ics", vtodo("parent-uid", ["SUMMARY:parent"]));
      await put(u, "child.ics", vtodo("child-uid", ["SUMMARY:child", "RELATED-TO:parent-uid"]));
      const all = await tasks(u);
      const parent = all.find((x) => x.title === "parent");
      const child = all.find((x) => x.title === "child");
      assert.equal(child?.parent_id, parent?.id);
      const back = await getTodo(u, "child.ics");
      assert.deepEqual(
        back.todo.getAllProperties("related-to").map((p) => p.getFirstValue()),
        ["parent-uid"],
        "one RELATED-TO, not a copy kept as extra",
      );
      await put(u, "child.ics", vtodo("child-uid", ["SUMMARY:child"]));
      assert.equal((await tasks(u)).find((x) => x.title === "child")?.parent_id, null);
    });

    test("changes over CalDAV are in the activity log with door caldav", async () => {
      const u = await davUser(t);
      await put(u, "a.ics", vtodo("a-uid", ["SUMMARY:logged"]));
      await put(u, "a.ics", vtodo("a-uid", ["SUMMARY:logged twice"]));
      assert.equal((await dav(t, u, "DELETE", `${u.inbox}a.ics`)).statusCode, 204);
      const res = await t.app.inject({ url: "/api/activity", headers: u.headers });
      assert.equal(res.statusCode, 200, res.body);
      const entries = res.json().items as { kind: string; door: string }[];
      assert.deepEqual(
        entries.filter((e) => e.kind.startsWith("task.")).map((e) => [e.kind, e.door]),
        [
          ["task.deleted", "caldav"],
          ["task.updated", "caldav"],
          ["task.created", "caldav"],
        ],
      );
    });
  });
}
