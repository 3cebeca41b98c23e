import assert from "node:assert/strict";
import { createConnection } from "node:net";
import { after, before, describe, test } from "node:test";
import { sql } from "drizzle-orm";
import type { InjectOptions, LightMyRequestResponse } from "fastify";
import { rowsOf } from "../../src/db/client.ts";
import { createApiKey, rawRequest, rpcHeaders, toolCallBody } from "../mcp/support.ts";
import type { TestUser } from "../support/app.ts";
import { type ChatFixture, chat, signUp, startChatApp } from "../support/chat.ts";
import { availableBackends } from "../support/databases.ts";

// Per-user quotas (issue 18): 429 quota_exceeded with Retry-After and the IETF RateLimit
// fields, per quota, overridable per user by an admin, counted in /metrics; counters in
// the database (both backends) or in Redis.

const QUOTA_ENV = {
  RATE_LIMITS: "true",
  RATE_LIMIT_CHAT_PER_MINUTE: "3",
  RATE_LIMIT_CHAT_PER_DAY: "50",
  RATE_LIMIT_TASK_WRITES_PER_MINUTE: "2",
  RATE_LIMIT_MCP_PER_MINUTE: "2",
  RATE_LIMIT_API_KEYS_PER_DAY: "1",
};

async function redisReachable(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port: 6379 });
    socket.setTimeout(500);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

function assertRefused(res: LightMyRequestResponse, quota: string, limit: number, window: number) {
  assert.equal(res.statusCode, 429, res.body);
  assert.match(String(res.headers["content-type"]), /application\/problem\+json/);
  const body = res.json();
  assert.equal(body.code, "quota_exceeded");
  assert.equal(body.quota, quota);
  const retryAfter = Number(res.headers["retry-after"]);
  assert.ok(retryAfter >= 1 && retryAfter <= window, `retry-after ${retryAfter}`);
  assert.match(
    String(res.headers["ratelimit-policy"]),
    new RegExp(`"${quota}";q=${limit};w=${window}`),
  );
  assert.match(String(res.headers.ratelimit), new RegExp(`"${quota}";r=0;t=\\d+`));
}

const setups: { name: string; backend: "pglite" | "pg"; env: Record<string, string> }[] = [];
for (const backend of await availableBackends()) setups.push({ name: backend, backend, env: {} });
if (await redisReachable()) {
  setups.push({ name: "redis", backend: "pglite", env: { REDIS_URL: "redis://127.0.0.1:6379" } });
} else {
  console.warn(
    "NOTICE: Redis at 127.0.0.1:6379 is unreachable: the Redis quota store is not tested",
  );
}

for (const setup of setups) {
  describe(`per-user quotas [${setup.name}]`, () => {
    let f: ChatFixture;
    let url: string;
    let admin: TestUser;

    before(async () => {
      f = await startChatApp(setup.backend, { ...QUOTA_ENV, ...setup.env });
      url = await f.t.listen();
      admin = await signUp(f.t.app, "Admin");
      f.llm.setDefault(() => ({ text: "ok" }));
    });
    after(() => f.close());

    const call = (user: { headers: Record<string, string> }, opts: InjectOptions) =>
      f.t.app.inject({ ...opts, headers: { ...user.headers, ...opts.headers } });

    test("chat per minute: the 4th send is 429 with Retry-After and RateLimit fields; nothing stored", async () => {
      const a = await signUp(f.t.app);
      let conversationId: string | undefined;
      for (let i = 0; i < 3; i++) {
        const res = await chat(f.t, a, { message: `hello ${i}`, conversation_id: conversationId });
        assert.equal(res.statusCode, 200, res.body);
        conversationId = res.json().conversation_id;
        assert.match(
          String(res.headers.ratelimit),
          new RegExp(`"chat_per_minute";r=${2 - i};t=\\d+`),
        );
        assert.match(String(res.headers["ratelimit-policy"]), /"chat_per_day";q=50;w=86400/);
      }
      const refused = await chat(f.t, a, {
        message: "one too many",
        conversation_id: conversationId,
      });
      assertRefused(refused, "chat_per_minute", 3, 60);
      const stream = await chat(f.t, a, { message: "streamed" }, { accept: "text/event-stream" });
      assertRefused(stream, "chat_per_minute", 3, 60);
      const messages = await call(a, { url: `/api/conversations/${conversationId}/messages` });
      assert.equal(messages.json().items.length, 6);
      // Another user has their own count.
      const b = await signUp(f.t.app);
      assert.equal((await chat(f.t, b, { message: "hi" })).statusCode, 200);
      // An admin raises the limit for `a`: the same count, a higher threshold.
      const raise = await call(admin, {
        method: "PUT",
        url: `/api/admin/users/${a.id}/features`,
        payload: { quotas: { chat_per_minute: 10 } },
      });
      assert.equal(raise.statusCode, 200, raise.body);
      const allowed = await chat(f.t, a, { message: "now allowed" });
      assert.equal(allowed.statusCode, 200, allowed.body);
      assert.match(String(allowed.headers["ratelimit-policy"]), /"chat_per_minute";q=10;w=60/);
    });

    test("chat per day, set for one user; 0 means no limit", async () => {
      const c = await signUp(f.t.app);
      await call(admin, {
        method: "PUT",
        url: `/api/admin/users/${c.id}/features`,
        payload: { quotas: { chat_per_day: 1, chat_per_minute: 0 } },
      });
      assert.equal((await chat(f.t, c, { message: "one" })).statusCode, 200);
      const refused = await chat(f.t, c, { message: "two" });
      assertRefused(refused, "chat_per_day", 1, 86_400);
      assert.ok(Number(refused.headers["retry-after"]) > 60);
      assert.doesNotMatch(String(refused.headers["ratelimit-policy"]), /chat_per_minute/);
    });

    test("task writes: the 3rd write in a minute is 429, reads are not counted", async () => {
      const d = await signUp(f.t.app);
      for (const title of ["one", "two"]) {
        const res = await call(d, { method: "POST", url: "/api/tasks", payload: { title } });
        assert.equal(res.statusCode, 201, res.body);
      }
      const refused = await call(d, {
        method: "PATCH",
        url: "/api/tasks/1",
        payload: { completed: true },
      });
      assertRefused(refused, "task_writes_per_minute", 2, 60);
      const task = await call(d, { url: "/api/tasks/1" });
      assert.equal(task.json().completed, false);
      for (let i = 0; i < 5; i++)
        assert.equal((await call(d, { url: "/api/tasks" })).statusCode, 200);
      // A malformed write is refused before it is counted.
      const e = await signUp(f.t.app);
      for (let i = 0; i < 3; i++) {
        const bad = await call(e, { method: "POST", url: "/api/tasks", payload: { nope: 1 } });
        assert.equal(bad.statusCode, 400);
      }
      assert.equal(
        (await call(e, { method: "POST", url: "/api/tasks", payload: { title: "ok" } })).statusCode,
        201,
      );
    });

    test("MCP requests and API-key creation", async () => {
      const g = await signUp(f.t.app);
      for (let i = 0; i < 2; i++) {
        const res = await rawRequest(url, {
          headers: rpcHeaders(g.headers),
          body: toolCallBody(i, "list_tasks", {}),
        });
        assert.equal(res.status, 200, res.body);
        assert.match(String(res.headers.ratelimit), /"mcp_calls_per_minute";r=\d+;t=\d+/);
      }
      const refused = await rawRequest(url, {
        headers: rpcHeaders(g.headers),
        body: toolCallBody(3, "list_tasks", {}),
      });
      assert.equal(refused.status, 429, refused.body);
      assert.equal((refused.json() as { code: string }).code, "quota_exceeded");
      assert.ok(Number(refused.headers["retry-after"]) >= 1);

      await createApiKey(f.t.app, g);
      const second = await call(g, {
        method: "POST",
        url: "/api/api-keys",
        payload: { name: "2" },
      });
      assertRefused(second, "api_keys_per_day", 1, 86_400);
    });

    test("the counters live in the configured store", async () => {
      const rows = rowsOf<{ n: number }>(
        await f.t.server.database.db.execute(sql`select count(*)::int as n from quota_counters`),
      );
      if (setup.env.REDIS_URL) assert.equal(rows[0]?.n, 0);
      else assert.ok((rows[0]?.n ?? 0) > 0);
    });

    test("rejections are counted in /metrics by quota", async () => {
      const res = await f.t.app.inject({ url: "/metrics" });
      assert.equal(res.statusCode, 200);
      const line = (quota: string) =>
        res.body.match(
          new RegExp(`^tasktalk_quota_rejections_total\\{quota="${quota}"\\} (\\d+)$`, "m"),
        );
      assert.ok(Number(line("chat_per_minute")?.[1]) >= 2, res.body.slice(0, 200));
      assert.ok(Number(line("task_writes_per_minute")?.[1]) >= 1);
      assert.ok(Number(line("api_keys_per_day")?.[1]) >= 1);
    });
  });
}
