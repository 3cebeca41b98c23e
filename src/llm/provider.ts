import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { extractReasoningMiddleware, type LanguageModel, wrapLanguageModel } from "ai";
import type { ModelSpec } from "../models/model.ts";
import { modelFetch } from "./model-fetch.ts";
import { placeToolsJson } from "./tools-json.ts";

// The global fetch (undici: webhooks, and the model's fallback in model-fetch.ts) records a
// resource timing entry for every request in the process's performance buffer (250 entries). Nothing here reads them, and
// once the buffer is full every request schedules a "buffer full" event (~0.1 ms of CPU
// per turn): emptied whenever it fills instead. Not from inside the event: Node's handler
// (lib/internal/perf/observe.js) then loops forever, moving the waiting entries into the
// emptied buffer without ever taking them off its secondary list.
if (typeof performance.addEventListener === "function") {
  performance.addEventListener("resourcetimingbufferfull", () => {
    setImmediate(() => performance.clearResourceTimings());
  });
}

/**
 * The language model of one configured model. The base URL comes from server
 * configuration only: no request can point the server at another endpoint (RELIABILITY S2).
 */
export async function createLanguageModel(spec: ModelSpec): Promise<LanguageModel> {
  if (spec.provider === "offline") {
    // Loaded only when used: its language library costs ~0.5 s of start-up.
    const { createOfflineModel } = await import("./offline/index.ts");
    return createOfflineModel();
  }
  if (!spec.baseURL) throw new Error(`model ${spec.id}: a base URL is required`);
  const provider = createOpenAICompatible({
    name: "llm",
    baseURL: spec.baseURL,
    ...(spec.apiKey ? { apiKey: spec.apiKey } : {}),
    includeUsage: true,
    // The tools' JSON text is kept, not serialized on every request (tools-json.ts): the
    // body carries a placeholder that modelFetch replaces.
    transformRequestBody: placeToolsJson,
    // node:http instead of the global fetch (model-fetch.ts, docs/decisions.md).
    fetch: modelFetch,
  });
  // Reasoning models served by Ollama, vLLM or llama.cpp write their thinking inline in
  // <think>…</think>: it becomes a reasoning part, never the reply (a separate
  // `reasoning_content` field is read as reasoning by the provider already).
  return wrapLanguageModel({
    model: provider.chatModel(spec.providerModel),
    middleware: extractReasoningMiddleware({ tagName: "think" }),
  });
}
