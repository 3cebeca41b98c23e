import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { Validator } from "@seriousme/openapi-schema-validator";
import { sql } from "drizzle-orm";
import Fastify from "fastify";
import {
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from "fastify-type-provider-zod";
import { z } from "zod";
import { OPENAPI_PATH, registerOpenApi, undocumentedRoutes } from "../../src/http/openapi.ts";
import { signUp, type TestUser } from "../support/app.ts";
import { type ChatFixture, startChatApp } from "../support/chat.ts";
import { availableBackends } from "../support/databases.ts";
import { type OpenApiDocument, ResponseChecker } from "../support/openapi.ts";

// The OpenAPI document (src/http/openapi.ts) must be valid, describe every route, and
// match what every route really answers — happy paths and documented errors — so it
// cannot drift from the code.

const backends = await availableBackends();
const PASSWORD = "correct horse battery";

for (const backend of backends) {
  describe(`OpenAPI document [${backend}]`, () => {
    let g: ChatFixture;
    let doc: OpenApiDocument;
    let api: ResponseChecker;

    before(async () => {
      g = await startChatApp(backend, {
        TURN_QUEUE_MS: "0",
        // The hanging model's 504 comes after this; not less: the first offline turn
        // (the model switched to "offline" below) parses for ~0.2–0.4 s before its first
        // part on a slow machine, and a 300 ms watchdog cut it now and then (a flake).
        LLM_IDLE_TIMEOUT_MS: "1500",
        AUTH_RATE_LIMIT: "true",
        SIGN_IN_MAX_FAILURES: "1",
        // Quotas on, every limit off (0) but the ones an admin sets for one user below.
        RATE_LIMITS: "true",
        RATE_LIMIT_CHAT_PER_MINUTE: "0",
        RATE_LIMIT_CHAT_PER_DAY: "0",
        RATE_LIMIT_TASK_WRITES_PER_MINUTE: "0",
        RATE_LIMIT_MCP_PER_MINUTE: "0",
        RATE_LIMIT_API_KEYS_PER_DAY: "0",
      });
      g.llm.setDefault({ text: "Done." });
      const res = await g.t.app.inject({ url: OPENAPI_PATH });
      assert.equal(res.statusCode, 200, res.body);
      doc = res.json();
      api = new ResponseChecker(doc, g.t.app);
    });
    after(() => g.close());

    test("is valid OpenAPI 3.1 (an independent validator)", async () => {
      assert.equal(doc.openapi, "3.1.0");
      const validator = new Validator();
      const result = await validator.validate(doc as unknown as Record<string, unknown>);
      assert.equal(validator.version, "3.1");
      assert.ok(result.valid, JSON.stringify(result.errors, null, 2));
      for (const scheme of ["sessionToken", "apiKey", "sessionCookie", "metricsToken"]) {
        assert.ok(
          (doc.components?.securitySchemes as Record<string, unknown> | undefined)?.[scheme],
          `security scheme ${scheme}`,
        );
      }
    });

    test("every registered route declares its responses (else: what to add)", () => {
      const problems = undocumentedRoutes(g.t.app);
      assert.deepEqual(problems, [], `\n${problems.join("\n")}\n`);
      // Better Auth's mount is described path by path.
      for (const path of [
        "sign-up/email",
        "sign-in/email",
        "sign-out",
        "get-session",
        "list-sessions",
        "update-user",
        "change-password",
      ]) {
        assert.ok(doc.paths[`/api/auth/${path}`], `/api/auth/${path} is documented`);
      }
    });

    test("a route without declared responses is reported, with what to add", async () => {
      const app = Fastify({ logger: false });
      app.setValidatorCompiler(validatorCompiler);
      app.setSerializerCompiler(serializerCompiler);
      await registerOpenApi(app);
      const r = app.withTypeProvider<ZodTypeProvider>();
      r.get("/api/undocumented", async () => ({ ok: true }));
      r.get("/api/hidden", { schema: { hide: true } }, async () => ({ ok: true }));
      r.get(
        "/api/documented/:id",
        {
          schema: {
            params: z.object({ id: z.uuid() }),
            response: { 200: z.object({ ok: z.boolean() }) },
            errors: ["not_found"],
          },
        },
        async () => ({ ok: true }),
      );
      await app.ready();
      try {
        const problems = undocumentedRoutes(app);
        assert.equal(problems.length, 2, problems.join("\n"));
        assert.match(
          problems[0] ?? "",
          /^GET \/api\/undocumented: declares no responses\. Add .*schema: \{ response: \{ 200:/,
        );
        assert.match(problems[1] ?? "", /^GET \/api\/hidden: hidden .* DOCUMENTED_ELSEWHERE/);
        // The documented one: its own 404 and the standard problems of its kind.
        const op = (app.swagger() as unknown as OpenApiDocument).paths["/api/documented/{id}"]?.get;
        assert.deepEqual(Object.keys(op?.responses ?? {}).sort(), [
          "200",
          "400",
          "401",
          "403",
          "404",
          "500",
          "503",
        ]);
      } finally {
        await app.close();
      }
    });

    test("the reference page at /docs is served from this server (no CDN)", async () => {
      const page = await g.t.app.inject({ url: "/docs/" });
      assert.equal(page.statusCode, 200, page.body);
      assert.match(String(page.headers["content-type"]), /text\/html/);
      const external = page.body.match(/(src|href)="https?:\/\/[^"]+"/g) ?? [];
      assert.deepEqual(external, [], "no asset from another host");
      for (const asset of page.body.match(/(?:src|href)="\.?\/?(static\/[^"]+)"/g) ?? []) {
        const file = /"\.?\/?(static\/[^"]+)"/.exec(asset)?.[1];
        const res = await g.t.app.inject({ url: `/docs/${file}` });
        assert.equal(res.statusCode, 200, `${file}: ${res.statusCode}`);
      }
      // The page loads the document from this server (./json: the same document).
      const init = await g.t.app.inject({ url: "/docs/static/swagger-initializer.js" });
      assert.match(init.body, /resolveUrl\('\.\/json'\)/);
      const served = await g.t.app.inject({ url: "/docs/json" });
      assert.deepEqual(served.json(), doc);
    });

    test("real responses of every route match the document", async () => {
      await driveEveryRoute(g, api);
      assert.deepEqual(api.failures, [], `\n${api.failures.join("\n")}\n`);
      const unexercised = api.unexercised();
      assert.deepEqual(unexercised, [], `operations never called: ${unexercised.join(", ")}`);
      // The errors the brief names, each seen at least once where a route has it.
      const statuses = new Set([...api.seen].map((s) => s.split(" ").at(-1)));
      for (const status of ["400", "401", "403", "404", "405", "409", "412", "413", "415"]) {
        assert.ok(statuses.has(status), `some route answered ${status}`);
      }
      for (const status of ["422", "429", "502", "503", "504"]) {
        assert.ok(statuses.has(status), `some route answered ${status}`);
      }
    });
  });
}

/** Happy paths and documented errors of every operation, through the checker. */
async function driveEveryRoute(g: ChatFixture, api: ResponseChecker): Promise<void> {
  const { t, llm } = g;
  const call = api.call.bind(api);
  /** A call whose status the test knows: a wrong one fails here, not just the document check. */
  const expect = async (status: number, ...args: Parameters<typeof call>) => {
    const res = await call(...args);
    assert.equal(res.statusCode, status, `${args[0]} ${args[1]}: ${res.body}`);
    return res;
  };
  const json = { "content-type": "application/json" };

  // Public: health, metrics, the document, the page.
  await call("GET", "/health/live");
  await call("GET", "/health/ready");
  await call("GET", "/health");
  await call("GET", "/metrics");
  await call("GET", "/metrics", { headers: { "x-forwarded-for": "203.0.113.9" } }); // 403
  await call("GET", "/openapi.json");
  await call("GET", "/");
  await call("GET", "/index.html");
  await call("GET", "/assets/{*}", { params: { "*": "no-such-file.js" } }); // 404
  // The MCP authorization flow's discovery documents, and the consent page.
  await call("GET", "/oauth/consent");
  await expect(200, "GET", "/.well-known/oauth-protected-resource");
  await expect(200, "GET", "/.well-known/oauth-protected-resource/mcp");
  await expect(200, "GET", "/.well-known/oauth-authorization-server");
  await expect(200, "GET", "/.well-known/oauth-authorization-server/api/auth");

  // Better Auth.
  const email = `oa-${randomUUID()}@example.com`;
  const signUpRes = await call("POST", "/api/auth/sign-up/email", {
    payload: { name: "Ada", email, password: PASSWORD },
  });
  assert.equal(signUpRes.statusCode, 200, signUpRes.body);
  const cookie = String([signUpRes.headers["set-cookie"]].flat()[0]).split(";")[0] ?? "";
  await call("POST", "/api/auth/sign-up/email", {
    payload: { name: "Ada", email, password: PASSWORD },
  }); // 409
  await call("POST", "/api/auth/sign-up/email", {
    payload: { name: "Ada", email: "not-an-email", password: PASSWORD },
  }); // 400
  const signIn = await call("POST", "/api/auth/sign-in/email", {
    payload: { email, password: PASSWORD },
  });
  assert.equal(signIn.statusCode, 200, signIn.body);
  const other = `oa-${randomUUID()}@example.com`;
  await call("POST", "/api/auth/sign-up/email", {
    payload: { name: "Bo", email: other, password: PASSWORD },
  });
  // 401, then (SIGN_IN_MAX_FAILURES=1) the account is locked: 429. The failure is counted
  // beside the answer, so a loaded machine may need one more try to see the lock.
  let locked = await call("POST", "/api/auth/sign-in/email", {
    payload: { email: other, password: "wrong" },
  });
  for (let i = 0; i < 5 && locked.statusCode !== 429; i++) {
    locked = await call("POST", "/api/auth/sign-in/email", {
      payload: { email: other, password: "wrong" },
    });
  }
  assert.equal(locked.statusCode, 429, locked.body);
  const token = String(signIn.headers["set-auth-token"]);
  const user: TestUser = {
    id: signIn.json().user.id,
    email,
    token,
    headers: { authorization: `Bearer ${token}` },
  };
  const auth = user.headers;
  await call("GET", "/api/auth/get-session", { headers: auth });
  await call("GET", "/api/auth/get-session"); // null
  await call("GET", "/api/auth/list-sessions", { headers: auth });
  await call("GET", "/api/auth/list-sessions"); // 401
  await call("POST", "/api/auth/update-user", { headers: auth, payload: { name: "Ada L." } });
  await call("POST", "/api/auth/update-user", {
    headers: auth,
    payload: { email: "other@example.com" },
  }); // 400
  const bo = await signUp(t.app, "Bo Two");

  // Me.
  await call("GET", "/api/me", { headers: auth });
  await call("GET", "/api/me"); // 401
  await call("PATCH", "/api/me", { headers: auth, payload: { timezone: "Europe/Lisbon" } });
  await call("PATCH", "/api/me", { headers: auth, payload: { timezone: "Mars/Olympus" } }); // 400
  await call("PATCH", "/api/me", {
    headers: { ...auth, ...json },
    payload: "{not json",
  }); // 400 invalid_json
  await call("PATCH", "/api/me", {
    headers: { ...auth, "content-type": "text/plain" },
    payload: "Europe/Lisbon",
  }); // 415
  await call("PATCH", "/api/me", {
    headers: { cookie, origin: "https://evil.example" },
    payload: { timezone: "UTC" },
  }); // 403 (CSRF guard)

  // Tasks.
  const created = await call("POST", "/api/tasks", {
    headers: auth,
    payload: { title: "buy milk", due: { date: "2026-12-01", time: "17:00" }, labels: ["x"] },
  });
  assert.equal(created.statusCode, 201, created.body);
  const number = created.json().id as number;
  await call("POST", "/api/tasks", { headers: auth, payload: { title: "" } }); // 400
  await call("POST", "/api/tasks", { headers: auth, payload: { title: "sub", parent_id: 999 } }); // 404
  await call("POST", "/api/tasks", {
    headers: auth,
    payload: { title: "x".repeat(70_000) },
  }); // 413
  await call("GET", "/api/tasks", { headers: auth, query: "status=pending&sort=due" });
  await call("GET", "/api/tasks", { headers: auth, query: "limit=0" }); // 400
  await call("GET", "/api/lists", { headers: auth });
  await call("GET", "/api/tasks/{number}", { headers: auth, params: { number } });
  await call("GET", "/api/tasks/{number}", { headers: auth, params: { number: 999 } }); // 404
  await call("GET", "/api/tasks/{number}", { headers: auth, params: { number: "abc" } }); // 400
  await call("PATCH", "/api/tasks/{number}", {
    headers: auth,
    params: { number },
    payload: { completed: true },
  });
  await call("PATCH", "/api/tasks/{number}", {
    headers: { ...auth, "if-match": '"1"' },
    params: { number },
    payload: { title: "stale" },
  }); // 412
  await call("PATCH", "/api/tasks/{number}", {
    headers: auth,
    params: { number: 999 },
    payload: { title: "x" },
  }); // 404
  await call("DELETE", "/api/tasks/{number}", { headers: auth, params: { number } });
  await call("DELETE", "/api/tasks/{number}", { headers: auth, params: { number } }); // 404

  // The trash: restore, and a subtask whose parent is in the trash.
  await expect(200, "POST", "/api/tasks/{number}/restore", { headers: auth, params: { number } });
  await expect(409, "POST", "/api/tasks/{number}/restore", { headers: auth, params: { number } }); // 409 not_in_trash
  await expect(404, "POST", "/api/tasks/{number}/restore", {
    headers: auth,
    params: { number: 999 },
  }); // 404
  await expect(404, "POST", "/api/tasks/{number}/restore", {
    headers: bo.headers,
    params: { number },
  }); // 404: someone else's
  const subtask = await expect(201, "POST", "/api/tasks", {
    headers: auth,
    payload: { title: "milk: oat", parent_id: number },
  });
  assert.equal(subtask.statusCode, 201, subtask.body);
  const sub = subtask.json().id as number;
  for (const n of [sub, number]) {
    await expect(200, "DELETE", "/api/tasks/{number}", { headers: auth, params: { number: n } });
  }
  const orphan = await expect(409, "POST", "/api/tasks/{number}/restore", {
    headers: auth,
    params: { number: sub },
  }); // 409 parent_in_trash
  assert.equal(orphan.json().code, "parent_in_trash", orphan.body);

  // The activity log and undo.
  const log = await expect(200, "GET", "/api/activity", { headers: auth, query: `task=${number}` });
  assert.equal(log.statusCode, 200, log.body);
  await expect(200, "GET", "/api/activity", { headers: auth, query: "limit=2" });
  await expect(404, "GET", "/api/activity", { headers: auth, query: "task=999" }); // 404
  await expect(400, "GET", "/api/activity", { headers: auth, query: "limit=0" }); // 400
  await expect(400, "GET", "/api/activity", { headers: auth, query: "cursor=nope" }); // 400
  type Entry = { id: string; kind: string };
  const entries = log.json().items as Entry[];
  const newest = entries[0];
  assert.equal(newest?.kind, "task.deleted", log.body);
  const undo = await expect(201, "POST", "/api/activity/{id}/undo", {
    headers: auth,
    params: { id: newest.id },
  });
  assert.equal(undo.statusCode, 201, undo.body);
  const again = await expect(409, "POST", "/api/activity/{id}/undo", {
    headers: auth,
    params: { id: newest.id },
  }); // 409 already_undone
  assert.equal(again.json().code, "already_undone", again.body);
  // Completed, then changed since (deleted, restored): undoing the completion would overwrite.
  const completed = entries.find((e) => e.kind === "task.completed");
  assert.ok(completed, log.body);
  const conflict = await expect(409, "POST", "/api/activity/{id}/undo", {
    headers: auth,
    params: { id: completed.id },
  }); // 409 undo_conflict
  assert.equal(conflict.json().code, "undo_conflict", conflict.body);
  await expect(404, "POST", "/api/activity/{id}/undo", {
    headers: bo.headers,
    params: { id: completed.id },
  }); // 404: someone else's
  await expect(404, "POST", "/api/activity/{id}/undo", {
    headers: auth,
    params: { id: randomUUID() },
  }); // 404
  await expect(400, "POST", "/api/activity/{id}/undo", { headers: auth, params: { id: "nope" } }); // 400

  // Chat and conversations.
  const turn = await call("POST", "/api/chat", { headers: auth, payload: { message: "hello" } });
  assert.equal(turn.statusCode, 200, turn.body);
  const conversationId = turn.json().conversation_id as string;
  const clientMessageId = randomUUID();
  await call("POST", "/api/chat", {
    headers: auth,
    payload: {
      message: "one",
      conversation_id: conversationId,
      client_message_id: clientMessageId,
    },
  });
  await call("POST", "/api/chat", {
    headers: auth,
    payload: {
      message: "two",
      conversation_id: conversationId,
      client_message_id: clientMessageId,
    },
  }); // 422
  await call("POST", "/api/chat", {
    headers: { ...auth, accept: "text/event-stream" },
    payload: { message: "stream it", conversation_id: conversationId },
  });
  await call("POST", "/api/chat", {
    headers: auth,
    payload: { message: "hi", conversation_id: randomUUID() },
  }); // 404
  await call("POST", "/api/chat", { headers: auth, payload: { message: "" } }); // 400
  llm.script({ status: 500 });
  await call("POST", "/api/chat", { headers: auth, payload: { message: "fail" } }); // 502
  llm.script({ hang: true });
  await call("POST", "/api/chat", { headers: auth, payload: { message: "hang" } }); // 504
  // A turn holding the conversation: the next send is 409 turn_in_progress (TURN_QUEUE_MS 0).
  await t.server.database.db.execute(
    sql`update conversations set active_turn_id = ${randomUUID()},
        active_turn_expires_at = now() + interval '1 minute' where id = ${conversationId}`,
  );
  await call("POST", "/api/chat", {
    headers: auth,
    payload: { message: "busy?", conversation_id: conversationId },
  }); // 409
  await t.server.database.db.execute(
    sql`update conversations set active_turn_id = null, active_turn_expires_at = null
        where id = ${conversationId}`,
  );
  await call("POST", "/api/{user_id}/chat", {
    headers: auth,
    params: { user_id: user.id },
    payload: { message: "hello again", conversation_id: conversationId },
  });
  await call("POST", "/api/{user_id}/chat", {
    headers: auth,
    params: { user_id: bo.id },
    payload: { message: "not mine" },
  }); // 403

  await call("GET", "/api/conversations", { headers: auth, query: "limit=5" });
  await call("GET", "/api/conversations", { headers: auth, query: "limit=abc" }); // 400
  await call("GET", "/api/conversations/{id}", { headers: auth, params: { id: conversationId } });
  await call("GET", "/api/conversations/{id}", { headers: auth, params: { id: randomUUID() } }); // 404
  await call("GET", "/api/conversations/{id}", { headers: auth, params: { id: "nope" } }); // 400
  await call("GET", "/api/conversations/{id}", {
    headers: bo.headers,
    params: { id: conversationId },
  }); // 404: someone else's
  await call("PATCH", "/api/conversations/{id}", {
    headers: auth,
    params: { id: conversationId },
    payload: { title: "Renamed" },
  });
  await call("PATCH", "/api/conversations/{id}", {
    headers: auth,
    params: { id: conversationId },
    payload: { title: "" },
  }); // 400
  // Models and usage (issue 19).
  await expect(200, "PATCH", "/api/conversations/{id}", {
    headers: auth,
    params: { id: conversationId },
    payload: { model: "offline" },
  });
  await expect(400, "PATCH", "/api/conversations/{id}", {
    headers: auth,
    params: { id: conversationId },
    payload: { model: "no-such-model" },
  }); // unknown_model
  await expect(200, "GET", "/api/models", { headers: auth });
  await expect(200, "PUT", "/api/models/default", { headers: auth, payload: { model: null } });
  await expect(400, "PUT", "/api/models/default", { headers: auth, payload: { model: "nope" } });
  await expect(200, "GET", "/api/usage", { headers: auth });
  await expect(200, "GET", "/api/usage", {
    headers: auth,
    query: `date=2026-01-31&conversation_id=${conversationId}`,
  });
  await expect(404, "GET", "/api/usage", {
    headers: bo.headers,
    query: `conversation_id=${conversationId}`,
  });
  await call("GET", "/api/conversations/{id}/messages", {
    headers: auth,
    params: { id: conversationId },
    query: "limit=2",
  });
  await call("GET", "/api/conversations/{id}/messages", {
    headers: auth,
    params: { id: conversationId },
    query: "before_seq=3&after_seq=1",
  }); // 400
  // Issue 19: a reply's context, Regenerate, search.
  const replyId = (
    await call("POST", "/api/{user_id}/chat", {
      headers: auth,
      params: { user_id: user.id },
      payload: { message: "the context of this", conversation_id: conversationId },
    })
  ).json().message_id as string;
  await expect(200, "GET", "/api/conversations/{id}/messages/{message_id}/context", {
    headers: auth,
    params: { id: conversationId, message_id: replyId },
  });
  await expect(404, "GET", "/api/conversations/{id}/messages/{message_id}/context", {
    headers: bo.headers,
    params: { id: conversationId, message_id: replyId },
  });
  await expect(200, "POST", "/api/conversations/{id}/regenerate", {
    headers: auth,
    params: { id: conversationId },
    payload: { message_id: replyId },
  });
  await expect(409, "POST", "/api/conversations/{id}/regenerate", {
    headers: auth,
    params: { id: conversationId },
    payload: { message_id: turn.json().message_id },
  });
  await expect(404, "POST", "/api/conversations/{id}/regenerate", {
    headers: bo.headers,
    params: { id: conversationId },
    payload: {},
  });
  await expect(200, "GET", "/api/search", { headers: auth, query: "q=context" });
  await expect(400, "GET", "/api/search", { headers: auth, query: "q=" });
  await expect(400, "GET", "/api/search", { headers: auth, query: "q=x&cursor=nope" });

  await call("DELETE", "/api/conversations/{id}", {
    headers: auth,
    params: { id: conversationId },
  });
  await call("DELETE", "/api/conversations/{id}", {
    headers: auth,
    params: { id: conversationId },
  }); // 404

  // Export and import.
  const exported = await call("GET", "/api/export", { headers: auth });
  assert.equal(exported.statusCode, 200, exported.body);
  await call("POST", "/api/import", {
    headers: auth,
    query: "format=tasktalk",
    payload: exported.json(),
  });
  await call("POST", "/api/import", {
    headers: auth,
    query: "format=todoist",
    payload: { not: "csv" },
  }); // 415
  await call("POST", "/api/import", { headers: auth, query: "format=bogus", payload: {} }); // 400
  const importJob = await expect(202, "POST", "/api/import", {
    headers: { ...auth, "content-type": "text/csv" },
    query: "format=todoist&async=true",
    payload: "TYPE,CONTENT,DESCRIPTION,PRIORITY,INDENT,AUTHOR,RESPONSIBLE,DATE,DATE_LANG\n",
  });
  await expect(200, "GET", "/api/import/jobs/{id}", {
    headers: auth,
    params: { id: importJob.json().id },
  });
  await expect(404, "GET", "/api/import/jobs/{id}", {
    headers: auth,
    params: { id: randomUUID() },
  });
  await call("GET", "/api/chat/{id}/stream", { headers: auth, params: { id: "abc" } }); // 204

  // API keys.
  const key = await call("POST", "/api/api-keys", { headers: auth, payload: { name: "laptop" } });
  assert.equal(key.statusCode, 201, key.body);
  const keyHeaders = { authorization: `Bearer ${key.json().key}` };
  await call("POST", "/api/api-keys", { headers: auth, payload: { name: "" } }); // 400
  await call("POST", "/api/api-keys", { headers: keyHeaders, payload: { name: "x" } }); // 403
  await call("GET", "/api/api-keys", { headers: auth });
  await call("GET", "/api/api-keys", { headers: keyHeaders }); // 403
  await call("GET", "/api/tasks", { headers: keyHeaders }); // a key on the REST API
  const reader = await expect(201, "POST", "/api/api-keys", {
    headers: auth,
    payload: { name: "reader", scopes: ["tasks:read"] },
  });
  await expect(403, "POST", "/api/tasks", {
    headers: { authorization: `Bearer ${reader.json().key}` },
    payload: { title: "read-only keys cannot write" },
  }); // insufficient_scope
  await call("GET", "/api/tasks", { headers: { authorization: "Bearer tt_revoked" } }); // 401
  for (let i = 0; i < 50; i++) {
    const res = await t.app.inject({
      method: "POST",
      url: "/api/api-keys",
      headers: bo.headers,
      payload: { name: `k${i}` },
    });
    assert.equal(res.statusCode, 201, res.body);
  }
  await call("POST", "/api/api-keys", { headers: bo.headers, payload: { name: "one too many" } }); // 409
  await call("DELETE", "/api/api-keys/{key_id}", {
    headers: auth,
    params: { key_id: key.json().id },
  });
  await call("DELETE", "/api/api-keys/{key_id}", {
    headers: auth,
    params: { key_id: key.json().id },
  }); // 404

  const fullLog = await expect(200, "GET", "/api/activity", { headers: auth, query: "limit=200" });
  const revoked = fullLog.json().items as { id: string; kind: string }[];
  const keyRevoked = revoked.find((e) => e.kind === "api_key.revoked");
  assert.ok(keyRevoked, "the key's revocation is logged");
  const notUndoable = await expect(409, "POST", "/api/activity/{id}/undo", {
    headers: auth,
    params: { id: keyRevoked.id },
  }); // 409 not_undoable
  assert.equal(notUndoable.json().code, "not_undoable", notUndoable.body);

  // Reminders and notification settings.
  const reminded = await expect(201, "POST", "/api/tasks", {
    headers: auth,
    payload: {
      title: "call the plumber",
      due: { date: "2026-12-02", time: "09:00" },
      reminders: [{ before_minutes: 30 }],
    },
  });
  assert.equal(reminded.statusCode, 201, reminded.body);
  const remindedNumber = reminded.json().id as number;
  await expect(200, "GET", "/api/tasks/{number}/reminders", {
    headers: auth,
    params: { number: remindedNumber },
  });
  await expect(404, "GET", "/api/tasks/{number}/reminders", {
    headers: bo.headers,
    params: { number: remindedNumber },
  }); // 404: someone else's
  await expect(400, "GET", "/api/tasks/{number}/reminders", {
    headers: auth,
    params: { number: "x" },
  }); // 400
  await expect(200, "GET", "/api/me/notifications", { headers: auth });
  await expect(200, "PATCH", "/api/me/notifications", { headers: auth, payload: { email: false } });
  await expect(400, "PATCH", "/api/me/notifications", { headers: auth, payload: { web: "yes" } }); // 400

  // The inbox (a fired reminder, written as the reminder job writes it).
  const notificationId = randomUUID();
  await t.server.database.db.execute(
    sql`insert into notifications (id, user_id, task_number, title, scheduled_for)
        values (${notificationId}, ${user.id}, ${remindedNumber}, 'call the plumber', now())`,
  );
  const inbox = await expect(200, "GET", "/api/notifications", {
    headers: auth,
    query: "unread=true",
  });
  assert.equal(inbox.json().unread_count, 1, inbox.body);
  await expect(400, "GET", "/api/notifications", { headers: auth, query: "cursor=nope" }); // 400
  await expect(200, "POST", "/api/notifications/{id}/read", {
    headers: auth,
    params: { id: notificationId },
  });
  await expect(404, "POST", "/api/notifications/{id}/read", {
    headers: bo.headers,
    params: { id: notificationId },
  }); // 404: someone else's
  await expect(400, "POST", "/api/notifications/{id}/read", { headers: auth, params: { id: "1" } }); // 400
  await expect(200, "POST", "/api/notifications/read-all", { headers: auth });

  // Webhooks (an address literal: no DNS lookup).
  const hook = await expect(201, "POST", "/api/webhooks", {
    headers: auth,
    payload: { url: "https://93.184.215.14/hooks/tasktalk", events: ["task.created"] },
  });
  assert.equal(hook.statusCode, 201, hook.body);
  const hookId = hook.json().id as string;
  await expect(400, "POST", "/api/webhooks", {
    headers: auth,
    payload: { url: "http://127.0.0.1:9/hook" },
  }); // 400: a private address
  await expect(200, "GET", "/api/webhooks", { headers: auth });
  await expect(200, "GET", "/api/webhooks/{id}", { headers: auth, params: { id: hookId } });
  await expect(404, "GET", "/api/webhooks/{id}", { headers: bo.headers, params: { id: hookId } }); // 404
  await expect(400, "GET", "/api/webhooks/{id}", { headers: auth, params: { id: "nope" } }); // 400
  await expect(200, "PATCH", "/api/webhooks/{id}", {
    headers: auth,
    params: { id: hookId },
    payload: { active: false },
  });
  await expect(400, "PATCH", "/api/webhooks/{id}", {
    headers: auth,
    params: { id: hookId },
    payload: {},
  }); // 400: nothing to change
  await expect(404, "PATCH", "/api/webhooks/{id}", {
    headers: bo.headers,
    params: { id: hookId },
    payload: { active: true },
  }); // 404
  await expect(200, "GET", "/api/webhooks/{id}/deliveries", {
    headers: auth,
    params: { id: hookId },
    query: "limit=5",
  });
  await expect(400, "GET", "/api/webhooks/{id}/deliveries", {
    headers: auth,
    params: { id: hookId },
    query: "limit=0",
  }); // 400
  await expect(404, "GET", "/api/webhooks/{id}/deliveries", {
    headers: bo.headers,
    params: { id: hookId },
  }); // 404
  await expect(404, "DELETE", "/api/webhooks/{id}", {
    headers: bo.headers,
    params: { id: hookId },
  }); // 404
  await expect(204, "DELETE", "/api/webhooks/{id}", { headers: auth, params: { id: hookId } });

  // The calendar feed (src/caldav/): issue, reissue, turn off.
  await expect(404, "DELETE", "/api/ical-feed", { headers: auth }); // 404: none yet
  await expect(201, "POST", "/api/ical-feed", { headers: auth });
  await expect(204, "DELETE", "/api/ical-feed", { headers: auth });

  // Administration: the first account (Ada) is the admin; Bo is not.
  const cy = await signUp(t.app, "Cy Three");
  const cyKey = await t.app.inject({
    method: "POST",
    url: "/api/api-keys",
    headers: cy.headers,
    payload: { name: "cy's script" },
  });
  assert.equal(cyKey.statusCode, 201, cyKey.body);
  const cyKeyHeaders = { authorization: `Bearer ${cyKey.json().key}` };
  const cyId = { user_id: cy.id };
  const self = { user_id: user.id };
  const missing = { user_id: "no-such-user" };
  await expect(200, "GET", "/api/admin/users", { headers: auth, query: "limit=2" });
  await expect(400, "GET", "/api/admin/users", { headers: auth, query: "limit=0" }); // 400
  const notAdmin = await expect(403, "GET", "/api/admin/users", { headers: bo.headers });
  assert.equal(notAdmin.json().code, "admin_required", notAdmin.body);
  // An admin's API key cannot administer: 403 forbidden, reads included.
  const adminKey = await t.app.inject({
    method: "POST",
    url: "/api/api-keys",
    headers: auth,
    payload: { name: "admin's script" },
  });
  assert.equal(adminKey.statusCode, 201, adminKey.body);
  const byKey = await expect(403, "GET", "/api/admin/users", {
    headers: { authorization: `Bearer ${adminKey.json().key}` },
  });
  assert.equal(byKey.json().code, "forbidden", byKey.body);
  await expect(200, "GET", "/api/admin/users/{user_id}", { headers: auth, params: cyId });
  await expect(404, "GET", "/api/admin/users/{user_id}", { headers: auth, params: missing }); // 404
  await expect(403, "GET", "/api/admin/users/{user_id}", { headers: bo.headers, params: cyId }); // 403
  await expect(200, "POST", "/api/admin/users/{user_id}/ban", {
    headers: auth,
    params: cyId,
    payload: { reason: "spam", expires_in_seconds: 3600 },
  });
  const banned = await expect(403, "GET", "/api/tasks", { headers: cyKeyHeaders }); // 403 account_disabled
  assert.equal(banned.json().code, "account_disabled", banned.body);
  await expect(409, "POST", "/api/admin/users/{user_id}/ban", { headers: auth, params: self }); // 409
  await expect(400, "POST", "/api/admin/users/{user_id}/ban", {
    headers: auth,
    params: cyId,
    payload: { expires_in_seconds: 1 },
  }); // 400
  await expect(404, "POST", "/api/admin/users/{user_id}/ban", { headers: auth, params: missing }); // 404
  await expect(403, "POST", "/api/admin/users/{user_id}/ban", {
    headers: bo.headers,
    params: cyId,
  }); // 403
  await expect(200, "POST", "/api/admin/users/{user_id}/unban", { headers: auth, params: cyId });
  // The ban ended Cy's sessions: Cy signs in again.
  const cySignIn = await t.app.inject({
    method: "POST",
    url: "/api/auth/sign-in/email",
    payload: { email: cy.email, password: PASSWORD },
  });
  assert.equal(cySignIn.statusCode, 200, cySignIn.body);
  const cyHeaders = { authorization: `Bearer ${cySignIn.headers["set-auth-token"]}` };
  await expect(404, "POST", "/api/admin/users/{user_id}/unban", { headers: auth, params: missing }); // 404
  await expect(403, "POST", "/api/admin/users/{user_id}/unban", {
    headers: bo.headers,
    params: cyId,
  }); // 403
  await expect(200, "POST", "/api/admin/users/{user_id}/revoke-sessions", {
    headers: auth,
    params: { user_id: bo.id },
  });
  const boAgain = await signUp(t.app, "Bo's sessions ended: another non-admin");
  const nonAdmin = boAgain.headers;
  await expect(409, "POST", "/api/admin/users/{user_id}/revoke-sessions", {
    headers: auth,
    params: self,
  }); // 409
  await expect(404, "POST", "/api/admin/users/{user_id}/revoke-sessions", {
    headers: auth,
    params: missing,
  }); // 404
  await expect(403, "POST", "/api/admin/users/{user_id}/revoke-sessions", {
    headers: nonAdmin,
    params: cyId,
  }); // 403
  await expect(200, "PUT", "/api/admin/users/{user_id}/role", {
    headers: auth,
    params: cyId,
    payload: { role: "user" },
  });
  await expect(409, "PUT", "/api/admin/users/{user_id}/role", {
    headers: auth,
    params: self,
    payload: { role: "user" },
  }); // 409
  await expect(400, "PUT", "/api/admin/users/{user_id}/role", {
    headers: auth,
    params: cyId,
    payload: { role: "owner" },
  }); // 400
  await expect(404, "PUT", "/api/admin/users/{user_id}/role", {
    headers: auth,
    params: missing,
    payload: { role: "user" },
  }); // 404
  await expect(403, "PUT", "/api/admin/users/{user_id}/role", {
    headers: nonAdmin,
    params: cyId,
    payload: { role: "admin" },
  }); // 403
  await expect(200, "GET", "/api/admin/users/{user_id}/features", { headers: auth, params: cyId });
  await expect(404, "GET", "/api/admin/users/{user_id}/features", {
    headers: auth,
    params: missing,
  }); // 404
  await expect(403, "GET", "/api/admin/users/{user_id}/features", {
    headers: nonAdmin,
    params: cyId,
  }); // 403
  // Cy's API keys switched off: the key is refused (403 feature_disabled), the session is not.
  await expect(200, "PUT", "/api/admin/users/{user_id}/features", {
    headers: auth,
    params: cyId,
    payload: { api_keys: false, quotas: { task_writes_per_minute: 1 } },
  });
  const disabled = await expect(403, "GET", "/api/tasks", { headers: cyKeyHeaders }); // 403
  assert.equal(disabled.json().code, "feature_disabled", disabled.body);
  // …and one task write a minute: the second is 429 quota_exceeded (RATE_LIMITS is on).
  const cyFirst = await expect(201, "POST", "/api/tasks", {
    headers: cyHeaders,
    payload: { title: "1" },
  });
  assert.equal(cyFirst.statusCode, 201, cyFirst.body);
  const overQuota = await expect(429, "POST", "/api/tasks", {
    headers: cyHeaders,
    payload: { title: "2" },
  }); // 429
  assert.equal(overQuota.json().code, "quota_exceeded", overQuota.body);
  await expect(429, "PATCH", "/api/tasks/{number}", {
    headers: cyHeaders,
    params: { number: cyFirst.json().id },
    payload: { title: "one" },
  }); // 429
  await expect(400, "PUT", "/api/admin/users/{user_id}/features", {
    headers: auth,
    params: cyId,
    payload: { quotas: { chat_per_day: -1 } },
  }); // 400
  await expect(404, "PUT", "/api/admin/users/{user_id}/features", {
    headers: auth,
    params: missing,
    payload: {},
  }); // 404
  await expect(403, "PUT", "/api/admin/users/{user_id}/features", {
    headers: nonAdmin,
    params: cyId,
    payload: { mcp: true },
  }); // 403
  await expect(200, "GET", "/api/admin/roles/{role}/features", {
    headers: auth,
    params: { role: "user" },
  });
  await expect(400, "GET", "/api/admin/roles/{role}/features", {
    headers: auth,
    params: { role: "owner" },
  }); // 400
  await expect(403, "GET", "/api/admin/roles/{role}/features", {
    headers: nonAdmin,
    params: { role: "user" },
  }); // 403
  await expect(200, "PUT", "/api/admin/roles/{role}/features", {
    headers: auth,
    params: { role: "user" },
    payload: { mcp: true },
  });
  await expect(400, "PUT", "/api/admin/roles/{role}/features", {
    headers: auth,
    params: { role: "user" },
    payload: { mcp: "yes" },
  }); // 400
  await expect(403, "PUT", "/api/admin/roles/{role}/features", {
    headers: nonAdmin,
    params: { role: "user" },
    payload: { mcp: true },
  }); // 403
  await expect(403, "DELETE", "/api/admin/users/{user_id}", { headers: nonAdmin, params: cyId }); // 403
  await expect(409, "DELETE", "/api/admin/users/{user_id}", { headers: auth, params: self }); // 409
  await expect(204, "DELETE", "/api/admin/users/{user_id}", { headers: auth, params: cyId });
  await expect(404, "DELETE", "/api/admin/users/{user_id}", { headers: auth, params: cyId }); // 404

  // MCP.
  const mcp = { ...auth, ...json, accept: "application/json, text/event-stream" };
  const rpc = (method: string, id?: number) => ({
    jsonrpc: "2.0",
    method,
    ...(id === undefined ? {} : { id }),
    ...(method === "initialize"
      ? {
          params: {
            protocolVersion: "2025-06-18",
            capabilities: {},
            clientInfo: { name: "openapi-test", version: "1" },
          },
        }
      : {}),
  });
  await call("POST", "/mcp", { headers: mcp, payload: rpc("initialize", 1) });
  await call("POST", "/mcp", { headers: mcp, payload: rpc("notifications/initialized") }); // 202
  await call("POST", "/mcp", { headers: mcp, payload: rpc("tools/list", 2) });
  await call("POST", "/mcp", {
    headers: { ...mcp, accept: "text/html" },
    payload: rpc("tools/list", 3),
  }); // 406
  await call("POST", "/mcp", { headers: { ...json }, payload: rpc("tools/list", 4) }); // 401
  await call("POST", "/mcp", {
    headers: { ...mcp, origin: "https://evil.example" },
    payload: rpc("tools/list", 5),
  }); // 403
  await call("POST", "/mcp", { headers: mcp, payload: "{" }); // 400 invalid_json
  await call("GET", "/mcp", { headers: auth }); // 405
  await call("DELETE", "/mcp", { headers: auth }); // 405

  await call("POST", "/api/auth/change-password", {
    headers: bo.headers,
    payload: { currentPassword: "wrong password", newPassword: "another horse battery" },
  }); // 400
  await call("POST", "/api/auth/change-password", {
    headers: bo.headers,
    payload: { currentPassword: PASSWORD, newPassword: "another horse battery" },
  });
  await call("POST", "/api/auth/change-password", {
    payload: { currentPassword: PASSWORD, newPassword: "another horse battery" },
  }); // 401
  await call("POST", "/api/auth/sign-out", { headers: bo.headers });

  // Draining: readiness first says 503, then every route refuses with 503 shutting_down.
  t.app.shutdown.enter("grace");
  await call("GET", "/health/ready"); // 503
  await call("GET", "/health");
  t.app.shutdown.enter("closing");
  await call("GET", "/api/tasks", { headers: auth }); // 503
  await call("POST", "/api/auth/sign-out", { headers: auth }); // 503
}
