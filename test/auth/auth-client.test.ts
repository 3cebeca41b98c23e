import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { createAuthClient } from "better-auth/client";
import { startTestApp, type TestApp } from "../support/app.ts";
import { availableBackends } from "../support/databases.ts";

// Better Auth's own client, as its docs set it up for bearer tokens, against the real
// server: a UI written from Better Auth's docs shows Better Auth's codes and sentences.

function client(base: string) {
  let token = "";
  const auth = createAuthClient({
    baseURL: base,
    fetchOptions: {
      auth: { type: "Bearer", token: () => token },
      onSuccess: (ctx) => {
        const issued = ctx.response.headers.get("set-auth-token");
        if (issued) token = issued;
      },
    },
  });
  return { auth, token: () => token };
}

const email = () => `client-${randomBytes(5).toString("hex")}@example.com`;
const password = "correct horse battery";

for (const backend of await availableBackends()) {
  describe(`Better Auth's createAuthClient [${backend}]`, () => {
    let t: TestApp;
    let base: string;
    before(async () => {
      t = await startTestApp(backend, { AUTH_RATE_LIMIT: "true", SIGN_IN_MAX_FAILURES: "3" });
      base = await t.listen();
    });
    after(() => t.close());

    test("sign-up, session list and sign-out work; errors carry Better Auth's code and message", async () => {
      const { auth } = client(base);
      const address = email();
      const up = await auth.signUp.email({ email: address, password, name: "Client" });
      assert.equal(up.error, null);
      assert.equal(up.data?.user.email, address);

      const sessions = await auth.listSessions();
      assert.equal(sessions.error, null);
      assert.equal(sessions.data?.length, 1);

      const again = await client(base).auth.signUp.email({ email: address, password, name: "X" });
      assert.equal(again.error?.status, 409);
      assert.equal(again.error?.code, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL");
      assert.equal(typeof again.error?.message, "string");
      assert.notEqual(again.error?.message, "");

      const wrong = await client(base).auth.signIn.email({ email: address, password: "nope-nope" });
      assert.equal(wrong.error?.status, 401);
      assert.equal(wrong.error?.code, "INVALID_EMAIL_OR_PASSWORD");
      assert.match(wrong.error?.message ?? "", /invalid email or password/i);

      const out = await auth.signOut();
      assert.equal(out.error, null);
      const gone = await auth.getSession();
      assert.equal(gone.data, null);
    });

    test("a locked-out account: 429 with a code and message the client shows", async () => {
      const address = email();
      await client(base).auth.signUp.email({ email: address, password, name: "Locked" });
      const errors: { status?: number; code?: string; message?: string }[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await client(base).auth.signIn.email({ email: address, password: "wrong!!!" });
        errors.push(res.error ?? {});
        if (res.error?.status === 429) break;
      }
      const last = errors.at(-1);
      assert.equal(last?.status, 429);
      assert.equal(last?.code, "TOO_MANY_ATTEMPTS");
      assert.ok((last?.message ?? "").length > 0, "a sentence to show, not undefined");
    });

    test("the raw body is still a problem document", async () => {
      const res = await fetch(`${base}/api/auth/sign-in/email`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: email(), password: "whatever-long" }),
      });
      assert.equal(res.status, 401);
      assert.match(res.headers.get("content-type") ?? "", /application\/problem\+json/);
      const body = (await res.json()) as Record<string, unknown>;
      assert.equal(body.type, "urn:tasktalk:error:unauthorized");
      assert.equal(body.problem_code, "unauthorized");
      assert.equal(body.code, "INVALID_EMAIL_OR_PASSWORD");
      assert.equal(body.status, 401);
      assert.equal(typeof body.detail, "string");
      assert.equal(body.message, body.detail);
    });
  });
}
