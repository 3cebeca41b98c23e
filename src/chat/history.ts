import type { ModelMessage } from "ai";
import type { Message, StoredToolCall } from "../conversations/conversation.ts";

/**
 * Turns the stored window into model messages, newest first until the character budget is
 * spent (the newest message always fits), so a turn costs O(window), not O(conversation).
 */
export function toModelMessages(window: Message[], maxChars: number): ModelMessage[] {
  const kept: ModelMessage[][] = [];
  let budget = maxChars;
  for (let i = window.length - 1; i >= 0; i--) {
    const message = window[i];
    if (!message) continue;
    const converted = convert(message);
    const size = message.content.length + JSON.stringify(message.toolCalls ?? []).length;
    if (kept.length > 0 && size > budget) break;
    budget -= size;
    if (converted.length > 0) kept.unshift(converted);
  }
  const flat = kept.flat();
  // Providers expect the conversation to start with the user: drop a cut-off reply.
  while (flat.length > 0 && flat[0]?.role !== "user") flat.shift();
  return flat;
}

function convert(m: Message): ModelMessage[] {
  if (m.role === "user") return [{ role: "user", content: m.content }];
  if (m.role !== "assistant") return [];
  const out = toolCallMessages(m.toolCalls ?? [], m.id);
  if (m.content.length > 0) out.push({ role: "assistant", content: m.content });
  return out;
}

/** Tool calls already made, as the model's own tool-call step and the tools' results. */
export function toolCallMessages(calls: StoredToolCall[], idPrefix: string): ModelMessage[] {
  const out: ModelMessage[] = [];
  if (calls.length > 0) {
    const ids = calls.map((c, i) => c.id ?? `call_${idPrefix.slice(0, 8)}_${i}`);
    out.push({
      role: "assistant",
      content: calls.map((c, i) => ({
        type: "tool-call" as const,
        toolCallId: ids[i] ?? "",
        toolName: c.name,
        input: c.arguments ?? {},
      })),
    });
    out.push({
      role: "tool",
      content: calls.map((c, i) => ({
        type: "tool-result" as const,
        toolCallId: ids[i] ?? "",
        toolName: c.name,
        output: { type: "json" as const, value: (c.result ?? null) as never },
      })),
    });
  }
  return out;
}
