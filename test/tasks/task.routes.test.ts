import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { asc, eq } from "drizzle-orm";
import type { InjectOptions, LightMyRequestResponse } from "fastify";
import { tasks } from "../../src/db/schema.ts";
import { signUp, startTestApp, type TestApp, type TestUser } from "../support/app.ts";
import { availableBackends } from "../support/databases.ts";

// The real app on PGlite and on PostgreSQL, through inject. Every test makes its own users.

const TASK_KEYS = [
  "completed",
  "completed_at",
  "completed_occurrences",
  "created_at",
  "deleted_at",
  "description",
  "due",
  "id",
  "labels",
  "last_completed_at",
  "list",
  "parent_id",
  "priority",
  "title",
  "updated_at",
];
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const BAD_IDS = ["abc", "0", "-1", "1.5", "99999999999", "%00", "1e3", "0x10", "01", "%201"];

for (const backend of await availableBackends()) {
  describe(`task routes [${backend}]`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(backend);
    });
    after(() => t.close());

    const call = (user: TestUser | undefined, opts: InjectOptions) =>
      t.app.inject({ ...opts, headers: { ...opts.headers, ...user?.headers } });
    const add = async (user: TestUser, title: string, description?: string) => {
      const res = await call(user, {
        method: "POST",
        url: "/api/tasks",
        payload: description === undefined ? { title } : { title, description },
      });
      assert.equal(res.statusCode, 201, res.body);
      return res.json() as { id: number; title: string };
    };
    const list = (user: TestUser, query = "") => call(user, { url: `/api/tasks${query}` });
    const numbers = async (user: TestUser, query = "") =>
      ((await list(user, query)).json().items as { id: number }[]).map((i) => i.id);
    /** The user's rows as stored, every column: what "byte-for-byte unchanged" compares. */
    const rowsOf = async (user: TestUser) =>
      JSON.stringify(
        await t.server.database.db
          .select()
          .from(tasks)
          .where(eq(tasks.userId, user.id))
          .orderBy(asc(tasks.number)),
      );
    const assertProblem = (res: LightMyRequestResponse, status: number, code: string) => {
      assert.equal(res.statusCode, status, res.body);
      assert.match(String(res.headers["content-type"]), /^application\/problem\+json/);
      assert.equal(res.json().code, code, res.body);
      assert.doesNotMatch(res.body, /\bat .*\.ts:\d+/); // no stack trace
    };

    describe("happy path", () => {
      test("create, read, update, complete, reopen and delete one task", async () => {
        const a = await signUp(t.app);
        const created = await call(a, {
          method: "POST",
          url: "/api/tasks",
          payload: { title: "  Buy milk  ", description: "2 litres" },
        });
        assert.equal(created.statusCode, 201);
        assert.equal(created.headers.etag, '"1"');
        const task = created.json();
        assert.deepEqual(Object.keys(task).sort(), TASK_KEYS);
        assert.equal(task.id, 1);
        assert.equal(task.title, "Buy milk", "the title is trimmed");
        assert.equal(task.description, "2 litres");
        assert.equal(task.completed, false);
        assert.equal(task.completed_at, null);
        assert.match(task.created_at, ISO);
        assert.match(task.updated_at, ISO);
        assert.doesNotMatch(created.body, /[0-9a-f]{8}-[0-9a-f]{4}-/, "the row uuid never leaves");

        const got = await call(a, { url: "/api/tasks/1" });
        assert.equal(got.statusCode, 200);
        assert.equal(got.headers.etag, '"1"');
        assert.deepEqual(got.json(), task);

        const renamed = await call(a, {
          method: "PATCH",
          url: "/api/tasks/1",
          payload: { title: "Buy oat milk" },
        });
        assert.equal(renamed.statusCode, 200);
        assert.equal(renamed.headers.etag, '"2"');
        assert.equal(renamed.json().title, "Buy oat milk");
        assert.equal(renamed.json().description, "2 litres", "a PATCH changes only what it names");
        assert.ok(renamed.json().updated_at >= task.updated_at);

        const done = await call(a, {
          method: "PATCH",
          url: "/api/tasks/1",
          payload: { completed: true },
        });
        assert.equal(done.json().completed, true);
        assert.match(done.json().completed_at, ISO);
        const again = await call(a, {
          method: "PATCH",
          url: "/api/tasks/1",
          payload: { completed: true },
        });
        assert.equal(
          again.json().completed_at,
          done.json().completed_at,
          "first completion time kept",
        );

        const reopened = await call(a, {
          method: "PATCH",
          url: "/api/tasks/1",
          payload: { completed: false },
        });
        assert.equal(reopened.json().completed, false);
        assert.equal(reopened.json().completed_at, null);
        assert.equal(reopened.headers.etag, '"5"');

        const deleted = await call(a, { method: "DELETE", url: "/api/tasks/1" });
        assert.equal(deleted.statusCode, 200);
        assert.equal(deleted.json().title, "Buy oat milk");
        assertProblem(await call(a, { url: "/api/tasks/1" }), 404, "not_found");
        assertProblem(await call(a, { method: "DELETE", url: "/api/tasks/1" }), 404, "not_found");
      });

      test("status filters: all, pending, completed (in number order)", async () => {
        const a = await signUp(t.app);
        for (const title of ["one", "two", "three", "four"]) await add(a, title);
        for (const n of [2, 4]) {
          const res = await call(a, {
            method: "PATCH",
            url: `/api/tasks/${n}`,
            payload: { completed: true },
          });
          assert.equal(res.statusCode, 200);
        }
        assert.deepEqual(await numbers(a), [1, 2, 3, 4]);
        assert.deepEqual(await numbers(a, "?status=all"), [1, 2, 3, 4]);
        assert.deepEqual(await numbers(a, "?status=pending"), [1, 3]);
        assert.deepEqual(await numbers(a, "?status=completed"), [2, 4]);
        assertProblem(await list(a, "?status=done"), 400, "validation_failed");
        assertProblem(await list(a, "?user_id=someone"), 400, "validation_failed");
      });

      test("an empty list is an empty items array", async () => {
        const a = await signUp(t.app);
        const res = await list(a);
        assert.equal(res.statusCode, 200);
        assert.deepEqual(res.json(), { items: [], next_cursor: null });
      });
    });

    describe("task numbers", () => {
      test("start at 1 for every user and are independent between users", async () => {
        const a = await signUp(t.app);
        const b = await signUp(t.app);
        assert.equal((await add(a, "a1")).id, 1);
        assert.equal((await add(a, "a2")).id, 2);
        assert.equal((await add(b, "b1")).id, 1);
        assert.equal((await add(a, "a3")).id, 3);
        assert.equal((await add(b, "b2")).id, 2);
        assert.deepEqual(await numbers(a), [1, 2, 3]);
        assert.deepEqual(await numbers(b), [1, 2]);
      });

      test("are never reused after a delete, not even of the last or of every task", async () => {
        const a = await signUp(t.app);
        for (const title of ["1", "2", "3"]) await add(a, title);
        await call(a, { method: "DELETE", url: "/api/tasks/3" });
        assert.equal((await add(a, "4")).id, 4);
        for (const n of [1, 2, 4]) await call(a, { method: "DELETE", url: `/api/tasks/${n}` });
        assert.deepEqual(await numbers(a), []);
        assert.equal((await add(a, "5")).id, 5);
      });

      test("20 concurrent adds for one user get 20 distinct numbers 1..20", async () => {
        const a = await signUp(t.app);
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            call(a, { method: "POST", url: "/api/tasks", payload: { title: `task ${i}` } }),
          ),
        );
        for (const res of results) assert.equal(res.statusCode, 201, res.body);
        const ids = results.map((r) => r.json().id as number).sort((x, y) => x - y);
        assert.deepEqual(
          ids,
          Array.from({ length: 20 }, (_, i) => i + 1),
        );
        assert.deepEqual(await numbers(a), ids);
      });
    });

    describe("validation (I6, A3)", () => {
      const bodies: {
        name: string;
        payload: string;
        contentType?: string;
        status: number;
        code: string;
      }[] = [
        { name: "missing title", payload: "{}", status: 400, code: "validation_failed" },
        {
          name: "blank title",
          payload: JSON.stringify({ title: "   " }),
          status: 400,
          code: "validation_failed",
        },
        {
          name: "201-char title",
          payload: JSON.stringify({ title: "x".repeat(201) }),
          status: 400,
          code: "validation_failed",
        },
        {
          name: "2001-char description",
          payload: JSON.stringify({ title: "ok", description: "d".repeat(2001) }),
          status: 400,
          code: "validation_failed",
        },
        {
          name: "user_id field",
          payload: JSON.stringify({ title: "ok", user_id: "someone-else" }),
          status: 400,
          code: "validation_failed",
        },
        {
          name: "id field",
          payload: JSON.stringify({ title: "ok", id: 42 }),
          status: 400,
          code: "validation_failed",
        },
        {
          name: "created_at field",
          payload: JSON.stringify({ title: "ok", created_at: "2000-01-01T00:00:00Z" }),
          status: 400,
          code: "validation_failed",
        },
        {
          name: "completed on create",
          payload: JSON.stringify({ title: "ok", completed: true }),
          status: 400,
          code: "validation_failed",
        },
        {
          name: "number title",
          payload: JSON.stringify({ title: 123 }),
          status: 400,
          code: "validation_failed",
        },
        {
          name: "null description",
          payload: JSON.stringify({ title: "ok", description: null }),
          status: 400,
          code: "validation_failed",
        },
        { name: "array body", payload: "[]", status: 400, code: "validation_failed" },
        {
          name: "NUL in title",
          payload: JSON.stringify({ title: "a\u0000b" }),
          status: 400,
          code: "validation_failed",
        },
        { name: "invalid JSON", payload: '{"title":', status: 400, code: "invalid_json" },
        { name: "empty JSON body", payload: "", status: 400, code: "invalid_json" },
        {
          name: "text/plain body",
          payload: '{"title":"x"}',
          contentType: "text/plain",
          status: 415,
          code: "unsupported_media_type",
        },
        {
          name: "form body",
          payload: "title=x",
          contentType: "application/x-www-form-urlencoded",
          status: 415,
          code: "unsupported_media_type",
        },
        {
          name: "huge unicode title",
          payload: JSON.stringify({ title: "😀".repeat(5000) }),
          status: 400,
          code: "validation_failed",
        },
        {
          name: "huge unicode body",
          payload: JSON.stringify({ title: "😀".repeat(40_000) }),
          status: 413,
          code: "payload_too_large",
        },
      ];
      for (const c of bodies) {
        test(`POST with ${c.name} → ${c.status} ${c.code}, nothing stored`, async () => {
          const a = await signUp(t.app);
          const res = await call(a, {
            method: "POST",
            url: "/api/tasks",
            headers: { "content-type": c.contentType ?? "application/json" },
            payload: c.payload,
          });
          assertProblem(res, c.status, c.code);
          assert.equal(await rowsOf(a), "[]");
        });
      }

      test("boundaries: a 200-char title and a 2000-char description are accepted", async () => {
        const a = await signUp(t.app);
        const task = await add(a, "é".repeat(200), "d".repeat(2000));
        assert.equal(task.title.length, 200);
      });

      test("PATCH with nothing, unknown fields or wrong types → 400 and the task unchanged", async () => {
        const a = await signUp(t.app);
        await add(a, "keep me", "as I am");
        const before = await rowsOf(a);
        const payloads = [
          {},
          { completed: "yes" },
          { title: "" },
          { title: "x".repeat(201) },
          { user_id: "someone-else" },
          { title: "new", id: 9 },
          { title: "new", version: 99 },
          { completed_at: null },
          { updated_at: "2000-01-01T00:00:00Z" },
        ];
        for (const payload of payloads) {
          const res = await call(a, { method: "PATCH", url: "/api/tasks/1", payload });
          assertProblem(res, 400, "validation_failed");
        }
        const invalidJson = await call(a, {
          method: "PATCH",
          url: "/api/tasks/1",
          headers: { "content-type": "application/json" },
          payload: '{"title": "x"',
        });
        assertProblem(invalidJson, 400, "invalid_json");
        assert.equal(await rowsOf(a), before);
      });

      for (const id of BAD_IDS) {
        test(`bad task number ${JSON.stringify(id)} → 400 invalid_id on GET, PATCH and DELETE`, async () => {
          const a = await signUp(t.app);
          await add(a, "exists");
          const before = await rowsOf(a);
          for (const method of ["GET", "PATCH", "DELETE"] as const) {
            const res = await call(a, {
              method,
              url: `/api/tasks/${id}`,
              ...(method === "PATCH" ? { payload: { title: "changed" } } : {}),
            });
            assertProblem(res, 400, "invalid_id");
          }
          assert.equal(await rowsOf(a), before);
        });
      }
    });

    describe("security (I3, A1, A5)", () => {
      test("I3: a missing number and another user's number are the same 404", async () => {
        const a = await signUp(t.app);
        const b = await signUp(t.app);
        for (const title of ["a1", "a2", "a3"]) await add(a, title);
        // B has no task 2, A does; B has no task 7, nobody does.
        const normalize = (res: LightMyRequestResponse) => {
          const { request_id, detail, ...rest } = res.json();
          assert.equal(typeof request_id, "string");
          return { ...rest, detail: String(detail).replace(/\d+/g, "N") };
        };
        for (const method of ["GET", "PATCH", "DELETE"] as const) {
          const opts = (n: number): InjectOptions => ({
            method,
            url: `/api/tasks/${n}`,
            ...(method === "PATCH" ? { payload: { completed: true } } : {}),
          });
          const others = await call(b, opts(2));
          const missing = await call(b, opts(7));
          assertProblem(others, 404, "not_found");
          assertProblem(missing, 404, "not_found");
          assert.deepEqual(normalize(others), normalize(missing));
          assert.deepEqual(Object.keys(others.headers).sort(), Object.keys(missing.headers).sort());
        }
      });

      test("A1: user B on every id-taking route with A's numbers → 404, A's rows byte-for-byte unchanged", async () => {
        const a = await signUp(t.app);
        const b = await signUp(t.app);
        for (const title of ["a1", "a2", "a3"]) await add(a, title, `details of ${title}`);
        await call(a, { method: "PATCH", url: "/api/tasks/2", payload: { completed: true } });
        await add(b, "b1"); // B has a task 1 too: its own must not be confused with A's
        const listBefore = (await list(a)).body;
        const rowsBefore = await rowsOf(a);

        // Every method registered on the id-taking path is swept, so a new route is covered.
        const methods = (["GET", "HEAD", "PATCH", "DELETE", "PUT", "POST"] as const).filter(
          (method) => t.app.hasRoute({ method, url: "/api/tasks/:number" }),
        );
        assert.deepEqual(methods, ["GET", "HEAD", "PATCH", "DELETE"]);
        const bodies: Record<string, unknown[]> = {
          GET: [undefined],
          HEAD: [undefined],
          DELETE: [undefined],
          PATCH: [{ title: "pwned" }, { completed: false }, { description: "pwned" }],
          PUT: [{ title: "pwned" }],
          POST: [{ title: "pwned" }],
        };
        for (const n of [2, 3]) {
          for (const method of methods) {
            for (const payload of bodies[method] ?? []) {
              for (const headers of [{}, { "if-match": '"1"' }, { "if-match": "*" }]) {
                const res = await call(b, {
                  method,
                  url: `/api/tasks/${n}`,
                  headers,
                  ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
                });
                if (method === "HEAD") assert.equal(res.statusCode, 404);
                else assertProblem(res, 404, "not_found");
              }
            }
          }
        }
        assert.equal((await list(a)).body, listBefore);
        assert.equal(await rowsOf(a), rowsBefore);
        assert.deepEqual(await numbers(b), [1], "B's own task is untouched too");
      });

      test("A5: no token, or a bad one → 401 on every task route", async () => {
        const a = await signUp(t.app);
        await add(a, "mine");
        const routes: InjectOptions[] = [
          { method: "GET", url: "/api/tasks" },
          { method: "POST", url: "/api/tasks", payload: { title: "x" } },
          { method: "GET", url: "/api/tasks/1" },
          { method: "PATCH", url: "/api/tasks/1", payload: { title: "x" } },
          { method: "DELETE", url: "/api/tasks/1" },
        ];
        for (const route of routes) {
          assertProblem(await t.app.inject(route), 401, "unauthorized");
          const bad = { ...route, headers: { authorization: "Bearer not-a-token" } };
          assertProblem(await t.app.inject(bad), 401, "unauthorized");
        }
        assert.deepEqual(await numbers(a), [1]);
      });
    });

    describe("concurrent edits (R3)", () => {
      test("two PATCHes with the same If-Match version: exactly one wins, the other is 412", async () => {
        const a = await signUp(t.app);
        await add(a, "shared");
        const etag = (await call(a, { url: "/api/tasks/1" })).headers.etag;
        assert.equal(etag, '"1"');
        const [first, second] = await Promise.all(
          ["from Alice", "from Bob"].map((title) =>
            call(a, {
              method: "PATCH",
              url: "/api/tasks/1",
              headers: { "if-match": String(etag) },
              payload: { title },
            }),
          ),
        );
        const statuses = [first?.statusCode, second?.statusCode].sort();
        assert.deepEqual(statuses, [200, 412]);
        const winner = first?.statusCode === 200 ? first : second;
        const loser = first?.statusCode === 200 ? second : first;
        assert.ok(winner && loser);
        assertProblem(loser, 412, "precondition_failed");
        assert.equal(loser.json().current_version, 2);
        const now = await call(a, { url: "/api/tasks/1" });
        assert.equal(now.json().title, winner.json().title, "the stored title is the winner's");
        assert.equal(now.headers.etag, '"2"');
      });

      test("a stale If-Match is 412 and changes nothing; the current ETag and * succeed", async () => {
        const a = await signUp(t.app);
        await add(a, "v1");
        await call(a, { method: "PATCH", url: "/api/tasks/1", payload: { title: "v2" } });
        const before = await rowsOf(a);
        const stale = await call(a, {
          method: "PATCH",
          url: "/api/tasks/1",
          headers: { "if-match": '"1"' },
          payload: { title: "lost update" },
        });
        assertProblem(stale, 412, "precondition_failed");
        assert.equal(await rowsOf(a), before);

        const current = await call(a, {
          method: "PATCH",
          url: "/api/tasks/1",
          headers: { "if-match": '"2"' },
          payload: { title: "v3" },
        });
        assert.equal(current.statusCode, 200);
        assert.equal(current.headers.etag, '"3"');
        const any = await call(a, {
          method: "PATCH",
          url: "/api/tasks/1",
          headers: { "if-match": "*" },
          payload: { title: "v4" },
        });
        assert.equal(any.statusCode, 200);
      });

      test("a malformed If-Match is 400; If-Match on a missing task is 404, not 412", async () => {
        const a = await signUp(t.app);
        await add(a, "v1");
        for (const value of ["1", 'W/"1"', '"abc"', '"0"', '"1", "2"', '"99999999999"']) {
          const res = await call(a, {
            method: "PATCH",
            url: "/api/tasks/1",
            headers: { "if-match": value },
            payload: { title: "x" },
          });
          assertProblem(res, 400, "validation_failed");
        }
        const missing = await call(a, {
          method: "PATCH",
          url: "/api/tasks/9",
          headers: { "if-match": '"1"' },
          payload: { title: "x" },
        });
        assertProblem(missing, 404, "not_found");
        assert.equal((await call(a, { url: "/api/tasks/1" })).json().title, "v1");
      });
    });
  });
}
