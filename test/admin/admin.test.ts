import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { InjectOptions } from "fastify";
import { countOwnedRows } from "../../src/admin/admin.repository.ts";
import { createApiKey, rawRequest, rpcHeaders, toolCallBody } from "../mcp/support.ts";
import type { TestUser } from "../support/app.ts";
import { type ChatFixture, chat, signUp, startChatApp } from "../support/chat.ts";
import { availableBackends } from "../support/databases.ts";

// Roles and the admin API (issue 18): the first account is admin, admins manage accounts
// (disable, re-enable, sessions, role, delete, feature switches), and never see a user's
// tasks or conversations.

for (const backend of await availableBackends()) {
  describe(`roles and the admin API [${backend}]`, () => {
    let f: ChatFixture;
    let url: string;
    let admin: TestUser;
    let bob: TestUser;
    const SECRET_TITLE = "bob-private-task-title-7f3a";
    const SECRET_MESSAGE = "bob-private-message-91c2";

    before(async () => {
      f = await startChatApp(backend);
      url = await f.t.listen();
      admin = await signUp(f.t.app, "Ada");
      bob = await signUp(f.t.app, "Bob");
      f.llm.setDefault(() => ({ text: "noted" }));
    });
    after(() => f.close());

    const call = (user: TestUser | { headers: Record<string, string> }, opts: InjectOptions) =>
      f.t.app.inject({ ...opts, headers: { ...user.headers, ...opts.headers } });
    const signIn = (email: string) =>
      f.t.app.inject({
        method: "POST",
        url: "/api/auth/sign-in/email",
        payload: { email, password: "correct horse battery" },
      });

    test("the first account is admin, the next ones are users; GET /api/me shows the role", async () => {
      const a = await call(admin, { url: "/api/me" });
      assert.equal(a.statusCode, 200, a.body);
      assert.equal(a.json().role, "admin");
      const b = await call(bob, { url: "/api/me" });
      assert.equal(b.json().role, "user");
      assert.deepEqual(b.json().access.quotas.chat_per_minute, 20);
      const carol = await signUp(f.t.app, "Carol");
      assert.equal((await call(carol, { url: "/api/me" })).json().role, "user");
    });

    test("sign-up and update-user cannot set a role or lift a ban (Better Auth input: false)", async () => {
      const email = `mallory-${Date.now()}@example.com`;
      const up = await f.t.app.inject({
        method: "POST",
        url: "/api/auth/sign-up/email",
        payload: { email, password: "correct horse battery", name: "M", role: "admin" },
      });
      if (up.statusCode === 200) {
        const token = up.headers["set-auth-token"] as string;
        const mallory = { headers: { authorization: `Bearer ${token}` } };
        assert.equal((await call(mallory, { url: "/api/me" })).json().role, "user");
        const update = await call(mallory, {
          method: "POST",
          url: "/api/auth/update-user",
          payload: { role: "admin", banned: false },
        });
        assert.notEqual(update.statusCode, 500);
        assert.equal((await call(mallory, { url: "/api/me" })).json().role, "user");
      } else {
        assert.equal(up.statusCode, 400, up.body);
      }
    });

    test("every /api/admin route: 403 admin_required for a user, 401 anonymous", async () => {
      const routes = f.t.app.routeList.filter(
        (r) => r.url.startsWith("/api/admin") && r.method !== "HEAD",
      );
      assert.ok(routes.length >= 10, `admin routes: ${routes.length}`);
      for (const route of routes) {
        const path = route.url.replace(":user_id", admin.id).replace(":role", "user");
        const opts = { method: route.method as "GET", url: path, payload: {} };
        const asUser = await call(bob, route.method === "GET" ? { url: path } : opts);
        assert.equal(asUser.statusCode, 403, `${route.method} ${path}: ${asUser.body}`);
        assert.equal(asUser.json().code, "admin_required");
        const anonymous = await f.t.app.inject(route.method === "GET" ? { url: path } : opts);
        assert.equal(anonymous.statusCode, 401, `${route.method} ${path}`);
      }
      // Nothing changed: Bob is still a user, the admin still an admin.
      assert.equal((await call(admin, { url: "/api/me" })).json().role, "admin");
    });

    test("the list shows usage figures, never a task, conversation or message", async () => {
      const task = await call(bob, {
        method: "POST",
        url: "/api/tasks",
        payload: { title: SECRET_TITLE },
      });
      assert.equal(task.statusCode, 201, task.body);
      const turn = await chat(f.t, bob, { message: SECRET_MESSAGE });
      assert.equal(turn.statusCode, 200, turn.body);
      const list = await call(admin, { url: "/api/admin/users?limit=100" });
      assert.equal(list.statusCode, 200, list.body);
      const row = list.json().items.find((u: { id: string }) => u.id === bob.id);
      assert.deepEqual(row.usage, { tasks: 1, conversations: 1, turns_today: 1 });
      assert.equal(row.role, "user");
      assert.equal(row.banned, false);
      for (const path of [
        "/api/admin/users?limit=100",
        `/api/admin/users/${bob.id}`,
        `/api/admin/users/${bob.id}/features`,
      ]) {
        const body = (await call(admin, { url: path })).body;
        assert.ok(!body.includes(SECRET_TITLE), path);
        assert.ok(!body.includes(SECRET_MESSAGE), path);
      }
      // The admin's own doors stay their own: Bob's task 1 and conversation are not theirs.
      const conversationId = turn.json().conversation_id as string;
      assert.equal((await call(admin, { url: "/api/tasks/1" })).statusCode, 404);
      const conv = await call(admin, { url: `/api/conversations/${conversationId}/messages` });
      assert.equal(conv.statusCode, 404);
      const tasks = await call(admin, { url: "/api/tasks" });
      assert.ok(!tasks.body.includes(SECRET_TITLE));
      // Better Auth's own admin endpoints (impersonation) are not served.
      for (const path of ["impersonate-user", "list-users", "set-role", "ban-user"]) {
        const res = await call(admin, {
          method: "POST",
          url: `/api/auth/admin/${path}`,
          payload: { userId: bob.id, role: "admin" },
        });
        assert.equal(res.statusCode, 404, `${path}: ${res.body}`);
      }
      assert.equal((await call(bob, { url: "/api/me" })).json().role, "user");
    });

    test("a search and pages by e-mail", async () => {
      const one = await call(admin, { url: `/api/admin/users?q=${encodeURIComponent(bob.email)}` });
      assert.deepEqual(
        one.json().items.map((u: { id: string }) => u.id),
        [bob.id],
      );
      const page = await call(admin, { url: "/api/admin/users?limit=1" });
      assert.equal(page.json().items.length, 1);
      const next = page.json().next_cursor as string;
      assert.ok(next);
      const page2 = await call(admin, {
        url: `/api/admin/users?limit=1&cursor=${encodeURIComponent(next)}`,
      });
      assert.notEqual(page2.json().items[0].id, page.json().items[0].id);
    });

    test("disable: sessions and API keys stop at once, sign-in refused; re-enable restores", async () => {
      const dave = await signUp(f.t.app, "Dave");
      const key = await createApiKey(f.t.app, dave);
      const keyUser = { headers: { authorization: `Bearer ${key.key}` } };
      assert.equal((await call(keyUser, { url: "/api/tasks" })).statusCode, 200);
      const ban = await call(admin, {
        method: "POST",
        url: `/api/admin/users/${dave.id}/ban`,
        payload: { reason: "spam" },
      });
      assert.equal(ban.statusCode, 200, ban.body);
      assert.equal(ban.json().banned, true);
      assert.equal(ban.json().ban_reason, "spam");
      const bySession = await call(dave, { url: "/api/tasks" });
      assert.equal(bySession.statusCode, 401, bySession.body);
      const byKey = await call(keyUser, { url: "/api/tasks" });
      assert.equal(byKey.statusCode, 403, byKey.body);
      assert.equal(byKey.json().code, "account_disabled");
      const mcp = await rawRequest(url, {
        headers: rpcHeaders(keyUser.headers),
        body: toolCallBody(1, "list_tasks", {}),
      });
      assert.equal(mcp.status, 403, mcp.body);
      const again = await signIn(dave.email);
      assert.equal(again.statusCode, 403, again.body);
      // On /api/auth/* the body keeps Better Auth's code; ours is problem_code.
      assert.equal(again.json().problem_code, "account_disabled");
      assert.equal(again.json().code, "BANNED_USER");

      const unban = await call(admin, { method: "POST", url: `/api/admin/users/${dave.id}/unban` });
      assert.equal(unban.json().banned, false);
      assert.equal((await call(keyUser, { url: "/api/tasks" })).statusCode, 200);
      const back = await signIn(dave.email);
      assert.equal(back.statusCode, 200, back.body);
    });

    test("a ban with an end lifts by itself", async () => {
      const erin = await signUp(f.t.app, "Erin");
      const key = await createApiKey(f.t.app, erin);
      const keyUser = { headers: { authorization: `Bearer ${key.key}` } };
      await call(admin, {
        method: "POST",
        url: `/api/admin/users/${erin.id}/ban`,
        payload: { expires_in_seconds: 60 },
      });
      assert.equal((await call(keyUser, { url: "/api/tasks" })).statusCode, 403);
      await f.t.server.database.db.execute(
        // The hour passes: the ban's end is now in the past.
        (await import("drizzle-orm"))
          .sql`update "user" set ban_expires = now() - interval '1 second' where id = ${erin.id}`,
      );
      assert.equal((await call(keyUser, { url: "/api/tasks" })).statusCode, 200);
      assert.equal((await signIn(erin.email)).statusCode, 200);
    });

    test("reset sessions: every session ends, the user's API keys keep working", async () => {
      const fay = await signUp(f.t.app, "Fay");
      const second = await signIn(fay.email);
      const token2 = second.headers["set-auth-token"] as string;
      const key = await createApiKey(f.t.app, fay);
      const res = await call(admin, {
        method: "POST",
        url: `/api/admin/users/${fay.id}/revoke-sessions`,
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().sessions_revoked, 2);
      assert.equal((await call(fay, { url: "/api/me" })).statusCode, 401);
      const other = { headers: { authorization: `Bearer ${token2}` } };
      assert.equal((await call(other, { url: "/api/me" })).statusCode, 401);
      const byKey = { headers: { authorization: `Bearer ${key.key}` } };
      assert.equal((await call(byKey, { url: "/api/me" })).statusCode, 200);
    });

    test("set role; an admin cannot disable, demote, delete or sign out themselves", async () => {
      const gil = await signUp(f.t.app, "Gil");
      const up = await call(admin, {
        method: "PUT",
        url: `/api/admin/users/${gil.id}/role`,
        payload: { role: "admin" },
      });
      assert.equal(up.statusCode, 200, up.body);
      assert.equal(up.json().role, "admin");
      assert.equal((await call(gil, { url: "/api/admin/users" })).statusCode, 200);
      const bad = await call(admin, {
        method: "PUT",
        url: `/api/admin/users/${gil.id}/role`,
        payload: { role: "root" },
      });
      assert.equal(bad.statusCode, 400);
      for (const [method, path, payload] of [
        ["PUT", `/api/admin/users/${admin.id}/role`, { role: "user" }],
        ["POST", `/api/admin/users/${admin.id}/ban`, {}],
        ["DELETE", `/api/admin/users/${admin.id}`, undefined],
        ["POST", `/api/admin/users/${admin.id}/revoke-sessions`, undefined],
      ] as const) {
        const res = await call(admin, { method, url: path, ...(payload ? { payload } : {}) });
        assert.equal(res.statusCode, 409, `${method} ${path}: ${res.body}`);
        assert.equal(res.json().code, "conflict");
      }
      const down = await call(gil, {
        method: "PUT",
        url: `/api/admin/users/${gil.id}/role`,
        payload: { role: "user" },
      });
      assert.equal(down.statusCode, 409);
      await call(admin, {
        method: "PUT",
        url: `/api/admin/users/${gil.id}/role`,
        payload: { role: "user" },
      });
      const after = await call(gil, { url: "/api/admin/users" });
      assert.equal(after.json().code, "admin_required");
    });

    test("administration needs a session: an admin's API key gets 403 forbidden", async () => {
      const key = await createApiKey(f.t.app, admin);
      const res = await call(
        { headers: { authorization: `Bearer ${key.key}` } },
        { url: "/api/admin/users" },
      );
      assert.equal(res.statusCode, 403);
      assert.equal(res.json().code, "forbidden");
    });

    test("delete a user and all their data; unknown ids are 404", async () => {
      const hal = await signUp(f.t.app, "Hal");
      await call(hal, { method: "POST", url: "/api/tasks", payload: { title: "x" } });
      assert.equal((await chat(f.t, hal, { message: "hello" })).statusCode, 200);
      await createApiKey(f.t.app, hal);
      const db = f.t.server.database.db;
      assert.ok((await countOwnedRows(db, hal.id)) >= 5);
      const res = await call(admin, { method: "DELETE", url: `/api/admin/users/${hal.id}` });
      assert.equal(res.statusCode, 204, res.body);
      assert.equal(await countOwnedRows(db, hal.id), 0);
      assert.equal((await call(hal, { url: "/api/me" })).statusCode, 401);
      for (const [method, path] of [
        ["GET", `/api/admin/users/${hal.id}`],
        ["DELETE", `/api/admin/users/${hal.id}`],
        ["POST", `/api/admin/users/${hal.id}/unban`],
        ["POST", `/api/admin/users/${hal.id}/revoke-sessions`],
      ] as const) {
        const gone = await call(admin, { method, url: path });
        assert.equal(gone.statusCode, 404, `${method} ${path}`);
        assert.equal(gone.json().code, "not_found");
      }
    });

    test("feature switches: API keys and MCP per user, then per role", async () => {
      const ivy = await signUp(f.t.app, "Ivy");
      const key = await createApiKey(f.t.app, ivy);
      const keyUser = { headers: { authorization: `Bearer ${key.key}` } };
      const put = await call(admin, {
        method: "PUT",
        url: `/api/admin/users/${ivy.id}/features`,
        payload: { api_keys: false, quotas: { chat_per_minute: 3 }, models: ["fake-model"] },
      });
      assert.equal(put.statusCode, 200, put.body);
      assert.equal(put.json().effective.api_keys, false);
      assert.equal(put.json().effective.mcp, true);
      assert.equal(put.json().effective.quotas.chat_per_minute, 3);
      assert.equal(put.json().effective.quotas.chat_per_day, 500);
      assert.deepEqual(put.json().effective.models, ["fake-model"]);
      const byKey = await call(keyUser, { url: "/api/tasks" });
      assert.equal(byKey.statusCode, 403);
      assert.equal(byKey.json().code, "feature_disabled");
      const create = await call(ivy, {
        method: "POST",
        url: "/api/api-keys",
        payload: { name: "k" },
      });
      assert.equal(create.statusCode, 403);
      assert.equal(create.json().code, "feature_disabled");
      const me = await call(ivy, { url: "/api/me" });
      assert.equal(me.json().access.api_keys, false);

      // MCP off for the role "user": Ivy's session token cannot use /mcp, an admin can.
      await call(admin, {
        method: "PUT",
        url: `/api/admin/users/${ivy.id}/features`,
        payload: {},
      });
      const role = await call(admin, {
        method: "PUT",
        url: "/api/admin/roles/user/features",
        payload: { mcp: false },
      });
      assert.equal(role.statusCode, 200, role.body);
      assert.deepEqual(role.json(), { features: { mcp: false } });
      try {
        const refused = await rawRequest(url, {
          headers: rpcHeaders(ivy.headers),
          body: toolCallBody(1, "list_tasks", {}),
        });
        assert.equal(refused.status, 403, refused.body);
        assert.equal((refused.json() as { code: string }).code, "feature_disabled");
        assert.equal((await call(keyUser, { url: "/api/tasks" })).statusCode, 200);
        const allowed = await rawRequest(url, {
          headers: rpcHeaders(admin.headers),
          body: toolCallBody(1, "list_tasks", {}),
        });
        assert.equal(allowed.status, 200, allowed.body);
        // A user's own setting wins over the role's.
        await call(admin, {
          method: "PUT",
          url: `/api/admin/users/${ivy.id}/features`,
          payload: { mcp: true },
        });
        const own = await rawRequest(url, {
          headers: rpcHeaders(ivy.headers),
          body: toolCallBody(1, "list_tasks", {}),
        });
        assert.equal(own.status, 200, own.body);
      } finally {
        await call(admin, { method: "PUT", url: "/api/admin/roles/user/features", payload: {} });
      }
      const unknown = await call(admin, {
        method: "PUT",
        url: `/api/admin/users/${ivy.id}/features`,
        payload: { quotas: { chat_per_minute: -1 } },
      });
      assert.equal(unknown.statusCode, 400);
      const extra = await call(admin, {
        method: "PUT",
        url: `/api/admin/users/${ivy.id}/features`,
        payload: { superpowers: true },
      });
      assert.equal(extra.statusCode, 400);
    });
  });
}
