import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { sql } from "drizzle-orm";
import { signUp, startTestApp, type TestApp } from "../support/app.ts";
import { availableBackends } from "../support/databases.ts";

for (const backend of await availableBackends()) {
  describe(`auth [${backend}]`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(backend);
      // A probe route behind the default authentication, like every /api route.
      t.app.get("/api/whoami", async (request) => ({ id: request.user?.id }));
    });
    after(() => t.close());

    test("sign-up returns a bearer token that authenticates API calls", async () => {
      const user = await signUp(t.app);
      const res = await t.app.inject({ url: "/api/whoami", headers: user.headers });
      assert.equal(res.statusCode, 200);
      assert.equal(res.json().id, user.id);
    });

    test("sign-in with email and password returns a working token; wrong password is 401", async () => {
      const user = await signUp(t.app);
      const ok = await t.app.inject({
        method: "POST",
        url: "/api/auth/sign-in/email",
        payload: { email: user.email, password: "correct horse battery" },
      });
      assert.equal(ok.statusCode, 200);
      const token = ok.headers["set-auth-token"];
      assert.equal(typeof token, "string");
      const me = await t.app.inject({
        url: "/api/whoami",
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(me.json().id, user.id);

      const bad = await t.app.inject({
        method: "POST",
        url: "/api/auth/sign-in/email",
        payload: { email: user.email, password: "wrong password!" },
      });
      assert.equal(bad.statusCode, 401);
      assert.equal(bad.headers["content-type"], "application/problem+json; charset=utf-8");
      assert.equal(bad.json().problem_code, "unauthorized");
      assert.equal(bad.json().code, "INVALID_EMAIL_OR_PASSWORD"); // Better Auth's, for its client
    });

    test("no token, a tampered token and an expired session are all 401 problems (A5)", async () => {
      const user = await signUp(t.app);
      const none = await t.app.inject({ url: "/api/whoami" });
      assert.equal(none.statusCode, 401);
      assert.equal(none.json().code, "unauthorized");
      assert.match(String(none.headers["www-authenticate"]), /Bearer/);

      const tampered = `${user.token.slice(0, -3)}xyz`;
      const bad = await t.app.inject({
        url: "/api/whoami",
        headers: { authorization: `Bearer ${tampered}` },
      });
      assert.equal(bad.statusCode, 401);

      const garbage = await t.app.inject({
        url: "/api/whoami",
        headers: { authorization: "Bearer %%%" },
      });
      assert.equal(garbage.statusCode, 401);

      await t.server.database.db.execute(
        sql`update "session" set expires_at = now() - interval '1 minute' where user_id = ${user.id}`,
      );
      const expired = await t.app.inject({ url: "/api/whoami", headers: user.headers });
      assert.equal(expired.statusCode, 401);
    });

    test("sign-out revokes the token", async () => {
      const user = await signUp(t.app);
      const out = await t.app.inject({
        method: "POST",
        url: "/api/auth/sign-out",
        headers: user.headers,
      });
      assert.equal(out.statusCode, 200);
      const me = await t.app.inject({ url: "/api/whoami", headers: user.headers });
      assert.equal(me.statusCode, 401);
    });

    test("sign-up with a malformed body is a 4xx problem, never 500", async () => {
      for (const payload of ['{"email":', "[]", '{"email":"x","password":"short"}']) {
        const res = await t.app.inject({
          method: "POST",
          url: "/api/auth/sign-up/email",
          headers: { "content-type": "application/json" },
          payload,
        });
        assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${payload} → ${res.statusCode}`);
        assert.ok(res.json().code, res.body);
      }
    });
  });
}

for (const backend of await availableBackends()) {
  describe(`auth from programs and browsers [${backend}]`, () => {
    let t: TestApp;
    let base: string;
    before(async () => {
      t = await startTestApp(backend);
      base = await t.listen();
    });
    after(() => t.close());

    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${base}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify(body),
      });

    test("Node's fetch (Fetch Metadata headers, no Origin) can sign up and sign in", async () => {
      const email = `fetch-${Date.now()}@example.com`;
      const up = await post("/api/auth/sign-up/email", {
        name: "F",
        email,
        password: "correct horse battery",
      });
      assert.equal(up.status, 200, await up.clone().text());
      assert.ok(up.headers.get("set-auth-token"));
      const cookie = up.headers.get("set-cookie")?.split(";")[0] ?? "";
      // A program with a cookie jar sends the cookie back, still without Origin.
      const inAgain = await post(
        "/api/auth/sign-in/email",
        { email, password: "correct horse battery" },
        { cookie },
      );
      assert.equal(inAgain.status, 200);
    });

    test("a browser request from a foreign origin with a cookie is still refused (CSRF)", async () => {
      const user = await signUp(t.app);
      const res = await post(
        "/api/auth/sign-in/email",
        { email: user.email, password: "correct horse battery" },
        { origin: "https://evil.example", cookie: "better-auth.session_token=x" },
      );
      assert.equal(res.status, 403);
      assert.equal(((await res.json()) as { problem_code: string }).problem_code, "forbidden");
    });
  });
}
