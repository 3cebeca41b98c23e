import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { startTestApp, type TestApp } from "../support/app.ts";
import { type ChatFixture, chat, messagesOf, signUp, startChatApp } from "../support/chat.ts";
import { availableBackends } from "../support/databases.ts";
import { toolCallThenText } from "../support/fake-llm.ts";

// Issue 19 items 3 and 4: every reply's context manifest, and Regenerate.

for (const backend of await availableBackends()) {
  describe(`context manifest and regenerate [${backend}]`, () => {
    let f: ChatFixture;
    before(async () => {
      f = await startChatApp(backend);
    });
    after(() => f.close());

    const regenerate = (user: { headers: Record<string, string> }, id: string, body = {}) =>
      f.t.app.inject({
        method: "POST",
        url: `/api/conversations/${id}/regenerate`,
        headers: user.headers,
        payload: body,
      });
    const contextOf = (user: { headers: Record<string, string> }, id: string, messageId: string) =>
      f.t.app.inject({
        url: `/api/conversations/${id}/messages/${messageId}/context`,
        headers: user.headers,
      });

    test("a reply's context names the seqs, sizes, tools, prompt version and usage, no text", async () => {
      const user = await signUp(f.t.app);
      f.llm.setDefault({ text: "Sure thing." });
      const first = (await chat(f.t, user, { message: "hello there" })).json();
      const secret = "the-word-zanzibar";
      const second = (
        await chat(f.t, user, {
          message: `remember ${secret}`,
          conversation_id: first.conversation_id,
        })
      ).json();
      const res = await contextOf(user, first.conversation_id, second.message_id);
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json();
      assert.equal(body.seq, 4);
      const c = body.context;
      assert.deepEqual(c.window.seqs, [[1, 3]]);
      assert.deepEqual(
        c.parts.map((p: { seq: number; role: string }) => [p.seq, p.role]),
        [
          [1, "user"],
          [2, "assistant"],
          [3, "user"],
        ],
      );
      // A part's characters: its text and its tool calls as JSON ("[]" when none).
      assert.equal(c.parts[2].chars, `remember ${secret}`.length + 2);
      assert.equal(c.parts[2].tokens_estimate, Math.ceil(c.parts[2].chars / 4));
      assert.ok(c.tools.names.includes("add_task"), c.tools.names.join());
      assert.equal(c.tools.count, c.tools.names.length);
      assert.match(c.system_prompt.version, /^\d{4}-\d\d-\d\d\.\d+$/);
      assert.ok(c.system_prompt.chars > 500);
      assert.equal(c.model, "fake-model");
      assert.equal(typeof c.usage.input_tokens, "number");
      assert.equal(c.token_estimate, "characters / 4");
      assert.ok(!res.body.includes(secret), "ids and sizes, not the text");
      assert.ok(res.body.length < 8000, `bounded: ${res.body.length} bytes`);
      // A user message has none; another user's conversation is a 404.
      const userMsg = await contextOf(user, first.conversation_id, second.user_message_id);
      assert.equal(userMsg.json().context, null);
      const other = await signUp(f.t.app, "Other");
      assert.equal(
        (await contextOf(other, first.conversation_id, second.message_id)).statusCode,
        404,
      );
      assert.equal((await contextOf(user, first.conversation_id, randomUUID())).statusCode, 404);
    });

    test("regenerate keeps the old reply, tells the model what it did, and does not redo it", async () => {
      const user = await signUp(f.t.app);
      f.llm.setDefault(
        toolCallThenText("add_task", { title: "Buy milk" }, "Added task 1 · Buy milk."),
      );
      const turn = (await chat(f.t, user, { message: "add buy milk" })).json();
      const id = turn.conversation_id;
      f.llm.setDefault({ text: "Task 1 'Buy milk' is on your list." });
      const sentBefore = f.llm.requests.length;
      const res = await regenerate(user, id, { message_id: turn.message_id });
      assert.equal(res.statusCode, 200, res.body);
      const regen = res.json();
      assert.notEqual(regen.message_id, turn.message_id);
      assert.equal(regen.replaced_message_id, turn.message_id);
      assert.equal(regen.response, "Task 1 'Buy milk' is on your list.");
      assert.equal(regen.previous_effects.length, 1);
      assert.match(regen.previous_effects[0].summary, /Buy milk/);
      // The model was told, in the system prompt, and shown the turn's tool call.
      const sent = f.llm.requests.at(-1)?.body;
      const system = sent?.messages.find((m) => m.role === "system");
      assert.match(JSON.stringify(system), /already made these changes[^"]*Buy milk/);
      assert.ok(sent?.messages.some((m) => m.role === "tool"));
      assert.equal(f.llm.requests.length - sentBefore, 1, "one model call");
      const tasks = (await f.t.app.inject({ url: "/api/tasks", headers: user.headers })).json();
      assert.equal(tasks.items.length, 1, "the task was not added again");

      // The old reply is kept: out of the default list, in ?include=replaced.
      const current = await messagesOf(f.t, user, id);
      assert.deepEqual(
        current.items.map((m) => m.seq),
        [1, 3],
      );
      const all = await messagesOf(f.t, user, id, "include=replaced");
      const old = all.items.find((m) => m.id === turn.message_id) as unknown as {
        seq: number;
        replaced_by: string;
        content: string;
      };
      assert.equal(old.seq, 2);
      assert.equal(old.replaced_by, regen.message_id);
      assert.equal(old.content, "Added task 1 · Buy milk.");

      // Idempotent: the same request again answers with the same reply, no generation.
      const before2 = f.llm.requests.length;
      const again = await regenerate(user, id, { message_id: turn.message_id });
      assert.equal(again.statusCode, 200, again.body);
      assert.equal(again.json().message_id, regen.message_id);
      assert.equal(f.llm.requests.length, before2);
      assert.equal((await messagesOf(f.t, user, id, "include=replaced")).items.length, 3);

      // The manifest of the new reply records the note and the earlier tool call.
      const ctx = (await contextOf(user, id, regen.message_id)).json().context;
      assert.ok(ctx.note.chars > 0);
      assert.equal(ctx.earlier_tool_calls.count, 1);

      // The next turn's window skips the replaced reply.
      f.llm.setDefault({ text: "ok" });
      await chat(f.t, user, { message: "thanks", conversation_id: id });
      const window = JSON.stringify(f.llm.requests.at(-1)?.body.messages);
      assert.ok(!window.includes("Added task 1 · Buy milk."), window);
      assert.ok(window.includes("is on your list"));
    });

    test("two concurrent regenerates of the same reply: one generation, the same answer", async () => {
      const user = await signUp(f.t.app);
      f.llm.setDefault({ text: "First." });
      const turn = (await chat(f.t, user, { message: "hello" })).json();
      f.llm.setPace(20);
      f.llm.setDefault({ text: "A slower second answer, word by word." });
      const before = f.llm.requests.length;
      const [a, b] = await Promise.all([
        regenerate(user, turn.conversation_id, { message_id: turn.message_id }),
        regenerate(user, turn.conversation_id, { message_id: turn.message_id }),
      ]);
      f.llm.setPace(0);
      assert.equal(a.statusCode, 200, a.body);
      assert.equal(b.statusCode, 200, b.body);
      assert.equal(a.json().message_id, b.json().message_id);
      assert.equal(f.llm.requests.length - before, 1, "generated once");
      const all = await messagesOf(f.t, user, turn.conversation_id, "include=replaced");
      assert.deepEqual(
        all.items.map((m) => m.seq),
        [1, 2, 3],
      );
    });

    test("only the last reply; another user's conversation is a 404; a message id that is not a reply is a 404", async () => {
      const user = await signUp(f.t.app);
      f.llm.setDefault({ text: "Hi." });
      const one = (await chat(f.t, user, { message: "one" })).json();
      await chat(f.t, user, { message: "two", conversation_id: one.conversation_id });
      const stale = await regenerate(user, one.conversation_id, { message_id: one.message_id });
      assert.equal(stale.statusCode, 409);
      assert.equal(stale.json().code, "conflict");
      const other = await signUp(f.t.app, "Other");
      assert.equal((await regenerate(other, one.conversation_id)).statusCode, 404);
      const notReply = await regenerate(user, one.conversation_id, {
        message_id: one.user_message_id,
      });
      assert.equal(notReply.statusCode, 404);
      // Without message_id: the last reply.
      const last = await regenerate(user, one.conversation_id);
      assert.equal(last.statusCode, 200, last.body);
    });

    test("the AI SDK's regenerate trigger regenerates, streamed with the new reply's id", async () => {
      const user = await signUp(f.t.app, "SDK");
      f.llm.setDefault({ text: "First answer." });
      const chatId = `chat-${randomUUID()}`;
      const messages = [{ id: "u1", role: "user", parts: [{ type: "text", text: "hi" }] }];
      const send = (body: Record<string, unknown>) =>
        f.t.app.inject({ method: "POST", url: "/api/chat", headers: user.headers, payload: body });
      const first = await send({ id: chatId, messages, trigger: "submit-message" });
      const start = first.body.split("\n\n").find((x) => x.includes('"type":"start"')) ?? "";
      const replyId = (JSON.parse(start.slice(6)) as { messageId: string }).messageId;
      f.llm.setDefault({ text: "Second answer." });
      const res = await send({
        id: chatId,
        messages,
        trigger: "regenerate-message",
        messageId: replyId,
      });
      assert.equal(res.statusCode, 200);
      assert.match(res.body, /Second answer\./);
      assert.match(res.body, /"type":"data-regenerated"/);
      assert.ok(res.body.includes(`"replaced_message_id":"${replyId}"`));
    });
  });

  describe(`regenerate with the offline assistant [${backend}]`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(backend);
    });
    after(() => t.close());

    test("the offline assistant confirms the task added before instead of adding it again", async () => {
      const user = await signUp(t.app);
      const turn = (await chat(t, user, { message: "add buy oat milk" })).json();
      assert.equal(turn.tool_calls[0]?.name, "add_task");
      const res = await t.app.inject({
        method: "POST",
        url: `/api/conversations/${turn.conversation_id}/regenerate`,
        headers: user.headers,
        payload: { message_id: turn.message_id },
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.match(res.json().response, /oat milk/i);
      const tasks = (await t.app.inject({ url: "/api/tasks", headers: user.headers })).json();
      assert.equal(tasks.items.length, 1, JSON.stringify(tasks.items));
    });
  });
}
