import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { sql } from "drizzle-orm";
import { type ChatFixture, chat, messagesOf, signUp, startChatApp } from "../support/chat.ts";
import { availableBackends } from "../support/databases.ts";

for (const backend of await availableBackends()) {
  describe(`bounded turns [${backend}]`, () => {
    let f: ChatFixture;
    before(async () => {
      f = await startChatApp(backend, {
        LLM_MAX_STEPS: "4",
        LLM_MAX_OUTPUT_TOKENS: "50",
        LLM_IDLE_TIMEOUT_MS: "400",
        LLM_TIMEOUT_MS: "3000",
        LLM_MAX_RETRIES: "2",
        HISTORY_MAX_MESSAGES: "40",
        HISTORY_MAX_CHARS: "6000",
      });
    });
    after(() => f.close());

    test("a 10,000-message conversation sends the model a bounded window (C2)", async () => {
      const user = await signUp(f.t.app);
      f.llm.setDefault({ text: "first" });
      const { conversation_id } = (await chat(f.t, user, { message: "start" })).json();
      // Grow the conversation to 10,000 messages directly in the database.
      await f.t.server.database.db.execute(sql`
        insert into messages (conversation_id, user_id, seq, role, content)
        select ${conversation_id}::uuid, ${user.id}, g, case when g % 2 = 1 then 'user' else 'assistant' end,
               'message number ' || g || ' ' || repeat('x', 200)
        from generate_series(3, 10000) g`);
      await f.t.server.database.db.execute(
        sql`update conversations set last_seq = 10000 where id = ${conversation_id}::uuid`,
      );
      f.llm.setDefault({ text: "still fast" });
      const res = await chat(f.t, user, { message: "and now?", conversation_id });
      assert.equal(res.statusCode, 200, res.body);
      const sent = f.llm.requests.at(-1)?.body.messages ?? [];
      const chars = sent.reduce((n, m) => n + String(m.content ?? "").length, 0);
      assert.ok(sent.length <= 41, `${sent.length} messages sent`);
      assert.ok(chars <= 6000 + 2000, `${chars} characters sent`);
      assert.equal(sent.at(-1)?.content, "and now?");
      assert.match(String(sent.at(-2)?.content), /message number 10000/);
      const last = (await messagesOf(f.t, user, conversation_id, "after_seq=10000")).items;
      assert.deepEqual(
        last.map((m) => m.seq),
        [10001, 10002],
      );
    });

    test("a model that always calls a tool stops at the step limit with a clear message (C3)", async () => {
      const user = await signUp(f.t.app);
      const before = f.llm.requests.length;
      f.llm.setDefault({ toolCalls: [{ name: "list_tasks", arguments: {} }] });
      const res = await chat(f.t, user, { message: "loop forever" });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(f.llm.requests.length - before, 4);
      const body = res.json();
      assert.equal(body.status, "truncated");
      assert.match(body.response, /stopped after 4 steps/);
      assert.equal(body.tool_calls.length, 4);
    });

    test("an endless stream is cut at the output limit and the partial kept (C4)", async () => {
      const user = await signUp(f.t.app);
      f.llm.setDefault({ endless: true, token: "blah " });
      const started = Date.now();
      const res = await chat(f.t, user, { message: "talk forever" });
      assert.ok(Date.now() - started < 3000);
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json();
      assert.equal(body.status, "truncated");
      assert.ok(
        body.response.length > 0 && body.response.length <= 50 * 8 + 10,
        String(body.response.length),
      );
      const items = (await messagesOf(f.t, user, body.conversation_id)).items;
      assert.equal(items[1]?.status, "truncated");
    });

    test("a model that never sends a byte → 504 within the idle limit; message kept, re-sendable", async () => {
      const user = await signUp(f.t.app);
      f.llm.script({ hang: true }, { hang: true }, { hang: true });
      const started = Date.now();
      const res = await chat(f.t, user, {
        message: "anyone there?",
        client_message_id: crypto.randomUUID(),
      });
      assert.ok(Date.now() - started < 2500, `${Date.now() - started} ms`);
      assert.equal(res.statusCode, 504, res.body);
      assert.equal(res.json().code, "model_timeout");
      const conversationId = res.json().conversation_id;
      assert.deepEqual(
        (await messagesOf(f.t, user, conversationId)).items.map((m) => m.role),
        ["user"],
      );
      f.llm.reset();
      f.llm.setDefault({ text: "back" });
      const next = await chat(f.t, user, { message: "and now?", conversation_id: conversationId });
      assert.equal(next.statusCode, 200, "the conversation is not left locked");
    });

    test("429 then success before the first token is retried transparently", async () => {
      const user = await signUp(f.t.app);
      f.llm.script(
        { status: 429, body: { error: { message: "slow down" } } },
        { text: "after retry" },
      );
      const res = await chat(f.t, user, { message: "hi" });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().response, "after retry");
    });

    test("a persistent upstream 500 → 502 model_error problem, no stack, message kept", async () => {
      const user = await signUp(f.t.app);
      f.llm.script(
        ...Array.from({ length: 3 }, () => ({
          status: 500,
          body: { error: { message: "internal" } },
        })),
      );
      const res = await chat(f.t, user, { message: "hi" });
      assert.equal(res.statusCode, 502, res.body);
      const body = res.json();
      assert.equal(body.code, "model_error");
      assert.ok(body.conversation_id);
      assert.doesNotMatch(res.body, /at .*\.(ts|js):\d+/);
    });
  });
}
