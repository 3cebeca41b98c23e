/**
 * A fake OpenAI-compatible Chat Completions server for tests and benchmarks.
 * Real HTTP on 127.0.0.1 (random port), JSON and SSE responses, OpenAI-format tool calls,
 * error statuses, hanging/dropping/endless streams. Each request consumes one scripted step.
 *
 * Standalone: `node test/support/fake-llm.ts --port 8787 --pace 0`
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";

export interface FakeToolCall {
  name: string;
  arguments: Record<string, unknown> | string; // a string is sent verbatim (may be invalid JSON)
  id?: string;
}
/**
 * How real providers deviate from OpenAI's stream, replayed on request (all optional; the
 * default is OpenAI's own format).
 */
export interface FakeQuirks {
  /** Reasoning text sent before the reply: inline in `<think>` tags, or in a separate field. */
  reasoning?: string;
  reasoningAs?: "think-tags" | "reasoning_content";
  /** Every tool call complete (id, name, whole arguments) in ONE chunk, as Ollama sends them. */
  toolCallsInOneChunk?: boolean;
  /**
   * Where usage is sent: "separate" (OpenAI: a chunk with no choices, only when
   * stream_options.include_usage), "last-chunk" (on the finish chunk, always), "none".
   */
  usageIn?: "separate" | "last-chunk" | "none";
  /** Token counts to report instead of the estimate (4 characters a token). */
  usage?: { input: number; output: number };
}
export type FakeStep =
  | ({ text: string; chunkSize?: number } & FakeQuirks)
  | ({ toolCalls: FakeToolCall[]; text?: string } & FakeQuirks)
  /** Error response. Unless overridden, sends `retry-after-ms: 0` so SDK retries don't wait 2s+. */
  | { status: number; body?: unknown; headers?: Record<string, string> }
  | { hang: true }
  | { dropAfter: string }
  | { endless: true; token?: string };
export type StepSource = FakeStep | ((req: RecordedRequest) => FakeStep);

export interface ChatMessage {
  role: string;
  content?: unknown;
  tool_calls?: { id: string; type: string; function: { name: string; arguments: string } }[];
  tool_call_id?: string;
  [key: string]: unknown;
}
export interface ChatRequestBody {
  model?: string;
  messages: ChatMessage[];
  tools?: {
    type: string;
    function: { name: string; description?: string; parameters?: unknown };
  }[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  [key: string]: unknown;
}
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: ChatRequestBody;
}
export interface FakeLlmOptions {
  /** Delay between streamed chunks in ms (default 0). */
  paceMs?: number;
  /** Port to listen on (default 0 = random). */
  port?: number;
  /** Record requests into `requests` (default true; off for long benchmark runs). */
  record?: boolean;
}
export interface FakeLlm {
  url: string;
  requests: RecordedRequest[];
  script(...steps: StepSource[]): void;
  setDefault(step: StepSource): void;
  setPace(ms: number): void;
  reset(): void;
  close(): Promise<void>;
}

const DEFAULT_STEP: FakeStep = { text: "ok" };

/** Emits a tool call unless the last message is a tool result, in which case replies `finalText`. */
export function toolCallThenText(
  name: string,
  args: Record<string, unknown>,
  finalText: string,
): (req: RecordedRequest) => FakeStep {
  return (req) =>
    req.body.messages.at(-1)?.role === "tool"
      ? { text: finalText }
      : { toolCalls: [{ name, arguments: args }] };
}

/** Text content of the last user message (string or text parts), handy in function steps. */
export function lastUserText(req: RecordedRequest): string {
  const msg = req.body.messages.findLast((m) => m.role === "user");
  if (typeof msg?.content === "string") return msg.content;
  if (!Array.isArray(msg?.content)) return "";
  return msg.content
    .map((p: { type?: string; text?: string }) => (p.type === "text" ? (p.text ?? "") : ""))
    .join("");
}

const tokens = (chars: number) => Math.ceil(chars / 4);
const chunksOf = (s: string, n: number) => {
  const out: string[] = [];
  for (let i = 0; i < s.length; i += Math.max(1, n)) out.push(s.slice(i, i + Math.max(1, n)));
  return out;
};

export async function startFakeLlm(options: FakeLlmOptions = {}): Promise<FakeLlm> {
  let pace = options.paceMs ?? 0;
  let queue: StepSource[] = [];
  let fallback: StepSource = DEFAULT_STEP;
  let callSeq = 0;
  const requests: RecordedRequest[] = [];

  const server = createServer(async (req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    let raw = "";
    try {
      for await (const chunk of req) raw += chunk;
    } catch {
      return void res.destroy(); // client went away mid-upload
    }
    if (req.method !== "POST" || !["/v1/chat/completions", "/chat/completions"].includes(path)) {
      return sendJson(res, 404, { error: { message: `No route ${req.method} ${path}` } });
    }
    let body: ChatRequestBody;
    try {
      body = JSON.parse(raw) as ChatRequestBody;
      if (!Array.isArray(body.messages)) throw new Error("messages must be an array");
    } catch (err) {
      return sendJson(res, 400, { error: { message: `Bad request: ${String(err)}` } });
    }
    const recorded: RecordedRequest = { method: req.method, path, headers: req.headers, body };
    if (options.record !== false) requests.push(recorded);
    const source = queue.shift() ?? fallback;
    let step: FakeStep;
    try {
      step = typeof source === "function" ? source(recorded) : source;
    } catch (err) {
      // A throwing function step is a test bug: answer 400 (not retried by the SDK).
      return sendJson(res, 400, { error: { message: `fake-llm step threw: ${String(err)}` } });
    }
    await respond(res, recorded, step).catch(() => res.destroy());
  });

  async function respond(res: ServerResponse, req: RecordedRequest, step: FakeStep) {
    if ("hang" in step) return; // never write; socket is destroyed by client abort or close()
    if ("status" in step) {
      const payload = step.body ?? {
        error: { message: `Fake error ${step.status}`, type: "fake_error", code: step.status },
      };
      const isText = typeof payload === "string";
      res.writeHead(step.status, {
        "content-type": isText ? "text/plain" : "application/json",
        "retry-after-ms": "0",
        ...step.headers,
      });
      return void res.end(isText ? payload : JSON.stringify(payload));
    }
    const id = `chatcmpl-${randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);
    const model = req.body.model ?? "fake";
    const promptTokens = tokens(JSON.stringify(req.body.messages).length);
    const text = "text" in step ? (step.text ?? "") : "dropAfter" in step ? step.dropAfter : "";
    const calls = ("toolCalls" in step ? step.toolCalls : []).map((c) => ({
      id: c.id ?? `call_${++callSeq}`,
      type: "function" as const,
      function: {
        name: c.name,
        arguments: typeof c.arguments === "string" ? c.arguments : JSON.stringify(c.arguments),
      },
    }));
    const finishReason = calls.length > 0 ? "tool_calls" : "stop";
    const outChars = text.length + calls.reduce((n, c) => n + c.function.arguments.length, 0);
    const quirks: FakeQuirks = "text" in step || "toolCalls" in step ? step : {};
    const inTokens = quirks.usage?.input ?? promptTokens;
    const outTokens = quirks.usage?.output ?? tokens(outChars);
    const usage = {
      prompt_tokens: inTokens,
      completion_tokens: outTokens,
      total_tokens: inTokens + outTokens,
    };
    let closed = false;
    res.on("close", () => {
      closed = true;
    });
    const write = async (data: string, first = false) => {
      if (closed) return false;
      if (!first && pace > 0) await sleep(pace);
      else if (!first) await new Promise((r) => setImmediate(r)); // keep the loop responsive
      if (closed) return false;
      // Wait until flushed to the OS, so a following socket.destroy() cannot discard it.
      await new Promise((r) => {
        res.once("close", r);
        res.write(data, () => {
          res.off("close", r);
          r(undefined);
        });
      });
      return !closed;
    };

    if (!req.body.stream) {
      if ("dropAfter" in step || "endless" in step) {
        // A JSON body that never completes: either cut off or growing forever.
        res.writeHead(200, { "content-type": "application/json" });
        const head = `{"id":"${id}","object":"chat.completion","created":${created},"model":${JSON.stringify(model)},"choices":[{"index":0,"message":{"role":"assistant","content":"`;
        await write(head + JSON.stringify(text).slice(1, -1), true);
        if ("dropAfter" in step) return void res.socket?.destroy();
        while (await write(step.token ?? "lorem ")) {}
        return;
      }
      const thinking = quirks.reasoning ?? "";
      const inline = thinking && quirks.reasoningAs !== "reasoning_content";
      const message = {
        role: "assistant",
        content: (inline ? `<think>${thinking}</think>${text}` : text) || null,
        ...(thinking && !inline && { reasoning_content: thinking }),
        ...(calls.length && { tool_calls: calls }),
      };
      return sendJson(res, 200, {
        id,
        object: "chat.completion",
        created,
        model,
        choices: [{ index: 0, message, finish_reason: finishReason, logprobs: null }],
        usage,
      });
    }

    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
    });
    const base = { id, object: "chat.completion.chunk", created, model };
    const chunk = (delta: object, finish: string | null = null) =>
      `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    if (!(await write(chunk({ role: "assistant", content: "" }), true))) return;
    if ("endless" in step) {
      while (await write(chunk({ content: step.token ?? "lorem " }))) {}
      return;
    }
    const size = "chunkSize" in step && step.chunkSize ? step.chunkSize : 4;
    if (quirks.reasoning) {
      const field = quirks.reasoningAs === "reasoning_content" ? "reasoning_content" : "content";
      const thought = field === "content" ? `<think>${quirks.reasoning}</think>` : quirks.reasoning;
      for (const piece of chunksOf(thought, size)) {
        if (!(await write(chunk({ [field]: piece })))) return;
      }
    }
    for (const piece of chunksOf(text, size)) if (!(await write(chunk({ content: piece })))) return;
    if ("dropAfter" in step) return void res.socket?.destroy();
    if (quirks.toolCallsInOneChunk && calls.length > 0) {
      const whole = calls.map((call, index) => ({ index, ...call }));
      if (!(await write(chunk({ tool_calls: whole })))) return;
    }
    for (const [index, call] of quirks.toolCallsInOneChunk ? [] : calls.entries()) {
      const head = {
        index,
        id: call.id,
        type: "function",
        function: { name: call.function.name, arguments: "" },
      };
      if (!(await write(chunk({ tool_calls: [head] })))) return;
      const argSize = Math.max(8, Math.ceil(call.function.arguments.length / 3));
      for (const part of chunksOf(call.function.arguments, argSize)) {
        if (!(await write(chunk({ tool_calls: [{ index, function: { arguments: part } }] }))))
          return;
      }
    }
    const usageIn = quirks.usageIn ?? "separate";
    if (usageIn === "last-chunk") {
      const last = { ...base, choices: [{ index: 0, delta: {}, finish_reason: finishReason }] };
      if (!(await write(`data: ${JSON.stringify({ ...last, usage })}\n\n`))) return;
    } else if (!(await write(chunk({}, finishReason)))) return;
    if (usageIn === "separate" && req.body.stream_options?.include_usage) {
      if (!(await write(`data: ${JSON.stringify({ ...base, choices: [], usage })}\n\n`))) return;
    }
    if (await write("data: [DONE]\n\n")) res.end();
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject).listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    script: (...steps) => void queue.push(...steps),
    setDefault: (step) => {
      fallback = step;
    },
    setPace: (ms) => {
      pace = ms;
    },
    reset: () => {
      queue = [];
      requests.length = 0;
      fallback = DEFAULT_STEP;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // also kills hanging / endless responses
      }),
  };
}

function sendJson(res: ServerResponse, status: number, payload: unknown) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(payload));
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      port: { type: "string", default: "8787" },
      pace: { type: "string", default: "0" },
      text: { type: "string", default: "Sure, I've updated your tasks." },
    },
  });
  const fake = await startFakeLlm({
    port: Number(values.port),
    paceMs: Number(values.pace),
    record: false,
  });
  fake.setDefault({ text: values.text });
  console.log(`fake LLM listening on ${fake.url} (baseURL ${fake.url}/v1)`);
  const stop = () => void fake.close().then(() => process.exit(0));
  process.once("SIGINT", stop).once("SIGTERM", stop);
}
