import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { sql } from "drizzle-orm";
import { ConfigError, loadConfig } from "../../src/config.ts";
import { inTransaction } from "../../src/db/transaction.ts";
import { signUp, startTestApp, type TestApp, type TestUser } from "../support/app.ts";
import { type ChatFixture, chat, startChatApp } from "../support/chat.ts";
import { availableBackends } from "../support/databases.ts";
import { toolCallThenText } from "../support/fake-llm.ts";
import { sampleSum } from "./metrics-text.ts";

const PROMTOOL = "/usr/bin/promtool";
const TOKEN = "metrics-token-0123456789abcdef";

for (const backend of await availableBackends()) {
  describe(`GET /metrics without METRICS_TOKEN [${backend}]`, () => {
    let f: ChatFixture;
    let user: TestUser;
    before(async () => {
      f = await startChatApp(backend);
      user = await signUp(f.t.app);
    });
    after(() => f.close());

    const scrape = async () => {
      const res = await f.t.app.inject({ url: "/metrics" });
      assert.equal(res.statusCode, 200, res.body);
      return res.body;
    };

    test("a loopback client gets the text format (inject's default client is 127.0.0.1)", async () => {
      for (const remoteAddress of ["127.0.0.1", "::1", "::ffff:127.0.0.1"]) {
        const res = await f.t.app.inject({ url: "/metrics", remoteAddress });
        assert.equal(res.statusCode, 200, remoteAddress);
      }
      const res = await f.t.app.inject({ url: "/metrics" });
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers["content-type"]), /^text\/plain; version=0\.0\.4/);
      assert.match(res.body, /^# TYPE tasktalk_http_requests_total counter$/m);
      assert.match(res.body, /^process_cpu_user_seconds_total /m);
    });

    test("a non-loopback client is refused: 403 problem+json", async () => {
      for (const remoteAddress of ["203.0.113.7", "::ffff:10.0.0.1", "2001:db8::1"]) {
        const res = await f.t.app.inject({ url: "/metrics", remoteAddress });
        assert.equal(res.statusCode, 403, remoteAddress);
        assert.match(String(res.headers["content-type"]), /application\/problem\+json/);
        assert.equal(res.json().code, "forbidden");
        assert.doesNotMatch(res.body, /tasktalk_/);
      }
    });

    test("a request relayed by a proxy on this host is refused (X-Forwarded-For / Forwarded)", async () => {
      for (const headers of [{ "x-forwarded-for": "198.51.100.4" }, { forwarded: "for=1.2.3.4" }]) {
        const res = await f.t.app.inject({ url: "/metrics", headers });
        assert.equal(res.statusCode, 403);
        assert.equal(res.json().code, "forbidden");
      }
    });

    test("a chat turn moves the latency and first-token histograms; its tool call is counted", async () => {
      const before = await scrape();
      f.llm.setDefault(toolCallThenText("add_task", { title: "Pay bills" }, "Added it."));
      const res = await chat(f.t, user, { message: "remind me to pay bills" });
      assert.equal(res.statusCode, 200, res.body);
      const afterTurn = await scrape();
      const delta = (name: string, labels: Record<string, string>) =>
        sampleSum(afterTurn, name, labels) - sampleSum(before, name, labels);
      const json = { format: "json", outcome: "ok" };
      assert.equal(delta("tasktalk_chat_turn_duration_seconds_count", json), 1);
      assert.ok(delta("tasktalk_chat_turn_duration_seconds_sum", json) > 0);
      assert.equal(delta("tasktalk_chat_time_to_first_token_seconds_count", { format: "json" }), 1);
      const tool = { door: "chat", tool: "add_task", outcome: "ok" };
      assert.equal(delta("tasktalk_tool_calls_total", tool), 1);
      const route = { method: "POST", route: "/api/chat", status_code: "200" };
      assert.equal(delta("tasktalk_http_requests_total", route), 1);
    });

    test("an MCP tool call is counted with door mcp", async () => {
      const before = await scrape();
      const res = await f.t.app.inject({
        method: "POST",
        url: "/mcp",
        headers: {
          host: "127.0.0.1:3000", // BETTER_AUTH_URL's host: the MCP host policy accepts it
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          authorization: user.headers.authorization,
        },
        payload: {
          jsonrpc: "2.0",
          id: 1,
          method: "tools/call",
          params: { name: "complete_task", arguments: { task_id: 424242 } },
        },
      });
      assert.equal(res.statusCode, 200, res.body);
      const after = await scrape();
      const labels = { door: "mcp", tool: "complete_task", outcome: "not_found" };
      assert.equal(
        sampleSum(after, "tasktalk_tool_calls_total", labels) -
          sampleSum(before, "tasktalk_tool_calls_total", labels),
        1,
      );
    });

    test("a streamed turn is timed as sse, and its hijacked response is counted", async () => {
      const before = await scrape();
      f.llm.setDefault({ text: "Streaming along." });
      const res = await chat(f.t, user, { message: "hi" }, { accept: "text/event-stream" });
      assert.equal(res.statusCode, 200);
      assert.match(res.body, /data: \[DONE\]/);
      const text = await scrape();
      const delta = (name: string, labels: Record<string, string>) =>
        sampleSum(text, name, labels) - sampleSum(before, name, labels);
      const sse = { format: "sse", outcome: "ok" };
      assert.equal(delta("tasktalk_chat_turn_duration_seconds_count", sse), 1);
      assert.equal(delta("tasktalk_chat_time_to_first_token_seconds_count", { format: "sse" }), 1);
      const route = { method: "POST", route: "/api/chat", status_code: "200" };
      assert.equal(delta("tasktalk_http_requests_total", route), 1);
    });

    test("a tool error is counted by its code; a model failure by its code", async () => {
      const before = await scrape();
      f.llm.setDefault(toolCallThenText("complete_task", { task_id: 999_999 }, "No such task."));
      assert.equal((await chat(f.t, user, { message: "complete 999999" })).statusCode, 200);
      f.llm.script({ status: 500, body: { error: { message: "boom" } } });
      assert.equal((await chat(f.t, user, { message: "hello" })).statusCode, 502);
      const afterTurns = await scrape();
      const delta = (name: string, labels: Record<string, string>) =>
        sampleSum(afterTurns, name, labels) - sampleSum(before, name, labels);
      const notFound = { tool: "complete_task", outcome: "not_found" };
      assert.equal(delta("tasktalk_tool_calls_total", notFound), 1);
      assert.equal(delta("tasktalk_model_errors_total", { code: "model_error" }), 1);
      const failedTurn = { format: "json", outcome: "error" };
      assert.equal(delta("tasktalk_chat_turn_duration_seconds_count", failedTurn), 1);
      const route = { method: "POST", route: "/api/chat", status_code: "502" };
      assert.equal(delta("tasktalk_http_requests_total", route), 1);
    });

    test("HTTP requests are counted by route pattern and status, never by raw URL", async () => {
      const id = "7b0d5a54-7c4e-4b1e-9a43-0b7f1f3c2a11";
      const before = await scrape();
      const miss = await f.t.app.inject({
        url: `/api/conversations/${id}/messages`,
        headers: user.headers,
      });
      assert.equal(miss.statusCode, 404);
      assert.equal((await f.t.app.inject({ url: "/no/such/path-abc123" })).statusCode, 404);
      const text = await scrape();
      const pattern = { route: "/api/conversations/:id/messages", status_code: "404" };
      assert.equal(
        sampleSum(text, "tasktalk_http_requests_total", pattern) -
          sampleSum(before, "tasktalk_http_requests_total", pattern),
        1,
      );
      assert.ok(sampleSum(text, "tasktalk_http_requests_total", { route: "unmatched" }) >= 1);
      assert.doesNotMatch(text, new RegExp(id));
      assert.doesNotMatch(text, /path-abc123/);
    });

    test("pool and session gauges are read at scrape time", async () => {
      const text = await scrape();
      assert.ok(sampleSum(text, "tasktalk_auth_sessions_active") >= 1);
      if (backend === "pg") {
        assert.ok(sampleSum(text, "tasktalk_db_pool_max_connections") >= 1);
        assert.match(text, /^tasktalk_db_pool_connections\{state="idle"\} \d+$/m);
        assert.match(text, /^tasktalk_db_pool_waiting_requests \d+$/m);
      } else {
        assert.doesNotMatch(text, /tasktalk_db_pool_/);
      }
    });

    test("a retried transaction counts the failure by category and the retry", async () => {
      const before = await scrape();
      let attempts = 0;
      const result = await inTransaction(f.t.server.database.db, async (tx) => {
        await tx.execute(sql`select 1`);
        // PostgreSQL's serialization failure, as the driver reports it, on the first attempt.
        if (++attempts === 1)
          throw Object.assign(new Error("could not serialize"), { code: "40001" });
        return attempts;
      });
      assert.equal(result, 2);
      const text = await scrape();
      const serialization = { category: "serialization" };
      assert.equal(
        sampleSum(text, "tasktalk_db_errors_total", serialization) -
          sampleSum(before, "tasktalk_db_errors_total", serialization),
        1,
      );
      assert.equal(
        sampleSum(text, "tasktalk_db_retries_total") -
          sampleSum(before, "tasktalk_db_retries_total"),
        1,
      );
    });

    test("promtool check metrics passes on a real scrape over HTTP", async (t) => {
      if (!existsSync(PROMTOOL)) {
        // CI installs Debian's prometheus package (.ci/run): there a missing promtool fails.
        assert.ok(!process.env.CI, `${PROMTOOL} is missing in CI (apt-get install prometheus)`);
        console.warn(`\n!!! SKIPPED: ${PROMTOOL} not found (apt-get install -y prometheus)\n`);
        t.skip("promtool is not installed");
        return;
      }
      const url = await f.t.listen();
      const text = await (await fetch(`${url}/metrics`)).text();
      const check = spawnSync(PROMTOOL, ["check", "metrics"], { input: text, encoding: "utf8" });
      assert.equal(check.status, 0, `${check.stdout}\n${check.stderr}`);
      assert.equal(`${check.stdout}${check.stderr}`.trim(), "", "promtool reported lint problems");
    });
  });

  describe(`GET /metrics with METRICS_TOKEN [${backend}]`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(backend, { METRICS_TOKEN: TOKEN });
    });
    after(() => t.close());

    test("the bearer token is required, even from loopback: 401 problem+json otherwise", async () => {
      const wrong = [
        {},
        { authorization: `Bearer ${TOKEN}x` },
        { authorization: `Bearer ${TOKEN.slice(0, -1)}` },
        { authorization: "Bearer " },
        { authorization: `Basic ${TOKEN}` },
      ];
      for (const headers of wrong) {
        const res = await t.app.inject({ url: "/metrics", headers });
        assert.equal(res.statusCode, 401, JSON.stringify(headers));
        assert.match(String(res.headers["content-type"]), /application\/problem\+json/);
        assert.equal(res.json().code, "unauthorized");
      }
    });

    test("the right token works from any address", async () => {
      const res = await t.app.inject({
        url: "/metrics",
        remoteAddress: "203.0.113.7",
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.match(res.body, /^# TYPE tasktalk_chat_turn_duration_seconds histogram$/m);
    });
  });
}

describe("METRICS_TOKEN configuration", () => {
  test("unset or empty means loopback only; a short token is refused at start", () => {
    assert.equal(loadConfig({ NODE_ENV: "test", DATA_DIR: "memory://" }).metrics.token, undefined);
    assert.equal(
      loadConfig({ NODE_ENV: "test", DATA_DIR: "memory://", METRICS_TOKEN: " " }).metrics.token,
      undefined,
    );
    assert.equal(
      loadConfig({ NODE_ENV: "test", DATA_DIR: "memory://", METRICS_TOKEN: TOKEN }).metrics.token,
      TOKEN,
    );
    assert.throws(
      () => loadConfig({ NODE_ENV: "test", DATA_DIR: "memory://", METRICS_TOKEN: "short" }),
      (error: unknown) =>
        error instanceof ConfigError && error.issues.some((i) => i.startsWith("METRICS_TOKEN")),
    );
  });
});
