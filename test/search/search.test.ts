import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { sql } from "drizzle-orm";
import { rowsOf } from "../../src/db/client.ts";
import { searchQuery } from "../../src/search/search.repository.ts";
import { type ChatFixture, chat, signUp, startChatApp } from "../support/chat.ts";
import { availableBackends } from "../support/databases.ts";

// Issue 19 item 5: GET /api/search over messages and tasks, the user's own only.

interface Hit {
  type: string;
  id: string;
  snippet: string;
  conversation_id: string | null;
  seq: number | null;
  task_id: number | null;
  task_title: string | null;
}

for (const backend of await availableBackends()) {
  describe(`search across chats [${backend}]`, () => {
    let f: ChatFixture;
    before(async () => {
      f = await startChatApp(backend);
    });
    after(() => f.close());

    const search = async (user: { headers: Record<string, string> }, query: string) => {
      const res = await f.t.app.inject({ url: `/api/search?${query}`, headers: user.headers });
      assert.equal(res.statusCode, 200, res.body);
      return res.json() as { items: Hit[]; next_cursor: string | null };
    };

    test("finds a word said many messages ago, with the conversation and seq to open", async () => {
      const user = await signUp(f.t.app);
      f.llm.setDefault({ text: "Noted." });
      const first = (
        await chat(f.t, user, { message: "my locker code is Quetzalcoatl-77" })
      ).json();
      const id = first.conversation_id;
      for (let i = 0; i < 6; i++) {
        await chat(f.t, user, { message: `something else ${i}`, conversation_id: id });
      }
      // Three weeks ago, as far as the clock is concerned.
      await f.t.server.database.db.execute(
        sql`update messages set created_at = created_at - interval '21 days' where id = ${first.user_message_id}`,
      );
      const found = await search(user, "q=quetzalcoatl");
      assert.equal(found.items.length, 1, JSON.stringify(found));
      const hit = found.items[0] as Hit;
      assert.equal(hit.type, "message");
      assert.equal(hit.conversation_id, id);
      assert.equal(hit.seq, 1);
      assert.match(hit.snippet, /«Quetzalcoatl»/);
      // Another user finds nothing of it.
      const other = await signUp(f.t.app, "Other");
      assert.equal((await search(other, "q=quetzalcoatl")).items.length, 0);
    });

    test("tasks by title and description; the trash left out; websearch syntax", async () => {
      const user = await signUp(f.t.app);
      const add = (payload: object) =>
        f.t.app.inject({ method: "POST", url: "/api/tasks", headers: user.headers, payload });
      const kept = (
        await add({ title: "Renew passport", description: "bring the old photo" })
      ).json();
      const trashed = (await add({ title: "Passport photo booth" })).json();
      await f.t.app.inject({
        method: "DELETE",
        url: `/api/tasks/${trashed.id}`,
        headers: user.headers,
      });
      const hits = (await search(user, "q=passport")).items;
      assert.deepEqual(
        hits.map((h) => [h.type, h.task_id, h.task_title]),
        [["task", kept.id, "Renew passport"]],
      );
      assert.equal((await search(user, `q=${encodeURIComponent("photo")}`)).items.length, 1);
      assert.equal((await search(user, `q=${encodeURIComponent('"old photo"')}`)).items.length, 1);
      assert.equal(
        (await search(user, `q=${encodeURIComponent("passport -photo")}`)).items.length,
        0,
      );
      // Punctuation only: a query without words finds nothing, and is not an error.
      assert.equal((await search(user, `q=${encodeURIComponent("!!")}`)).items.length, 0);
    });

    test("pages by cursor, newest first, without repeats or gaps", async () => {
      const user = await signUp(f.t.app);
      for (let i = 0; i < 7; i++) {
        await f.t.app.inject({
          method: "POST",
          url: "/api/tasks",
          headers: user.headers,
          payload: { title: `walrus ${i}` },
        });
      }
      const seen: string[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 10; page++) {
        const res: { items: Hit[]; next_cursor: string | null } = await search(
          user,
          `q=walrus&limit=3${cursor ? `&cursor=${cursor}` : ""}`,
        );
        seen.push(...res.items.map((h) => h.task_title ?? ""));
        cursor = res.next_cursor;
        if (!cursor) break;
      }
      assert.deepEqual(
        seen,
        [6, 5, 4, 3, 2, 1, 0].map((i) => `walrus ${i}`),
      );
      const bad = await f.t.app.inject({
        url: "/api/search?q=walrus&cursor=abc",
        headers: user.headers,
      });
      assert.equal(bad.statusCode, 400);
    });

    test("the query uses the full-text indexes (EXPLAIN over 20,000 messages)", async () => {
      const user = await signUp(f.t.app);
      f.llm.setDefault({ text: "ok" });
      const turn = (await chat(f.t, user, { message: "start" })).json();
      const db = f.t.server.database.db;
      await db.execute(sql`
        insert into messages (conversation_id, user_id, seq, role, content)
        select ${turn.conversation_id}::uuid, ${user.id}, 100 + i, 'user',
               'filler words ' || md5(i::text) || ' more filler ' || (i % 97)
          from generate_series(1, 20000) as i`);
      await db.execute(sql`analyze messages`);
      await db.execute(sql`analyze tasks`);
      const query = searchQuery({ userId: user.id, q: "walrus", limit: 21 });
      const plan = rowsOf<Record<string, string>>(await db.execute(sql`explain ${query}`))
        .map((r) => Object.values(r)[0])
        .join("\n");
      assert.match(plan, /messages_search_idx/, plan);
      assert.match(plan, /tasks_search_idx|Seq Scan on tasks/, plan);
      const hit = await search(user, "q=8f14e45fceea167a5a36dedd4bea2543"); // md5('7')
      assert.equal(hit.items.length, 1);
      assert.equal(hit.items[0]?.seq, 107);
    });
  });
}
