import { z } from "zod";

export interface Conversation {
  id: string;
  userId: string;
  title: string;
  /** The model id its turns run on; null for a conversation from before models were chosen. */
  model: string | null;
  lastSeq: number;
  createdAt: Date;
  updatedAt: Date;
}

/** One tool call of an assistant message, with its result, as stored and replayed. */
export interface StoredToolCall {
  /** The model's tool call id, kept so the history can be replayed to the model. */
  id?: string;
  name: string;
  arguments: unknown;
  result: unknown;
}

export type MessageRole = "user" | "assistant" | "tool" | "system";
export type MessageStatus = "complete" | "error" | "truncated";

export interface Message {
  id: string;
  conversationId: string;
  seq: number;
  role: MessageRole;
  content: string;
  toolCalls: StoredToolCall[] | null;
  replyTo: string | null;
  status: MessageStatus;
  clientMessageId: string | null;
  usage: Record<string, number | undefined> | null;
  createdAt: Date;
  /** For a reply with status "error": the code the turn answered with. */
  errorCode: string | null;
  /** For an assistant message: the model that wrote it. */
  model: string | null;
  /** For an assistant message: its cost in micro-units; null without prices. */
  costMicros: number | null;
  /** For a reply replaced by a regenerated one: that reply's id (kept, out of the window). */
  replacedBy: string | null;
}

/** The API's shapes (toConversationJson, toMessageJson): response schemas and the document. */
export const ConversationJson = z.object({
  id: z.string(),
  title: z.string(),
  model: z.string().nullable().describe("The model id its replies come from (GET /api/models)"),
  created_at: z.string(),
  updated_at: z.string(),
});

export const UsageJson = z
  .object({
    model: z.string().nullable(),
    input_tokens: z.int().nullable(),
    output_tokens: z.int().nullable(),
    total_tokens: z.int().nullable(),
    cost_micros: z
      .int()
      .nullable()
      .describe("Cost in millionths of the operator's currency; null when the model has no prices"),
  })
  .describe("For an assistant reply: the tokens it took and what it cost");

export const ToolCallJson = z.object({
  name: z.string(),
  arguments: z.unknown(),
  result: z.unknown(),
});

export const MessageJson = z.object({
  id: z.string(),
  seq: z.number(),
  role: z.enum(["user", "assistant", "tool", "system"]),
  content: z.string(),
  tool_calls: z.array(ToolCallJson),
  status: z.enum(["complete", "error", "truncated"]),
  reply_to: z.string().nullable(),
  client_message_id: z.string().nullable(),
  replaced_by: z
    .string()
    .nullable()
    .describe("A reply replaced by Regenerate: the id of the reply that replaced it"),
  created_at: z.string(),
  usage: UsageJson.nullable(),
});

export const TITLE_MAX = 200;
export const DEFAULT_TITLE = "New conversation";

/** A first message makes a readable title: its first line, cut at a word boundary. */
export function titleFrom(message: string): string {
  const line = message.trim().split("\n")[0]?.trim() ?? "";
  if (line.length === 0) return DEFAULT_TITLE;
  if (line.length <= 60) return line;
  const cut = line.slice(0, 60);
  const space = cut.lastIndexOf(" ");
  return `${(space > 30 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

export function toConversationJson(c: Conversation) {
  return {
    id: c.id,
    title: c.title,
    model: c.model,
    created_at: c.createdAt.toISOString(),
    updated_at: c.updatedAt.toISOString(),
  };
}

export function toMessageJson(m: Message) {
  return {
    id: m.id,
    seq: m.seq,
    role: m.role,
    content: m.content,
    tool_calls: (m.toolCalls ?? []).map(({ name, arguments: args, result }) => ({
      name,
      arguments: args,
      result,
    })),
    status: m.status,
    reply_to: m.replyTo,
    client_message_id: m.clientMessageId,
    replaced_by: m.replacedBy,
    created_at: m.createdAt.toISOString(),
    usage: m.role === "assistant" ? toUsageJson(m) : null,
  };
}

function toUsageJson(m: Message) {
  const tokens = (key: string) => {
    const v = m.usage?.[key];
    return typeof v === "number" && Number.isInteger(v) ? v : null;
  };
  return {
    model: m.model,
    input_tokens: tokens("inputTokens"),
    output_tokens: tokens("outputTokens"),
    total_tokens: tokens("totalTokens"),
    cost_micros: m.costMicros,
  };
}
