import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { sql } from "drizzle-orm";
import { rowsOf } from "../../src/db/client.ts";
import { type ChatFixture, chat, messagesOf, signUp, startChatApp } from "../support/chat.ts";
import { availableBackends } from "../support/databases.ts";
import { toolCallThenText } from "../support/fake-llm.ts";

for (const backend of await availableBackends()) {
  describe(`idempotent sends [${backend}]`, () => {
    let f: ChatFixture;
    before(async () => {
      f = await startChatApp(backend);
    });
    after(() => f.close());

    const countRows = async (clientMessageId: string) =>
      rowsOf<{ n: number }>(
        await f.t.server.database.db.execute(
          sql`select count(*)::int as n from messages where client_message_id = ${clientMessageId}`,
        ),
      )[0]?.n;

    test("same client_message_id sent 5× → one stored turn, same answer, one model run (K1)", async () => {
      const user = await signUp(f.t.app);
      f.llm.setDefault(
        toolCallThenText("add_task", { title: "Pay bills" }, "Added task 1 · Pay bills."),
      );
      const id = randomUUID();
      const before = f.llm.requests.length;
      const answers = [];
      for (let i = 0; i < 5; i++) {
        const res = await chat(f.t, user, {
          message: "remind me to pay bills",
          client_message_id: id,
        });
        assert.equal(res.statusCode, 200, res.body);
        answers.push(res.json());
      }
      assert.equal(f.llm.requests.length - before, 2, "one turn = two model steps, run once");
      for (const a of answers) assert.deepEqual(a, answers[0]);
      assert.equal(await countRows(id), 1);
      const tasks = (await f.t.app.inject({ url: "/api/tasks", headers: user.headers })).json()
        .items;
      assert.equal(tasks.length, 1, "the tool ran once");
      assert.equal((await messagesOf(f.t, user, answers[0].conversation_id)).items.length, 2);
    });

    test("sent 5× concurrently → one runs; the others get the same result or 409 (K2)", async () => {
      const user = await signUp(f.t.app);
      f.llm.setPace(20);
      f.llm.setDefault({ text: "Here is your answer, slowly." });
      const id = randomUUID();
      const before = f.llm.requests.length;
      const results = await Promise.all(
        Array.from({ length: 5 }, () =>
          chat(f.t, user, { message: "what's up?", client_message_id: id }),
        ),
      );
      f.llm.setPace(0);
      const ok = results.filter((r) => r.statusCode === 200);
      const busy = results.filter((r) => r.statusCode === 409);
      assert.equal(ok.length + busy.length, 5, results.map((r) => r.statusCode).join(","));
      assert.ok(ok.length >= 1);
      for (const r of busy) assert.equal(r.json().code, "turn_in_progress");
      for (const r of ok) assert.equal(r.json().message_id, ok[0]?.json().message_id);
      assert.equal(f.llm.requests.length - before, 1, "the model ran once");
      assert.equal(await countRows(id), 1);
      // A later retry gets the stored answer.
      const later = await chat(f.t, user, { message: "what's up?", client_message_id: id });
      assert.equal(later.json().message_id, ok[0]?.json().message_id);
    });

    test("same id with a different message → 422, nothing stored (K3)", async () => {
      const user = await signUp(f.t.app);
      f.llm.setDefault({ text: "ok" });
      const id = randomUUID();
      const first = await chat(f.t, user, { message: "first words", client_message_id: id });
      assert.equal(first.statusCode, 200);
      const before = f.llm.requests.length;
      const second = await chat(f.t, user, { message: "other words", client_message_id: id });
      assert.equal(second.statusCode, 422);
      assert.equal(second.json().code, "idempotency_mismatch");
      assert.equal(f.llm.requests.length, before);
      assert.equal((await messagesOf(f.t, user, first.json().conversation_id)).items.length, 2);
    });

    test("another user's id value is independent (K4)", async () => {
      const a = await signUp(f.t.app);
      const b = await signUp(f.t.app);
      f.llm.setDefault({ text: "ok" });
      const id = randomUUID();
      const ra = await chat(f.t, a, { message: "hello", client_message_id: id });
      const rb = await chat(f.t, b, { message: "hello", client_message_id: id });
      assert.equal(ra.statusCode, 200);
      assert.equal(rb.statusCode, 200);
      assert.notEqual(ra.json().conversation_id, rb.json().conversation_id);
      assert.equal(await countRows(id), 2);
    });

    test("a failed model run keeps the user message; re-sending the id runs it again (no duplicate)", async () => {
      const user = await signUp(f.t.app);
      const id = randomUUID();
      f.llm.script({ status: 500, body: { error: { message: "boom" } } });
      const failed = await chat(f.t, user, { message: "add buy milk", client_message_id: id });
      assert.equal(failed.statusCode, 502, failed.body);
      assert.equal(failed.json().code, "model_error");
      const conversationId = failed.json().conversation_id;
      assert.ok(conversationId);
      assert.deepEqual(
        (await messagesOf(f.t, user, conversationId)).items.map((m) => m.role),
        ["user"],
      );
      f.llm.setDefault({ text: "Done now." });
      const retried = await chat(f.t, user, { message: "add buy milk", client_message_id: id });
      assert.equal(retried.statusCode, 200, retried.body);
      assert.equal(retried.json().conversation_id, conversationId);
      assert.equal(retried.json().response, "Done now.");
      const items = (await messagesOf(f.t, user, conversationId)).items;
      assert.deepEqual(
        items.map((m) => [m.seq, m.role]),
        [
          [1, "user"],
          [2, "assistant"],
        ],
      );
      assert.equal(await countRows(id), 1);
    });
  });
}
