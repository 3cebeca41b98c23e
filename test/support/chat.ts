import type { Env } from "../../src/config.ts";
import { signUp, startTestApp, type TestApp, type TestUser } from "./app.ts";
import type { Backend } from "./databases.ts";
import { type FakeLlm, startFakeLlm } from "./fake-llm.ts";

export interface ChatFixture {
  t: TestApp;
  llm: FakeLlm;
  close(): Promise<void>;
}

/** The real app wired to the fake OpenAI-protocol model on 127.0.0.1. */
export async function startChatApp(
  backend: Backend,
  env: Partial<Record<keyof Env, string>> = {},
  options: Parameters<typeof startTestApp>[2] = {},
): Promise<ChatFixture> {
  const llm = await startFakeLlm();
  const t = await startTestApp(
    backend,
    {
      LLM_PROVIDER: "openai-compatible",
      LLM_BASE_URL: `${llm.url}/v1`,
      LLM_MODEL: "fake-model",
      LLM_MAX_RETRIES: "0",
      ...env,
    },
    options,
  );
  return {
    t,
    llm,
    async close() {
      await t.close();
      await llm.close();
    },
  };
}

export interface ChatPayload {
  message: string;
  conversation_id?: string;
  client_message_id?: string;
}

export function chat(
  t: TestApp,
  user: TestUser,
  payload: ChatPayload | Record<string, unknown>,
  extraHeaders = {},
) {
  return t.app.inject({
    method: "POST",
    url: "/api/chat",
    headers: { ...user.headers, ...extraHeaders },
    payload,
  });
}

export async function messagesOf(
  t: TestApp,
  user: TestUser,
  conversationId: string,
  query = "limit=200",
) {
  const res = await t.app.inject({
    url: `/api/conversations/${conversationId}/messages?${query}`,
    headers: user.headers,
  });
  return res.json() as {
    items: {
      id: string;
      seq: number;
      role: string;
      content: string;
      status: string;
      reply_to: string | null;
      tool_calls: { name: string; arguments: unknown; result: unknown }[];
    }[];
    next_cursor: number | null;
  };
}

export { signUp };
