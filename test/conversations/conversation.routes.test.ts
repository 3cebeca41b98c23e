import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { type SQL, sql } from "drizzle-orm";
import type { InjectOptions, LightMyRequestResponse } from "fastify";
import { rowsOf } from "../../src/db/client.ts";
import type { TestUser } from "../support/app.ts";
import { type ChatFixture, chat, messagesOf, signUp, startChatApp } from "../support/chat.ts";
import { availableBackends } from "../support/databases.ts";
import { toolCallThenText } from "../support/fake-llm.ts";

// The conversation REST routes (DESIGN §4) on the real app, PGlite and PostgreSQL; chats go
// through POST /api/chat with the fake OpenAI-protocol model. Every test makes its own users.

interface ConversationJson {
  id: string;
  title: string;
  created_at: string;
  updated_at: string;
}
interface ConversationPage {
  items: ConversationJson[];
  next_cursor: string | null;
}

const CONVERSATION_KEYS = ["created_at", "id", "model", "title", "updated_at"];
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const BAD_IDS = [
  "abc",
  "%00",
  "a".repeat(40),
  "1",
  "",
  "%20",
  "00000000-0000-4000-8000-00000000000g",
];
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

for (const backend of await availableBackends()) {
  describe(`conversation routes [${backend}]`, () => {
    let f: ChatFixture;
    before(async () => {
      f = await startChatApp(backend);
    });
    after(() => f.close());

    const call = (user: TestUser, opts: InjectOptions) =>
      f.t.app.inject({ ...opts, headers: { ...opts.headers, ...user.headers } });
    const query = async <T>(q: SQL) => rowsOf<T>(await f.t.server.database.db.execute(q));
    const assertProblem = (res: LightMyRequestResponse, status: number, code: string) => {
      assert.equal(res.statusCode, status, res.body);
      assert.match(String(res.headers["content-type"]), /^application\/problem\+json/);
      assert.equal(res.json().code, code, res.body);
      assert.equal(res.json().status, status);
      assert.doesNotMatch(res.body, /\bat .*\.ts:\d+/); // no stack trace
    };
    /** Starts a conversation with one turn; returns its id. */
    const startConversation = async (user: TestUser, message = "hello") => {
      f.llm.setDefault({ text: "Sure." });
      const res = await chat(f.t, user, { message });
      assert.equal(res.statusCode, 200, res.body);
      return res.json().conversation_id as string;
    };
    const turn = async (user: TestUser, conversation_id: string, message = "more") => {
      f.llm.setDefault({ text: "Noted." });
      const res = await chat(f.t, user, { message, conversation_id });
      assert.equal(res.statusCode, 200, res.body);
    };
    const listPage = async (user: TestUser, qs = "") => {
      const res = await call(user, { url: `/api/conversations${qs}` });
      assert.equal(res.statusCode, 200, res.body);
      return res.json<ConversationPage>();
    };
    const ids = async (user: TestUser, qs = "?limit=100") =>
      (await listPage(user, qs)).items.map((c) => c.id);
    /** Walks every page with `limit`; returns the ids in order and the page sizes. */
    const walk = async (user: TestUser, limit: number) => {
      const seen: string[] = [];
      const sizes: number[] = [];
      let cursor: string | null = null;
      for (let guard = 0; guard < 100; guard++) {
        const qs: string = `?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
        const page = await listPage(user, qs);
        assert.ok(page.items.length <= limit);
        seen.push(...page.items.map((c) => c.id));
        sizes.push(page.items.length);
        cursor = page.next_cursor;
        if (cursor === null) return { seen, sizes };
        assert.equal(typeof cursor, "string");
      }
      throw new Error("pagination did not end");
    };
    /** Bulk conversations straight in SQL (for page-size limits); newest first = b1, b2… */
    const bulkConversations = (user: TestUser, n: number) =>
      query(sql`insert into conversations (user_id, title, updated_at)
        select ${user.id}, 'bulk ' || g, now() - make_interval(secs => g)
        from generate_series(1, ${n}::int) g`);

    describe("read and list", () => {
      test("GET /api/conversations/:id is {id, title, model, created_at, updated_at}", async () => {
        const a = await signUp(f.t.app);
        const id = await startConversation(a, "Plan the garden party\nwith details");
        const res = await call(a, { url: `/api/conversations/${id}` });
        assert.equal(res.statusCode, 200);
        assert.match(String(res.headers["content-type"]), /^application\/json/);
        const c = res.json<ConversationJson>();
        assert.deepEqual(Object.keys(c).sort(), CONVERSATION_KEYS);
        assert.equal(c.id, id);
        assert.match(c.id, UUID);
        assert.equal(c.title, "Plan the garden party", "the first line of the first message");
        assert.match(c.created_at, ISO);
        assert.match(c.updated_at, ISO);
        assert.ok(c.updated_at >= c.created_at);
        // The list holds the same object.
        assert.deepEqual((await listPage(a)).items, [c]);
      });

      test("a user with no conversations gets an empty page", async () => {
        const a = await signUp(f.t.app);
        assert.deepEqual(await listPage(a), { items: [], next_cursor: null });
      });

      test("newest activity first: a turn on an older conversation moves it to the top", async () => {
        const a = await signUp(f.t.app);
        const c1 = await startConversation(a, "first");
        const c2 = await startConversation(a, "second");
        const c3 = await startConversation(a, "third");
        assert.deepEqual(await ids(a), [c3, c2, c1]);
        const before = (
          await call(a, { url: `/api/conversations/${c1}` })
        ).json<ConversationJson>();

        await turn(a, c1, "back to the first one");
        assert.deepEqual(await ids(a), [c1, c3, c2]);
        const moved = (await call(a, { url: `/api/conversations/${c1}` })).json<ConversationJson>();
        assert.ok(moved.updated_at > before.updated_at, "updated_at moves with activity");
        assert.equal(moved.created_at, before.created_at, "created_at never moves");

        await turn(a, c2);
        assert.deepEqual(await ids(a), [c2, c1, c3]);
      });

      test("cursor pagination: every item exactly once, in order; next_cursor null at the end", async () => {
        const a = await signUp(f.t.app);
        const created: string[] = [];
        for (let i = 0; i < 7; i++) created.push(await startConversation(a, `topic ${i}`));
        const all = await ids(a);
        assert.deepEqual(all, [...created].reverse());
        for (const [limit, sizes] of [
          [1, [1, 1, 1, 1, 1, 1, 1]],
          [3, [3, 3, 1]],
          [6, [6, 1]],
          [7, [7]],
          [8, [7]],
        ] as const) {
          const walked = await walk(a, limit);
          assert.deepEqual(walked.seen, all, `limit=${limit}`);
          assert.deepEqual(walked.sizes, sizes, `limit=${limit}`);
        }
        // Another user's conversations never show up in anyone's pages.
        const b = await signUp(f.t.app);
        await startConversation(b, "b's own");
        assert.deepEqual((await walk(a, 2)).seen, all);
        assert.equal((await walk(b, 2)).seen.length, 1);
      });

      test("cursor pagination with equal and sub-millisecond updated_at: nothing lost or repeated", async () => {
        const a = await signUp(f.t.app);
        const created: string[] = [];
        for (let i = 0; i < 6; i++) created.push(await startConversation(a, `same ms ${i}`));
        // Timestamps keep microseconds: two equal, three inside one millisecond, one apart.
        const at = [
          "2030-01-01T00:00:00.123456Z",
          "2030-01-01T00:00:00.123456Z",
          "2030-01-01T00:00:00.123999Z",
          "2030-01-01T00:00:00.123001Z",
          "2030-01-01T00:00:00.123500Z",
          "2030-01-01T00:00:00.122000Z",
        ];
        for (const [i, id] of created.entries()) {
          await query(
            sql`update conversations set updated_at = ${at[i]}::timestamptz where id = ${id}`,
          );
        }
        const all = await ids(a);
        assert.equal(all.length, 6);
        for (const limit of [1, 2, 4, 5]) {
          const walked = await walk(a, limit);
          assert.deepEqual(walked.seen, all, `limit=${limit}: every item exactly once, in order`);
        }
        // The one-page order is by updated_at desc, then id desc.
        const expected = created
          .map((id, i) => ({ id, at: at[i] as string }))
          .sort((x, y) => (x.at === y.at ? (x.id < y.id ? 1 : -1) : x.at < y.at ? 1 : -1))
          .map((x) => x.id);
        assert.deepEqual(all, expected);
      });

      test("a bad cursor → 400 validation_failed, not 500", async () => {
        const a = await signUp(f.t.app);
        await startConversation(a);
        const cursors = [
          "abc",
          "!!!",
          "x".repeat(201),
          b64([]),
          b64({}),
          b64(null),
          b64("2030-01-01T00:00:00.000Z"),
          b64(["not a date", randomUUID()]),
          b64(["2030-01-01T00:00:00.000Z", "not-a-uuid"]),
          b64(["2030-01-01T00:00:00.000Z", "-".repeat(36)]),
          b64(["2030-02-30T00:00:00.000Z", randomUUID()]),
          b64([1, randomUUID()]),
          b64(["2030-01-01T00:00:00.000Z", 42]),
        ];
        for (const cursor of cursors) {
          const res = await call(a, {
            url: `/api/conversations?cursor=${encodeURIComponent(cursor)}`,
          });
          assertProblem(res, 400, "validation_failed");
        }
      });

      test("C5: limit is clamped to 100 above the maximum; default 20; -1, 0, abc → 400", async () => {
        const a = await signUp(f.t.app);
        await bulkConversations(a, 105);
        const huge = await listPage(a, "?limit=1000000");
        assert.equal(huge.items.length, 100);
        assert.notEqual(huge.next_cursor, null);
        assert.equal((await listPage(a, "?limit=101")).items.length, 100);
        assert.equal((await listPage(a, "?limit=100")).items.length, 100);
        assert.equal((await listPage(a)).items.length, 20);
        const rest = await listPage(
          a,
          `?limit=100&cursor=${encodeURIComponent(String(huge.next_cursor))}`,
        );
        assert.equal(rest.items.length, 5);
        assert.equal(rest.next_cursor, null);
        for (const limit of ["-1", "0", "abc", "1.5", "", "1e400", "NaN", "0x10", "1e3", "%205"]) {
          const res = await call(a, { url: `/api/conversations?limit=${limit}` });
          assertProblem(res, 400, "validation_failed");
        }
        assertProblem(
          await call(a, { url: "/api/conversations?limit=1&limit=2" }),
          400,
          "validation_failed",
        );
        assertProblem(
          await call(a, { url: "/api/conversations?user_id=x" }),
          400,
          "validation_failed",
        );
      });
    });

    describe("rename", () => {
      test("PATCH title: trimmed and stored; empty, blank, 201 chars, wrong types, unknown fields → 400", async () => {
        const a = await signUp(f.t.app);
        const id = await startConversation(a, "old title");
        const url = `/api/conversations/${id}`;
        const before = (await call(a, { url })).json<ConversationJson>();

        const renamed = await call(a, {
          method: "PATCH",
          url,
          payload: { title: "  New title  " },
        });
        assert.equal(renamed.statusCode, 200, renamed.body);
        const body = renamed.json<ConversationJson>();
        assert.deepEqual(Object.keys(body).sort(), CONVERSATION_KEYS);
        assert.equal(body.title, "New title");
        assert.equal(body.id, id);
        assert.equal(body.created_at, before.created_at);
        assert.ok(body.updated_at >= before.updated_at);
        assert.deepEqual((await call(a, { url })).json(), body, "GET sees the stored title");

        const longest = "é".repeat(200);
        const max = await call(a, { method: "PATCH", url, payload: { title: longest } });
        assert.equal(max.statusCode, 200, "200 characters is the maximum, included");
        assert.equal(max.json().title, longest);
        const stored = (await call(a, { url })).body;

        const bad: unknown[] = [
          { title: "" },
          { title: "   " },
          { title: "x".repeat(201) },
          { title: ` ${"x".repeat(201)} ` },
          { title: 5 },
          { title: null },
          {},
          { title: "ok", extra: true },
          // model is a field since issue 19 (an unknown one is 400 unknown_model: test/models/).
          { title: "ok", model: 5 },
          { model: "" },
          [],
        ];
        for (const payload of bad) {
          const res = await call(a, {
            method: "PATCH",
            url,
            headers: { "content-type": "application/json" },
            payload: JSON.stringify(payload),
          });
          assertProblem(res, 400, "validation_failed");
        }
        const invalid = await call(a, {
          method: "PATCH",
          url,
          headers: { "content-type": "application/json" },
          payload: '{"title": "x"',
        });
        assertProblem(invalid, 400, "invalid_json");
        assert.equal((await call(a, { url })).body, stored, "every refused PATCH changed nothing");
      });
    });

    describe("delete", () => {
      test("DELETE → 204; the conversation and (by cascade) its messages are gone", async () => {
        const a = await signUp(f.t.app);
        const id = await startConversation(a, "to be removed");
        await turn(a, id);
        const keep = await startConversation(a, "to be kept");
        const countMessages = async (conversationId: string) =>
          (
            await query<{ n: number }>(
              sql`select count(*)::int as n from messages where conversation_id = ${conversationId}`,
            )
          )[0]?.n;
        assert.equal(await countMessages(id), 4);

        const res = await call(a, { method: "DELETE", url: `/api/conversations/${id}` });
        assert.equal(res.statusCode, 204);
        assert.equal(res.body, "");

        assertProblem(await call(a, { url: `/api/conversations/${id}` }), 404, "not_found");
        assertProblem(
          await call(a, { url: `/api/conversations/${id}/messages` }),
          404,
          "not_found",
        );
        assert.equal(await countMessages(id), 0, "no messages row remains (cascade)");
        const rows = await query(sql`select 1 from conversations where id = ${id}`);
        assert.equal(rows.length, 0);
        assertProblem(
          await call(a, { method: "DELETE", url: `/api/conversations/${id}` }),
          404,
          "not_found",
        );
        assertProblem(
          await call(a, {
            method: "PATCH",
            url: `/api/conversations/${id}`,
            payload: { title: "x" },
          }),
          404,
          "not_found",
        );
        // A chat on the deleted conversation is a 404 too, with no model call.
        const calls = f.llm.requests.length;
        assertProblem(await chat(f.t, a, { message: "hi", conversation_id: id }), 404, "not_found");
        assert.equal(f.llm.requests.length, calls);

        assert.deepEqual(await ids(a), [keep], "the other conversation stays");
        assert.equal(await countMessages(keep), 2);
        assert.equal((await messagesOf(f.t, a, keep)).items.length, 2);
      });
    });

    describe("messages", () => {
      /** A conversation of 5 turns (10 messages); the second turn calls add_task. */
      const fiveTurns = async (user: TestUser) => {
        const id = await startConversation(user, "turn 1");
        f.llm.setDefault(toolCallThenText("add_task", { title: "Buy milk" }, "Added task 1."));
        const withTool = await chat(f.t, user, { message: "turn 2", conversation_id: id });
        assert.equal(withTool.statusCode, 200, withTool.body);
        for (const n of [3, 4, 5]) await turn(user, id, `turn ${n}`);
        return id;
      };
      const seqs = (page: { items: { seq: number }[] }) => page.items.map((m) => m.seq);

      test("in seq order, alternating user/assistant, with tool_calls as [{name, arguments, result}]", async () => {
        const a = await signUp(f.t.app);
        const id = await fiveTurns(a);
        const res = await call(a, { url: `/api/conversations/${id}/messages` });
        assert.equal(res.statusCode, 200);
        const page = messagesPage(res);
        assert.deepEqual(seqs(page), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        assert.equal(page.next_cursor, null);
        for (const m of page.items) {
          for (const key of ["id", "seq", "role", "content", "tool_calls", "created_at"]) {
            assert.ok(key in m, `a message has ${key}`);
          }
          assert.match(m.id, UUID);
          assert.match(m.created_at, ISO);
          assert.equal(m.role, m.seq % 2 === 1 ? "user" : "assistant");
        }
        assert.deepEqual(
          page.items.filter((m) => m.role === "user").map((m) => m.content),
          ["turn 1", "turn 2", "turn 3", "turn 4", "turn 5"],
        );
        const tooled = page.items.filter((m) => m.tool_calls.length > 0);
        assert.equal(tooled.length, 1);
        assert.equal(tooled[0]?.seq, 4);
        assert.equal(tooled[0]?.content, "Added task 1.");
        assert.deepEqual(tooled[0]?.tool_calls, [
          {
            name: "add_task",
            arguments: { title: "Buy milk" },
            result: {
              task_id: 1,
              status: "created",
              title: "Buy milk",
              due: null,
              due_label: null,
              priority: "none",
              list: "Inbox",
              labels: [],
            },
          },
        ]);
        for (const m of page.items.filter((x) => x.seq !== 4)) assert.deepEqual(m.tool_calls, []);
      });

      test("forward pages: limit and after_seq, following next_cursor", async () => {
        const a = await signUp(f.t.app);
        const id = await fiveTurns(a);
        const get = async (qs: string) => {
          const res = await call(a, { url: `/api/conversations/${id}/messages?${qs}` });
          assert.equal(res.statusCode, 200, res.body);
          return messagesPage(res);
        };
        const first = await get("limit=3");
        assert.deepEqual(seqs(first), [1, 2, 3]);
        assert.equal(first.next_cursor, 3);
        const pages: number[][] = [];
        let cursor: number | null = 0;
        while (cursor !== null) {
          const page = await get(`limit=3&after_seq=${cursor}`);
          pages.push(seqs(page));
          cursor = page.next_cursor;
          assert.ok(pages.length < 10);
        }
        assert.deepEqual(pages, [[1, 2, 3], [4, 5, 6], [7, 8, 9], [10]]);
        const exact = await get("limit=3&after_seq=7");
        assert.deepEqual(seqs(exact), [8, 9, 10]);
        assert.equal(exact.next_cursor, null, "a page that ends exactly at the end has no cursor");
        assert.deepEqual(await get("after_seq=10"), { items: [], next_cursor: null });
        assert.deepEqual(await get("after_seq=1000"), { items: [], next_cursor: null });
        assert.deepEqual(seqs(await get("after_seq=0")), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      });

      test("backward pages: before_seq, following next_cursor; items stay in seq order", async () => {
        const a = await signUp(f.t.app);
        const id = await fiveTurns(a);
        const get = async (qs: string) => {
          const res = await call(a, { url: `/api/conversations/${id}/messages?${qs}` });
          assert.equal(res.statusCode, 200, res.body);
          return messagesPage(res);
        };
        const pages: number[][] = [];
        let cursor: number | null = 11;
        while (cursor !== null) {
          const page = await get(`limit=3&before_seq=${cursor}`);
          pages.push(seqs(page));
          cursor = page.next_cursor;
          assert.ok(pages.length < 10);
        }
        assert.deepEqual(pages, [[8, 9, 10], [5, 6, 7], [2, 3, 4], [1]]);
        const exact = await get("limit=3&before_seq=4");
        assert.deepEqual(seqs(exact), [1, 2, 3]);
        assert.equal(
          exact.next_cursor,
          null,
          "a page that ends exactly at the start has no cursor",
        );
        assert.deepEqual(await get("before_seq=1"), { items: [], next_cursor: null });
        assert.deepEqual(await get("before_seq=0"), { items: [], next_cursor: null });
        assert.deepEqual(seqs(await get("limit=2&before_seq=1000")), [9, 10]);
        // The web page reads the last page with the largest safe integer.
        const last = await get(`limit=2&before_seq=${Number.MAX_SAFE_INTEGER}`);
        assert.deepEqual(seqs(last), [9, 10]);
        assert.equal(last.next_cursor, 9);
      });

      test("before_seq with after_seq, or bad seq values → 400 validation_failed", async () => {
        const a = await signUp(f.t.app);
        const id = await startConversation(a);
        for (const qs of [
          "before_seq=5&after_seq=1",
          "after_seq=-1",
          "before_seq=-1",
          "after_seq=abc",
          "before_seq=1.5",
          "after_seq=",
          "before_seq=",
          "after_seq=0x10",
          "before_seq=1e3",
          "after_seq=99999999999999999999",
          "after_seq=9999999999999999",
          `before_seq=${Number.MAX_SAFE_INTEGER + 1}`,
          "cursor=abc",
          "user_id=x",
        ]) {
          const res = await call(a, { url: `/api/conversations/${id}/messages?${qs}` });
          assertProblem(res, 400, "validation_failed");
        }
      });

      test("C5: limit is clamped to 200 above the maximum; default 50; -1, 0, abc → 400", async () => {
        const a = await signUp(f.t.app);
        const [row] = await query<{ id: string }>(
          sql`insert into conversations (user_id, title, last_seq) values (${a.id}, 'bulk', 205) returning id`,
        );
        const id = String(row?.id);
        await query(sql`insert into messages (conversation_id, user_id, seq, role, content)
          select ${id}, ${a.id}, g, case when g % 2 = 1 then 'user' else 'assistant' end, 'm' || g
          from generate_series(1, 205) g`);
        const get = async (qs: string) => {
          const res = await call(a, { url: `/api/conversations/${id}/messages?${qs}` });
          assert.equal(res.statusCode, 200, res.body);
          return messagesPage(res);
        };
        const huge = await get("limit=1000000");
        assert.equal(huge.items.length, 200);
        assert.equal(huge.next_cursor, 200);
        assert.equal((await get("limit=201")).items.length, 200);
        assert.equal((await get("limit=200")).items.length, 200);
        const byDefault = await get("");
        assert.deepEqual(
          seqs(byDefault),
          Array.from({ length: 50 }, (_, i) => i + 1),
        );
        assert.equal(byDefault.next_cursor, 50);
        const back = await get("limit=1000000&before_seq=206");
        assert.deepEqual(
          seqs(back),
          Array.from({ length: 200 }, (_, i) => i + 6),
        );
        assert.equal(back.next_cursor, 6);
        for (const limit of ["-1", "0", "abc", "1.5", "", "NaN", "0x10", "2e2"]) {
          const res = await call(a, { url: `/api/conversations/${id}/messages?limit=${limit}` });
          assertProblem(res, 400, "validation_failed");
        }
      });
    });

    describe("ids (I2, I3)", () => {
      const routes = (id: string): InjectOptions[] => [
        { method: "GET", url: `/api/conversations/${id}` },
        { method: "PATCH", url: `/api/conversations/${id}`, payload: { title: "pwned" } },
        { method: "DELETE", url: `/api/conversations/${id}` },
        { method: "GET", url: `/api/conversations/${id}/messages` },
        { method: "GET", url: `/api/conversations/${id}/messages?limit=1&after_seq=0` },
      ];

      test("I2: a malformed id in the path → 400 invalid_id on every conversation route, never 500", async () => {
        const a = await signUp(f.t.app);
        await startConversation(a);
        const before = await listPage(a);
        for (const bad of BAD_IDS) {
          for (const route of routes(bad)) {
            const res = await call(a, route);
            assertProblem(res, 400, "invalid_id");
            assert.equal(res.json().type, "urn:tasktalk:error:invalid_id");
          }
        }
        assert.deepEqual(await listPage(a), before);
      });

      test("I2: an over-long or undecodable path segment is a problem+json 4xx too", async () => {
        const a = await signUp(f.t.app);
        for (const bad of ["x".repeat(201), "%E0%A4%A"]) {
          const res = await call(a, { url: `/api/conversations/${bad}` });
          assertProblem(res, 400, "invalid_id");
        }
      });

      test("I3: an unknown uuid and another user's conversation → the same 404, nothing changed", async () => {
        const owner = await signUp(f.t.app);
        const other = await signUp(f.t.app);
        const theirs = await startConversation(owner, "owner's private plans");
        await startConversation(other, "other's own");
        const ownerView = async () =>
          JSON.stringify([
            await listPage(owner),
            (await call(owner, { url: `/api/conversations/${theirs}` })).json(),
            await messagesOf(f.t, owner, theirs),
          ]);
        const before = await ownerView();
        const normalize = (res: LightMyRequestResponse) => {
          const { request_id, ...rest } = res.json();
          assert.match(String(request_id), /.+/);
          return rest;
        };
        const missing = randomUUID();
        for (const [i, route] of routes(theirs).entries()) {
          const stranger = await call(other, route);
          const absent = await call(other, routes(missing)[i] as InjectOptions);
          assertProblem(stranger, 404, "not_found");
          assertProblem(absent, 404, "not_found");
          assert.deepEqual(normalize(stranger), normalize(absent), `${route.method} ${route.url}`);
          assert.deepEqual(
            Object.keys(stranger.headers).sort(),
            Object.keys(absent.headers).sort(),
          );
          assert.doesNotMatch(stranger.body, /private plans/);
        }
        assert.equal(await ownerView(), before);
      });
    });
  });
}

interface MessagesPage {
  items: {
    id: string;
    seq: number;
    role: string;
    content: string;
    tool_calls: { name: string; arguments: unknown; result: unknown }[];
    created_at: string;
  }[];
  next_cursor: number | null;
}

function messagesPage(res: LightMyRequestResponse): MessagesPage {
  return res.json<MessagesPage>();
}
