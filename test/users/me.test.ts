import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { sql } from "drizzle-orm";
import type { InjectOptions } from "fastify";
import { systemPrompt } from "../../src/chat/prompts.ts";
import { rowsOf } from "../../src/db/client.ts";
import { todayIn } from "../../src/tasks/due.ts";
import { createApiKey } from "../mcp/support.ts";
import type { TestUser } from "../support/app.ts";
import { type ChatFixture, chat, signUp, startChatApp } from "../support/chat.ts";
import { availableBackends } from "../support/databases.ts";

// GET/PATCH /api/me, and the user's zone reaching every door: bearer session, session
// cookie, API key, and the chat's system prompt.

const LINE =
  /^Current date and time for the user: \d{4}-\d\d-\d\d \d\d:\d\d \([A-Z][a-z]+day\), time zone (\S+)\.$/m;

test("the system prompt's date line, in the user's zone", () => {
  const now = new Date("2026-11-29T23:45:00Z");
  assert.match(
    systemPrompt(now, "Europe/Lisbon"),
    /^Current date and time for the user: 2026-11-29 23:45 \(Sunday\), time zone Europe\/Lisbon\.$/m,
  );
  assert.match(
    systemPrompt(now, "Asia/Tokyo"),
    /^Current date and time for the user: 2026-11-30 08:45 \(Monday\), time zone Asia\/Tokyo\.$/m,
  );
});

for (const backend of await availableBackends()) {
  describe(`/api/me and the user's time zone [${backend}]`, () => {
    let f: ChatFixture;
    before(async () => {
      f = await startChatApp(backend);
    });
    after(() => f.close());

    const call = (user: TestUser, opts: InjectOptions) =>
      f.t.app.inject({ ...opts, headers: { ...user.headers, ...opts.headers } });
    const setZone = (user: TestUser, payload: unknown) =>
      call(user, { method: "PATCH", url: "/api/me", payload: payload as object });
    const storedZone = async (user: TestUser) =>
      rowsOf<{ timezone: string | null }>(
        await f.t.server.database.db.execute(
          sql`select timezone from "user" where id = ${user.id}`,
        ),
      )[0]?.timezone;

    test("GET /api/me: UTC until set; PATCH sets an IANA zone", async () => {
      const a = await signUp(f.t.app, "Ana");
      const me = await call(a, { url: "/api/me" });
      assert.equal(me.statusCode, 200, me.body);
      const { role, access, ...profile } = me.json();
      assert.deepEqual(profile, {
        id: a.id,
        name: "Ana",
        email: a.email,
        timezone: "UTC",
        timezone_set: false,
      });
      assert.ok(role === "admin" || role === "user", role);
      assert.equal(access.mcp, true);
      const set = await setZone(a, { timezone: "America/New_York" });
      assert.equal(set.statusCode, 200, set.body);
      assert.equal(set.json().timezone, "America/New_York");
      assert.equal(set.json().timezone_set, true);
      assert.deepEqual((await call(a, { url: "/api/me" })).json().timezone, "America/New_York");
      assert.equal((await f.t.app.inject({ url: "/api/me" })).statusCode, 401);
    });

    test("a zone that is not an IANA name, or extra fields → 400 validation_failed, nothing stored", async () => {
      const a = await signUp(f.t.app);
      assert.equal((await setZone(a, { timezone: "Europe/Lisbon" })).statusCode, 200);
      for (const payload of [
        { timezone: "Mars/Olympus_Mons" },
        { timezone: "+01:00" },
        { timezone: "GMT+1 ; drop table users" },
        { timezone: "" },
        { timezone: "Europe/Lisbon\u0000" },
        { timezone: "x".repeat(5000) },
        { timezone: 1 },
        { timezone: null },
        {},
        { timezone: "UTC", email: "attacker@example.com" },
        { timezone: "UTC", id: "someone-else" },
      ]) {
        const res = await setZone(a, payload);
        assert.equal(res.statusCode, 400, `${JSON.stringify(payload).slice(0, 60)}: ${res.body}`);
        assert.equal(res.json().code, "validation_failed");
      }
      assert.equal(await storedZone(a), "Europe/Lisbon");
    });

    test("Better Auth's own routes cannot set the zone (input: false)", async () => {
      const a = await signUp(f.t.app);
      const update = await call(a, {
        method: "POST",
        url: "/api/auth/update-user",
        payload: { timezone: "Not/AZone" },
      });
      assert.equal(update.statusCode, 400, update.body);
      assert.equal(await storedZone(a), null);
      const res = await f.t.app.inject({
        method: "POST",
        url: "/api/auth/sign-up/email",
        payload: {
          email: `tz-${Date.now()}@example.com`,
          password: "correct horse battery",
          name: "Tz",
          timezone: "Not/AZone",
        },
      });
      assert.equal(res.statusCode, 400, res.body);
      // On /api/auth/* `code` is Better Auth's (its client reads it); ours is problem_code.
      assert.equal(res.json().problem_code, "validation_failed");
    });

    test("the zone reaches every door: bearer session, cookie, API key, and the chat prompt", async () => {
      const zone = "Pacific/Kiritimati"; // UTC+14: its "today" is rarely the server's
      const a = await signUp(f.t.app);
      assert.equal((await setZone(a, { timezone: zone })).statusCode, 200);
      const today = todayIn(zone);
      const addToday = async (headers: Record<string, string>, title: string) => {
        const res = await f.t.app.inject({
          method: "POST",
          url: "/api/tasks",
          headers,
          payload: { title, due: { string: "today" } },
        });
        assert.equal(res.statusCode, 201, res.body);
        return res.json().due as { date: string; timezone: string };
      };
      const viaBearer = await addToday(a.headers, "bearer");
      assert.equal(viaBearer.timezone, zone);
      assert.equal(viaBearer.date, today);

      const signIn = await f.t.app.inject({
        method: "POST",
        url: "/api/auth/sign-in/email",
        payload: { email: a.email, password: "correct horse battery" },
      });
      const cookie = [signIn.headers["set-cookie"]]
        .flat()
        .map((c) => String(c).split(";")[0])
        .join("; ");
      assert.match(cookie, /session_token=/);
      const viaCookie = await addToday({ cookie }, "cookie");
      assert.equal(viaCookie.timezone, zone);
      assert.equal(viaCookie.date, today);

      const { key } = await createApiKey(f.t.app, a);
      const viaKey = await addToday({ authorization: `Bearer ${key}` }, "key");
      assert.equal(viaKey.timezone, zone);

      f.llm.setDefault({ text: "Hello." });
      const res = await chat(f.t, a, { message: "what day is it?" });
      assert.equal(res.statusCode, 200, res.body);
      const system = f.llm.requests.at(-1)?.body.messages.find((m) => m.role === "system");
      const match = LINE.exec(String(system?.content));
      assert.ok(match, String(system?.content));
      assert.equal(match[1], zone);
      assert.ok(String(system?.content).includes(` ${today} `), "today in the user's zone");
    });
  });
}
