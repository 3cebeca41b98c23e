import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import type { InjectOptions } from "fastify";
import { signUp, startTestApp, type TestApp, type TestUser } from "../support/app.ts";
import { availableBackends } from "../support/databases.ts";
import {
  type Account,
  type ClientSide,
  icalValue,
  ok,
  requireClients,
  runCaldavScript,
  startProxy,
} from "./clients.ts";
import {
  concurrentEdit,
  editSummary,
  findTodo,
  localItem,
  settle,
  setUpClient,
} from "./scenario.ts";

/**
 * Tasktalk's CalDAV door driven by clients this project did not write (Debian's vdirsyncer,
 * todoman, python3-caldav) over real HTTP on 127.0.0.1, with the REST API as the other
 * side. radicale.test.ts runs the same steps against Radicale; docs/caldav.md compares.
 */
await requireClients();

interface TaskJson {
  id: number;
  title: string;
  completed: boolean;
  priority: string;
  deleted_at: string | null;
  due: { date: string; recurrence: string | null } | null;
}

for (const backend of await availableBackends()) {
  describe(`real CalDAV clients against Tasktalk [${backend}]`, () => {
    let t: TestApp;
    let url: string;
    let alice: TestUser;
    let aliceAccount: Account;
    const sides: ClientSide[] = [];

    before(async () => {
      // The offline assistant: a chat turn that adds a repeating task, no model needed.
      t = await startTestApp(backend, { LLM_PROVIDER: "offline" });
      url = await t.listen();
      alice = await signUp(t.app, "Alice");
      aliceAccount = { url: `${url}/`, username: alice.email, password: await apiKey(alice) };
    });
    after(async () => {
      await t?.close();
      for (const side of sides) rmSync(side.dir, { recursive: true, force: true });
    });

    const api = async (user: TestUser, opts: InjectOptions) =>
      t.app.inject({ ...opts, headers: { ...opts.headers, ...user.headers } });
    async function apiKey(user: TestUser): Promise<string> {
      const res = await api(user, {
        method: "POST",
        url: "/api/api-keys",
        payload: { name: "vdirsyncer" },
      });
      assert.equal(res.statusCode, 201, res.body);
      return (res.json() as { key: string }).key;
    }
    async function tasks(status = "all"): Promise<TaskJson[]> {
      const res = await api(alice, { url: `/api/tasks?status=${status}&limit=100` });
      assert.equal(res.statusCode, 200, res.body);
      return (res.json() as { items: TaskJson[] }).items;
    }
    async function titled(title: string, status = "all"): Promise<TaskJson[]> {
      return (await tasks(status)).filter((task) => task.title === title);
    }
    async function one(title: string, status = "all"): Promise<TaskJson> {
      const found = await titled(title, status);
      assert.equal(
        found.length,
        1,
        `"${title}" ×${found.length}: ${JSON.stringify(await tasks())}`,
      );
      return found[0] as TaskJson;
    }

    test("chat → todoman; todoman new/edit/done/delete → the API; the API → todoman", async () => {
      const chat = await api(alice, {
        method: "POST",
        url: "/api/chat",
        payload: { message: "pay rent on the 1st of every month" },
      });
      assert.equal(chat.statusCode, 200, chat.body);
      const rent = await one("pay rent");
      assert.equal(rent.due?.recurrence, "FREQ=MONTHLY;BYMONTHDAY=1", JSON.stringify(rent));

      const side = await setUpClient(aliceAccount, `tasktalk-${backend}`, sides);
      const listed = await findTodo(side, "pay rent");
      // The default collection (tasks in no list, "Inbox" in the API) is named "Tasks" there.
      assert.equal(listed.list, "Tasks", JSON.stringify(listed));
      assert.equal(listed.due, Date.parse(`${rent.due?.date}T00:00:00Z`) / 1000);
      assert.equal(icalValue(localItem(side, "pay rent"), "RRULE"), "FREQ=MONTHLY;BYMONTHDAY=1");

      ok(await side.todoman(["new", "-l", "Tasks", "-d", "2026-12-05", "call the plumber"]));
      // Each upload is followed by syncs until vdirsyncer has nothing to do (a second
      // local edit right after an upload is the "edit again" test below).
      await settle(side);
      assert.equal((await one("call the plumber")).due?.date, "2026-12-05");

      const plumber = await findTodo(side, "call the plumber");
      await editSummary(side, plumber.id, "call the plumber about the boiler");
      ok(await side.todoman(["edit", String(plumber.id), "--due", "2026-12-06"]));
      await settle(side);
      const edited = await one("call the plumber about the boiler");
      assert.equal(edited.due?.date, "2026-12-06");

      ok(await side.todoman(["done", String(plumber.id)]));
      await settle(side);
      assert.equal((await one("call the plumber about the boiler")).completed, true);

      // todoman completes a repeating todo by writing the next occurrence as a new item and
      // the old one completed without RRULE. In the API: one pending "pay rent", due on the
      // 1st of the next month, still repeating.
      ok(await side.todoman(["done", String(listed.id)]));
      const synced = await settle(side);
      const pending = await titled("pay rent", "pending");
      assert.equal(pending.length, 1, `${JSON.stringify(await tasks())}\n${synced}`);
      assert.equal(pending[0]?.due?.date, nextMonthFirst(rent.due?.date ?? ""));
      assert.equal(pending[0]?.due?.recurrence, "FREQ=MONTHLY;BYMONTHDAY=1");

      ok(await side.todoman(["delete", "--yes", String(plumber.id)]));
      await settle(side);
      assert.equal((await titled("call the plumber about the boiler", "pending")).length, 0);
      assert.equal((await titled("call the plumber about the boiler", "completed")).length, 0);
      // Tasktalk moves it to the trash (restorable), not gone for good.
      assert.equal((await titled("call the plumber about the boiler", "deleted")).length, 1);

      // The API → the client.
      const target = pending[0] as TaskJson;
      const patch = await api(alice, {
        method: "PATCH",
        url: `/api/tasks/${target.id}`,
        payload: { title: "pay the rent", priority: "high" },
      });
      assert.equal(patch.statusCode, 200, patch.body);
      ok(await side.sync());
      const changed = await findTodo(side, "pay the rent");
      assert.ok(changed.priority >= 1 && changed.priority <= 4, JSON.stringify(changed));
      assert.match(localItem(side, "pay the rent"), /^PRIORITY:[1-4]\r?$/m);
    });

    test("todoman edit, sync, edit again, sync: no conflict (PUT answers the ETag)", async () => {
      const side = await setUpClient(aliceAccount, `tasktalk-twice-${backend}`, sides);
      ok(await side.todoman(["new", "-l", "Tasks", "-d", "2026-12-20", "book the train"]));
      ok(await side.sync());
      const train = await findTodo(side, "book the train");
      ok(await side.todoman(["edit", String(train.id), "--due", "2026-12-21"]));
      ok(await side.sync());
      assert.equal((await one("book the train")).due?.date, "2026-12-21");
      // The same task again, right after the upload: vdirsyncer kept the ETag the PUT
      // answered, so the server's copy is unchanged for it and this is no conflict.
      await editSummary(side, train.id, "book the train to Lyon");
      const second = ok(await side.sync());
      const lyon = await one("book the train to Lyon");
      assert.equal(lyon.due?.date, "2026-12-21", second.transcript);
      ok(await side.todoman(["done", String(train.id)]));
      ok(await side.sync());
      const done = await one("book the train to Lyon");
      assert.equal(done.completed, true);
      assert.equal(done.due?.date, "2026-12-21");
      // And a change in Tasktalk after that still reaches the client (the kept body is
      // no longer served once the task changed).
      const patch = await api(alice, {
        method: "PATCH",
        url: `/api/tasks/${done.id}`,
        payload: { title: "book the train to Lyon (done)" },
      });
      assert.equal(patch.statusCode, 200, patch.body);
      ok(await side.sync());
      assert.match(localItem(side, "book the train to Lyon (done)"), /STATUS:COMPLETED/);
    });

    test("concurrent edit: the server answers 412, vdirsyncer stops, 'a wins' re-syncs, the other edit stays in the activity log", async () => {
      const created = await api(alice, {
        method: "POST",
        url: "/api/tasks",
        payload: { title: "renew passport", due: { date: "2026-12-10" } },
      });
      assert.equal(created.statusCode, 201, created.body);
      const number = (created.json() as TaskJson).id;
      let armed = false;
      const proxy = await startProxy(url, async (req) => {
        if (!armed || req.method !== "PUT") return;
        armed = false;
        const res = await api(alice, {
          method: "PATCH",
          url: `/api/tasks/${number}`,
          payload: { priority: "high" },
        });
        assert.equal(res.statusCode, 200, res.body);
      });
      try {
        const side = await setUpClient(
          { ...aliceAccount, url: `${proxy.url}/` },
          `tasktalk-race-${backend}`,
          sides,
        );
        const outcome = await concurrentEdit(
          side,
          "renew passport",
          async () => {
            armed = true;
          },
          async () => JSON.stringify(await one("renew passport")),
        );
        const puts = proxy.seen.filter((r) => r.method === "PUT");
        assert.equal(puts[0]?.status, 412, `${JSON.stringify(proxy.seen)}\n${outcome.log}`);
        // Before anyone chose: the server kept the API's change, the file the local one.
        assert.equal((JSON.parse(outcome.serverAfter412) as TaskJson).priority, "high");
        assert.match(outcome.localAfter412, /SUMMARY:renew passport \(both pages\)/);
        // "a wins": the local version replaced the server's…
        const now = await one("renew passport (both pages)");
        // …and the overwritten API change is in the activity log (undoable), not lost.
        const activity = await api(alice, { url: "/api/activity?limit=50" });
        const items = (
          activity.json() as {
            items: {
              door: string;
              task_id: number | null;
              after: Record<string, unknown> | null;
            }[];
          }
        ).items.filter((a) => a.task_id === now.id);
        assert.ok(
          items.some((a) => a.door === "rest" && a.after?.priority === "high"),
          JSON.stringify(items),
        );
        assert.ok(
          items.some((a) => a.door === "caldav"),
          JSON.stringify(items),
        );
      } finally {
        await proxy.close();
      }
    });

    test("another user's key sees none of it", async () => {
      const bob = await signUp(t.app, "Bob");
      const bobAccount = { url: `${url}/`, username: bob.email, password: await apiKey(bob) };
      const side = await setUpClient(bobAccount, `tasktalk-bob-${backend}`, sides);
      assert.deepEqual(side.files(), [], "Bob's client downloaded items");
      const { out, result } = await runCaldavScript(davRoot(bobAccount), "calendars");
      const aliceCalendars = (out.calendars as { url: string }[]).filter((c) =>
        c.url.includes(alice.id),
      );
      assert.deepEqual(aliceCalendars, [], result.transcript);

      // Alice's collection and principal with Bob's key: 404 (as the API answers).
      const aliceCollections = await runCaldavScript(davRoot(aliceAccount), "calendars");
      const inbox = (aliceCollections.out.calendars as { url: string }[])[0]?.url ?? "";
      assert.match(inbox, new RegExp(alice.id), aliceCollections.result.transcript);
      const bobAuth = `Basic ${Buffer.from(`${bob.email}:${bobAccount.password}`).toString("base64")}`;
      const res = await fetch(inbox, {
        method: "PROPFIND",
        headers: { authorization: bobAuth, depth: "1" },
      });
      assert.equal(res.status, 404, await res.text());
      // A wrong key is 401 with a Basic challenge, so clients ask for the password.
      const wrong = await fetch(inbox, {
        method: "PROPFIND",
        headers: {
          authorization: `Basic ${Buffer.from(`${alice.email}:nope`).toString("base64")}`,
        },
      });
      assert.equal(wrong.status, 401);
      assert.match(wrong.headers.get("www-authenticate") ?? "", /^Basic/);
    });

    test("the calendar feed (POST /api/ical-feed) through vdirsyncer's http storage", async () => {
      const added = await api(alice, {
        method: "POST",
        url: "/api/tasks",
        payload: { title: "dentist", due: { date: "2026-12-10", time: "09:30" } },
      });
      assert.equal(added.statusCode, 201, added.body);
      const issued = await api(alice, { method: "POST", url: "/api/ical-feed" });
      assert.equal(issued.statusCode, 201, issued.body);
      const feed = `${url}${new URL((issued.json() as { url: string }).url).pathname}`;
      const side = await setUpClient(aliceAccount, `tasktalk-feed-${backend}`, sides);
      side.addFeed(feed);
      ok(await side.discover());
      const synced = ok(await side.sync(["feed"]));
      const texts = side.feedFiles();
      const summaries = texts.map((text) => icalValue(text, "SUMMARY"));
      assert.ok(summaries.includes("dentist"), `${summaries}\n${synced.transcript}`);
      const dentist = texts.find((text) => icalValue(text, "SUMMARY") === "dentist") ?? "";
      assert.match(dentist, /BEGIN:V(TODO|EVENT)/, synced.transcript);
      // Turned off: the URL a client stored stops working.
      const revoked = await api(alice, { method: "DELETE", url: "/api/ical-feed" });
      assert.equal(revoked.statusCode, 204, revoked.body);
      const gone = await fetch(feed);
      assert.equal(gone.status, 404);
    });

    test("python3-caldav: principal, calendars, add, search, complete, delete, sync tokens", async () => {
      const { out, result } = await runCaldavScript(davRoot(aliceAccount), "walk", ["Tasks"]);
      const msg = result.transcript;
      assert.match(String(out.principal), /\/dav\//, msg);
      const run = (out.search_pending as string[])[0]?.split(" ").at(-1) ?? "";
      assert.deepEqual(out.search_pending, [`pay rent ${run}`, `water plants ${run}`], msg);
      assert.deepEqual(
        out.sync_after_add,
        { updated: [`pay rent ${run}`, `water plants ${run}`], deleted: 0, token_changed: true },
        msg,
      );
      const stored = out.plain_as_stored as Record<string, string | null>;
      assert.equal(stored.DUE, "2026-12-15", msg);
      // Properties Tasktalk does not map are kept and given back (as Radicale does).
      assert.equal(stored.LOCATION, "balcony", msg);
      assert.equal(stored["X-TASKTALK-TEST"], "kept?", msg);
      assert.equal(stored.CATEGORIES, "home", msg);
      assert.deepEqual(out.stale_if_match_put, { status: 412, etag_changed: true }, msg);
      assert.equal(out.if_none_match_put_on_existing, 412, msg);
      assert.deepEqual(out.search_after_complete, [`pay rent ${run}`], msg);
      // Completing a repeating todo in place: Tasktalk moves it to its next date, pending.
      const recurring = out.recurring_after_complete as Record<string, string | null>;
      assert.equal(recurring.STATUS, "NEEDS-ACTION", msg);
      assert.equal(recurring.DUE, "2027-01-01", msg);
      assert.equal(recurring.RRULE, "FREQ=MONTHLY;BYMONTHDAY=1", msg);
      assert.equal(out.found_after_delete, false, msg);
      assert.deepEqual(out.sync_after_delete, { updated: 0, deleted: 1 }, msg);
      assert.deepEqual(out.sync_when_nothing_changed, { updated: 0, deleted: 0 }, msg);
      // An unknown sync token is refused (403, DAV:valid-sync-token), as Radicale does.
      assert.match(JSON.stringify(out.unknown_sync_token), /Forbidden/, msg);
    });
  });
}

/** python3-caldav 0.11 does no /.well-known discovery: it is given the DAV root. */
function davRoot(account: Account): Account {
  return { ...account, url: `${account.url.replace(/\/$/, "")}/dav/` };
}

/** "2026-12-01" → "2027-01-01". */
function nextMonthFirst(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)).toISOString().slice(0, 10);
}
