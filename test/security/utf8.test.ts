import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { LightMyRequestResponse } from "fastify";
import { signUp, startTestApp, type TestApp, type TestUser } from "../support/app.ts";
import { availableBackends } from "../support/databases.ts";

/**
 * Issue 17 item 10: invalid UTF-8 and lone surrogates were silently rewritten to U+FFFD
 * (so an idempotent retry of the same bytes answered 422). They are refused with 400
 * validation_failed everywhere: JSON bodies, text bodies, paths, query strings, and the
 * raw bytes handed to Better Auth.
 */
const INVALID_BYTES: [string, number[]][] = [
  ["a stray continuation byte", [0x80]],
  ["0xFF", [0xff]],
  ["an overlong '/'", [0xc0, 0xaf]],
  ["an encoded surrogate", [0xed, 0xa0, 0x80]],
  ["a truncated sequence", [0xe2, 0x82]],
];

function jsonWithBytes(before: string, bytes: number[], after: string): Buffer {
  return Buffer.concat([Buffer.from(before), Buffer.from(bytes), Buffer.from(after)]);
}

function assertRefused(res: LightMyRequestResponse, what: string, code = "validation_failed") {
  assert.equal(res.statusCode, 400, `${what}: ${res.body}`);
  assert.equal(res.headers["content-type"], "application/problem+json; charset=utf-8", what);
  assert.equal(res.json().code, code, what);
}

for (const backend of await availableBackends()) {
  describe(`malformed Unicode is refused, not repaired [${backend}]`, () => {
    let t: TestApp;
    let user: TestUser;
    before(async () => {
      t = await startTestApp(backend);
      user = await signUp(t.app);
    });
    after(() => t.close());

    const post = (url: string, payload: string | Buffer, type = "application/json") =>
      t.app.inject({
        method: "POST",
        url,
        headers: { ...user.headers, "content-type": type },
        payload,
      });

    for (const [name, bytes] of INVALID_BYTES) {
      test(`JSON body with ${name} → 400, twice (a retry gets the same answer), nothing stored`, async () => {
        const body = jsonWithBytes('{"title":"buy ', bytes, ' milk"}');
        assertRefused(await post("/api/tasks", body), "first");
        assertRefused(await post("/api/tasks", body), "retry");
        const list = await t.app.inject({ url: "/api/tasks", headers: user.headers });
        assert.ok(!list.body.includes("\uFFFD"), "no replacement character was stored");
      });
    }

    for (const lone of ["\\ud800", "\\udfff", "\\ud83d x", "x \\ude00"]) {
      test(`JSON string with a lone surrogate escape (${lone}) → 400`, async () => {
        assertRefused(await post("/api/tasks", `{"title":"a ${lone} b"}`), "value");
        assertRefused(await post("/api/tasks", `{"title":"ok","${lone}":1}`), "key");
        assertRefused(await post("/api/tasks", `{"title":"ok","x":[[["${lone}"]]]}`), "nested");
      });
    }

    test("well-formed text, astral characters and escaped pairs included, is accepted as sent", async () => {
      const res = await post("/api/tasks", '{"title":"caf\u00e9 \\ud83d\\ude00 😀 \\\\ud800"}');
      assert.equal(res.statusCode, 201, res.body);
      assert.equal(res.json().title, "café 😀 😀 \\ud800");
    });

    test("a text/plain body with invalid UTF-8 → 400", async () => {
      assertRefused(
        await post("/api/conversations", Buffer.from([0x68, 0xff]), "text/plain"),
        "text",
      );
    });

    // The router refuses a path parameter it cannot decode before any hook runs, with the
    // code every malformed id gets.
    for (const url of [
      "/api/tasks/%ED%A0%80",
      "/api/tasks/1%FF",
      "/api/conversations/%C3%28",
      "/api/%FF/tasks",
    ]) {
      test(`a path parameter with bytes that are not UTF-8 → 400 invalid_id (${url})`, async () => {
        assertRefused(await t.app.inject({ url, headers: user.headers }), url, "invalid_id");
      });
    }

    for (const url of [
      "/api/tasks?status=%FF",
      "/api/tasks?q=%ED%A0%80",
      "/health/live?x=%E2%82",
      "/api/auth/get-session?x=%FF",
    ]) {
      test(`a request target with bytes that are not UTF-8 → 400 (${url})`, async () => {
        assertRefused(await t.app.inject({ url, headers: user.headers }), url);
      });
    }

    test("a well-formed percent-encoded query is still accepted", async () => {
      const res = await t.app.inject({ url: "/health/live?x=%C3%A9%F0%9F%98%80" });
      assert.equal(res.statusCode, 200, res.body);
    });

    test("Better Auth's raw bytes get the same checks (sign-up and sign-in)", async () => {
      const email = `u8-${Date.now()}@example.com`;
      const bad = jsonWithBytes(
        `{"email":"${email}","password":"long enough pw","name":"a`,
        [0xff],
        '"}',
      );
      assertRefused(await post("/api/auth/sign-up/email", bad), "invalid bytes");
      assertRefused(
        await post(
          "/api/auth/sign-up/email",
          `{"email":"${email}","password":"long enough pw","name":"a \\udc00"}`,
        ),
        "lone surrogate",
      );
      assertRefused(
        await post("/api/auth/sign-in/email", `{"email":"${email}","password":"pw \\ud800 pw"}`),
        "sign-in",
      );
      const ok = await post(
        "/api/auth/sign-up/email",
        `{"email":"${email}","password":"long enough pw","name":"Zoë \\ud83d\\ude00"}`,
      );
      assert.equal(ok.statusCode, 200, ok.body);
      assert.equal(ok.json().user.name, "Zoë 😀");
    });
  });
}
