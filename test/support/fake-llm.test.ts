import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { APICallError, generateText, RetryError, stepCountIs, streamText, tool } from "ai";
import { z } from "zod";
import { type FakeLlm, startFakeLlm, toolCallThenText } from "./fake-llm.ts";

let fake: FakeLlm;
before(async () => {
  fake = await startFakeLlm();
});
after(() => fake.close());
beforeEach(() => {
  fake.reset();
  fake.setPace(0);
});

const model = () =>
  createOpenAICompatible({
    name: "fake",
    baseURL: `${fake.url}/v1`,
    apiKey: "test-key",
    includeUsage: true,
  }).chatModel("fake");

/** Drains fullStream, returning text deltas, error parts, whether it aborted, and any thrown error. */
async function drain(result: ReturnType<typeof streamText>) {
  const deltas: string[] = [];
  const errors: unknown[] = [];
  let aborted = false;
  let thrown: unknown;
  try {
    for await (const part of result.fullStream) {
      if (part.type === "text-delta") deltas.push(part.text);
      else if (part.type === "error") errors.push(part.error);
      else if (part.type === "abort") aborted = true;
    }
  } catch (err) {
    thrown = err;
  }
  return { deltas, errors, aborted, thrown };
}

function toolSet(calls: unknown[]) {
  return {
    createTask: tool({
      description: "Create a task",
      inputSchema: z.object({ title: z.string(), priority: z.number() }),
      execute: async (input) => {
        calls.push(input);
        return { id: "task-1", ...input };
      },
    }),
  };
}

describe("fake LLM via the AI SDK (openai-compatible)", () => {
  test("streamed text arrives in multiple chunks, with usage and request recorded", async () => {
    fake.script({ text: "Hello from the streaming fake!", chunkSize: 5 });
    const result = streamText({ model: model(), prompt: "say hello" });
    const chunks: string[] = [];
    for await (const delta of result.textStream) chunks.push(delta);

    assert.equal(chunks.join(""), "Hello from the streaming fake!");
    assert.equal(chunks.length, 6);
    assert.equal(chunks[0], "Hello");
    assert.equal(await result.finishReason, "stop");
    assert.equal((await result.usage).outputTokens, Math.ceil(30 / 4));
    assert.ok(((await result.usage).inputTokens ?? 0) > 0);

    assert.equal(fake.requests.length, 1);
    const req = fake.requests[0];
    assert.ok(req);
    assert.equal(req.path, "/v1/chat/completions");
    assert.equal(req.headers.authorization, "Bearer test-key");
    assert.equal(req.body.model, "fake");
    assert.equal(req.body.stream, true);
    assert.deepEqual(req.body.stream_options, { include_usage: true });
    assert.deepEqual(req.body.messages.at(-1), { role: "user", content: "say hello" });
  });

  test("non-streaming text via generateText", async () => {
    fake.script({ text: "plain answer" });
    const result = await generateText({ model: model(), prompt: "hi" });
    assert.equal(result.text, "plain answer");
    assert.equal(result.finishReason, "stop");
    assert.equal(result.usage.outputTokens, 3);
    assert.equal(fake.requests[0]?.body.stream ?? false, false);
  });

  test("default step is 'ok', setDefault overrides it, script queue is consumed first", async () => {
    fake.script({ text: "first" });
    fake.setDefault((req) => ({ text: `echo:${req.body.messages.length}` }));
    const a = await generateText({ model: model(), prompt: "1" });
    const b = await generateText({ model: model(), system: "sys", prompt: "2" });
    assert.deepEqual([a.text, b.text], ["first", "echo:2"]);
    fake.reset();
    assert.equal((await generateText({ model: model(), prompt: "3" })).text, "ok");
  });

  for (const mode of ["stream", "generate"] as const) {
    test(`tool call executes and a second step returns text (${mode})`, async () => {
      const calls: unknown[] = [];
      const args = { title: "Buy milk and a rather long title to split", priority: 2 };
      fake.setDefault(toolCallThenText("createTask", args, "Created your task."));
      const opts = {
        model: model(),
        prompt: "add milk",
        tools: toolSet(calls),
        stopWhen: stepCountIs(3),
      };
      const result =
        mode === "stream" ? streamText(opts) : await generateText({ ...opts, maxRetries: 0 });

      assert.equal(await result.text, "Created your task.");
      assert.deepEqual(calls, [args]);
      const steps = await result.steps;
      assert.equal(steps.length, 2);
      assert.equal(steps[0]?.finishReason, "tool-calls");
      assert.equal(steps[0]?.toolCalls[0]?.toolName, "createTask");

      assert.equal(fake.requests.length, 2);
      const [first, second] = fake.requests;
      assert.equal(first?.body.tools?.[0]?.function.name, "createTask");
      const assistant = second?.body.messages.at(-2);
      const toolMsg = second?.body.messages.at(-1);
      assert.equal(assistant?.role, "assistant");
      assert.equal(toolMsg?.role, "tool");
      const callId = assistant?.tool_calls?.[0]?.id;
      assert.match(callId ?? "", /^call_/);
      assert.equal(toolMsg?.tool_call_id, callId);
      assert.deepEqual(JSON.parse(assistant?.tool_calls?.[0]?.function.arguments ?? ""), args);
      assert.match(String(toolMsg?.content), /task-1/);
    });
  }

  test("429 then success is retried by the SDK by default", async () => {
    fake.script({ status: 429 }, { text: "after retry" });
    const result = await generateText({ model: model(), prompt: "hi" });
    assert.equal(result.text, "after retry");
    assert.equal(fake.requests.length, 2);
  });

  test("429 with maxRetries: 0 surfaces as APICallError", async () => {
    fake.script({ status: 429, body: { error: { message: "slow down" } } }, { text: "unused" });
    await assert.rejects(generateText({ model: model(), prompt: "hi", maxRetries: 0 }), (err) => {
      assert.ok(APICallError.isInstance(err));
      assert.equal(err.statusCode, 429);
      assert.equal(err.isRetryable, true);
      assert.equal(err.message, "slow down");
      return true;
    });
    assert.equal(fake.requests.length, 1);
  });

  test("500 surfaces as an error (retries exhausted → RetryError; stream → error part)", async () => {
    fake.setDefault({ status: 500 });
    await assert.rejects(generateText({ model: model(), prompt: "hi" }), (err) => {
      assert.ok(RetryError.isInstance(err));
      assert.equal(err.errors.length, 3);
      const last = err.lastError;
      assert.ok(APICallError.isInstance(last) && last.statusCode === 500);
      return true;
    });
    assert.equal(fake.requests.length, 3); // 1 + default maxRetries (2)

    fake.reset();
    fake.setDefault({ status: 500 });
    const streamed = await drain(
      streamText({ model: model(), prompt: "hi", maxRetries: 0, onError: () => {} }),
    );
    assert.equal(streamed.thrown, undefined); // streamText does not throw from the stream...
    assert.equal(streamed.errors.length, 1); // ...the HTTP error becomes an `error` part
    const [err] = streamed.errors;
    assert.ok(APICallError.isInstance(err) && err.statusCode === 500);
  });

  test("hang before first byte is aborted by AbortSignal.timeout", async () => {
    fake.script({ hang: true });
    const t0 = performance.now();
    await assert.rejects(
      generateText({ model: model(), prompt: "hi", abortSignal: AbortSignal.timeout(150) }),
      { name: "TimeoutError" },
    );
    const elapsed = performance.now() - t0;
    assert.ok(elapsed >= 140 && elapsed < 1000, `elapsed ${elapsed}`);

    fake.script({ hang: true });
    const result = streamText({
      model: model(),
      prompt: "hi",
      abortSignal: AbortSignal.timeout(100),
    });
    const streamed = await drain(result);
    assert.equal(streamed.aborted, true);
    assert.deepEqual(streamed.deltas, []);
    await assert.rejects(async () => await result.text, { name: "TimeoutError" });
    assert.equal(fake.requests.length, 2);
  });

  test("dropAfter yields the partial text, then an error", async () => {
    fake.script({ dropAfter: "partial answer here" });
    const result = streamText({ model: model(), prompt: "hi", onError: () => {} });
    const streamed = await drain(result);
    assert.equal(streamed.deltas.join(""), "partial answer here");
    assert.ok(APICallError.isInstance(streamed.thrown), String(streamed.thrown));
    assert.equal((streamed.thrown.cause as Error).message, "terminated");
    await assert.rejects(async () => await result.text, APICallError);
    assert.equal(fake.requests.length, 1); // a mid-stream failure is not retried
  });

  test("non-streaming dropAfter surfaces as a retryable APICallError (socket terminated)", async () => {
    // With default retries the SDK would retry this after its 2 s backoff (no retry-after header).
    fake.script({ dropAfter: "cut" }, { text: "unused" });
    await assert.rejects(generateText({ model: model(), prompt: "hi", maxRetries: 0 }), (err) => {
      assert.ok(APICallError.isInstance(err));
      assert.equal(err.statusCode, 200);
      assert.equal(err.isRetryable, true);
      assert.equal((err.cause as Error).message, "terminated");
      return true;
    });
    assert.equal(fake.requests.length, 1);
  });

  test("endless stream is stopped by AbortSignal after some tokens", async () => {
    fake.script({ endless: true, token: "tok " });
    const controller = new AbortController();
    const result = streamText({ model: model(), prompt: "hi", abortSignal: controller.signal });
    let seen = 0;
    let aborted = false;
    for await (const part of result.fullStream) {
      if (part.type === "text-delta") {
        assert.equal(part.text, "tok ");
        if (++seen === 25) controller.abort();
      }
      if (part.type === "abort") aborted = true;
    }
    assert.ok(aborted);
    assert.ok(seen >= 25 && seen < 200, `seen ${seen}`);
    await assert.rejects(async () => await result.text, { name: "AbortError" });
  });

  test("pace slows streaming measurably", async () => {
    const timeIt = async () => {
      fake.script({ text: "x".repeat(40), chunkSize: 4 }); // 10 content chunks
      const t0 = performance.now();
      const result = streamText({ model: model(), prompt: "hi" });
      assert.equal(await result.text, "x".repeat(40));
      return performance.now() - t0;
    };
    const fast = await timeIt();
    fake.setPace(25);
    const slow = await timeIt();
    // ≥ 10 content chunks + finish + usage + [DONE], each preceded by a 25 ms pause.
    assert.ok(slow >= 250, `slow ${slow}`);
    assert.ok(slow - fast >= 200, `fast ${fast} slow ${slow}`);
  });
});

describe("fake LLM wire format (raw fetch)", () => {
  async function sse(body: object) {
    const res = await fetch(`${fake.url}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "x" }], ...body }),
    });
    assert.equal(res.headers.get("content-type"), "text/event-stream");
    const lines = (await res.text()).split("\n\n").filter(Boolean);
    assert.equal(lines.at(-1), "data: [DONE]");
    return lines.slice(0, -1).map((l) => JSON.parse(l.replace(/^data: /, "")));
  }

  test("streamed tool calls follow the OpenAI chunk format", async () => {
    fake.script({
      toolCalls: [
        { name: "a", arguments: { q: "some longer argument value" }, id: "call_x" },
        { name: "b", arguments: "{}" },
      ],
    });
    const chunks = await sse({ stream: true, stream_options: { include_usage: true } });
    assert.ok(chunks.every((c) => c.object === "chat.completion.chunk"));
    const deltas = chunks.flatMap((c) =>
      c.choices.flatMap((ch: { delta: { tool_calls?: [] } }) => ch.delta.tool_calls ?? []),
    );
    assert.deepEqual(deltas[0], {
      index: 0,
      id: "call_x",
      type: "function",
      function: { name: "a", arguments: "" },
    });
    const argsA = deltas.filter((d) => d.index === 0).map((d) => d.function.arguments);
    assert.ok(argsA.length > 2, "arguments split across chunks");
    assert.equal(argsA.join(""), JSON.stringify({ q: "some longer argument value" }));
    assert.equal(deltas.find((d) => d.index === 1)?.function.name, "b");
    assert.equal(chunks.at(-2)?.choices[0].finish_reason, "tool_calls");
    assert.deepEqual(chunks.at(-1)?.choices, []);
    assert.ok(chunks.at(-1)?.usage.completion_tokens > 0);
  });

  test("close() resolves promptly even with a hanging request open", async () => {
    const other = await startFakeLlm();
    other.script({ hang: true });
    const pending = fetch(`${other.url}/v1/chat/completions`, {
      method: "POST",
      body: JSON.stringify({ messages: [] }),
    }).catch((err: unknown) => err);
    while (other.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    const t0 = performance.now();
    await other.close();
    assert.ok(performance.now() - t0 < 500);
    assert.ok((await pending) instanceof Error);
  });

  test("unknown routes get 404, bad JSON gets 400, neither is recorded", async () => {
    const notFound = await fetch(`${fake.url}/v1/embeddings`, { method: "POST", body: "{}" });
    assert.equal(notFound.status, 404);
    await notFound.body?.cancel();
    const bad = await fetch(`${fake.url}/v1/chat/completions`, { method: "POST", body: "{" });
    assert.equal(bad.status, 400);
    await bad.body?.cancel();
    assert.equal(fake.requests.length, 0);
  });
});
