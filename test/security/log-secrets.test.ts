import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { loadConfig } from "../../src/config.ts";
import { createServer, type Server } from "../../src/server.ts";
import { signUp, type TestUser } from "../support/app.ts";
import { availableBackends, createTestDatabase, type TestDatabase } from "../support/databases.ts";
import { type FakeLlm, startFakeLlm } from "../support/fake-llm.ts";
import { type ProxiedDatabase, proxiedTestDatabase } from "../support/tcp-proxy.ts";

/**
 * Issue 17 item 5: during a database outage and a failing chat turn, no session token,
 * API key, password, LLM key or message text reaches a log line — the app's pino output
 * at trace level, and anything a library prints to the console.
 */
for (const backend of await availableBackends()) {
  describe(`no secrets in logs [${backend}]`, () => {
    const lines: string[] = [];
    const llmKey = `sk-live-${randomBytes(12).toString("hex")}`;
    const password = "correct horse battery"; // signUp's password
    let llm: FakeLlm;
    let testDb: TestDatabase;
    let proxied: ProxiedDatabase | undefined;
    let server: Server;
    let user: TestUser;
    let apiKey: string;
    const secrets = () => [user.token, user.token.split(".")[0] ?? "", apiKey, password, llmKey];
    const restoreConsole: (() => void)[] = [];

    before(async () => {
      llm = await startFakeLlm();
      proxied = backend === "pg" ? await proxiedTestDatabase() : undefined;
      testDb = proxied?.testDb ?? (await createTestDatabase(backend));
      const config = loadConfig({
        NODE_ENV: "test",
        LOG_LEVEL: "trace", // Better Auth's own logger is on too
        DATA_DIR: testDb.dataDir,
        AUTH_RATE_LIMIT: "false",
        LLM_PROVIDER: "openai-compatible",
        LLM_BASE_URL: `${llm.url}/v1`,
        LLM_MODEL: "fake-model",
        LLM_API_KEY: llmKey,
        LLM_MAX_RETRIES: "0",
        ...(proxied ? { DATABASE_URL: proxied.url, PG_CONNECT_TIMEOUT_MS: "500" } : {}),
      });
      const stream = new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      });
      server = await createServer(config, { logger: { level: "trace", stream } });
      for (const method of ["log", "info", "warn", "error", "debug"] as const) {
        const original = console[method];
        console[method] = (...args: unknown[]) => {
          lines.push(
            `console.${method}: ${args.map((a) => (a instanceof Error ? `${a.stack} ${JSON.stringify(a)}` : typeof a === "string" ? a : JSON.stringify(a))).join(" ")}`,
          );
        };
        restoreConsole.push(() => {
          console[method] = original;
        });
      }
      user = await signUp(server.app);
      const created = await server.app.inject({
        method: "POST",
        url: "/api/api-keys",
        headers: user.headers,
        payload: { name: "laptop" },
      });
      apiKey = created.json().key;
    });
    after(async () => {
      for (const restore of restoreConsole) restore();
      await server.close();
      await llm.close();
      if (proxied) await proxied.close();
      else await testDb.drop();
    });

    const assertClean = (extra: string[]) => {
      assert.ok(lines.length > 0, "something was logged");
      for (const secret of [...secrets(), ...extra]) {
        assert.ok(secret.length >= 8);
        const hit = lines.find((l) => l.includes(secret));
        assert.equal(hit, undefined, `a log line holds a secret (${secret.slice(0, 6)}…)`);
      }
    };

    const chat = (message: string) =>
      server.app.inject({
        method: "POST",
        url: "/api/chat",
        headers: user.headers,
        payload: { message },
      });

    test("a chat turn the model fails: the prompt is not logged", async () => {
      const text = `private note ${randomBytes(8).toString("hex")}`;
      llm.script({ status: 500, body: { error: { message: "upstream exploded" } } });
      const res = await chat(text);
      assert.equal(res.statusCode, 502, res.body);
      assert.ok(
        lines.some((l) => l.includes("APICallError")),
        "the failure itself is logged",
      );
      assertClean([text]);
    });

    test("a chat turn whose database dies mid-turn: neither message nor reply is logged", async () => {
      const text = `my diary ${randomBytes(8).toString("hex")}`;
      const reply = `reply secret ${randomBytes(8).toString("hex")}`;
      llm.script(() => {
        // The user's message is stored; the database goes away before the reply is.
        if (proxied) void proxied.proxy.down();
        else void server.database.close();
        return { text: reply };
      });
      const res = await chat(text);
      assert.equal(res.statusCode, 503, res.body);
      assertClean([text, reply]);
    });

    test("an outage: every kind of credential is used, none is logged", async () => {
      // The database is still down from the previous test (PGlite cannot come back).
      const text = `outage text ${randomBytes(8).toString("hex")}`;
      const calls = [
        { url: "/api/tasks", headers: user.headers },
        { url: "/api/tasks", headers: { authorization: `Bearer ${apiKey}` } },
        {
          method: "POST" as const,
          url: "/api/auth/sign-in/email",
          payload: { email: user.email, password },
        },
        { url: "/api/auth/get-session", headers: user.headers },
        {
          method: "POST" as const,
          url: "/api/chat",
          headers: user.headers,
          payload: { message: text },
        },
        { url: "/health/ready" },
      ];
      for (const call of calls) {
        const res = await server.app.inject(call);
        assert.equal(res.statusCode, 503, `${call.url}: ${res.body}`);
      }
      assert.ok(
        lines.some((l) => l.includes("Failed query: select")),
        "the failed SQL is still logged, without its parameters",
      );
      assertClean([text]);
    });
  });
}
