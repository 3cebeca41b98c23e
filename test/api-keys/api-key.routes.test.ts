import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { eq, sql } from "drizzle-orm";
import type { InjectOptions, LightMyRequestResponse } from "fastify";
import { MAX_KEYS_PER_USER } from "../../src/api-keys/api-key.ts";
import { rowsOf } from "../../src/db/client.ts";
import { apiKeys } from "../../src/db/schema.ts";
import { signUp, startTestApp, type TestApp, type TestUser } from "../support/app.ts";
import { availableBackends } from "../support/databases.ts";

// Personal API keys through the real app (inject), on PGlite and PostgreSQL.

const KEY = /^tt_[A-Za-z0-9_-]{43}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

for (const backend of await availableBackends()) {
  describe(`API keys [${backend}]`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(backend);
    });
    after(() => t.close());

    const call = (headers: Record<string, string>, opts: InjectOptions) =>
      t.app.inject({ ...opts, headers: { ...opts.headers, ...headers } });
    const create = async (user: TestUser, name = "laptop") => {
      const res = await call(user.headers, {
        method: "POST",
        url: "/api/api-keys",
        payload: { name },
      });
      assert.equal(res.statusCode, 201, res.body);
      return res.json() as { id: string; name: string; prefix: string; key: string };
    };
    const list = async (user: TestUser) => {
      const res = await call(user.headers, { url: "/api/api-keys" });
      assert.equal(res.statusCode, 200, res.body);
      return res;
    };
    const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
    const assertProblem = (res: LightMyRequestResponse, status: number, code: string) => {
      assert.equal(res.statusCode, status, res.body);
      assert.match(String(res.headers["content-type"]), /^application\/problem\+json/);
      assert.equal(res.json().code, code, res.body);
    };

    describe("happy path", () => {
      test("create shows the key once; list never shows it; only its hash is stored", async () => {
        const a = await signUp(t.app);
        const res = await call(a.headers, {
          method: "POST",
          url: "/api/api-keys",
          payload: { name: "  Claude Desktop " },
        });
        assert.equal(res.statusCode, 201, res.body);
        assert.equal(res.headers["cache-control"], "no-store");
        const created = res.json();
        assert.deepEqual(Object.keys(created).sort(), [
          "created_at",
          "id",
          "key",
          "name",
          "prefix",
          "scopes",
        ]);
        // No scopes asked: both, as every key made before scopes existed.
        assert.deepEqual(created.scopes, ["tasks:read", "tasks:write"]);
        assert.match(created.id, UUID);
        assert.match(created.key, KEY);
        assert.equal(created.name, "Claude Desktop");
        assert.equal(created.prefix, created.key.slice(0, 11));

        const listed = await list(a);
        const items = listed.json().items as Record<string, unknown>[];
        assert.equal(items.length, 1);
        assert.deepEqual(Object.keys(items[0] ?? {}).sort(), [
          "created_at",
          "id",
          "last_used_at",
          "name",
          "prefix",
          "scopes",
        ]);
        assert.equal(items[0]?.last_used_at, null);
        const hash = createHash("sha256").update(created.key).digest("hex");
        assert.ok(!listed.body.includes(created.key.slice(11)), "no secret in the list");
        assert.ok(!listed.body.includes(hash), "no hash in the list");

        const [row] = await t.server.database.db
          .select()
          .from(apiKeys)
          .where(eq(apiKeys.id, created.id));
        assert.equal(row?.keyHash, hash);
        const raw = rowsOf<{ r: string }>(
          await t.server.database.db.execute(
            sql`select to_jsonb(k)::text as r from api_keys k where id = ${created.id}`,
          ),
        );
        assert.ok(!raw[0]?.r.includes(created.key.slice(11)), "the key itself is not stored");
      });

      test("a key works as a bearer token on the REST API, as its owner", async () => {
        const a = await signUp(t.app);
        const { key } = await create(a);
        const added = await call(bearer(key), {
          method: "POST",
          url: "/api/tasks",
          payload: { title: "added with a key" },
        });
        assert.equal(added.statusCode, 201, added.body);
        const mine = await call(a.headers, { url: "/api/tasks" });
        assert.deepEqual(
          mine.json().items.map((i: { title: string }) => i.title),
          ["added with a key"],
        );
        const used = (await list(a)).json().items[0];
        assert.match(String(used.last_used_at), /^\d{4}-/, "last_used_at is recorded");
      });

      test("keys are listed newest first; several keys work side by side", async () => {
        const a = await signUp(t.app);
        const one = await create(a, "one");
        const two = await create(a, "two");
        assert.deepEqual(
          (await list(a)).json().items.map((i: { name: string }) => i.name),
          ["two", "one"],
        );
        for (const { key } of [one, two]) {
          assert.equal((await call(bearer(key), { url: "/api/tasks" })).statusCode, 200);
        }
      });
    });

    describe("revocation and ownership", () => {
      test("revoke → 204; the key then gets 401; a second revoke → 404", async () => {
        const a = await signUp(t.app);
        const { id, key } = await create(a);
        const other = await create(a, "other");
        const res = await call(a.headers, { method: "DELETE", url: `/api/api-keys/${id}` });
        assert.equal(res.statusCode, 204);
        assert.equal(res.body, "");
        const refused = await call(bearer(key), { url: "/api/tasks" });
        assertProblem(refused, 401, "unauthorized");
        assert.match(String(refused.headers["www-authenticate"]), /^Bearer /);
        assert.deepEqual(
          (await list(a)).json().items.map((i: { id: string }) => i.id),
          [other.id],
        );
        assert.equal((await call(bearer(other.key), { url: "/api/tasks" })).statusCode, 200);
        assertProblem(
          await call(a.headers, { method: "DELETE", url: `/api/api-keys/${id}` }),
          404,
          "not_found",
        );
      });

      test("another user's key id → 404, and that key keeps working", async () => {
        const a = await signUp(t.app, "Alice");
        const b = await signUp(t.app, "Bob");
        const aliceKey = await create(a, "alice key");
        const res = await call(b.headers, {
          method: "DELETE",
          url: `/api/api-keys/${aliceKey.id}`,
        });
        assertProblem(res, 404, "not_found");
        assert.doesNotMatch(res.body, /alice/i);
        assert.deepEqual((await list(b)).json().items, []);
        assert.equal((await call(bearer(aliceKey.key), { url: "/api/tasks" })).statusCode, 200);
        assert.equal((await list(a)).json().items.length, 1);
      });

      test("a key acts only as its owner", async () => {
        const a = await signUp(t.app, "Alice");
        const b = await signUp(t.app, "Bob");
        await call(a.headers, { method: "POST", url: "/api/tasks", payload: { title: "alice" } });
        const { key } = await create(b);
        const res = await call(bearer(key), { url: "/api/tasks" });
        assert.deepEqual(res.json().items, []);
        assertProblem(await call(bearer(key), { url: "/api/tasks/1" }), 404, "not_found");
      });

      test("a key cannot create, list or revoke keys (a signed-in session can)", async () => {
        const a = await signUp(t.app);
        const { id, key } = await create(a);
        for (const opts of [
          { method: "POST", url: "/api/api-keys", payload: { name: "minted by a key" } },
          { method: "GET", url: "/api/api-keys" },
          { method: "DELETE", url: `/api/api-keys/${id}` },
        ] as InjectOptions[]) {
          assertProblem(await call(bearer(key), opts), 403, "forbidden");
        }
        assert.equal((await list(a)).json().items.length, 1);
      });
    });

    describe("errors", () => {
      test("no token → 401 on every key route", async () => {
        for (const opts of [
          { method: "POST", url: "/api/api-keys", payload: { name: "x" } },
          { method: "GET", url: "/api/api-keys" },
          { method: "DELETE", url: "/api/api-keys/00000000-0000-4000-8000-000000000000" },
        ] as InjectOptions[]) {
          const res = await t.app.inject(opts);
          assertProblem(res, 401, "unauthorized");
          assert.match(String(res.headers["www-authenticate"]), /^Bearer /);
        }
      });

      test("bad names and bodies → 400; bad ids → 400; unknown id → 404", async () => {
        const a = await signUp(t.app);
        for (const payload of [
          {},
          { name: "" },
          { name: "   " },
          { name: "x".repeat(101) },
          { name: 42 },
          { name: "ok", user_id: "someone" },
          { name: "ok", key: `tt_${"A".repeat(43)}` },
          { name: "nul\u0000" },
          { name: "ok", scopes: [] },
          { name: "ok", scopes: ["tasks:admin"] },
          { name: "ok", scopes: ["tasks:read", "tasks:read"] },
          { name: "ok", scopes: "tasks:read" },
        ]) {
          const res = await call(a.headers, { method: "POST", url: "/api/api-keys", payload });
          assertProblem(res, 400, "validation_failed");
        }
        for (const id of ["abc", "0", "%00", "x".repeat(40)]) {
          const res = await call(a.headers, { method: "DELETE", url: `/api/api-keys/${id}` });
          assertProblem(res, 400, "invalid_id");
        }
        assertProblem(
          await call(a.headers, {
            method: "DELETE",
            url: "/api/api-keys/00000000-0000-4000-8000-000000000000",
          }),
          404,
          "not_found",
        );
        assert.deepEqual((await list(a)).json().items, []);
      });

      test(`at most ${MAX_KEYS_PER_USER} live keys per user → 409; revoking frees a slot`, async () => {
        const a = await signUp(t.app);
        const ids: string[] = [];
        for (let i = 0; i < MAX_KEYS_PER_USER; i++) ids.push((await create(a, `k${i}`)).id);
        const over = await call(a.headers, {
          method: "POST",
          url: "/api/api-keys",
          payload: { name: "one too many" },
        });
        assertProblem(over, 409, "conflict");
        await call(a.headers, { method: "DELETE", url: `/api/api-keys/${ids[0]}` });
        await create(a, "after a revoke");
      });
    });
  });

  describe(`API keys while the database is down (I4) [${backend}]`, () => {
    test("an API key lookup that cannot reach the database → 503, never 401", async () => {
      const t = await startTestApp(backend);
      try {
        const a = await signUp(t.app);
        const res = await t.app.inject({
          method: "POST",
          url: "/api/api-keys",
          headers: a.headers,
          payload: { name: "k" },
        });
        const { key } = res.json() as { key: string };
        await t.server.database.close();
        const down = await t.app.inject({
          url: "/api/tasks",
          headers: { authorization: `Bearer ${key}` },
        });
        assert.equal(down.statusCode, 503, down.body);
        assert.ok(down.headers["retry-after"]);
        assert.equal(down.json().code, "database_unavailable");
      } finally {
        await t.close();
      }
    });
  });
}
