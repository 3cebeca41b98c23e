/**
 * The offline model through the real AI SDK: the adapter contract, the multi-step loop,
 * tool errors in every output shape, follow-ups, determinism and streaming.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { LanguageModelV4ToolResultOutput } from "@ai-sdk/provider";
import { generateText, stepCountIs, streamText, tool } from "ai";
import { z } from "zod";
import { createOfflineModel } from "../../src/llm/offline/index.ts";
import { converse, makeTools, seed, session } from "./offline-harness.test.ts";

const MEETING = [{ title: "Buy groceries" }, { title: "Team meeting prep" }, { title: "Call mom" }];

test("model identifies itself as the tasktalk offline v4 model", () => {
  const model = createOfflineModel();
  assert.equal(model.specificationVersion, "v4");
  assert.equal(model.provider, "tasktalk");
  assert.equal(model.modelId, "offline");
});

test("word reference: list first, then act on the match, then confirm (generateText)", async () => {
  const rows = seed(MEETING);
  const calls: Array<{ name: string; input: unknown }> = [];
  const result = await generateText({
    model: createOfflineModel(),
    prompt: "delete the meeting task",
    tools: makeTools(rows, calls),
    stopWhen: stepCountIs(5),
  });
  assert.deepEqual(calls, [
    // It reads the list a page (of 100) at a time.
    { name: "list_tasks", input: { status: "all", limit: 100 } },
    { name: "delete_task", input: { task_id: 2 } },
  ]);
  assert.equal(result.steps.length, 3);
  assert.equal(result.text, "Deleted task 2 · Team meeting prep.");
  assert.deepEqual(
    rows.map((r) => r.id),
    [1, 3],
  );
});

test("streams text in several chunks, with text-start/delta/end and a finish with usage", async () => {
  const result = streamText({ model: createOfflineModel(), prompt: "What can you do?" });
  const types: string[] = [];
  let deltas = 0;
  for await (const part of result.fullStream) {
    types.push(part.type);
    if (part.type === "text-delta") deltas++;
  }
  assert.ok(deltas > 5, `expected several text chunks, got ${deltas}`);
  assert.ok(types.includes("text-start") && types.includes("text-end") && types.includes("finish"));
  const usage = await result.usage;
  assert.ok((usage.outputTokens ?? 0) > 0 && (usage.inputTokens ?? 0) > 0);
  assert.match(await result.text, /add.*list.*complete.*update.*delete/is);
});

test("several numbers become one step of calls, held for a yes (issue 13), then run", async () => {
  const o = await converse(MEETING, "mark tasks 1 and 3 as done");
  assert.deepEqual(
    o.calls.map((c) => c.name),
    ["hold_for_confirmation", "confirm_pending_action"],
  );
  assert.deepEqual((o.calls[0]?.input as { calls?: unknown[] } | undefined)?.calls, [
    { name: "complete_task", input: { task_id: 1 } },
    { name: "complete_task", input: { task_id: 3 } },
  ]);
  assert.match(
    o.asked ?? "",
    /^Mark these 2 tasks as done: task 1 · Buy groceries, task 3 · Call mom\?/u,
  );
  assert.match(o.text, /Marked as complete: task 1 · Buy groceries, task 3 · Call mom\./u);
});

test("a tool that returns not_found is reported kindly and nothing else happens", async () => {
  const o = await converse(MEETING, "delete task 42");
  assert.equal(o.text.startsWith("I couldn't find task 42"), true, o.text);
  assert.equal(o.calls.length, 1);
});

test("a tool that throws comes back as error-text and is reported", async () => {
  const result = streamText({
    model: createOfflineModel(),
    prompt: "complete task 1",
    tools: {
      complete_task: tool({
        inputSchema: z.object({ task_id: z.number() }),
        execute: async (): Promise<{ task_id: number }> => {
          throw new Error("database is read-only");
        },
      }),
    },
    stopWhen: stepCountIs(5),
  });
  assert.match(await result.text, /Sorry, I couldn't mark as complete that task: .*read-only/);
});

test("decodes every tool-result output shape the prompt may carry", async () => {
  const model = createOfflineModel();
  const ask = async (output: LanguageModelV4ToolResultOutput) => {
    const r = await model.doGenerate({
      prompt: [
        { role: "user", content: [{ type: "text", text: "complete task 7" }] },
        {
          role: "assistant",
          content: [
            {
              type: "tool-call",
              toolCallId: "c1",
              toolName: "complete_task",
              input: { task_id: 7 },
            },
          ],
        },
        {
          role: "tool",
          content: [{ type: "tool-result", toolCallId: "c1", toolName: "complete_task", output }],
        },
      ],
      tools: [{ type: "function", name: "complete_task", inputSchema: { type: "object" } }],
    });
    const first = r.content[0];
    return first?.type === "text" ? first.text : "";
  };
  const ok = { task_id: 7, status: "completed", title: "Water plants" };
  const missing = { error: { code: "not_found", message: "no task 7" } };
  assert.match(await ask({ type: "json", value: ok }), /Marked task 7 · Water plants as complete/);
  assert.match(await ask({ type: "text", value: JSON.stringify(ok) }), /task 7 · Water plants/);
  assert.match(
    await ask({ type: "content", value: [{ type: "text", text: JSON.stringify(ok) }] }),
    /Water plants/,
  );
  assert.match(await ask({ type: "json", value: missing }), /couldn't find task 7/);
  assert.match(await ask({ type: "error-json", value: missing }), /couldn't find task 7/);
  assert.match(await ask({ type: "error-text", value: "boom" }), /Sorry, .*boom/);
  assert.match(
    await ask({ type: "execution-denied", reason: "not allowed" }),
    /Sorry, .*not allowed/,
  );
});

test("same prompt, same answer: the model is deterministic", async () => {
  const model = createOfflineModel();
  const options = {
    prompt: [
      {
        role: "user" as const,
        content: [{ type: "text" as const, text: "remind me to call Ana" }],
      },
    ],
    tools: [
      { type: "function" as const, name: "add_task", inputSchema: { type: "object" as const } },
    ],
  };
  assert.deepEqual(await model.doGenerate(options), await model.doGenerate(options));
});

test("without tools (or with toolChoice none) it answers in text and calls nothing", async () => {
  const model = createOfflineModel();
  const prompt = [
    { role: "user" as const, content: [{ type: "text" as const, text: "delete task 2" }] },
  ];
  const plain = await model.doGenerate({ prompt });
  assert.equal(plain.content[0]?.type, "text");
  const none = await model.doGenerate({
    prompt,
    toolChoice: { type: "none" },
    tools: [{ type: "function", name: "delete_task", inputSchema: { type: "object" } }],
  });
  assert.equal(none.content[0]?.type, "text");
});

test("follow-up: 'which one?' answered by number, by position and by words", async () => {
  const tasks = [
    { title: "Write the quarterly report" },
    { title: "Send the report to Ana" },
    { title: "Buy milk" },
  ];
  for (const answer of ["task 2", "the second one", "the one for Ana", "2"]) {
    const chat = session(tasks);
    const first = await chat.say("Delete the report task");
    assert.match(first.text, /which/i);
    const second = await chat.say(answer);
    assert.deepEqual(
      chat.rows.map((r) => r.title),
      ["Write the quarterly report", "Buy milk"],
      `${answer}: ${second.text}`,
    );
  }
});

test("follow-up: 'add a task' then the title", async () => {
  const chat = session([]);
  assert.match((await chat.say("add a task")).text, /what/i);
  const o = await chat.say("Call the bank");
  assert.equal(chat.rows[0]?.title, "Call the bank", o.text);
});

test("a new request after a finished one is not mistaken for a follow-up", async () => {
  const chat = session(MEETING);
  await chat.say("complete task 1");
  const o = await chat.say("what's pending?");
  assert.match(o.text, /Team meeting prep/);
  assert.doesNotMatch(o.text, /Buy groceries/);
});

test("tool call ids stay unique across the steps of a conversation", async () => {
  const chat = session(MEETING);
  const a = await chat.say("delete the meeting task");
  const b = await chat.say("finish the groceries");
  const ids = [...a.messages, ...b.messages].flatMap((m) =>
    Array.isArray(m.content)
      ? m.content.flatMap((p) => (p.type === "tool-call" ? [p.toolCallId] : []))
      : [],
  );
  assert.equal(new Set(ids).size, ids.length);
  assert.equal(ids.length, 4);
});
