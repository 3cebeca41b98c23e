import { z } from "zod";
import { ToolCallJson, toMessageJson, UsageJson } from "../conversations/conversation.ts";
import type { TurnOutcome } from "./turn.ts";

/** The JSON answer of a turn (and the `data-turn` part of a stream). */
export const TurnJson = z.object({
  conversation_id: z.string(),
  message_id: z.string().nullable().describe("The stored reply"),
  user_message_id: z.string(),
  response: z.string(),
  tool_calls: z.array(ToolCallJson),
  status: z.enum(["complete", "truncated", "error"]),
  usage: UsageJson.nullable(),
});

/** The seed contract: {conversation_id, response, tool_calls}, plus ids and status. */
export function turnJson(outcome: TurnOutcome) {
  const reply = outcome.reply;
  return {
    conversation_id: outcome.conversationId,
    message_id: reply?.id ?? null,
    user_message_id: outcome.userMessage.id,
    response: reply?.content ?? "",
    tool_calls: reply ? toMessageJson(reply).tool_calls : [],
    status: reply?.status ?? "error",
    usage: reply ? toMessageJson(reply).usage : null,
  };
}

/** What Regenerate adds to a turn's answer: the reply it replaced and what that turn did. */
export const RegeneratedJson = z.object({
  replaced_message_id: z.string().describe("The old reply: kept, with replaced_by set"),
  previous_effects: z
    .array(z.object({ kind: z.string(), subject: z.string(), summary: z.string() }))
    .describe("What the replaced reply's turn changed (activity log); not done again"),
});

export const RegenerateJson = TurnJson.extend(RegeneratedJson.shape);

export function regeneratedJson(outcome: TurnOutcome) {
  return {
    replaced_message_id: outcome.regenerate?.replaces.id ?? "",
    previous_effects: (outcome.regenerate?.effects ?? []).map((e) => ({
      kind: e.kind,
      subject: e.subject,
      summary: e.summary,
    })),
  };
}
