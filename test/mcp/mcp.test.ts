import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { asc, eq } from "drizzle-orm";
import { tasks } from "../../src/db/schema.ts";
import type { TestUser } from "../support/app.ts";
import { type ChatFixture, chat, messagesOf, signUp, startChatApp } from "../support/chat.ts";
import { availableBackends } from "../support/databases.ts";
import { toolCallThenText } from "../support/fake-llm.ts";
import {
  callTool,
  connectClient,
  createApiKey,
  rawRequest,
  rpcHeaders,
  textJson,
  toolCallBody,
} from "./support.ts";

// The MCP endpoint over REAL HTTP with the official SDK client, on PGlite and PostgreSQL.
// Only the LLM is faked (for the chat check). Every test makes its own users.

const TOOL_NAMES = [
  "add_task",
  "complete_task",
  "delete_task",
  "list_tasks",
  "restore_task",
  "update_task",
];

for (const backend of await availableBackends()) {
  describe(`MCP over HTTP [${backend}]`, () => {
    let f: ChatFixture;
    let url: string;
    const clients: Client[] = [];
    before(async () => {
      f = await startChatApp(backend);
      url = await f.t.listen();
    });
    after(async () => {
      for (const client of clients) await client.close();
      await f.close();
    });

    const connect = async (headers: Record<string, string>) => {
      const client = await connectClient(url, headers);
      clients.push(client);
      return client;
    };
    const restTitles = async (user: TestUser) => {
      const res = await f.t.app.inject({ url: "/api/tasks", headers: user.headers });
      assert.equal(res.statusCode, 200, res.body);
      return (res.json().items as { title: string }[]).map((i) => i.title);
    };
    const rowsOf = async (user: TestUser) =>
      JSON.stringify(
        await f.t.server.database.db
          .select()
          .from(tasks)
          .where(eq(tasks.userId, user.id))
          .orderBy(asc(tasks.number)),
      );

    describe("tools", () => {
      test("lists exactly the five task tools, each with a strict input schema", async () => {
        const a = await signUp(f.t.app);
        const client = await connect(a.headers);
        const { tools } = await client.listTools();
        assert.deepEqual(tools.map((t) => t.name).sort(), TOOL_NAMES);
        for (const tool of tools) {
          assert.ok(tool.description && tool.description.length > 40, tool.name);
          assert.equal(tool.inputSchema.type, "object", tool.name);
          assert.equal(tool.inputSchema.additionalProperties, false, `${tool.name} is strict`);
          assert.ok(!("user_id" in (tool.inputSchema.properties ?? {})), "no user in the input");
        }
        const byName = Object.fromEntries(tools.map((t) => [t.name, t.inputSchema]));
        assert.deepEqual(byName.add_task?.required, ["title"]);
        assert.deepEqual(byName.complete_task?.required, ["task_id"]);
        assert.deepEqual(byName.update_task?.required, ["task_id"]);
        assert.equal(tools.find((t) => t.name === "list_tasks")?.annotations?.readOnlyHint, true);
        assert.equal(
          tools.find((t) => t.name === "delete_task")?.annotations?.destructiveHint,
          true,
        );
      });

      test("each tool works; results are structuredContent plus the same JSON as text", async () => {
        const a = await signUp(f.t.app);
        const client = await connect(a.headers);
        const added = await callTool(client, "add_task", {
          title: "  Buy milk ",
          description: "2 litres",
        });
        assert.equal(added.isError, undefined, JSON.stringify(added));
        assert.deepEqual(added.structuredContent, {
          task_id: 1,
          status: "created",
          title: "Buy milk",
          due: null,
          due_label: null,
          priority: "none",
          list: "Inbox",
          labels: [],
        });
        assert.deepEqual(textJson(added), added.structuredContent);
        await callTool(client, "add_task", { title: "Call mum" });

        const updated = await callTool(client, "update_task", { task_id: 2, title: "Call dad" });
        assert.deepEqual(updated.structuredContent, {
          task_id: 2,
          status: "updated",
          title: "Call dad",
          due: null,
          due_label: null,
          priority: "none",
          list: "Inbox",
          labels: [],
        });
        const completed = await callTool(client, "complete_task", { task_id: 1 });
        assert.deepEqual(completed.structuredContent, {
          task_id: 1,
          status: "completed",
          title: "Buy milk",
          due: null,
          due_label: null,
          priority: "none",
          list: "Inbox",
          labels: [],
        });

        const listed = await callTool(client, "list_tasks", {});
        const items = (listed.structuredContent as { items: Record<string, unknown>[] }).items;
        assert.deepEqual(
          items.map((i) => [i.id, i.title, i.completed, i.list]),
          [
            [1, "Buy milk", true, "Inbox"],
            [2, "Call dad", false, "Inbox"],
          ],
        );
        assert.deepEqual(textJson(listed), listed.structuredContent);
        const pending = await callTool(client, "list_tasks", { status: "pending" });
        assert.deepEqual(
          (pending.structuredContent as { items: { id: number }[] }).items.map((i) => i.id),
          [2],
        );

        const deleted = await callTool(client, "delete_task", { task_id: 2 });
        assert.deepEqual(deleted.structuredContent, {
          task_id: 2,
          status: "deleted",
          title: "Call dad",
          due: null,
          due_label: null,
          priority: "none",
          list: "Inbox",
          labels: [],
          subtasks_deleted: 0,
        });
        assert.deepEqual(await restTitles(a), ["Buy milk"]);
      });

      test("a task added over MCP shows in GET /api/tasks and in a chat turn's list_tasks", async () => {
        const a = await signUp(f.t.app);
        const client = await connect(a.headers);
        await callTool(client, "add_task", { title: "Water the plants" });
        assert.deepEqual(await restTitles(a), ["Water the plants"]);

        f.llm.setDefault(toolCallThenText("list_tasks", {}, "You have one task."));
        const res = await chat(f.t, a, { message: "what are my tasks?" });
        assert.equal(res.statusCode, 200, res.body);
        const call = (res.json().tool_calls as { name: string; result: unknown }[])[0];
        assert.equal(call?.name, "list_tasks");
        assert.match(JSON.stringify(call?.result), /Water the plants/);
        const stored = await messagesOf(f.t, a, res.json().conversation_id);
        assert.ok(
          stored.items.some((m) => JSON.stringify(m.tool_calls).includes("Water the plants")),
        );
      });

      test("expected failures are isError results, never JSON-RPC errors; nothing written", async () => {
        const a = await signUp(f.t.app);
        const client = await connect(a.headers);
        await callTool(client, "add_task", { title: "mine" });
        const before = await rowsOf(a);

        const missing = await callTool(client, "complete_task", { task_id: 99 });
        assert.equal(missing.isError, true);
        assert.deepEqual(textJson(missing), {
          error: { code: "not_found", message: "Task 99 was not found" },
        });
        const invalid: [string, Record<string, unknown>][] = [
          ["add_task", { title: "" }],
          ["add_task", { title: "x".repeat(201) }],
          ["add_task", { title: "x".repeat(1_000) }],
          ["add_task", { title: "ok", user_id: "someone-else" }],
          ["complete_task", { task_id: "1" }],
          ["complete_task", { task_id: -1 }],
          ["update_task", { task_id: 1, completed: "yes" }],
          ["list_tasks", { status: "everything" }],
          ["no_such_tool", {}],
        ];
        for (const [name, args] of invalid) {
          const result = await callTool(client, name, args);
          assert.equal(result.isError, true, `${name} ${JSON.stringify(args).slice(0, 80)}`);
          assert.doesNotMatch(JSON.stringify(result), /x{50}/, "the input is not echoed");
        }
        assert.equal(await rowsOf(a), before, "no invalid call wrote anything");
      });

      test("another user's task numbers → tool error, and nothing of theirs changes", async () => {
        const a = await signUp(f.t.app, "Alice");
        const b = await signUp(f.t.app, "Bob");
        const clientA = await connect(a.headers);
        for (const title of ["alice one", "alice two", "alice three"]) {
          await callTool(clientA, "add_task", { title });
        }
        const aliceRows = await rowsOf(a);
        const clientB = await connect(b.headers);
        for (const [name, extra] of [
          ["complete_task", {}],
          ["update_task", { title: "pwned by B" }],
          ["delete_task", {}],
        ] as const) {
          for (const task_id of [1, 2, 3]) {
            const result = await callTool(clientB, name, { task_id, ...extra });
            assert.equal(result.isError, true, `${name}(${task_id})`);
            assert.deepEqual(
              (textJson(result) as { error: { code: string } }).error.code,
              "not_found",
            );
            assert.doesNotMatch(JSON.stringify(result), /alice/i);
          }
        }
        const listed = await callTool(clientB, "list_tasks", {});
        assert.deepEqual(listed.structuredContent, { items: [], total: 0, next_cursor: null });
        assert.equal(await rowsOf(a), aliceRows, "A's rows are byte-for-byte unchanged");
      });

      test("a personal API key works as the bearer token", async () => {
        const a = await signUp(f.t.app);
        const { key } = await createApiKey(f.t.app, a);
        const client = await connect({ authorization: `Bearer ${key}` });
        await callTool(client, "add_task", { title: "via key" });
        assert.deepEqual(await restTitles(a), ["via key"]);
      });
    });

    describe("authentication (M2, A5)", () => {
      const list = (headers: Record<string, string>, path = "/mcp") =>
        rawRequest(url, {
          path,
          headers: rpcHeaders(headers),
          body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
        });
      const assert401 = (res: Awaited<ReturnType<typeof list>>, label: string) => {
        assert.equal(res.status, 401, `${label}: ${res.body}`);
        assert.match(String(res.headers["www-authenticate"]), /^Bearer /, label);
        assert.match(String(res.headers["content-type"]), /^application\/problem\+json/, label);
        assert.equal((res.json() as { code: string }).code, "unauthorized", label);
      };

      test("no token, a bad token, a malformed or revoked API key → 401 with WWW-Authenticate", async () => {
        const a = await signUp(f.t.app);
        const ok = await list(a.headers);
        assert.equal(ok.status, 200, ok.body);
        const { id, key } = await createApiKey(f.t.app, a);
        assert.equal((await list({ authorization: `Bearer ${key}` })).status, 200);
        const revoke = await f.t.app.inject({
          method: "DELETE",
          url: `/api/api-keys/${id}`,
          headers: a.headers,
        });
        assert.equal(revoke.statusCode, 204);

        const cases: [string, Record<string, string>][] = [
          ["no token", {}],
          ["empty bearer", { authorization: "Bearer " }],
          ["unknown session token", { authorization: "Bearer not-a-real-token" }],
          ["tampered session token", { authorization: `Bearer ${a.token}x` }],
          ["basic auth", { authorization: `Basic ${Buffer.from("a:b").toString("base64")}` }],
          ["malformed API key", { authorization: "Bearer tt_short" }],
          ["unknown API key", { authorization: `Bearer tt_${"A".repeat(43)}` }],
          ["revoked API key", { authorization: `Bearer ${key}` }],
        ];
        for (const [label, headers] of cases) assert401(await list(headers), label);
      });

      test("the session cookie alone is not enough: MCP takes bearer tokens only", async () => {
        const email = `cookie-${Date.now()}@example.com`;
        const signUpRes = await f.t.app.inject({
          method: "POST",
          url: "/api/auth/sign-up/email",
          payload: { email, password: "correct horse battery", name: "Cookie" },
        });
        const cookie = [signUpRes.headers["set-cookie"]]
          .flat()
          .map((c) => String(c).split(";")[0])
          .join("; ");
        assert.ok(cookie.includes("session_token"), cookie);
        const rest = await f.t.app.inject({ url: "/api/tasks", headers: { cookie } });
        assert.equal(rest.statusCode, 200, "the cookie is a valid session for the web API");
        assert401(await list({ cookie }), "cookie on /mcp");
      });

      test("a token in the query string is not accepted", async () => {
        const a = await signUp(f.t.app);
        const { key } = await createApiKey(f.t.app, a);
        for (const token of [a.token, key]) {
          for (const name of ["token", "access_token", "api_key", "authorization"]) {
            const path = `/mcp?${name}=${encodeURIComponent(token)}`;
            assert401(await list({}, path), `?${name}=`);
          }
        }
      });

      test("the SDK client without a token fails with 401", async () => {
        await assert.rejects(
          connectClient(url, {}),
          (error: unknown) => error instanceof StreamableHTTPError && error.code === 401,
        );
      });
    });

    describe("Origin and Host (M1)", () => {
      const port = () => new URL(url).port;
      const add = (user: TestUser, headers: Record<string, string>, title: string) =>
        rawRequest(url, {
          headers: rpcHeaders({ ...user.headers, ...headers }),
          body: toolCallBody(1, "add_task", { title }),
        });

      test("a foreign Origin → 403 and no tool runs", async () => {
        const a = await signUp(f.t.app);
        for (const origin of [
          "http://evil.example",
          `http://evil.example:${port()}`,
          `http://127.0.0.1.evil.example:${port()}`,
          `https://127.0.0.1:${port()}`,
          "http://127.0.0.1:1",
          "null",
          "not a url",
        ]) {
          const res = await add(a, { origin }, `from ${origin}`);
          assert.equal(res.status, 403, `${origin}: ${res.body}`);
          assert.equal((res.json() as { code: string }).code, "forbidden");
        }
        assert.deepEqual(await restTitles(a), [], "no tool ran");
      });

      test("no Origin, the server's own origin and a trusted origin are accepted", async () => {
        const a = await signUp(f.t.app);
        for (const origin of [undefined, `http://127.0.0.1:${port()}`, "http://127.0.0.1:3000"]) {
          const res = await add(a, origin ? { origin } : {}, `from ${origin ?? "no origin"}`);
          assert.equal(res.status, 200, `${origin}: ${res.body}`);
        }
        assert.equal((await restTitles(a)).length, 3);
      });

      test("a Host that is not this server (DNS rebinding) → 403 and no tool runs", async () => {
        const a = await signUp(f.t.app);
        for (const host of [
          `evil.example:${port()}`,
          "evil.example",
          `127.0.0.1.nip.io:${port()}`,
          "127.0.0.1:1",
          `user@127.0.0.1:${port()}`,
          `127.0.0.1:${port()}/x`,
        ]) {
          const res = await add(a, { host }, `via ${host}`);
          assert.equal(res.status, 403, `${host}: ${res.body}`);
        }
        assert.deepEqual(await restTitles(a), [], "no tool ran");
        for (const host of [`localhost:${port()}`, `127.0.0.1:${port()}`]) {
          const res = await add(a, { host }, `via ${host}`);
          assert.equal(res.status, 200, `${host}: ${res.body}`);
        }
      });
    });

    describe("HTTP surface", () => {
      test("GET and DELETE /mcp → 405 (stateless); 401 without a token", async () => {
        const a = await signUp(f.t.app);
        for (const method of ["GET", "DELETE"]) {
          const res = await rawRequest(url, { method, headers: rpcHeaders(a.headers) });
          assert.equal(res.status, 405, `${method}: ${res.body}`);
          assert.equal(res.headers.allow, "POST");
          const anonymous = await rawRequest(url, { method, headers: rpcHeaders() });
          assert.equal(anonymous.status, 401);
        }
      });

      test("a body over the limit → 413; invalid JSON → 400; no session id is issued", async () => {
        const a = await signUp(f.t.app);
        const huge = await rawRequest(url, {
          headers: rpcHeaders(a.headers),
          body: toolCallBody(1, "add_task", { title: "x".repeat(200 * 1024) }),
        });
        assert.equal(huge.status, 413, huge.body);
        const broken = await rawRequest(url, { headers: rpcHeaders(a.headers), body: "{" });
        assert.equal(broken.status, 400, broken.body);
        const init = await rawRequest(url, {
          headers: rpcHeaders(a.headers),
          body: JSON.stringify({
            jsonrpc: "2.0",
            id: 1,
            method: "initialize",
            params: {
              protocolVersion: "2025-06-18",
              capabilities: {},
              clientInfo: { name: "raw", version: "1" },
            },
          }),
        });
        assert.equal(init.status, 200, init.body);
        assert.equal(init.headers["mcp-session-id"], undefined);
        assert.match(String(init.headers["content-type"]), /^application\/json/);
        assert.ok(init.headers["x-request-id"]);
        assert.equal(
          (init.json() as { result: { serverInfo: { name: string } } }).result.serverInfo.name,
          "tasktalk",
        );
        assert.deepEqual(await restTitles(a), []);
      });
    });

    describe("concurrency (M3)", () => {
      test("two users, concurrent requests with colliding JSON-RPC ids → each sees only its own", async () => {
        const a = await signUp(f.t.app, "Alice");
        const b = await signUp(f.t.app, "Bob");
        const { key: keyB } = await createApiKey(f.t.app, b);
        const users = [
          { name: "alice", headers: rpcHeaders(a.headers) },
          { name: "bob", headers: rpcHeaders({ authorization: `Bearer ${keyB}` }) },
        ];
        const post = async (headers: Record<string, string>, body: string) => {
          const res = await rawRequest(url, { headers, body });
          assert.equal(res.status, 200, res.body);
          return res.json() as {
            id: number;
            result: { structuredContent: Record<string, unknown>; isError?: boolean };
          };
        };
        for (let round = 1; round <= 20; round++) {
          // Every request of the round carries the SAME id, sent at the same time.
          const adds = await Promise.all(
            users.map((u) =>
              post(u.headers, toolCallBody(7, "add_task", { title: `${u.name} ${round}` })),
            ),
          );
          adds.forEach((res, i) => {
            assert.equal(res.id, 7);
            assert.equal(res.result.structuredContent.title, `${users[i]?.name} ${round}`);
            assert.equal(res.result.structuredContent.task_id, round);
          });
          const lists = await Promise.all(
            [...users, ...users].map((u) => post(u.headers, toolCallBody(7, "list_tasks", {}))),
          );
          lists.forEach((res, i) => {
            const owner = users[i % 2]?.name ?? "";
            const titles = (res.result.structuredContent.items as { title: string }[]).map(
              (t) => t.title,
            );
            assert.equal(titles.length, round, `${owner}, round ${round}`);
            for (const title of titles) assert.ok(title.startsWith(`${owner} `), title);
          });
        }
      });

      test("two SDK clients calling at the same time each see only their own tasks", async () => {
        const a = await signUp(f.t.app, "Alice");
        const b = await signUp(f.t.app, "Bob");
        const [clientA, clientB] = await Promise.all([connect(a.headers), connect(b.headers)]);
        const pairs = [
          [clientA, "alice"],
          [clientB, "bob"],
        ] as const;
        await Promise.all(
          pairs.flatMap(([client, name]) =>
            [1, 2, 3, 4, 5].map((n) => callTool(client, "add_task", { title: `${name} ${n}` })),
          ),
        );
        const results = await Promise.all(
          pairs.flatMap(([client]) => [1, 2, 3].map(() => callTool(client, "list_tasks", {}))),
        );
        results.forEach((result, i) => {
          const owner = i < 3 ? "alice" : "bob";
          const items = (result.structuredContent as { items: { title: string }[] }).items;
          assert.equal(items.length, 5);
          for (const item of items) assert.ok(item.title.startsWith(owner), item.title);
        });
      });
    });
  });
}
