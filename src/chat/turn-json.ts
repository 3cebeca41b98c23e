import { toMessageJson } from "../conversations/conversation.ts";
import type { TurnOutcome } from "./turn.ts";

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
  };
}
