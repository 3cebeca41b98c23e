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
