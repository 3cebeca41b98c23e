import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { type ChatFixture, messagesOf, signUp, startChatApp } from "../support/chat.ts";
import { availableBackends } from "../support/databases.ts";
import { toolCallThenText } from "../support/fake-llm.ts";

interface Chunk {
  type: string;
  delta?: string;
  data?: Record<string, unknown>;
  errorText?: string;
}

/** Reads an SSE body into UI message chunks (the AI SDK UI message stream protocol). */
function parseSse(body: string): { chunks: Chunk[]; done: boolean } {
  const frames = body.split("\n\n").filter((f) => f.startsWith("data: "));
  const data = frames.map((f) => f.slice(6));
  return {
    chunks: data.filter((d) => d !== "[DONE]").map((d) => JSON.parse(d) as Chunk),
    done: data.at(-1) === "[DONE]",
  };
}

for (const backend of await availableBackends()) {
  describe(`streamed turns [${backend}]`, () => {
    let f: ChatFixture;
    let base: string;
    before(async () => {
      f = await startChatApp(backend);
      base = await f.t.listen();
    });
    after(() => f.close());

    const post = (token: string, body: unknown, signal?: AbortSignal) =>
      fetch(`${base}/api/chat`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": "application/json",
          accept: "text/event-stream",
        },
        body: JSON.stringify(body),
        ...(signal ? { signal } : {}),
      });

    test("a streamed turn: UI message chunks, tool parts, stored ids before finish, [DONE]", async () => {
      const user = await signUp(f.t.app);
      f.llm.setDefault(
        toolCallThenText("add_task", { title: "Buy groceries" }, "Added task 1 · Buy groceries."),
      );
      const res = await post(user.token, { message: "Add a task to buy groceries" });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "text/event-stream");
      assert.equal(res.headers.get("x-vercel-ai-ui-message-stream"), "v1");
      const { chunks, done } = parseSse(await res.text());
      assert.ok(done);
      const types = chunks.map((c) => c.type);
      assert.equal(types[0], "start");
      assert.ok(types.includes("tool-input-available"));
      assert.ok(types.includes("tool-output-available"));
      assert.ok(types.filter((t) => t === "text-delta").length > 1, "text arrives in pieces");
      assert.deepEqual(types.slice(-2), ["data-turn", "finish"]);
      const text = chunks
        .filter((c) => c.type === "text-delta")
        .map((c) => c.delta)
        .join("");
      assert.equal(text, "Added task 1 · Buy groceries.");
      const turn = chunks.at(-2)?.data as {
        conversation_id: string;
        message_id: string;
        response: string;
      };
      assert.equal(turn.response, text);
      const stored = await messagesOf(f.t, user, turn.conversation_id);
      assert.equal(stored.items.at(-1)?.id, turn.message_id);
      assert.equal(stored.items.at(-1)?.content, text);
    });

    test("the client aborts mid-stream → the reply is still generated and stored complete (T1)", async () => {
      const user = await signUp(f.t.app);
      const full = "This is a long answer that keeps coming for a while, chunk after chunk.";
      f.llm.setPace(25);
      f.llm.setDefault({ text: full, chunkSize: 3 });
      const controller = new AbortController();
      const res = await post(user.token, { message: "tell me something long" }, controller.signal);
      const reader = res.body?.getReader();
      const first = await reader?.read();
      const start = new TextDecoder().decode(first?.value);
      const conversationId = /"conversation_id":"([0-9a-f-]{36})"/.exec(start)?.[1];
      assert.ok(conversationId, start);
      controller.abort();
      // Generation goes on without the client: wait for the stored reply.
      let items: Awaited<ReturnType<typeof messagesOf>>["items"] = [];
      for (let i = 0; i < 100 && items.length < 2; i++) {
        await sleep(50);
        items = (await messagesOf(f.t, user, conversationId)).items;
      }
      f.llm.setPace(0);
      assert.equal(items.length, 2);
      assert.equal(items[1]?.content, full);
      assert.equal(items[1]?.status, "complete");
    });

    test("the model drops mid-stream → SSE error event, the partial reply stored with status error (T2)", async () => {
      const user = await signUp(f.t.app);
      f.llm.script({ dropAfter: "Partial answer before the" });
      const res = await post(user.token, { message: "go" });
      assert.equal(res.status, 200);
      const { chunks, done } = parseSse(await res.text());
      assert.ok(done);
      const error = chunks.find((c) => c.type === "error");
      assert.ok(error?.errorText);
      const turn = chunks.find((c) => c.type === "data-turn")?.data as {
        conversation_id: string;
        status: string;
      };
      assert.equal(turn.status, "error");
      const items = (await messagesOf(f.t, user, turn.conversation_id)).items;
      assert.equal(items[1]?.status, "error");
      assert.equal(items[1]?.content, "Partial answer before the");
    });

    test("a replayed send streams the stored turn without running the model", async () => {
      const user = await signUp(f.t.app);
      f.llm.setDefault({ text: "Stored once." });
      const id = crypto.randomUUID();
      await (await post(user.token, { message: "hello", client_message_id: id })).text();
      const before = f.llm.requests.length;
      const again = parseSse(
        await (await post(user.token, { message: "hello", client_message_id: id })).text(),
      );
      assert.equal(f.llm.requests.length, before);
      assert.equal(
        again.chunks
          .filter((c) => c.type === "text-delta")
          .map((c) => c.delta)
          .join(""),
        "Stored once.",
      );
      assert.equal(again.chunks.at(-1)?.type, "finish");
    });

    test("errors before the stream starts are plain problem responses (404, 400)", async () => {
      const user = await signUp(f.t.app);
      const res = await post(user.token, {
        message: "hi",
        conversation_id: "00000000-0000-4000-8000-000000000000",
      });
      assert.equal(res.status, 404);
      assert.equal(res.headers.get("content-type"), "application/problem+json; charset=utf-8");
      const bad = await post(user.token, { message: "" });
      assert.equal(bad.status, 400);
    });
  });
}
