import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { sql } from "drizzle-orm";
import ICAL from "ical.js";
import { rowsOf } from "../../src/db/client.ts";
import { signUp, startTestApp, type TestApp, type TestUser } from "../support/app.ts";
import { availableBackends } from "../support/databases.ts";

// The read-only calendar feed: a secret URL per user, rotated by POST /api/ical-feed;
// each task with a due date as a VTODO and as a VEVENT.

for (const backend of await availableBackends()) {
  describe(`calendar feed [${backend}]`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(backend);
    });
    after(() => t.close());

    const issue = async (u: TestUser) => {
      const res = await t.app.inject({ method: "POST", url: "/api/ical-feed", headers: u.headers });
      assert.equal(res.statusCode, 201, res.body);
      const url = new URL(res.json().url as string);
      assert.match(url.pathname, /^\/ical\/[A-Za-z0-9_-]{43}\.ics$/);
      return url.pathname;
    };
    const add = async (u: TestUser, payload: object) => {
      const res = await t.app.inject({
        method: "POST",
        url: "/api/tasks",
        headers: u.headers,
        payload,
      });
      assert.equal(res.statusCode, 201, res.body);
      return res.json() as { id: number };
    };

    test("each task with a due date as VTODO and VEVENT (all day and timed), parsed by ical.js", async () => {
      const u = await signUp(t.app);
      await add(u, { title: "Holiday", due: { date: "2026-12-24" } });
      await add(u, { title: "Dentist", due: { date: "2026-12-10", time: "09:30" } });
      await add(u, { title: "Someday" });
      const path = await issue(u);
      const res = await t.app.inject({ url: path });
      assert.equal(res.statusCode, 200, res.body);
      assert.match(String(res.headers["content-type"]), /^text\/calendar/);
      const calendar = new ICAL.Component(ICAL.parse(res.body));
      const todos = calendar.getAllSubcomponents("vtodo");
      const events = calendar.getAllSubcomponents("vevent");
      const titles = (list: ICAL.Component[]) =>
        list.map((c) => String(c.getFirstPropertyValue("summary"))).sort();
      assert.deepEqual(titles(todos), ["Dentist", "Holiday"]);
      assert.deepEqual(titles(events), ["Dentist", "Holiday"]);
      const holiday = events.find((e) => e.getFirstPropertyValue("summary") === "Holiday");
      const start = holiday?.getFirstPropertyValue("dtstart") as ICAL.Time;
      const end = holiday?.getFirstPropertyValue("dtend") as ICAL.Time;
      assert.equal(start.isDate, true);
      assert.equal(start.toString(), "2026-12-24");
      assert.equal(end.toString(), "2026-12-25");
      const dentist = events.find((e) => e.getFirstPropertyValue("summary") === "Dentist");
      const at = dentist?.getFirstPropertyValue("dtstart") as ICAL.Time;
      assert.equal(at.isDate, false);
      assert.equal(at.toJSDate().toISOString(), "2026-12-10T09:30:00.000Z");
      const uids = [...todos, ...events].map((c) => c.getFirstPropertyValue("uid"));
      assert.equal(new Set(uids).size, uids.length, "every component has its own UID");
    });

    test("a timed due in a zone carries its TZID and a VTIMEZONE", async () => {
      const u = await signUp(t.app);
      const me = await t.app.inject({
        method: "PATCH",
        url: "/api/me",
        headers: u.headers,
        payload: { timezone: "Asia/Tokyo" },
      });
      assert.equal(me.statusCode, 200, me.body);
      await add(u, { title: "Call", due: { date: "2026-12-10", time: "09:30" } });
      const res = await t.app.inject({ url: await issue(u) });
      const calendar = new ICAL.Component(ICAL.parse(res.body));
      assert.equal(calendar.getAllSubcomponents("vtimezone").length, 1);
      const event = calendar.getFirstSubcomponent("vevent");
      assert.equal(event?.getFirstProperty("dtstart")?.getParameter("tzid"), "Asia/Tokyo");
    });

    test("a new URL revokes the old; unknown tokens are 404; only the hash is stored", async () => {
      const u = await signUp(t.app);
      const first = await issue(u);
      assert.equal((await t.app.inject({ url: first })).statusCode, 200);
      const second = await issue(u);
      assert.notEqual(first, second);
      assert.equal((await t.app.inject({ url: first })).statusCode, 404, "the old URL is revoked");
      assert.equal((await t.app.inject({ url: second })).statusCode, 200);
      const unknown = ["/ical/nope.ics", `/ical/${"A".repeat(43)}.ics`, second.replace(".ics", "")];
      for (const url of unknown) {
        assert.equal((await t.app.inject({ url })).statusCode, 404, url);
      }
      const token = second.slice("/ical/".length, -".ics".length);
      const stored = rowsOf<{ token_hash: string }>(
        await t.server.database.db.execute(
          sql`select token_hash from ical_feeds where user_id = ${u.id}`,
        ),
      );
      assert.equal(stored.length, 1);
      assert.ok(!stored[0]?.token_hash.includes(token), "the token itself is not stored");
      // Turned off: 404; POST without a session: 401.
      const off = await t.app.inject({
        method: "DELETE",
        url: "/api/ical-feed",
        headers: u.headers,
      });
      assert.equal(off.statusCode, 204);
      assert.equal((await t.app.inject({ url: second })).statusCode, 404);
      assert.equal((await t.app.inject({ method: "POST", url: "/api/ical-feed" })).statusCode, 401);
    });

    test("one user's feed shows only that user's tasks", async () => {
      const a = await signUp(t.app, "A");
      const b = await signUp(t.app, "B");
      await add(a, { title: "a's task", due: { date: "2026-12-01" } });
      await add(b, { title: "b's task", due: { date: "2026-12-01" } });
      const feed = await t.app.inject({ url: await issue(b) });
      assert.match(feed.body, /b's task/);
      assert.doesNotMatch(feed.body, /a's task/);
    });
  });
}
