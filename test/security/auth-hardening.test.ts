import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { signUp, startTestApp, type TestApp, type TestUser } from "../support/app.ts";
import { availableBackends } from "../support/databases.ts";

// Issue 17's Low items on authentication, each reproduced as the attack it was.

const PASSWORD = "correct horse battery";
/** startTestApp's server: BETTER_AUTH_URL defaults to http://HOST:PORT. */
const OWN_ORIGIN = "http://127.0.0.1:3000";
const TRUSTED = "https://app.example.com";

/** A second session for `user`, by signing in again: its bearer token and its cookie. */
async function signIn(t: TestApp, email: string, password = PASSWORD) {
  const res = await t.app.inject({
    method: "POST",
    url: "/api/auth/sign-in/email",
    payload: { email, password },
  });
  assert.equal(res.statusCode, 200, res.body);
  const token = String(res.headers["set-auth-token"]);
  const setCookie = [res.headers["set-cookie"]].flat().find((c) => c?.includes("session_token"));
  assert.ok(setCookie, "sign-in sets the session cookie");
  return {
    token,
    bearer: { authorization: `Bearer ${token}` },
    cookie: { cookie: String(setCookie).split(";")[0] ?? "" },
  };
}

for (const backend of await availableBackends()) {
  describe(`authentication hardening (issue 17, Low) [${backend}]`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(backend, { TRUSTED_ORIGINS: TRUSTED });
    });
    after(() => t.close());

    const whoAmI = (headers: Record<string, string>) =>
      t.app.inject({ url: "/api/tasks", headers });

    test("list-sessions never returns session tokens", async () => {
      const user = await signUp(t.app);
      const other = await signIn(t, user.email);
      const res = await t.app.inject({ url: "/api/auth/list-sessions", headers: user.headers });
      assert.equal(res.statusCode, 200, res.body);
      const sessions = res.json() as Record<string, unknown>[];
      assert.ok(sessions.length >= 2, res.body);
      for (const session of sessions) {
        assert.equal("token" in session, false, JSON.stringify(session));
        assert.ok(session.id, "the session is still described");
      }
      const [otherToken] = other.token.split(".");
      assert.ok(otherToken && !res.body.includes(otherToken), "no other session's token");
    });

    test("changing the password ends every other session, even if asked not to", async () => {
      const user = await signUp(t.app);
      const stolen = await signIn(t, user.email);
      assert.equal((await whoAmI(stolen.bearer)).statusCode, 200);
      const res = await t.app.inject({
        method: "POST",
        url: "/api/auth/change-password",
        headers: user.headers,
        payload: {
          currentPassword: PASSWORD,
          newPassword: "a brand new passphrase",
          revokeOtherSessions: false,
        },
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal((await whoAmI(stolen.bearer)).statusCode, 401, "the other session is gone");
      assert.equal((await whoAmI(stolen.cookie)).statusCode, 401);
      // The one who changed it carries on with the fresh session it was given.
      const fresh = res.headers["set-auth-token"] ?? res.json().token;
      assert.ok(typeof fresh === "string" && fresh.length > 0, res.body);
      assert.equal((await whoAmI({ authorization: `Bearer ${fresh}` })).statusCode, 200);
    });

    describe("cookie-authenticated writes check the Origin", () => {
      let user: TestUser;
      let cookie: { cookie: string };
      before(async () => {
        user = await signUp(t.app);
        ({ cookie } = await signIn(t, user.email));
      });
      const createTask = (headers: Record<string, string>) =>
        t.app.inject({
          method: "POST",
          url: "/api/tasks",
          headers,
          payload: { title: "from somewhere" },
        });

      test("a foreign Origin or Referer is refused with 403", async () => {
        const foreign: Record<string, string>[] = [
          { origin: "https://evil.example" },
          { origin: "null" },
          { origin: `${OWN_ORIGIN}.evil.example` },
          { referer: "https://evil.example/page" },
          { referer: "not a url" },
        ];
        for (const headers of foreign) {
          const res = await createTask({ ...cookie, ...headers });
          assert.equal(res.statusCode, 403, JSON.stringify(headers));
          assert.equal(res.json().code, "forbidden");
          assert.match(res.headers["content-type"] ?? "", /^application\/problem\+json/);
        }
        for (const method of ["PATCH", "DELETE"] as const) {
          const res = await t.app.inject({
            method,
            url: "/api/tasks/1",
            headers: { ...cookie, origin: "https://evil.example" },
            ...(method === "PATCH" ? { payload: { completed: true } } : {}),
          });
          assert.equal(res.statusCode, 403, method);
        }
        // Nothing was written by any of them.
        const list = await t.app.inject({ url: "/api/tasks", headers: user.headers });
        assert.deepEqual(list.json().items, []);
      });

      test("the own origin, TRUSTED_ORIGINS, a same-site Referer, or no header pass", async () => {
        const allowed: Record<string, string>[] = [
          { origin: OWN_ORIGIN },
          { origin: TRUSTED },
          { referer: `${OWN_ORIGIN}/tasks?x=1` },
          {},
        ];
        for (const headers of allowed) {
          const res = await createTask({ ...cookie, ...headers });
          assert.equal(res.statusCode, 201, `${JSON.stringify(headers)}: ${res.body}`);
        }
      });

      test("reads and bearer-authenticated writes are not affected", async () => {
        const read = await t.app.inject({
          url: "/api/tasks",
          headers: { ...cookie, origin: "https://evil.example" },
        });
        assert.equal(read.statusCode, 200);
        const bearer = await createTask({ ...user.headers, origin: "https://evil.example" });
        assert.equal(bearer.statusCode, 201, bearer.body);
      });
    });

    test("sign-up refuses an over-long name or control characters with 400", async () => {
      const signUpWith = (name: string, email = `n-${Math.random()}@example.com`) =>
        t.app.inject({
          method: "POST",
          url: "/api/auth/sign-up/email",
          payload: { email, password: PASSWORD, name },
        });
      for (const name of ["x".repeat(60_000), "x".repeat(101), "Ann\u0000", "Bob\u0007", "C\nD"]) {
        const res = await signUpWith(name);
        assert.equal(res.statusCode, 400, `${JSON.stringify(name.slice(0, 10))}: ${res.body}`);
        assert.equal(res.json().problem_code, "validation_failed");
      }
      const longEmail = await signUpWith("Long", `${"a".repeat(300)}@example.com`);
      assert.equal(longEmail.statusCode, 400, longEmail.body);
      assert.equal(longEmail.json().problem_code, "validation_failed");
      for (const name of ["x".repeat(100), "Zoë 山田 🙂"]) {
        const res = await signUpWith(name);
        assert.equal(res.statusCode, 200, res.body);
        assert.equal(res.json().user.name, name);
      }
    });

    test("update-user refuses the same names; a good one is saved", async () => {
      const user = await signUp(t.app);
      const update = (name: string) =>
        t.app.inject({
          method: "POST",
          url: "/api/auth/update-user",
          headers: user.headers,
          payload: { name },
        });
      for (const name of ["y".repeat(60_000), "nul\u0000name"]) {
        const res = await update(name);
        assert.equal(res.statusCode, 400, res.body);
        assert.equal(res.json().problem_code, "validation_failed");
      }
      assert.equal((await update("Renamed")).statusCode, 200);
      const session = await t.app.inject({ url: "/api/auth/get-session", headers: user.headers });
      assert.equal(session.json().user.name, "Renamed");
    });
  });
}
