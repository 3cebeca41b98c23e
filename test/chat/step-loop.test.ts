import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import {
  experimental_streamTextLowMemory,
  extractReasoningMiddleware,
  jsonSchema,
  type LanguageModel,
  type ModelMessage,
  stepCountIs,
  type TextStreamPart,
  type ToolSet,
  tool,
  toUIMessageStream,
  type UIMessageChunk,
  wrapLanguageModel,
} from "ai";
import { runSteps } from "../../src/chat/step-loop.ts";
import { type FakeLlm, type StepSource, startFakeLlm } from "../support/fake-llm.ts";

// Our step loop (src/chat/step-loop.ts) against the AI SDK's streamText it replaced: the same
// scripted model answers, read both ways, must give the same stream parts, the same UI
// message stream (what an AI SDK client reads) and the same requests to the model.

type Part = TextStreamPart<ToolSet>;

let llm: FakeLlm;
before(async () => {
  llm = await startFakeLlm();
});
after(() => llm.close());

function model(): LanguageModel {
  const chat = createOpenAICompatible({
    name: "llm",
    baseURL: `${llm.url}/v1`,
    includeUsage: true,
  }).chatModel("fake-model");
  return wrapLanguageModel({
    model: chat,
    middleware: extractReasoningMiddleware({ tagName: "think" }),
  });
}

function tools(log: string[]): ToolSet {
  return {
    add_task: tool({
      description: "Add a task",
      inputSchema: jsonSchema<{ title: string }>({
        type: "object",
        properties: { title: { type: "string" } },
        required: ["title"],
      }),
      execute: async (input, { toolCallId }) => {
        log.push(`${toolCallId}:${input.title}`);
        return { task_id: 7, title: input.title, due: new Date(0), gone: undefined };
      },
    }),
    list_tasks: tool({
      description: "List tasks",
      inputSchema: jsonSchema<Record<string, never>>({ type: "object", properties: {} }),
      execute: async () => "no tasks",
    }),
  };
}

const messages: ModelMessage[] = [
  { role: "user", content: "hello" },
  { role: "assistant", content: "Hi! What shall I do?" },
  {
    role: "assistant",
    content: [{ type: "tool-call", toolCallId: "old1", toolName: "list_tasks", input: {} }],
  },
  {
    role: "tool",
    content: [
      {
        type: "tool-result",
        toolCallId: "old1",
        toolName: "list_tasks",
        output: { type: "json", value: { tasks: [] } },
      },
    ],
  },
  { role: "user", content: "add milk please" },
];

interface Run {
  parts: Part[];
  chunks: UIMessageChunk[];
  bodies: unknown[];
  executed: string[];
}

/** Normalizes what differs by nature: timings, response metadata, error objects. */
function normal(part: Part): unknown {
  const p = { ...(part as Record<string, unknown>) };
  delete p.performance;
  delete p.response;
  delete p.request;
  delete p.warnings;
  delete p.providerMetadata;
  delete p.title;
  if (p.type === "finish-step" || p.type === "finish") {
    const usage = (p.usage ?? p.totalUsage) as Record<string, unknown> | undefined;
    p.tokens = usage ? [usage.inputTokens, usage.outputTokens, usage.totalTokens] : undefined;
    delete p.usage;
    delete p.totalUsage;
  }
  if (p.error !== undefined) {
    const e = p.error as { name?: string; statusCode?: number; lastError?: unknown } | string;
    const inner = typeof e === "object" && e.name === "AI_RetryError" ? e.lastError : e;
    p.error =
      typeof inner === "string"
        ? inner
        : `${(inner as { name?: string }).name}:${(inner as { statusCode?: number }).statusCode ?? ""}`;
  }
  delete p.reason;
  return JSON.parse(JSON.stringify(p));
}

async function readBoth(script: StepSource[], maxRetries = 2): Promise<[Run, Run]> {
  const system = "You manage the user's tasks.";
  const collect = async (produce: (emit: (p: Part) => void) => Promise<void>): Promise<Run> => {
    llm.reset();
    llm.script(...script);
    const parts: Part[] = [];
    await produce((p) => parts.push(p));
    const stream = new ReadableStream<Part>({
      start(c) {
        for (const p of parts) c.enqueue(p);
        c.close();
      },
    });
    const chunks: UIMessageChunk[] = [];
    for await (const chunk of toUIMessageStream({
      stream,
      sendFinish: false,
      generateMessageId: () => "m1",
      originalMessages: [],
      onError: (e) => (e instanceof Error ? e.name : String(e)),
    })) {
      chunks.push(chunk);
    }
    return { parts, chunks, bodies: llm.requests.map((r) => r.body), executed: [] };
  };
  const sdkLog: string[] = [];
  const sdk = await collect(async (emit) => {
    const result = experimental_streamTextLowMemory({
      model: model(),
      system,
      messages,
      tools: tools(sdkLog),
      stopWhen: stepCountIs(3),
      maxOutputTokens: 500,
      maxRetries,
      onError: () => {},
    });
    for await (const part of result.fullStream) emit(part);
  });
  sdk.executed = sdkLog;
  const ownLog: string[] = [];
  const own = await collect((emit) =>
    runSteps(
      {
        model: model(),
        system,
        messages,
        tools: tools(ownLog),
        maxSteps: 3,
        maxOutputTokens: 500,
        maxRetries,
        signal: new AbortController().signal,
      },
      emit,
    ),
  );
  own.executed = ownLog;
  return [sdk, own];
}

/**
 * In order, except tools' results: a tool's result is emitted when the tool is done, so
 * where it falls among the step's later parts is timing; they are compared by call.
 */
function ordered(items: unknown[]): unknown[] {
  const isResult = (x: unknown) =>
    /^tool-(result|error|output-)/.test((x as { type: string }).type);
  const byCall = (x: unknown) => (x as { toolCallId: string }).toolCallId;
  const renamed = JSON.parse(JSON.stringify(items).replace(/aitxt-[A-Za-z0-9-]+/g, "aitxt"));
  return [
    ...renamed.filter((x: unknown) => !isResult(x)),
    ...renamed
      .filter(isResult)
      .sort((a: unknown, b: unknown) => byCall(a).localeCompare(byCall(b))),
  ];
}

function assertSame([sdk, own]: [Run, Run]) {
  assert.deepEqual(ordered(own.parts.map(normal)), ordered(sdk.parts.map(normal)), "stream parts");
  assert.deepEqual(ordered(own.chunks), ordered(sdk.chunks), "UI message stream chunks");
  assert.deepEqual(own.bodies, sdk.bodies, "requests to the model");
  assert.deepEqual(own.executed, sdk.executed, "tools run");
}

describe("our step loop reads a model as the AI SDK's streamText did", () => {
  test("a text answer", async () => {
    const both = await readBoth([{ text: "Sure, all done here.", chunkSize: 4 }]);
    assertSame(both);
    assert.ok(both[1].parts.some((p) => p.type === "text-delta"));
  });

  test("a tool call, its result given back, then text", async () => {
    const both = await readBoth([
      { toolCalls: [{ id: "c1", name: "add_task", arguments: { title: "milk" } }] },
      { text: "Added milk." },
    ]);
    assertSame(both);
    assert.deepEqual(both[1].executed.length, 1);
    assert.equal(both[1].bodies.length, 2);
  });

  test("two calls in one step, in one chunk, and a string result", async () => {
    assertSame(
      await readBoth([
        {
          toolCalls: [
            { id: "c1", name: "add_task", arguments: { title: "a" } },
            { id: "c2", name: "list_tasks", arguments: "" },
          ],
          toolCallsInOneChunk: true,
          text: "Let me see.",
        },
        { text: "Done." },
      ]),
    );
  });

  test("invalid JSON arguments and an unknown tool come back to the model as errors", async () => {
    const both = await readBoth([
      {
        toolCalls: [
          { id: "c1", name: "add_task", arguments: "{not json" },
          { id: "c2", name: "drop_tables", arguments: { all: true } },
        ],
      },
      { text: "Sorry." },
    ]);
    assertSame(both);
    assert.equal(both[1].executed.length, 0, "nothing ran");
    assert.equal(both[1].parts.filter((p) => p.type === "tool-error").length, 2);
  });

  test("the step limit ends a model that keeps calling tools", async () => {
    const call = { toolCalls: [{ id: "c1", name: "add_task", arguments: { title: "x" } }] };
    const both = await readBoth([call, call, call, call]);
    assertSame(both);
    assert.equal(both[1].bodies.length, 3);
    assert.equal(both[1].parts.at(-1)?.type, "finish");
  });

  test("reasoning in <think> tags, and usage on the last chunk", async () => {
    assertSame(
      await readBoth([
        {
          text: "Here it is.",
          reasoning: "the user wants a thing",
          reasoningAs: "think-tags",
          usageIn: "last-chunk",
        },
      ]),
    );
  });

  test("a 429 is retried; a 400 is not; retries spent end in an error", async () => {
    assertSame(await readBoth([{ status: 429 }, { text: "after retry" }]));
    assertSame(await readBoth([{ status: 400, body: { error: { message: "bad" } } }]));
    const spent = await readBoth([{ status: 503 }, { status: 503 }, { status: 503 }], 1);
    assertSame(spent);
    assert.equal(spent[1].bodies.length, 2);
    assert.equal(spent[1].parts.at(-1)?.type, "error");
  });

  test("an abort while a tool runs lets the tool finish, then ends the loop", async () => {
    llm.reset();
    llm.script({ toolCalls: [{ id: "c1", name: "add_task", arguments: { title: "x" } }] });
    const controller = new AbortController();
    const parts: Part[] = [];
    const slow: ToolSet = {
      add_task: tool({
        description: "Add a task",
        inputSchema: jsonSchema<{ title: string }>({ type: "object" }),
        execute: async () => {
          controller.abort(new Error("output limit"));
          await new Promise((resolve) => setTimeout(resolve, 30));
          return { task_id: 1 };
        },
      }),
    };
    await runSteps(
      {
        model: model(),
        system: "s",
        messages,
        tools: slow,
        maxSteps: 3,
        maxOutputTokens: 10,
        maxRetries: 0,
        signal: controller.signal,
      },
      (p) => parts.push(p),
    );
    assert.deepEqual(parts.map((p) => p.type).slice(-3), ["tool-call", "tool-result", "abort"]);
    assert.equal(llm.requests.length, 1, "no second step");
  });

  test("an abort ends the loop with an abort part, and nothing after it", async () => {
    llm.reset();
    llm.script({ hang: true });
    const controller = new AbortController();
    const parts: Part[] = [];
    const done = runSteps(
      {
        model: model(),
        system: "s",
        messages,
        tools: tools([]),
        maxSteps: 3,
        maxOutputTokens: 10,
        maxRetries: 0,
        signal: controller.signal,
      },
      (p) => parts.push(p),
    );
    setTimeout(() => controller.abort(new Error("model silent")), 50);
    await done;
    assert.deepEqual(
      parts.map((p) => p.type),
      ["start", "abort"],
    );
  });
});
