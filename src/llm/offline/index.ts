/**
 * Tasktalk's built-in offline assistant: an AI SDK LanguageModelV4 that needs no network
 * and no weights. Each call reads the prompt (last user message plus this turn's tool
 * results), decides the next step with a rule-based understanding of task requests, and
 * answers like a real model would: tool calls, or text streamed in small chunks.
 * Deterministic: the same prompt always gives the same output.
 */
import type {
  LanguageModelV4,
  LanguageModelV4CallOptions,
  LanguageModelV4Content,
  LanguageModelV4FinishReason,
  LanguageModelV4StreamPart,
  LanguageModelV4Usage,
} from "@ai-sdk/provider";
import { MAX_STREAM_CHUNKS } from "./bounds.ts";
import { readTurn } from "./conversation.ts";
import { decide } from "./plan.ts";
import type { Decision } from "./types.ts";

export { parseMessage } from "./parse.ts";
export type { Intent, Ref } from "./types.ts";

const PROVIDER = "tasktalk";
const MODEL_ID = "offline";

/** Rough token count (about four characters a token), for usage reporting only. */
const tokens = (text: string): number => Math.ceil(text.length / 4);

interface Reply {
  decision: Decision;
  toolCallIds: string[];
  usage: LanguageModelV4Usage;
  finishReason: LanguageModelV4FinishReason;
}

function respond(options: LanguageModelV4CallOptions): Reply {
  const turn = readTurn(options.prompt);
  const tools = new Set(
    options.toolChoice?.type === "none" ? [] : (options.tools ?? []).map((t) => t.name),
  );
  const decision = decide(turn, tools);
  const output =
    decision.type === "text" ? decision.text : JSON.stringify(decision.calls.map((c) => c.input));
  const toolCallIds =
    decision.type === "tools"
      ? decision.calls.map((_, i) => `offline-call-${turn.toolCallCount + i + 1}`)
      : [];
  const input = tokens(JSON.stringify(options.prompt));
  const out = tokens(output);
  return {
    decision,
    toolCallIds,
    usage: {
      inputTokens: { total: input, noCache: input, cacheRead: 0, cacheWrite: 0 },
      outputTokens: { total: out, text: out, reasoning: 0 },
    },
    finishReason:
      decision.type === "tools"
        ? { unified: "tool-calls", raw: "tool_calls" }
        : { unified: "stop", raw: "stop" },
  };
}

/**
 * Split text into word-sized pieces, the way a real model streams it. A long answer (a list
 * of a thousand tasks) comes in at most MAX_STREAM_CHUNKS pieces of several words: every
 * piece costs the stream a round of promises, and they run back to back on the event loop.
 */
export function chunkText(text: string): string[] {
  const words = text.match(/\S+\s*|\s+/gu) ?? [];
  if (words.length <= MAX_STREAM_CHUNKS) return words;
  const size = Math.ceil(words.length / MAX_STREAM_CHUNKS);
  const chunks: string[] = [];
  for (let i = 0; i < words.length; i += size) chunks.push(words.slice(i, i + size).join(""));
  return chunks;
}

function content(reply: Reply): LanguageModelV4Content[] {
  const { decision } = reply;
  if (decision.type === "text") return [{ type: "text", text: decision.text }];
  return decision.calls.map((c, i) => ({
    type: "tool-call",
    toolCallId: reply.toolCallIds[i] ?? `offline-call-${i}`,
    toolName: c.toolName,
    input: JSON.stringify(c.input),
  }));
}

function streamParts(reply: Reply): LanguageModelV4StreamPart[] {
  const parts: LanguageModelV4StreamPart[] = [
    { type: "stream-start", warnings: [] },
    { type: "response-metadata", modelId: MODEL_ID },
  ];
  const { decision } = reply;
  if (decision.type === "text") {
    const id = "text-0";
    parts.push({ type: "text-start", id });
    for (const delta of chunkText(decision.text)) parts.push({ type: "text-delta", id, delta });
    parts.push({ type: "text-end", id });
  } else {
    decision.calls.forEach((c, i) => {
      const id = reply.toolCallIds[i] ?? `offline-call-${i}`;
      const input = JSON.stringify(c.input);
      parts.push({ type: "tool-input-start", id, toolName: c.toolName });
      parts.push({ type: "tool-input-delta", id, delta: input });
      parts.push({ type: "tool-input-end", id });
      parts.push({ type: "tool-call", toolCallId: id, toolName: c.toolName, input });
    });
  }
  parts.push({ type: "finish", usage: reply.usage, finishReason: reply.finishReason });
  return parts;
}

/** The offline assistant as an AI SDK language model (`provider: "tasktalk"`, `modelId: "offline"`). */
export function createOfflineModel(): LanguageModelV4 {
  return {
    specificationVersion: "v4",
    provider: PROVIDER,
    modelId: MODEL_ID,
    supportedUrls: {},
    async doGenerate(options) {
      const reply = respond(options);
      return {
        content: content(reply),
        finishReason: reply.finishReason,
        usage: reply.usage,
        warnings: [],
        response: { modelId: MODEL_ID },
      };
    },
    async doStream(options) {
      const parts = streamParts(respond(options));
      let next = 0;
      const stream = new ReadableStream<LanguageModelV4StreamPart>({
        pull(controller) {
          if (options.abortSignal?.aborted) {
            controller.error(options.abortSignal.reason);
            return;
          }
          // One part per pull, so consumers see the answer arrive piece by piece.
          const part = parts[next++];
          if (part) controller.enqueue(part);
          else controller.close();
        },
      });
      return { stream };
    },
  };
}
