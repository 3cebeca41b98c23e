import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import type { LanguageModel } from "ai";
import type { Config } from "../config.ts";
import { createOfflineModel } from "./offline/index.ts";

/**
 * The language model for every turn. The base URL comes from server configuration only:
 * no request can point the server at another endpoint (RELIABILITY S2).
 */
export function createLanguageModel(llm: Config["llm"]): LanguageModel {
  if (llm.provider === "offline") return createOfflineModel();
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
