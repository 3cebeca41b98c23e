import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { sql } from "drizzle-orm";
import type { InjectOptions, LightMyRequestResponse } from "fastify";
import { z } from "zod";
import { systemContext } from "../../src/context.ts";
import { rowsOf } from "../../src/db/client.ts";
import { runTool, TASK_TOOLS } from "../../src/tools/task-tools.ts";
import { isToolError } from "../../src/tools/tool.ts";
import type { TestUser } from "../support/app.ts";
import { type ChatFixture, chat, signUp, startChatApp } from "../support/chat.ts";
import { availableBackends } from "../support/databases.ts";
import { toolCallThenText } from "../support/fake-llm.ts";

// A1 (BOLA): user B calls every id-taking route of the real app — the list comes from the
// app itself (app.routeList), so a route added tomorrow is swept too — with user A's ids.
// Each request is first made on B's OWN ids and must succeed there: the 404 on A's ids is
// then due to ownership alone, not to a malformed request. A's data, read through the API
// and as raw rows, must be byte-for-byte the same afterwards.

/** Bodies tried on routes that take one; those that succeed on B's own ids are replayed. */
const BODY_CANDIDATES: Record<string, unknown>[] = [
  { title: "pwned by B" },
  { description: "pwned by B" },
  { completed: true },
  { message: "pwned by B" },
  { active: false },
  {}, // POST /api/conversations/:id/regenerate: the last reply
];
const BODYLESS = new Set(["GET", "HEAD", "DELETE", "OPTIONS"]);
/** Tables holding A's data, each with the column that names the owner. */
const OWNED_TABLES = [
  ["user", "id"],
  ["session", "user_id"],
  ["account", "user_id"],
  ["conversations", "user_id"],
  ["messages", "user_id"],
  ["tasks", "user_id"],
  ["task_counters", "user_id"],
  ["api_keys", "user_id"],
  ["activity", "user_id"],
  ["task_reminders", "user_id"],
  ["notifications", "user_id"],
  ["notification_settings", "user_id"],
  ["webhooks", "user_id"],
  ["webhook_deliveries", "user_id"],
  ["pending_actions", "user_id"],
  ["import_jobs", "user_id"],
  ["import_keys", "user_id"],
  ["task_change_counters", "user_id"],
  ["caldav_objects", "user_id"],
  ["ical_feeds", "user_id"],
  ["oauth_client", "user_id"],
  ["oauth_consent", "user_id"],
  ["oauth_access_token", "user_id"],
  ["oauth_refresh_token", "user_id"],
] as const;

for (const backend of await availableBackends()) {
  describe(`isolation between users (A1) [${backend}]`, () => {
    let f: ChatFixture;
    before(async () => {
      f = await startChatApp(backend);
    });
    after(() => f.close());

    const call = (user: TestUser, opts: InjectOptions) =>
      f.t.app.inject({ ...opts, headers: { ...opts.headers, ...user.headers } });
    const addTask = async (user: TestUser, title: string) => {
      const res = await call(user, { method: "POST", url: "/api/tasks", payload: { title } });
      assert.equal(res.statusCode, 201, res.body);
      return res.json().id as number;
    };
    const hasKeys = () => f.t.app.hasRoute({ method: "POST", url: "/api/api-keys" });
    /** A personal API key (when the app has them); returns its id. */
    const addKey = async (user: TestUser) => {
      if (!hasKeys()) return undefined;
      const res = await call(user, {
        method: "POST",
        url: "/api/api-keys",
        payload: { name: `${user.id} key` },
      });
      assert.equal(res.statusCode, 201, res.body);
      return res.json().id as string;
    };
    const newConversation = async (user: TestUser, message: string) => {
      f.llm.setDefault({ text: "ok" });
      const res = await chat(f.t, user, { message });
      assert.equal(res.statusCode, 200, res.body);
      return res.json().conversation_id as string;
    };

    /** A: 55 tasks (some completed, one deleted), two conversations, one with a tool call. */
    const victim = async () => {
      const a = await signUp(f.t.app, "Alice");
      for (let n = 1; n <= 55; n++) await addTask(a, `alice secret ${n}`);
      for (const n of [50, 52]) {
        const res = await call(a, {
          method: "PATCH",
          url: `/api/tasks/${n}`,
          payload: { completed: true, description: `alice detail ${n}` },
        });
        assert.equal(res.statusCode, 200);
      }
      assert.equal((await call(a, { method: "DELETE", url: "/api/tasks/51" })).statusCode, 200);
      f.llm.setDefault(
        toolCallThenText("add_task", { title: "alice secret 56" }, "Added alice secret 56."),
      );
      const first = await chat(f.t, a, { message: "alice private conversation" });
      assert.equal(first.statusCode, 200, first.body);
      const c1 = first.json().conversation_id as string;
      f.llm.setDefault({ text: "alice reply" });
      assert.equal((await chat(f.t, a, { message: "more", conversation_id: c1 })).statusCode, 200);
      const c2 = await newConversation(a, "alice second conversation");
      const keys: string[] = [];
      for (let i = 0; i < 2; i++) {
        const key = await addKey(a);
        if (key) keys.push(key);
      }
      const importJob = await addImportJob(a);
      // B never gets near these numbers (checked at the end), so they are A's alone.
      const log = await call(a, { url: "/api/activity?limit=5" });
      const entries = (log.json() as { items: { id: string }[] }).items.map((e) => e.id);
      // A's webhook (an address literal: no DNS lookup) and a fired reminder in A's inbox.
      const hook = await call(a, {
        method: "POST",
        url: "/api/webhooks",
        payload: { url: "https://93.184.215.14/hooks/alice", events: ["task.created"] },
      });
      assert.equal(hook.statusCode, 201, hook.body);
      const notification = randomUUID();
      await f.t.server.database.db.execute(
        sql`insert into notifications (id, user_id, task_number, title, scheduled_for)
            values (${notification}, ${a.id}, 50, 'alice reminder', now())`,
      );
      return {
        a,
        conversations: [c1, c2],
        replies: [first.json().message_id as string, first.json().user_message_id as string],
        numbers: [50, 52, 55, 56],
        keys,
        entries,
        webhooks: [hook.json().id as string],
        notifications: [notification],
        importJobs: [importJob],
      };
    };

    /** An import job (an empty file, imported as a job), once it has ended. */
    const addImportJob = async (user: TestUser): Promise<string> => {
      const res = await call(user, {
        method: "POST",
        url: "/api/import?format=todoist&async=true",
        headers: { "content-type": "text/csv" },
        payload: "TYPE,CONTENT,DESCRIPTION,PRIORITY,INDENT,AUTHOR,RESPONSIBLE,DATE,DATE_LANG\n",
      });
      assert.equal(res.statusCode, 202, res.body);
      const id = res.json().id as string;
      for (let i = 0; i < 300; i++) {
        const job = await call(user, { url: `/api/import/jobs/${id}` });
        if (job.json().state === "done") return id;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.fail("the import job did not end");
    };

    /** Everything A can see through the API, and A's raw rows in every table. */
    const snapshot = async (a: TestUser, conversations: string[], numbers: number[]) => {
      const get = async (url: string) => {
        const res = await call(a, { url });
        assert.equal(res.statusCode, 200, `${url}: ${res.body}`);
        return res.body;
      };
      const api = [await get("/api/tasks?status=all"), await get("/api/conversations?limit=100")];
      for (const id of conversations) {
        api.push(await get(`/api/conversations/${id}`));
        api.push(await get(`/api/conversations/${id}/messages?limit=200`));
      }
      for (const n of numbers) api.push(await get(`/api/tasks/${n}`));
      if (hasKeys()) api.push(await get("/api/api-keys"));
      const rows: Record<string, string[]> = {};
      for (const [table, owner] of OWNED_TABLES) {
        const exists = rowsOf<{ t: string | null }>(
          await f.t.server.database.db.execute(sql`select to_regclass(${table}) as t`),
        );
        if (!exists[0]?.t) continue;
        const result = await f.t.server.database.db.execute(
          sql`select to_jsonb(t)::text as r from ${sql.identifier(table)} t
              where ${sql.identifier(owner)} = ${a.id} order by 1`,
        );
        rows[table] = rowsOf<{ r: string }>(result).map((x) => x.r);
      }
      assert.ok((rows.messages ?? []).length >= 6, "the snapshot sees A's messages");
      assert.ok((rows.tasks ?? []).length >= 55, "the snapshot sees A's tasks");
      return { api, rows };
    };

    const assertRefused = (
      res: LightMyRequestResponse,
      method: string,
      expected: { status: number; code: string },
      label: string,
    ) => {
      assert.equal(res.statusCode, expected.status, `${label}: ${res.body}`);
      if (method === "HEAD") return;
      assert.match(String(res.headers["content-type"]), /^application\/problem\+json/, label);
      assert.equal(res.json().code, expected.code, label);
      assert.doesNotMatch(res.body, /alice/i, `${label}: nothing of A's leaks`);
    };

    test("every id-taking route, called by B with A's ids → 404 (403 for :user_id); A unchanged", async () => {
      const {
        a,
        conversations,
        replies,
        numbers,
        keys,
        entries,
        webhooks,
        notifications,
        importJobs,
      } = await victim();
      const b = await signUp(f.t.app, "Bob");
      await addTask(b, "bob's own"); // B has a task 1 too: A's ids must not reach it
      await newConversation(b, "bob's own conversation");
      const before = await snapshot(a, conversations, numbers);

      /**
       * Sample ids per path parameter, keyed by the segment before it ("tasks/:number"):
       * A's (the victim's), and a fresh one of B's own.
       */
      let ownReply = "";
      const PARAMS: Record<
        string,
        {
          theirs: string[];
          /** A fresh id of B's own for this route (a trashed task for …/restore). */
          own: (url: string) => Promise<string>;
          refused: { status: number; code: string };
        }
      > = {
        "conversations/:id": {
          theirs: conversations,
          own: async () => {
            f.llm.setDefault({ text: "ok" });
            const res = await chat(f.t, b, { message: "bob's fresh conversation" });
            assert.equal(res.statusCode, 200, res.body);
            ownReply = res.json().message_id as string;
            return res.json().conversation_id as string;
          },
          refused: { status: 404, code: "not_found" },
        },
        // …/messages/:message_id/context: the reply of the conversation just made above.
        "messages/:message_id": {
          theirs: replies,
          own: async () => ownReply,
          refused: { status: 404, code: "not_found" },
        },
        "tasks/:number": {
          theirs: numbers.map(String),
          own: async (url) => {
            const n = await addTask(b, "bob's fresh task");
            if (url.endsWith("/restore")) {
              const res = await call(b, { method: "DELETE", url: `/api/tasks/${n}` });
              assert.equal(res.statusCode, 200);
            }
            return String(n);
          },
          refused: { status: 404, code: "not_found" },
        },
        "activity/:id": {
          theirs: entries,
          // B's newest entry: the fresh task's creation, undoable once.
          own: async () => {
            await addTask(b, "bob's task to undo");
            const log = await call(b, { url: "/api/activity?limit=1" });
            return (log.json() as { items: { id: string }[] }).items[0]?.id ?? "";
          },
          refused: { status: 404, code: "not_found" },
        },
        "webhooks/:id": {
          theirs: webhooks,
          own: async () => {
            const res = await call(b, {
              method: "POST",
              url: "/api/webhooks",
              payload: { url: "https://93.184.215.14/hooks/bob" },
            });
            return res.json().id as string;
          },
          refused: { status: 404, code: "not_found" },
        },
        "notifications/:id": {
          theirs: notifications,
          own: async () => {
            const id = randomUUID();
            await f.t.server.database.db.execute(
              sql`insert into notifications (id, user_id, task_number, title, scheduled_for)
                  values (${id}, ${b.id}, 1, 'bob reminder', now())`,
            );
            return id;
          },
          refused: { status: 404, code: "not_found" },
        },
        "api/:user_id": {
          theirs: [a.id],
          own: async () => b.id,
          refused: { status: 403, code: "forbidden" },
        },
        "api-keys/:key_id": {
          theirs: keys,
          own: async () => (await addKey(b)) ?? "",
          refused: { status: 404, code: "not_found" },
        },
        "jobs/:id": {
          theirs: importJobs,
          own: () => addImportJob(b),
          refused: { status: 404, code: "not_found" },
        },
      };

      // /api/admin/* names other users by design and admits admins only: every one of those
      // routes refuses a non-admin (403 admin_required, test/admin/admin.test.ts).
      // GET /api/chat/:id/stream (the AI SDK's resume) reads nothing: 204 for any id.
      // GET /ical/:file is public: its secret token is the credential (a per-user feed,
      // test/caldav/ical-feed.test.ts); /dav/* takes Basic credentials and the user's id
      // in the path (test/caldav/caldav-security.test.ts).
      const routes = f.t.app.routeList.filter(
        (r) =>
          r.url.includes(":") &&
          !r.url.startsWith("/api/admin/") &&
          r.url !== "/api/chat/:id/stream" &&
          r.url !== "/ical/:file",
      );
      const swept = new Set<string>();
      let requests = 0;
      for (const route of routes) {
        const label = `${route.method} ${route.url}`;
        const names = [...route.url.matchAll(/([^/]*)\/:(\w+)/g)].map((m) => `${m[1]}/:${m[2]}`);
        for (const name of names) {
          if (!PARAMS[name]) {
            assert.fail(`${label}: no sample ids for ${name}; add them to PARAMS in this test`);
          }
        }
        const fill = (values: Record<string, string>) =>
          route.url.replace(/([^/]*)\/:(\w+)/g, (_, segment: string, param: string) => {
            const value = values[`${segment}/:${param}`] ?? "";
            return `${segment}/${encodeURIComponent(value)}`;
          });
        const ownValues = async (except?: string) => {
          const values: Record<string, string> = {};
          for (const name of names) {
            if (name !== except) values[name] = await (PARAMS[name]?.own(route.url) ?? "");
          }
          return values;
        };
        const request = (url: string, payload: Record<string, unknown> | undefined) => ({
          method: route.method as InjectOptions["method"],
          url,
          ...(payload === undefined ? {} : { payload }),
        });

        // 1. On B's own ids the request succeeds: it is well-formed, only the owner differs.
        const bodies: (Record<string, unknown> | undefined)[] = [];
        for (const payload of BODYLESS.has(route.method) ? [undefined] : BODY_CANDIDATES) {
          const own = await call(b, request(fill(await ownValues()), payload));
          if (own.statusCode >= 200 && own.statusCode < 300) bodies.push(payload);
          else if (payload === undefined) assert.fail(`${label} on B's own ids: ${own.body}`);
        }
        assert.ok(bodies.length > 0, `${label}: no candidate body works; add one that does`);

        // 2. A's ids (each parameter in turn; any other one B's own) are refused.
        for (const name of names) {
          const sample = PARAMS[name];
          assert.ok(sample);
          assert.ok(sample.theirs.length > 0, `${label}: A has no ${name} to try`);
          for (const theirs of sample.theirs) {
            for (const payload of bodies) {
              const values = { ...(await ownValues(name)), [name]: theirs };
              const modelCalls = f.llm.requests.length;
              const res = await call(b, request(fill(values), payload));
              assertRefused(res, route.method, sample.refused, `${label} with A's ${name}`);
              assert.equal(f.llm.requests.length, modelCalls, `${label}: no model call`);
              requests++;
            }
          }
        }
        swept.add(route.url);
      }
      // The list comes from the app: the routes this test exists for are in it.
      for (const url of ["/api/conversations/:id", "/api/tasks/:number", "/api/:user_id/chat"]) {
        assert.ok(swept.has(url), `${url} was swept`);
      }
      assert.ok(requests >= 30, `only ${requests} requests swept`);

      // Ids in bodies: a chat naming A's conversation, through both chat doors.
      for (const url of ["/api/chat", `/api/${b.id}/chat`]) {
        for (const conversation_id of conversations) {
          const modelCalls = f.llm.requests.length;
          const res = await call(b, {
            method: "POST",
            url,
            payload: { message: "pwned by B", conversation_id },
          });
          assertRefused(res, "POST", { status: 404, code: "not_found" }, `POST ${url}`);
          assert.equal(f.llm.requests.length, modelCalls);
        }
      }

      const afterwards = await snapshot(a, conversations, numbers);
      assert.deepEqual(afterwards.api, before.api, "A's API view is unchanged");
      assert.deepEqual(afterwards.rows, before.rows, "A's rows are byte-for-byte unchanged");
      const [counter] = rowsOf<{ n: number }>(
        await f.t.server.database.db.execute(
          sql`select last_number as n from task_counters where user_id = ${b.id}`,
        ),
      );
      assert.ok(
        (counter?.n ?? 0) < Math.min(...numbers),
        `B's task numbers (up to ${counter?.n}) must stay below A's samples`,
      );
    });

    test("through the tools: B's task tools with A's task numbers → not_found; A unchanged", async () => {
      const { a, conversations, numbers } = await victim();
      const b = await signUp(f.t.app, "Bob");
      await addTask(b, "bob's own");
      const before = await snapshot(a, conversations, numbers);
      const ctxB = systemContext(f.t.server.database.db, b.id);

      const SAMPLES: Record<string, unknown> = {
        due: { date: "2026-12-01", time: "17:00" },
        priority: "high",
        list: "B's list",
        labels: ["pwned"],
        label: "pwned",
        q: "pwned",
        limit: 10,
        completed: false,
        parent_id: null,
        recurrence: "every monday",
        reminders: [{ before_minutes: 30 }],
        repeat_from: "completion",
      };
      const argsFor = (name: string, shape: Record<string, unknown>, taskId: number) => {
        const args: Record<string, unknown> = {};
        for (const key of Object.keys(shape)) {
          if (key === "task_id") args[key] = taskId;
          else if (key === "title" || key === "description") args[key] = "pwned by B";
          else if (key === "status") args[key] = "all";
          else if (key === "due" && name === "list_tasks") args[key] = ["today", "overdue"];
          else if (key in SAMPLES) args[key] = SAMPLES[key];
          else if (key === "cursor")
            continue; // a cursor comes only from a previous page
          else assert.fail(`tool ${name}: no sample value for argument ${key}; add one`);
        }
        return args;
      };

      const byId: string[] = [];
      for (const tool of TASK_TOOLS) {
        assert.ok(tool.inputSchema instanceof z.ZodObject, `${tool.name} takes an object`);
        const shape = tool.inputSchema.shape as Record<string, unknown>;
        if (!("task_id" in shape)) {
          // Tools without an id act on B's own data only: nothing of A's comes back.
          const result = await runTool(ctxB, tool.name, argsFor(tool.name, shape, 0));
          if (tool.name === "undo_last_turn") {
            // Outside a chat turn there is no previous turn to undo (and A's are not B's).
            assert.ok(isToolError(result));
            assert.equal(result.error.code, "nothing_to_undo");
            continue;
          }
          assert.ok(!isToolError(result), `${tool.name}: ${JSON.stringify(result)}`);
          assert.doesNotMatch(JSON.stringify(result), /alice/i);
          continue;
        }
        byId.push(tool.name);
        for (const n of numbers) {
          const result = await runTool(ctxB, tool.name, argsFor(tool.name, shape, n));
          assert.ok(isToolError(result), `${tool.name}(${n}): ${JSON.stringify(result)}`);
          assert.equal(result.error.code, "not_found");
          assert.doesNotMatch(JSON.stringify(result), /alice/i);
          // An extra user_id naming A is refused outright, never obeyed.
          const injected = await runTool(ctxB, tool.name, {
            ...argsFor(tool.name, shape, n),
            user_id: a.id,
          });
          assert.ok(isToolError(injected));
          assert.equal(injected.error.code, "validation_failed");
        }
        // The same call on B's own task works: the refusal above is about ownership.
        const own = await addTask(b, `bob's task for ${tool.name}`);
        if (tool.name === "restore_task") {
          await call(b, { method: "DELETE", url: `/api/tasks/${own}` });
        }
        const result = await runTool(ctxB, tool.name, argsFor(tool.name, shape, own));
        assert.ok(!isToolError(result), `${tool.name} on B's own: ${JSON.stringify(result)}`);
      }
      assert.deepEqual(byId.sort(), [
        "complete_task",
        "delete_task",
        "restore_task",
        "update_task",
      ]);

      const afterwards = await snapshot(a, conversations, numbers);
      assert.deepEqual(afterwards.api, before.api);
      assert.deepEqual(afterwards.rows, before.rows);
    });
  });
}
