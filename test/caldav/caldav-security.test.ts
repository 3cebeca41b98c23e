import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { sql } from "drizzle-orm";
import { rowsOf } from "../../src/db/client.ts";
import { signUp, startTestApp, type TestApp, type TestUser } from "../support/app.ts";
import { availableBackends } from "../support/databases.ts";
import { type DavUser, dav, davUser, vtodo } from "./support.ts";

// Who may reach what over CalDAV: Basic with the account's e-mail and one of ITS API keys,
// nothing of another user's (404), and bad input answered 4xx without changing anything.

for (const backend of await availableBackends()) {
  describe(`CalDAV security [${backend}]`, () => {
    let t: TestApp;
    let admin: TestUser;
    before(async () => {
      t = await startTestApp(backend);
      admin = await signUp(t.app, "Admin"); // the first account is the admin
    });
    after(() => t.close());

    const basic = (email: string, password: string) => ({
      basic: `Basic ${Buffer.from(`${email}:${password}`).toString("base64")}`,
    });

    test("wrong or missing credentials → 401 with WWW-Authenticate: Basic", async () => {
      const a = await davUser(t, "Alice");
      const b = await davUser(t, "Bob");
      const cases = {
        none: undefined,
        "the password": basic(a.email, "correct horse battery"),
        "B's key with A's e-mail": basic(a.email, b.key),
        "a forged key": basic(a.email, `tt_${"A".repeat(43)}`),
        "no colon": { basic: `Basic ${Buffer.from(a.key).toString("base64")}` },
        "a bearer session": { basic: a.headers.authorization },
      };
      for (const [name, user] of Object.entries(cases)) {
        const res = await dav(t, user, "PROPFIND", a.inbox, { headers: { depth: "0" } });
        assert.equal(res.statusCode, 401, name);
        assert.equal(
          res.headers["www-authenticate"],
          'Basic realm="Tasktalk", charset="UTF-8"',
          name,
        );
      }
      const upper = basic(a.email.toUpperCase(), a.key);
      assert.equal(
        (await dav(t, upper, "PROPFIND", a.inbox)).statusCode,
        207,
        "e-mail ignores case",
      );
      // A revoked key stops working.
      const keys = await t.app.inject({ url: "/api/api-keys", headers: a.headers });
      const id = keys.json().items[0].id as string;
      await t.app.inject({ method: "DELETE", url: `/api/api-keys/${id}`, headers: a.headers });
      assert.equal((await dav(t, a, "PROPFIND", a.inbox)).statusCode, 401);
    });

    test("user B's key on A's paths → 404, and A's data is untouched", async () => {
      const a = await davUser(t, "Alice");
      const b = await davUser(t, "Bob");
      const put = await dav(t, a, "PUT", `${a.inbox}secret.ics`, {
        body: vtodo("alice-secret", ["SUMMARY:alice's secret"]),
        type: "text/calendar",
      });
      assert.equal(put.statusCode, 201);
      const made = await dav(t, a, "MKCALENDAR", `${a.home}private/`);
      assert.equal(made.statusCode, 201, made.body);
      const paths = [
        `/dav/principals/${a.id}/`,
        a.home,
        a.inbox,
        `${a.home}private/`,
        `${a.inbox}secret.ics`,
      ];
      for (const path of paths) {
        for (const method of ["PROPFIND", "GET", "DELETE", "REPORT", "PROPPATCH", "MKCALENDAR"]) {
          const res = await dav(t, b, method, path, {
            body:
              method === "REPORT"
                ? `<d:sync-collection xmlns:d="DAV:"><d:sync-token/></d:sync-collection>`
                : method === "PROPPATCH"
                  ? `<d:propertyupdate xmlns:d="DAV:"/>`
                  : "",
          });
          assert.equal(res.statusCode, 404, `${method} ${path}: ${res.body}`);
          assert.doesNotMatch(res.body, /alice/i);
        }
        const overwrite = await dav(t, b, "PUT", `${a.inbox}secret.ics`, {
          body: vtodo("alice-secret", ["SUMMARY:bob was here"]),
          type: "text/calendar",
        });
        assert.equal(overwrite.statusCode, 404);
      }
      // B's own collections are B's: A's list and task do not show there.
      const own = await dav(t, b, "PROPFIND", b.home, { headers: { depth: "1" } });
      assert.doesNotMatch(own.body, /private|secret/);
      // A multiget from B naming A's resource finds nothing.
      const multiget = await dav(t, b, "REPORT", b.inbox, {
        body: `<c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><c:calendar-data/></d:prop><d:href>${a.inbox}secret.ics</d:href></c:calendar-multiget>`,
      });
      assert.equal(multiget.statusCode, 207);
      assert.doesNotMatch(multiget.body, /alice's secret/);
      // B reusing A's UID makes B's own task; A's is unchanged.
      const same = await dav(t, b, "PUT", `${b.inbox}secret.ics`, {
        body: vtodo("alice-secret", ["SUMMARY:bob's own"]),
        type: "text/calendar",
      });
      assert.equal(same.statusCode, 201);
      const aTasks = await t.app.inject({ url: "/api/tasks", headers: a.headers });
      assert.deepEqual(
        aTasks.json().items.map((x: { title: string }) => x.title),
        ["alice's secret"],
      );
    });

    test("bad XML, bad iCalendar, bad input → 4xx (never 500), nothing stored changes", async () => {
      const u = await davUser(t);
      const url = `${u.inbox}t.ics`;
      const good = await dav(t, u, "PUT", url, {
        body: vtodo("t-uid", ["SUMMARY:original", "X-KEEP:1"]),
        type: "text/calendar",
      });
      assert.equal(good.statusCode, 201);
      const before = await snapshot(u);
      const bad: [string, string, string, string][] = [
        ["PROPFIND", u.inbox, "<d:propfind xmlns:d='DAV:'><d:prop>", "application/xml"],
        ["PROPFIND", u.inbox, "<not-dav/>", "application/xml"],
        ["REPORT", u.inbox, "<<<", "application/xml"],
        ["REPORT", u.inbox, "", "application/xml"],
        ["REPORT", u.inbox, `<x:unknown-report xmlns:x="urn:x"/>`, "application/xml"],
        ["MKCALENDAR", `${u.home}new/`, "<c:mkcalendar", "application/xml"],
        ["PROPPATCH", u.inbox, "garbage", "text/xml"],
        ["PUT", url, "not ical at all", "text/calendar"],
        ["PUT", url, "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "text/calendar"],
        ["PUT", url, vtodo("t-uid", ["SUMMARY:x"]).replace("UID:t-uid\r\n", ""), "text/calendar"],
        [
          "PUT",
          url,
          vtodo("t-uid", ["SUMMARY:x", "DUE:20261201T100000Z", "RRULE:FREQ=SECONDLY"]),
          "text/calendar",
        ],
        ["PUT", url, vtodo("t-uid", ["SUMMARY:x", "DUE:notadate"]), "text/calendar"],
        ["PUT", url, vtodo("t-uid", ["SUMMARY:x", "DESCRIPTION:bad\u0000byte"]), "text/calendar"],
        ["PUT", url, vtodo("t-uid", [`SUMMARY:${"long ".repeat(100)}`]), "text/calendar"],
        [
          "PUT",
          url,
          vtodo("t-uid", ["SUMMARY:x"]).replace(
            "END:VCALENDAR",
            "BEGIN:VEVENT\r\nUID:e\r\nEND:VEVENT\r\nEND:VCALENDAR",
          ),
          "text/calendar",
        ],
        ["PUT", `${u.inbox}other.ics`, vtodo("t-uid", ["SUMMARY:steals the uid"]), "text/calendar"],
        ["PUT", u.inbox, vtodo("z", ["SUMMARY:x"]), "text/calendar"],
        ["PUT", `${u.home}nope/x.ics`, vtodo("z", ["SUMMARY:x"]), "text/calendar"],
      ];
      for (const [method, path, body, type] of bad) {
        const res = await dav(t, u, method, path, { body, type });
        const label = `${method} ${path} ${JSON.stringify(body.slice(80, 200))}: ${res.statusCode} ${res.body.slice(0, 200)}`;
        assert.ok(res.statusCode >= 400 && res.statusCode < 500, label);
      }
      assert.deepEqual(await snapshot(u), before, "nothing changed");
    });

    test("an account with CalDAV lists and tasks can be deleted (the change-number trigger)", async () => {
      const u = await davUser(t, "Leaving");
      assert.equal((await dav(t, u, "MKCALENDAR", `${u.home}mine/`)).statusCode, 201);
      const put = await dav(t, u, "PUT", `${u.home}mine/a.ics`, {
        body: vtodo("a", ["SUMMARY:a"]),
        type: "text/calendar",
      });
      assert.equal(put.statusCode, 201);
      const res = await t.app.inject({
        method: "DELETE",
        url: `/api/admin/users/${u.id}`,
        headers: admin.headers,
      });
      assert.ok(res.statusCode < 300, res.body);
      const left = rowsOf<{ n: number }>(
        await t.server.database.db.execute(
          sql`select (select count(*) from tasks where user_id = ${u.id})
               + (select count(*) from task_change_counters where user_id = ${u.id})
               + (select count(*) from caldav_objects where user_id = ${u.id}) as n`,
        ),
      );
      assert.equal(Number(left[0]?.n), 0);
    });

    const snapshot = async (u: DavUser) => {
      const rows = rowsOf<{ r: string }>(
        await t.server.database.db.execute(
          sql`select to_jsonb(x)::text as r from (
                select t.number, t.title, t.version, t.change_seq, o.uid, o.name, o.extra
                from tasks t left join caldav_objects o on o.task_id = t.id
                where t.user_id = ${u.id}) x order by 1`,
        ),
      );
      const lists = rowsOf<{ name: string }>(
        await t.server.database.db.execute(sql`select name from lists where user_id = ${u.id}`),
      );
      return { tasks: rows.map((x) => x.r), lists: lists.map((x) => x.name) };
    };
  });
}
