import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { sql } from "drizzle-orm";
import { rowsOf } from "../../src/db/client.ts";
import { type ChatFixture, chat, messagesOf, signUp, startChatApp } from "../support/chat.ts";
import { availableBackends } from "../support/databases.ts";
import { type ProxiedDatabase, proxiedTestDatabase } from "../support/tcp-proxy.ts";

// X2 (the outside attack of 2026-11): a retried send never repeats a side effect. Tool
// effects are part of the turn's idempotency record, and a failed reply store is a replay
// for the client's retry, not a re-run of the tools.

const backends = await availableBackends();

const titlesOf = async (f: ChatFixture, userId: string) =>
  rowsOf<{ title: string }>(
    await f.t.server.database.db.execute(
      sql`select title from tasks where user_id = ${userId} order by number`,
    ),
  ).map((r) => r.title);

for (const backend of backends) {
  describe(`U+0000 from the model [${backend}]`, () => {
    let f: ChatFixture;
    before(async () => {
      f = await startChatApp(backend);
    });
    after(() => f.close());

    test("text and tool arguments with U+0000 are stored without it; one task, the retry replays", async () => {
      const user = await signUp(f.t.app);
      f.llm.script(
        { toolCalls: [{ name: "add_task", arguments: { title: "buy\u0000 milk" } }] },
        { text: "Added\u0000 it." },
      );
      const id = randomUUID();
      const first = await chat(f.t, user, { message: "add buy milk", client_message_id: id });
      assert.equal(first.statusCode, 200, first.body);
      assert.equal(first.json().response, "Added it.");
      assert.deepEqual(first.json().tool_calls[0].arguments, { title: "buy milk" });
      assert.deepEqual(await titlesOf(f, user.id), ["buy milk"]);

      const calls = f.llm.requests.length;
      const again = await chat(f.t, user, { message: "add buy milk", client_message_id: id });
      assert.equal(again.statusCode, 200, again.body);
      assert.deepEqual(again.json(), first.json());
      assert.equal(f.llm.requests.length, calls, "a replay does not call the model");
      assert.deepEqual(await titlesOf(f, user.id), ["buy milk"]);
    });

    test("a replay of a turn that failed mid-reply answers the same error, not 200", async () => {
      const user = await signUp(f.t.app);
      f.llm.script({ dropAfter: "Working on" });
      const id = randomUUID();
      const first = await chat(f.t, user, { message: "hello", client_message_id: id });
      assert.equal(first.statusCode, 502, first.body);
      const again = await chat(f.t, user, { message: "hello", client_message_id: id });
      assert.equal(again.statusCode, 502, again.body);
      assert.equal(again.json().code, first.json().code);
      assert.equal(again.json().message_id, first.json().message_id);
    });

    test("a conversation deleted while its turn runs answers 404, not an empty 200", async () => {
      const user = await signUp(f.t.app);
      f.llm.script({ text: "first" });
      const conversationId = (await chat(f.t, user, { message: "start" })).json()
        .conversation_id as string;
      f.llm.script((_req) => {
        // The user deletes the conversation from another tab while the model answers.
        void f.t.app.inject({
          method: "DELETE",
          url: `/api/conversations/${conversationId}`,
          headers: user.headers,
        });
        return { text: "too late", chunkSize: 1 };
      });
      const res = await chat(f.t, user, { message: "and then", conversation_id: conversationId });
      assert.equal(res.statusCode, 404, res.body);
      assert.equal(res.json().code, "not_found");
    });
  });
}

describe("the database drops between a tool call and the reply store (X2) [pg]", {
  skip: !backends.includes("pg"),
}, () => {
  let f: ChatFixture;
  let db: ProxiedDatabase;
  before(async () => {
    db = await proxiedTestDatabase();
    f = await startChatApp(
      "pg",
      { DATABASE_URL: db.url, TURN_LEASE_MS: "3000", PG_CONNECT_TIMEOUT_MS: "1000" },
      { testDb: db.testDb },
    );
  });
  after(async () => {
    await f.close();
    await db.close();
  });

  test("the client's retry replays the recorded effect: one task, one reply, no 409 wait", async () => {
    const user = await signUp(f.t.app);
    const addMilk = { toolCalls: [{ name: "add_task", arguments: { title: "buy milk" } }] };
    f.llm.script(
      addMilk,
      () => {
        void db.proxy.down(); // the database goes away after the tool ran, before step B
        return { text: "Added buy milk." };
      },
      // The retry: a naive model that does the same thing again from the start…
      addMilk,
      { text: "Added buy milk." },
    );
    const id = randomUUID();
    const first = await chat(f.t, user, { message: "add buy milk", client_message_id: id });
    assert.equal(first.statusCode, 503, first.body);
    assert.equal(first.json().code, "database_unavailable");
    await db.proxy.up();

    let retry = await chat(f.t, user, { message: "add buy milk", client_message_id: id });
    // The release on failure could not reach the database either: the lease then expires.
    for (let i = 0; i < 20 && retry.statusCode !== 200; i++) {
      await new Promise((r) => setTimeout(r, 250));
      retry = await chat(f.t, user, { message: "add buy milk", client_message_id: id });
    }
    assert.equal(retry.statusCode, 200, retry.body);
    // …is answered from the record: the task exists once, and the reply reports it once.
    assert.deepEqual(await titlesOf(f, user.id), ["buy milk"]);
    const calls = retry.json().tool_calls as { name: string; result: { task_id: number } }[];
    assert.deepEqual(
      calls.map((c) => [c.name, c.result.task_id]),
      [["add_task", 1]],
    );
    // The model saw what was already done before it answered.
    const rerun = f.llm.requests.at(-2);
    assert.ok(
      rerun?.body.messages.some((m) => m.role === "tool"),
      "prior result shown",
    );
    const stored = await messagesOf(f.t, user, retry.json().conversation_id);
    assert.deepEqual(
      stored.items.map((m) => m.role),
      ["user", "assistant"],
    );
  });
});
