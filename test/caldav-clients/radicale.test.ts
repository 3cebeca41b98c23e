import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import {
  type ClientSide,
  icalValue,
  ok,
  requireClients,
  runCaldavScript,
  startProxy,
} from "./clients.ts";
import { type Radicale, startRadicale } from "./radicale.ts";
import { concurrentEdit, editSummary, findTodo, setUpClient } from "./scenario.ts";

/**
 * The same clients and steps as tasktalk.test.ts, against Radicale (the reference CalDAV
 * server): what a plain CalDAV store does, so docs/caldav.md can say what Tasktalk does
 * differently and why. "Elsewhere" here is raw HTTP, as Radicale has no other door.
 */
await requireClients();

const USERS = { alice: "alice-secret", bob: "bob-secret" };
const basic = (user: keyof typeof USERS) =>
  `Basic ${Buffer.from(`${user}:${USERS[user]}`).toString("base64")}`;

describe("vdirsyncer, todoman and python3-caldav against Radicale", () => {
  let radicale: Radicale;
  let inbox: string;
  const sides: ClientSide[] = [];
  const alice = () => ({ url: `${radicale.url}/`, username: "alice", password: USERS.alice });

  before(async () => {
    radicale = await startRadicale(USERS);
    inbox = await radicale.makeCalendar("alice", USERS.alice, "Inbox");
  });
  after(async () => {
    await radicale?.close();
    for (const side of sides) rmSync(side.dir, { recursive: true, force: true });
  });

  /** The server's copy of every item, as iCalendar texts (one REPORT-free GET each). */
  async function serverItems(): Promise<string[]> {
    const res = await fetch(inbox, {
      method: "PROPFIND",
      headers: { authorization: basic("alice"), depth: "1" },
    });
    const hrefs = [...(await res.text()).matchAll(/<href>([^<]+\.ics)<\/href>/g)].map((m) => m[1]);
    return Promise.all(
      hrefs.map(async (href) =>
        (
          await fetch(`${radicale.url}${href}`, { headers: { authorization: basic("alice") } })
        ).text(),
      ),
    );
  }
  const withSummary = async (summary: string) =>
    (await serverItems()).filter((t) => icalValue(t, "SUMMARY") === summary);

  async function put(uid: string, body: string, etag?: string | null): Promise<number> {
    const res = await fetch(`${inbox}${uid}.ics`, {
      method: "PUT",
      headers: {
        authorization: basic("alice"),
        "content-type": "text/calendar",
        ...(etag ? { "if-match": etag } : {}),
      },
      body,
    });
    await res.arrayBuffer();
    return res.status;
  }

  test("vdirsyncer + todoman: both directions, recurring completion, delete", async () => {
    const side = await setUpClient(alice(), "radicale-alice", sides);
    assert.deepEqual(side.collections(), ["Inbox"]);

    // From elsewhere → local.
    assert.equal(
      await put("rent", vtodo("rent", "pay rent", "20261201", "FREQ=MONTHLY;BYMONTHDAY=1")),
      201,
    );
    ok(await side.sync());
    const rent = await findTodo(side, "pay rent");

    // Local → server: new, edit (summary and due), done, delete.
    ok(await side.todoman(["new", "-l", "Inbox", "-d", "2026-12-05", "call the plumber"]));
    ok(await side.sync());
    assert.equal((await withSummary("call the plumber")).length, 1);
    const plumber = await findTodo(side, "call the plumber");
    await editSummary(side, plumber.id, "call the plumber about the boiler");
    ok(await side.todoman(["edit", String(plumber.id), "--due", "2026-12-06"]));
    ok(await side.sync());
    const [edited] = await withSummary("call the plumber about the boiler");
    assert.equal(icalValue(edited ?? "", "DUE"), "20261206");
    ok(await side.todoman(["done", String(plumber.id)]));
    ok(await side.sync());
    assert.equal(
      icalValue((await withSummary("call the plumber about the boiler"))[0] ?? "", "STATUS"),
      "COMPLETED",
    );

    // todoman completes a repeating todo by writing the next one as a NEW item (new UID)
    // and the old one completed without its RRULE; Radicale stores exactly that.
    ok(await side.todoman(["done", String(rent.id)]));
    ok(await side.sync());
    const copies = await withSummary("pay rent");
    assert.equal(copies.length, 2, copies.join("\n"));
    const done = copies.find((t) => icalValue(t, "STATUS") === "COMPLETED") ?? "";
    const next = copies.find((t) => icalValue(t, "STATUS") === "NEEDS-ACTION") ?? "";
    assert.equal(icalValue(done, "RRULE"), undefined);
    assert.equal(icalValue(next, "RRULE"), "FREQ=MONTHLY;BYMONTHDAY=1");
    assert.match(icalValue(next, "DUE") ?? "", /^20270101/);

    ok(await side.todoman(["delete", "--yes", String(plumber.id)]));
    ok(await side.sync());
    assert.equal((await withSummary("call the plumber about the boiler")).length, 0);

    // A change from elsewhere → the local file after sync.
    const res = await fetch(`${inbox}rent.ics`, { headers: { authorization: basic("alice") } });
    const text = (await res.text()).replace("SUMMARY:pay rent", "SUMMARY:pay the rent");
    // Radicale answers 201 to a PUT that replaces an item too.
    assert.equal(await put("rent", text, res.headers.get("etag")), 201);
    ok(await side.sync());
    await findTodo(side, "pay the rent", true);
  });

  test("todoman edit, sync, edit again, sync: no conflict (Radicale answers PUT with an ETag)", async () => {
    const side = await setUpClient(alice(), "radicale-twice", sides);
    ok(await side.todoman(["new", "-l", "Inbox", "-d", "2026-12-20", "book the train"]));
    ok(await side.sync());
    const train = await findTodo(side, "book the train");
    ok(await side.todoman(["edit", String(train.id), "--due", "2026-12-21"]));
    ok(await side.sync());
    ok(await side.todoman(["done", String(train.id)]));
    ok(await side.sync());
    const [stored] = await withSummary("book the train");
    assert.equal(icalValue(stored ?? "", "STATUS"), "COMPLETED");
  });

  test("concurrent edit: vdirsyncer's PUT gets a 412; it stops, then 'a wins' re-syncs", async () => {
    assert.equal(await put("passport", vtodo("passport", "renew passport", "20261210")), 201);
    let armed = false;
    const proxy = await startProxy(radicale.url, async (req) => {
      if (!armed || req.method !== "PUT") return;
      armed = false;
      const res = await fetch(`${inbox}passport.ics`, {
        headers: { authorization: basic("alice") },
      });
      const text = (await res.text()).replace("END:VTODO", "PRIORITY:1\r\nEND:VTODO");
      assert.ok([201, 204].includes(await put("passport", text, res.headers.get("etag"))));
    });
    try {
      const side = await setUpClient({ ...alice(), url: `${proxy.url}/` }, "radicale-race", sides);
      const outcome = await concurrentEdit(
        side,
        "renew passport",
        async () => {
          armed = true;
        },
        async () => (await withSummary("renew passport"))[0] ?? "(gone)",
      );
      const puts = proxy.seen.filter((r) => r.method === "PUT");
      assert.equal(puts[0]?.status, 412, `${JSON.stringify(proxy.seen)}\n${outcome.log}`);
      // Nothing lost before the user chose: the server kept its change, the file the local one.
      assert.equal(icalValue(outcome.serverAfter412, "PRIORITY"), "1", outcome.log);
      assert.match(outcome.localAfter412, /SUMMARY:renew passport \(both pages\)/);
      // "a wins": the server holds the local version; Radicale keeps no history of the other.
      const [now] = await withSummary("renew passport (both pages)");
      assert.equal(icalValue(now ?? "", "PRIORITY"), undefined, outcome.log);
    } finally {
      await proxy.close();
    }
  });

  test("another user sees none of it", async () => {
    const bob = { url: `${radicale.url}/`, username: "bob", password: USERS.bob };
    const side = await setUpClient(bob, "radicale-bob", sides);
    assert.deepEqual(side.collections(), []);
    const res = await fetch(inbox, {
      method: "PROPFIND",
      headers: { authorization: basic("bob"), depth: "1" },
    });
    // Radicale answers 403 for another user's collection (Tasktalk: 404, as its API does).
    assert.equal(res.status, 403);
    const { out, result } = await runCaldavScript(bob, "calendars");
    assert.deepEqual(out.calendars, [], result.transcript);
  });

  test("python3-caldav: principal, calendars, add, search, complete, delete, sync tokens", async () => {
    const { out, result } = await runCaldavScript(alice(), "walk", ["Inbox"]);
    const msg = result.transcript;
    assert.equal(out.principal, `${radicale.url}/alice/`, msg);
    assert.deepEqual(
      (out.sync_after_add as { updated: string[] }).updated,
      out.search_pending,
      msg,
    );
    const stored = out.plain_as_stored as Record<string, string | null>;
    // Radicale keeps every property as sent, unknown X- ones included.
    assert.equal(stored.LOCATION, "balcony", msg);
    assert.equal(stored["X-TASKTALK-TEST"], "kept?", msg);
    assert.deepEqual(out.stale_if_match_put, { status: 412, etag_changed: true }, msg);
    assert.equal(out.if_none_match_put_on_existing, 412, msg);
    // A repeating todo completed in place: Radicale stores it completed; DUE stays.
    const recurring = out.recurring_after_complete as Record<string, string | null>;
    assert.equal(recurring.STATUS, "COMPLETED", msg);
    assert.equal(recurring.DUE, "2026-12-01", msg);
    assert.equal(out.found_after_delete, false, msg);
    assert.deepEqual(out.sync_after_delete, { updated: 0, deleted: 1 }, msg);
    assert.deepEqual(out.sync_when_nothing_changed, { updated: 0, deleted: 0 }, msg);
    // An unknown sync token: Radicale refuses it (403, DAV:valid-sync-token).
    assert.equal((out.unknown_sync_token as { answer: string }).answer, "error", msg);
  });
});

function vtodo(uid: string, summary: string, due: string, rrule?: string): string {
  return [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//tasktalk tests//raw HTTP//EN",
    "BEGIN:VTODO",
    `UID:${uid}`,
    "DTSTAMP:20261130T000000Z",
    `SUMMARY:${summary}`,
    `DUE;VALUE=DATE:${due}`,
    ...(rrule ? [`RRULE:${rrule}`] : []),
    "STATUS:NEEDS-ACTION",
    "END:VTODO",
    "END:VCALENDAR",
    "",
  ].join("\r\n");
}
