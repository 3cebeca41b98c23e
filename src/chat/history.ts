import type { ModelMessage } from "ai";
import type { Message, StoredToolCall } from "../conversations/conversation.ts";

/**
 * The messages of the stored window the model is given, oldest first: newest first until
 * the character budget is spent (the newest message always fits), so a turn costs
 * O(window), not O(conversation). Replies replaced by a regenerated one keep their seq but
 * are never given to the model; a reply cut off at the window's start is dropped (providers
 * expect the conversation to start with the user).
 */
export function selectWindow(window: Message[], maxChars: number): Message[] {
  const kept: Message[] = [];
  let budget = maxChars;
  for (let i = window.length - 1; i >= 0; i--) {
    const message = window[i];
    if (!message || message.replacedBy) continue;
    const size = messageChars(message);
    if (kept.length > 0 && size > budget) break;
    budget -= size;
    if (convert(message).length > 0) kept.unshift(message);
  }
  while (kept.length > 0 && kept[0]?.role !== "user") kept.shift();
  return kept;
}

/** The characters a message costs the window: its text and its tool calls as JSON. */
export function messageChars(message: Message): number {
  return message.content.length + JSON.stringify(message.toolCalls ?? []).length;
}

/** The selected window (selectWindow) as model messages. */
export function toModelMessages(window: Message[], maxChars: number): ModelMessage[] {
  return selectWindow(window, maxChars).flatMap(convert);
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
