import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { sql } from "drizzle-orm";
import { startTestApp, type TestApp } from "../support/app.ts";
import { availableBackends } from "../support/databases.ts";
import { dav, davUser, PROPFIND_ALL, responsesOf, todoOf, vtodo } from "./support.ts";

// The CalDAV protocol over the real app (inject), raw HTTP as a calendar app sends it:
// discovery, PROPFIND, the three REPORTs, conditional writes, MKCALENDAR, sync tokens.

const propfind = (...props: string[]) =>
  `<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:cs="http://calendarserver.org/ns/"><d:prop>${props.join("")}</d:prop></d:propfind>`;
const syncReport = (token: string) =>
  `<d:sync-collection xmlns:d="DAV:"><d:sync-token>${token}</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>`;
const tokenOf = (xml: string) => /<d:sync-token>(.*?)<\/d:sync-token>/.exec(xml)?.[1] ?? "";

for (const backend of await availableBackends()) {
  describe(`CalDAV protocol [${backend}]`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(backend);
    });
    after(() => t.close());

    /** The user's only task, as the API shows it. */
    const apiTask = async (u: { headers: Record<string, string> }) => {
      const res = await t.app.inject({ url: "/api/tasks", headers: u.headers });
      assert.equal(res.statusCode, 200, res.body);
      const items = res.json().items as { id: number; title: string; priority: string }[];
      assert.equal(items.length, 1, res.body);
      return items[0] as { id: number; title: string; priority: string };
    };

    test("discovery: well-known → /dav/ → principal → calendar home → the Tasks collection", async () => {
      const u = await davUser(t);
      const wellKnown = await dav(t, undefined, "PROPFIND", "/.well-known/caldav");
      assert.equal(wellKnown.statusCode, 301);
      assert.equal(wellKnown.headers.location, "/dav/");
      const root = await dav(t, u, "PROPFIND", "/dav/", {
        body: propfind("<d:current-user-principal/>"),
        headers: { depth: "0" },
      });
      assert.equal(root.statusCode, 207, root.body);
      const principal = `/dav/principals/${u.id}/`;
      assert.ok(root.body.includes(`<d:current-user-principal><d:href>${principal}</d:href>`));
      const p = await dav(t, u, "PROPFIND", principal, {
        body: propfind("<c:calendar-home-set/>", "<d:displayname/>", "<d:nosuch/>"),
        headers: { depth: "0" },
      });
      assert.equal(p.statusCode, 207, p.body);
      assert.ok(p.body.includes(`<c:calendar-home-set><d:href>${u.home}</d:href>`), p.body);
      assert.match(p.body, /<d:nosuch\/><\/d:prop><d:status>HTTP\/1.1 404/, "unknown prop → 404");
      const home = await dav(t, u, "PROPFIND", u.home, {
        body: propfind(
          "<d:resourcetype/>",
          "<d:displayname/>",
          "<c:supported-calendar-component-set/>",
          "<cs:getctag/>",
          "<d:sync-token/>",
          "<d:current-user-privilege-set/>",
          "<d:owner/>",
        ),
        headers: { depth: "1" },
      });
      assert.equal(home.statusCode, 207, home.body);
      const hrefs = responsesOf(home.body).map((r) => r.href);
      assert.deepEqual(hrefs, [u.home, u.inbox]);
      assert.match(home.body, /<d:resourcetype><d:collection\/><c:calendar\/><\/d:resourcetype>/);
      assert.match(home.body, /<d:displayname>Tasks<\/d:displayname>/);
      assert.match(home.body, /<c:comp name="VTODO"\/>/);
      assert.match(home.body, /<cs:getctag>urn:tasktalk:sync:\d+<\/cs:getctag>/);
      assert.match(home.body, /<d:privilege><d:write\/><\/d:privilege>/);
    });

    test("OPTIONS names DAV classes and methods; a collection's GET is 405", async () => {
      const u = await davUser(t);
      const res = await dav(t, u, "OPTIONS", u.inbox);
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers.dav, "1, 3, calendar-access");
      assert.match(String(res.headers.allow), /PROPFIND.*REPORT.*MKCALENDAR/);
      assert.equal((await dav(t, u, "GET", u.inbox)).statusCode, 405);
      assert.equal((await dav(t, u, "MOVE", `${u.inbox}x.ics`)).statusCode, 405);
    });

    test("PUT creates (201), GET returns it with its ETag, PROPFIND depth 0/1 list it", async () => {
      const u = await davUser(t);
      const put = await dav(t, u, "PUT", `${u.inbox}first.ics`, {
        body: vtodo("first-uid", ["SUMMARY:Buy milk"]),
        type: "text/calendar; charset=utf-8",
        headers: { "if-none-match": "*" },
      });
      assert.equal(put.statusCode, 201, put.body);
      const get = await dav(t, u, "GET", `${u.inbox}first.ics`);
      assert.equal(get.statusCode, 200);
      assert.match(String(get.headers["content-type"]), /^text\/calendar/);
      const etag = String(get.headers.etag);
      assert.match(etag, /^"\d+"$/);
      assert.equal(todoOf(get.body).getFirstPropertyValue("summary"), "Buy milk");
      const depth0 = await dav(t, u, "PROPFIND", u.inbox, { headers: { depth: "0" } });
      assert.equal(responsesOf(depth0.body).length, 1);
      const depth1 = await dav(t, u, "PROPFIND", u.inbox, {
        body: propfind("<d:getetag/>", "<d:getcontenttype/>"),
        headers: { depth: "1" },
      });
      const items = responsesOf(depth1.body);
      assert.deepEqual(
        items.map((r) => [r.href, r.etag]),
        [
          [u.inbox, undefined],
          [`${u.inbox}first.ics`, etag],
        ],
      );
      const one = await dav(t, u, "PROPFIND", `${u.inbox}first.ics`, {
        body: PROPFIND_ALL,
        headers: { depth: "0" },
      });
      assert.equal(one.statusCode, 207);
      assert.match(one.body, /component=VTODO/);
      // A task made in Tasktalk is served under its number.
      const api = await t.app.inject({
        method: "POST",
        url: "/api/tasks",
        headers: u.headers,
        payload: { title: "from the API" },
      });
      assert.equal(api.statusCode, 201, api.body);
      const n = api.json().id as number;
      const served = await dav(t, u, "GET", `${u.inbox}tasktalk-${n}.ics`);
      assert.equal(served.statusCode, 200, served.body);
      assert.equal(todoOf(served.body).getFirstPropertyValue("uid"), `tasktalk-${n}@tasktalk`);
    });

    test("conditional writes: If-Match stale → 412, If-None-Match: * on existing → 412, nothing changes", async () => {
      const u = await davUser(t);
      const url = `${u.inbox}c.ics`;
      const body = (summary: string) => vtodo("c-uid", [`SUMMARY:${summary}`]);
      assert.equal(
        (await dav(t, u, "PUT", url, { body: body("v1"), type: "text/calendar" })).statusCode,
        201,
      );
      const etag1 = String((await dav(t, u, "GET", url)).headers.etag);
      const ok = await dav(t, u, "PUT", url, {
        body: body("v2"),
        type: "text/calendar",
        headers: { "if-match": etag1 },
      });
      assert.equal(ok.statusCode, 204, ok.body);
      const stale = await dav(t, u, "PUT", url, {
        body: body("lost update"),
        type: "text/calendar",
        headers: { "if-match": etag1 },
      });
      assert.equal(stale.statusCode, 412, stale.body);
      const exists = await dav(t, u, "PUT", url, {
        body: body("clobber"),
        type: "text/calendar",
        headers: { "if-none-match": "*" },
      });
      assert.equal(exists.statusCode, 412, exists.body);
      const missing = await dav(t, u, "PUT", `${u.inbox}nope.ics`, {
        body: vtodo("nope-uid", ["SUMMARY:x"]),
        type: "text/calendar",
        headers: { "if-match": etag1 },
      });
      assert.equal(missing.statusCode, 412, "If-Match on a missing resource");
      const now = await dav(t, u, "GET", url);
      assert.equal(todoOf(now.body).getFirstPropertyValue("summary"), "v2");
      assert.notEqual(now.headers.etag, etag1);
      const staleDelete = await dav(t, u, "DELETE", url, { headers: { "if-match": etag1 } });
      assert.equal(staleDelete.statusCode, 412);
      const del = await dav(t, u, "DELETE", url, {
        headers: { "if-match": String(now.headers.etag) },
      });
      assert.equal(del.statusCode, 204);
      assert.equal((await dav(t, u, "GET", url)).statusCode, 404);
      assert.equal((await dav(t, u, "DELETE", url)).statusCode, 404);
      // The task is in Tasktalk's trash, not gone.
      const trash = await t.app.inject({ url: "/api/tasks?status=deleted", headers: u.headers });
      assert.deepEqual(
        trash.json().items.map((x: { title: string }) => x.title),
        ["v2"],
      );
    });

    test("PUT answers the ETag of the body it keeps; that body is served as sent until the task changes", async () => {
      const u = await davUser(t);
      const url = `${u.inbox}kept.ics`;
      const put = (body: string, headers: Record<string, string> = {}) =>
        dav(t, u, "PUT", url, { body, type: "text/calendar; charset=utf-8", headers });
      // Not as Tasktalk would render it: PRIORITY 2 (Tasktalk says 1), no VTIMEZONE, folded.
      const first = vtodo("kept-uid", [
        "SUMMARY:Call the bank",
        "PRIORITY:2",
        "DUE;TZID=Europe/Paris:20261215T100000",
        "X-CLIENT-ORDER:7",
      ]);
      const created = await put(first, { "if-none-match": "*" });
      assert.equal(created.statusCode, 201, created.body);
      const etag1 = String(created.headers.etag);
      assert.match(etag1, /^"\d+"$/);
      const get = await dav(t, u, "GET", url);
      assert.equal(get.body, first, "the bytes the client sent");
      assert.equal(get.headers.etag, etag1);
      // The same ETag and body in PROPFIND, calendar-query, multiget and sync-collection.
      const listed = responsesOf(
        (
          await dav(t, u, "PROPFIND", u.inbox, {
            body: propfind("<d:getetag/>", "<c:calendar-data/>"),
            headers: { depth: "1" },
          })
        ).body,
      ).find((r) => r.href === url);
      assert.deepEqual([listed?.etag, listed?.data], [etag1, first]);
      const query = await dav(t, u, "REPORT", u.inbox, {
        body: `<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data/></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VTODO"/></c:comp-filter></c:filter></c:calendar-query>`,
      });
      assert.deepEqual(
        responsesOf(query.body).map((r) => [r.href, r.etag, r.data]),
        [[url, etag1, first]],
      );
      const multiget = await dav(t, u, "REPORT", u.inbox, {
        body: `<c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data/></d:prop><d:href>${url}</d:href></c:calendar-multiget>`,
      });
      assert.deepEqual(
        responsesOf(multiget.body).map((r) => [r.etag, r.data]),
        [[etag1, first]],
      );
      const synced = await dav(t, u, "REPORT", u.inbox, { body: syncReport("") });
      assert.deepEqual(
        responsesOf(synced.body).map((r) => [r.href, r.etag]),
        [[url, etag1]],
      );
      assert.equal((await apiTask(u)).priority, "high");

      // The ETag a PUT answered is the one to send next (a client that keeps it).
      const second = first.replace("SUMMARY:Call the bank", "SUMMARY:Call the bank at 10");
      const edited = await put(second, { "if-match": etag1 });
      assert.equal(edited.statusCode, 204, edited.body);
      const etag2 = String(edited.headers.etag);
      assert.notEqual(etag2, etag1);
      assert.deepEqual([(await dav(t, u, "GET", url)).body, etag2], [second, etag2]);
      // Only the bytes differ (DTSTAMP): no field changes, yet a new body is a new ETag.
      const third = second.replace("DTSTAMP:20261130T080000Z", "DTSTAMP:20261130T090000Z");
      const touched = await put(third, { "if-match": etag2 });
      assert.equal(touched.statusCode, 204, touched.body);
      const etag3 = String(touched.headers.etag);
      assert.notEqual(etag3, etag2);
      const afterTouch = await dav(t, u, "GET", url);
      assert.deepEqual([afterTouch.body, afterTouch.headers.etag], [third, etag3]);
      assert.equal((await apiTask(u)).title, "Call the bank at 10");

      // A change made in Tasktalk: the server's rendering, a new ETag, the old one is stale.
      const task = await apiTask(u);
      const patch = await t.app.inject({
        method: "PATCH",
        url: `/api/tasks/${task.id}`,
        headers: u.headers,
        payload: { priority: "low" },
      });
      assert.equal(patch.statusCode, 200, patch.body);
      const renderedNow = await dav(t, u, "GET", url);
      assert.notEqual(renderedNow.headers.etag, etag3);
      assert.notEqual(renderedNow.body, third);
      const todo = todoOf(renderedNow.body);
      assert.equal(todo.getFirstPropertyValue("priority"), 9);
      assert.equal(todo.getFirstPropertyValue("x-client-order"), "7");
      assert.match(renderedNow.body, /BEGIN:VTIMEZONE\r\nTZID:Europe\/Paris/);
      assert.equal((await put(third, { "if-match": etag3 })).statusCode, 412);
    });

    test("a PUT the server stores differently (repeating task completed in place) answers no ETag", async () => {
      const u = await davUser(t);
      const url = `${u.inbox}weekly.ics`;
      const lines = ["SUMMARY:Water plants", "DUE;VALUE=DATE:20261201", "RRULE:FREQ=WEEKLY"];
      const created = await dav(t, u, "PUT", url, {
        body: vtodo("weekly-uid", lines),
        type: "text/calendar",
      });
      assert.equal(created.statusCode, 201, created.body);
      const etag = String(created.headers.etag);
      assert.match(etag, /^"\d+"$/);
      const sent = vtodo("weekly-uid", [...lines, "STATUS:COMPLETED"]);
      const done = await dav(t, u, "PUT", url, {
        body: sent,
        type: "text/calendar",
        headers: { "if-match": etag },
      });
      assert.equal(done.statusCode, 204, done.body);
      assert.equal(done.headers.etag, undefined, "stored ≠ sent: no ETag (RFC 4791 §5.3.4)");
      const get = await dav(t, u, "GET", url);
      assert.notEqual(get.headers.etag, etag);
      assert.notEqual(get.body, sent);
      const todo = todoOf(get.body);
      assert.equal(todo.getFirstPropertyValue("status"), "NEEDS-ACTION");
      assert.equal(String(todo.getFirstPropertyValue("due")), "2026-12-08");
      // Created completed in one PUT: the same (it is stored at its next date).
      const fresh = await dav(t, u, "PUT", `${u.inbox}fresh.ics`, {
        body: vtodo("fresh-uid", [...lines, "STATUS:COMPLETED"]),
        type: "text/calendar",
      });
      assert.equal(fresh.statusCode, 201, fresh.body);
      assert.equal(fresh.headers.etag, undefined);
    });

    test("two apps writing the same version at once: one wins, the other gets 412", async () => {
      const u = await davUser(t);
      const url = `${u.inbox}race.ics`;
      const body = (s: string) => vtodo("race-uid", [`SUMMARY:${s}`]);
      await dav(t, u, "PUT", url, { body: body("start"), type: "text/calendar" });
      const etag = String((await dav(t, u, "GET", url)).headers.etag);
      const results = await Promise.all(
        ["phone", "laptop"].map((who) =>
          dav(t, u, "PUT", url, {
            body: body(who),
            type: "text/calendar",
            headers: { "if-match": etag },
          }),
        ),
      );
      assert.deepEqual(results.map((r) => r.statusCode).sort(), [204, 412]);
      const winner = results.findIndex((r) => r.statusCode === 204) === 0 ? "phone" : "laptop";
      const now = await dav(t, u, "GET", url);
      assert.equal(todoOf(now.body).getFirstPropertyValue("summary"), winner);
      // The winner's ETag is the one served; the loser got none.
      assert.deepEqual(
        results.map((r) => r.headers.etag ?? null),
        results.map((r) => (r.statusCode === 204 ? now.headers.etag : null)),
      );
    });

    test("calendar-query (all, pending only) and calendar-multiget", async () => {
      const u = await davUser(t);
      for (const [name, lines] of [
        ["open", ["SUMMARY:open one"]],
        ["done", ["SUMMARY:done one", "STATUS:COMPLETED", "COMPLETED:20261130T090000Z"]],
      ] as const) {
        const res = await dav(t, u, "PUT", `${u.inbox}${name}.ics`, {
          body: vtodo(`${name}-uid`, [...lines]),
          type: "text/calendar",
        });
        assert.equal(res.statusCode, 201, res.body);
      }
      const query = (filter: string) =>
        `<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data/></d:prop><c:filter><c:comp-filter name="VCALENDAR">${filter}</c:comp-filter></c:filter></c:calendar-query>`;
      const all = await dav(t, u, "REPORT", u.inbox, {
        body: query(`<c:comp-filter name="VTODO"/>`),
        headers: { depth: "1" },
      });
      assert.equal(all.statusCode, 207, all.body);
      const found = responsesOf(all.body);
      assert.deepEqual(found.map((r) => r.href).sort(), [
        `${u.inbox}done.ics`,
        `${u.inbox}open.ics`,
      ]);
      assert.ok(found.every((r) => r.data && todoOf(r.data)));
      const pending = await dav(t, u, "REPORT", u.inbox, {
        body: query(
          `<c:comp-filter name="VTODO"><c:prop-filter name="COMPLETED"><c:is-not-defined/></c:prop-filter></c:comp-filter>`,
        ),
      });
      assert.deepEqual(
        responsesOf(pending.body).map((r) => r.href),
        [`${u.inbox}open.ics`],
      );
      const events = await dav(t, u, "REPORT", u.inbox, {
        body: query(`<c:comp-filter name="VEVENT"/>`),
      });
      assert.deepEqual(responsesOf(events.body), [], "no events here");
      const multiget = await dav(t, u, "REPORT", u.inbox, {
        body: `<c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data/></d:prop><d:href>${u.inbox}open.ics</d:href><d:href>${u.inbox}missing.ics</d:href></c:calendar-multiget>`,
      });
      const got = responsesOf(multiget.body);
      assert.deepEqual(
        got.map((r) => [r.href, r.status]),
        [
          [`${u.inbox}open.ics`, "200"],
          [`${u.inbox}missing.ics`, "404"],
        ],
      );
      assert.equal(todoOf(got[0]?.data ?? "").getFirstPropertyValue("summary"), "open one");
    });

    test("sync-collection: initial, incremental with changes and deletions, invalid token → 403", async () => {
      const u = await davUser(t);
      const put = (name: string, summary: string) =>
        dav(t, u, "PUT", `${u.inbox}${name}`, {
          body: vtodo(`${name}-uid`, [`SUMMARY:${summary}`]),
          type: "text/calendar",
        });
      await put("a.ics", "a");
      await put("b.ics", "b");
      const initial = await dav(t, u, "REPORT", u.inbox, { body: syncReport("") });
      assert.equal(initial.statusCode, 207, initial.body);
      assert.deepEqual(
        responsesOf(initial.body)
          .map((r) => r.href)
          .sort(),
        [`${u.inbox}a.ics`, `${u.inbox}b.ics`],
      );
      const token1 = tokenOf(initial.body);
      assert.match(token1, /^urn:tasktalk:sync:\d+$/);
      const same = await dav(t, u, "REPORT", u.inbox, { body: syncReport(token1) });
      assert.deepEqual(responsesOf(same.body), [], "nothing changed");
      assert.equal(tokenOf(same.body), token1);

      await put("b.ics", "b changed");
      await put("c.ics", "c");
      assert.equal((await dav(t, u, "DELETE", `${u.inbox}a.ics`)).statusCode, 204);
      const delta = await dav(t, u, "REPORT", u.inbox, { body: syncReport(token1) });
      const changes = responsesOf(delta.body).map((r) => [r.href, r.status]);
      assert.deepEqual(changes.sort(), [
        [`${u.inbox}a.ics`, "404"],
        [`${u.inbox}b.ics`, "200"],
        [`${u.inbox}c.ics`, "200"],
      ]);
      const token2 = tokenOf(delta.body);
      assert.notEqual(token2, token1);
      // A change made elsewhere (the REST API) shows up too.
      const list = await t.app.inject({ url: "/api/tasks", headers: u.headers });
      const c = list.json().items.find((x: { title: string }) => x.title === "c");
      await t.app.inject({
        method: "PATCH",
        url: `/api/tasks/${c.id}`,
        headers: u.headers,
        payload: { title: "c from the API" },
      });
      const delta2 = await dav(t, u, "REPORT", u.inbox, { body: syncReport(token2) });
      assert.deepEqual(
        responsesOf(delta2.body).map((r) => r.href),
        [`${u.inbox}c.ics`],
      );

      for (const bad of ["nonsense", "urn:tasktalk:sync:999999999"]) {
        const res = await dav(t, u, "REPORT", u.inbox, { body: syncReport(bad) });
        assert.equal(res.statusCode, 403, bad);
        assert.match(res.body, /<d:valid-sync-token\/>/);
      }
      // The trash purge forgets trashed tasks for good: older tokens cannot be answered.
      await t.server.database.db.execute(
        sql`delete from tasks where user_id = ${u.id} and deleted_at is not null`,
      );
      const purged = await dav(t, u, "REPORT", u.inbox, { body: syncReport(token1) });
      assert.equal(purged.statusCode, 403, purged.body);
      const fresh = await dav(t, u, "REPORT", u.inbox, { body: syncReport(tokenOf(delta2.body)) });
      assert.equal(fresh.statusCode, 207, "a token newer than the purge still works");
    });

    test("MKCALENDAR makes a list; tasks PUT there are in it; moving between collections", async () => {
      const u = await davUser(t);
      const url = `${u.home}shopping-list/`;
      const made = await dav(t, u, "MKCALENDAR", url, {
        body: `<?xml version="1.0"?><c:mkcalendar xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:set><d:prop><d:displayname>Shopping</d:displayname></d:prop></d:set></c:mkcalendar>`,
      });
      assert.equal(made.statusCode, 201, made.body);
      assert.equal((await dav(t, u, "MKCALENDAR", url)).statusCode, 405, "exists already");
      const dup = await dav(t, u, "MKCALENDAR", `${u.home}other/`, {
        body: `<c:mkcalendar xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:set><d:prop><d:displayname>shopping</d:displayname></d:prop></d:set></c:mkcalendar>`,
      });
      assert.equal(dup.statusCode, 409, "a list of that name exists");
      const home = await dav(t, u, "PROPFIND", u.home, {
        body: propfind("<d:displayname/>"),
        headers: { depth: "1" },
      });
      assert.deepEqual(
        responsesOf(home.body).map((r) => r.href),
        [u.home, u.inbox, url],
      );
      const put = await dav(t, u, "PUT", `${url}eggs.ics`, {
        body: vtodo("eggs-uid", ["SUMMARY:Eggs"]),
        type: "text/calendar",
      });
      assert.equal(put.statusCode, 201, put.body);
      const api = await t.app.inject({ url: "/api/tasks?list=Shopping", headers: u.headers });
      assert.deepEqual(
        api.json().items.map((x: { title: string }) => x.title),
        ["Eggs"],
      );
      // A client moving the task: the same UID PUT into the default collection.
      const moved = await dav(t, u, "PUT", `${u.inbox}eggs.ics`, {
        body: vtodo("eggs-uid", ["SUMMARY:Eggs"]),
        type: "text/calendar",
      });
      assert.equal(moved.statusCode, 201, moved.body);
      assert.equal((await dav(t, u, "GET", `${url}eggs.ics`)).statusCode, 404);
      const after = await t.app.inject({ url: "/api/tasks", headers: u.headers });
      assert.deepEqual(
        after.json().items.map((x: { list: string }) => x.list),
        ["Inbox"],
      );
      // A list made in Tasktalk is a collection too (served by its id).
      await t.app.inject({
        method: "POST",
        url: "/api/tasks",
        headers: u.headers,
        payload: { title: "report", list: "Work" },
      });
      const again = await dav(t, u, "PROPFIND", u.home, {
        body: propfind("<d:displayname/>"),
        headers: { depth: "1" },
      });
      assert.match(again.body, /<d:displayname>Work<\/d:displayname>/);
    });

    test("PROPPATCH is answered per property (403: lists are renamed in Tasktalk)", async () => {
      const u = await davUser(t);
      const res = await dav(t, u, "PROPPATCH", u.inbox, {
        body: `<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop><d:displayname>New</d:displayname></d:prop></d:set></d:propertyupdate>`,
      });
      assert.equal(res.statusCode, 207, res.body);
      assert.match(res.body, /<d:displayname\/><\/d:prop><d:status>HTTP\/1.1 403/);
    });
  });
}
