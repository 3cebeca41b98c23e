import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Chat } from "@ai-sdk/react";
import { DefaultChatTransport, type UIMessage } from "ai";
import { conversationIdForChat } from "../../src/chat/ids.ts";
import { type ChatFixture, messagesOf, signUp, startChatApp } from "../support/chat.ts";
import { availableBackends } from "../support/databases.ts";
import { type RecordedRequest, toolCallThenText } from "../support/fake-llm.ts";

// The AI SDK's own client, unmodified — `Chat` (what useChat wraps) with its
// DefaultChatTransport and default request body — against the real server over HTTP.

interface Metadata {
  conversation_id?: string;
  user_message_id?: string;
}

function textOf(message: UIMessage | undefined): string {
  return (message?.parts ?? []).map((part) => (part.type === "text" ? part.text : "")).join("");
}

for (const backend of await availableBackends()) {
  describe(`the AI SDK's Chat and DefaultChatTransport, as they are [${backend}]`, () => {
    let f: ChatFixture;
    let base: string;
    before(async () => {
      f = await startChatApp(backend);
      base = await f.t.listen();
    });
    after(() => f.close());

    function newChat(token: string, id?: string) {
      const errors: Error[] = [];
      const chat = new Chat<UIMessage<Metadata>>({
        ...(id ? { id } : {}),
        transport: new DefaultChatTransport({
          api: `${base}/api/chat`,
          headers: { authorization: `Bearer ${token}` },
        }),
        onError: (error) => errors.push(error),
      });
      return { chat, errors };
    }

    test("a conversation that adds and lists tasks; the history comes from the database", async () => {
      const user = await signUp(f.t.app, "SDK");
      // Each turn is two model requests: the tool call, then the text after its result.
      const add = toolCallThenText("add_task", { title: "Buy milk" }, "Added task 1: Buy milk.");
      const list = toolCallThenText("list_tasks", {}, "You have 1 task: Buy milk.");
      f.llm.script(add, add, list, list);
      const { chat, errors } = newChat(user.token);
      await chat.sendMessage({ text: "add buy milk" });
      assert.deepEqual(errors, []);
      assert.equal(chat.status, "ready");
      const reply = chat.messages.at(-1);
      assert.equal(reply?.role, "assistant");
      assert.equal(textOf(reply), "Added task 1: Buy milk.");
      assert.ok(
        reply?.parts.some((p) => p.type === "tool-add_task"),
        "the tool call is a part of the client's message",
      );
      const conversationId = reply?.metadata?.conversation_id;
      assert.equal(conversationId, conversationIdForChat(chat.id));

      await chat.sendMessage({ text: "what's pending?" });
      assert.deepEqual(errors, []);
      assert.equal(textOf(chat.messages.at(-1)), "You have 1 task: Buy milk.");
      assert.equal(chat.messages.at(-1)?.metadata?.conversation_id, conversationId);

      // The model saw the stored history (both user messages, the first reply).
      const seen = f.llm.requests.at(-1) as RecordedRequest;
      const roles = seen.body.messages.map((m) => m.role);
      assert.deepEqual(roles.filter((r) => r === "user").length, 2);

      // The stored reply ids are the ids the client's messages got from `start`.
      const stored = await messagesOf(f.t, user, conversationId as string);
      const storedReplies = stored.items.filter((m) => m.role === "assistant").map((m) => m.id);
      const clientReplies = chat.messages.filter((m) => m.role === "assistant").map((m) => m.id);
      assert.deepEqual(clientReplies, storedReplies);
      const tasks = await f.t.app.inject({ url: "/api/tasks", headers: user.headers });
      assert.deepEqual(
        (tasks.json() as { items: { title: string }[] }).items.map((t) => t.title),
        ["Buy milk"],
      );
    });

    test("the message id is the idempotency key: the same message sent twice is one turn", async () => {
      const user = await signUp(f.t.app, "SDK retry");
      const add = toolCallThenText("add_task", { title: "Once" }, "Added.");
      f.llm.script(add, add);
      const body = {
        id: "chat-retry-1",
        messages: [{ id: "msg-1", role: "user", parts: [{ type: "text", text: "add once" }] }],
        trigger: "submit-message",
      };
      const send = () =>
        fetch(`${base}/api/chat`, {
          method: "POST",
          headers: { ...user.headers, "content-type": "application/json" },
          body: JSON.stringify(body),
        });
      const first = await send();
      assert.equal(first.status, 200);
      assert.match(first.headers.get("content-type") ?? "", /text\/event-stream/);
      await first.text();
      const second = await send();
      assert.equal(second.status, 200);
      const replayed = await second.text();
      assert.match(replayed, /"replayed":true/);
      const tasks = await f.t.app.inject({ url: "/api/tasks", headers: user.headers });
      assert.equal((tasks.json() as { items: unknown[] }).items.length, 1);
    });

    test("someone else's chat id is 404, and the client's onError fires once", async () => {
      const owner = await signUp(f.t.app, "Owner");
      const other = await signUp(f.t.app, "Other");
      f.llm.script({ text: "hello" });
      const mine = newChat(owner.token, "shared-looking-id");
      await mine.chat.sendMessage({ text: "hi" });
      assert.deepEqual(mine.errors, []);

      const theirs = newChat(other.token, "shared-looking-id");
      await theirs.chat.sendMessage({ text: "let me in" });
      assert.equal(theirs.errors.length, 1);
      assert.equal(theirs.chat.status, "error");
      assert.match(theirs.errors[0]?.message ?? "", /not_found|not found/i);
      const ownerMessages = await messagesOf(
        f.t,
        owner,
        conversationIdForChat("shared-looking-id"),
      );
      assert.equal(ownerMessages.items.length, 2, "nothing was added to the owner's chat");
    });

    test("a model failure: exactly one error part, one onError call", async () => {
      const user = await signUp(f.t.app, "SDK error");
      f.llm.script({ status: 400, body: { error: { message: "bad things" } } });
      const { chat, errors } = newChat(user.token);
      await chat.sendMessage({ text: "this fails" });
      assert.equal(errors.length, 1, `onError calls: ${errors.map((e) => e.message).join(" | ")}`);
      assert.equal(chat.status, "error");

      // On the wire too: one `error` part (the problem itself follows as `data-error`).
      f.llm.script({ status: 400, body: { error: { message: "bad again" } } });
      const res = await fetch(`${base}/api/chat`, {
        method: "POST",
        headers: { ...user.headers, "content-type": "application/json" },
        body: JSON.stringify({
          id: "wire-error",
          messages: [{ id: "m1", role: "user", parts: [{ type: "text", text: "fail" }] }],
          trigger: "submit-message",
        }),
      });
      const frames = (await res.text()).split("\n\n").filter((x) => x.startsWith("data: {"));
      const types = frames.map((x) => (JSON.parse(x.slice(6)) as { type: string }).type);
      assert.equal(types.filter((type) => type === "error").length, 1, types.join(","));
      assert.ok(types.includes("data-error"));
    });

    test("a regenerate of an unknown chat is a 404; a non-user last message is a clear 400", async () => {
      const user = await signUp(f.t.app, "SDK bad");
      const post = (body: Record<string, unknown>) =>
        f.t.app.inject({
          method: "POST",
          url: "/api/chat",
          headers: user.headers,
          payload: body as object,
        });
      const regen = await post({
        id: "c1",
        messages: [{ id: "m1", role: "user", parts: [{ type: "text", text: "x" }] }],
        trigger: "regenerate-message",
        messageId: "m2",
      });
      // regenerate-message is Regenerate (test/chat/regenerate.test.ts): this chat is not there.
      assert.equal(regen.statusCode, 404);
      assert.equal(regen.json().code, "not_found");
      const assistantLast = await post({
        id: "c1",
        messages: [{ id: "m1", role: "assistant", parts: [{ type: "text", text: "x" }] }],
        trigger: "submit-message",
      });
      assert.equal(assistantLast.statusCode, 400);
      const empty = await post({
        id: "c1",
        messages: [{ id: "m1", role: "user", parts: [{ type: "file", url: "x" }] }],
        trigger: "submit-message",
      });
      assert.equal(empty.statusCode, 400);
      assert.match(empty.json().detail, /must not be empty/);
      const resume = await f.t.app.inject({ url: "/api/chat/c1/stream", headers: user.headers });
      assert.equal(resume.statusCode, 204);
    });
  });
}
