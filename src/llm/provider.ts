import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import type { LanguageModel } from "ai";
import type { Config } from "../config.ts";

/**
 * The language model for every turn. The base URL comes from server configuration only:
 * no request can point the server at another endpoint (RELIABILITY S2).
 */
export async function createLanguageModel(llm: Config["llm"]): Promise<LanguageModel> {
  if (llm.provider === "offline") {
    // Loaded only when used: its language library costs ~0.5 s of start-up.
    const { createOfflineModel } = await import("./offline/index.ts");
    return createOfflineModel();
  }
  if (!llm.baseURL) throw new Error("LLM_BASE_URL is required for openai-compatible");
  const provider = createOpenAICompatible({
    name: "llm",
    baseURL: llm.baseURL,
    ...(llm.apiKey ? { apiKey: llm.apiKey } : {}),
    includeUsage: true,
  });
  return provider.chatModel(llm.model);
}

/** The model name stored with a conversation. */
export function modelName(llm: Config["llm"]): string {
  return llm.provider === "offline" ? "offline" : llm.model;
}
