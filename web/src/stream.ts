import { ApiError, type Problem, problemOf, type Usage } from "./api.ts";

/**
 * The chunks of the AI SDK UI message stream that the page reads (the server sends more,
 * such as `start-step`; unknown ones are ignored).
 */
export type UiChunk =
  | { type: "start"; messageId?: string; messageMetadata?: Record<string, unknown> }
  | { type: "text-start"; id: string }
  | { type: "text-delta"; id: string; delta: string }
  | { type: "text-end"; id: string }
  | { type: "tool-input-start"; toolCallId: string; toolName: string }
  | { type: "tool-input-available"; toolCallId: string; toolName: string; input: unknown }
  | { type: "tool-output-available"; toolCallId: string; output: unknown }
  | { type: "tool-output-error"; toolCallId: string; errorText: string }
  | { type: "error"; errorText: string }
  | { type: "data-error"; data: Problem }
  | { type: "data-turn"; data: TurnData }
  | { type: "finish"; finishReason?: string }
  | { type: "other" };

/** The `data-turn` part: the same object as the JSON reply of POST /api/chat. */
export interface TurnData {
  conversation_id: string;
  message_id: string | null;
  user_message_id: string;
  response: string;
  tool_calls: { name: string; arguments: unknown; result: unknown }[];
  status: "complete" | "truncated" | "error";
  usage: Usage | null;
}

/** Splits an SSE body into the JSON of its `data:` fields, up to `[DONE]`. */
export async function* sseData(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      for (;;) {
        const end = /\r?\n\r?\n/.exec(buffer);
        if (!end) break;
        const frame = buffer.slice(0, end.index);
        buffer = buffer.slice(end.index + end[0].length);
        const data = frame
          .split(/\r?\n/)
          .filter((line) => line.startsWith("data:"))
          .map((line) => line.slice(line.startsWith("data: ") ? 6 : 5))
          .join("\n");
        if (data === "") continue;
        if (data === "[DONE]") return;
        yield data;
      }
    }
  } finally {
    reader.releaseLock();
  }
}

export interface SendInput {
  message: string;
  conversationId: string | null;
  clientMessageId: string;
  /** For a new conversation: the model it gets (undefined: the user's default). */
  model?: string | undefined;
  signal?: AbortSignal;
}

/**
 * One streamed turn: POST /api/chat with `Accept: text/event-stream`. Errors before the
 * stream starts (400, 401, 404, 409, 422…) are thrown as ApiError; after that every chunk
 * goes to `onChunk`.
 */
export async function streamTurn(
  input: SendInput,
  onChunk: (chunk: UiChunk) => void,
): Promise<void> {
  const res = await fetch("/api/chat", {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json", accept: "text/event-stream" },
    body: JSON.stringify({
      message: input.message,
      ...(input.conversationId ? { conversation_id: input.conversationId } : {}),
      // The model of a conversation this send creates (an existing one keeps its own).
      ...(input.model && !input.conversationId ? { model: input.model } : {}),
      client_message_id: input.clientMessageId,
    }),
    ...(input.signal ? { signal: input.signal } : {}),
  });
  if (!res.ok) throw await problemOf(res);
  if (!res.body || !res.headers.get("content-type")?.includes("text/event-stream")) {
    throw new ApiError({
      status: res.status,
      code: "bad_stream",
      title: "Unexpected answer",
      detail: "The server did not answer with a stream.",
    });
  }
  for await (const data of sseData(res.body)) {
    let chunk: UiChunk;
    try {
      chunk = JSON.parse(data) as UiChunk;
    } catch {
      continue;
    }
    onChunk(chunk);
  }
}
