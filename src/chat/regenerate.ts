import { randomUUID } from "node:crypto";
import { listTurnEntries } from "../activity/activity.repository.ts";
import type { Activity } from "../activity/activity.ts";
import type { RequestContext } from "../context.ts";
import type { Tx } from "../db/client.ts";
import { inTransaction } from "../db/transaction.ts";
import { AppError } from "../errors.ts";
import type { ModelSpec } from "../models/model.ts";
import { regeneratedReplyIdFor } from "./ids.ts";
import { waitForTurnEnd } from "./lease.ts";
import * as regenerateRepo from "./regenerate.repository.ts";
import { storedError } from "./start.ts";
import * as repo from "./turn.repository.ts";
import type { ReplayedTurn, StartedTurn, TurnDeps } from "./turn.ts";

// Issue 19 item 4: Regenerate replaces the conversation's last reply with a new one.
// - The old reply is kept with its seq and `replaced_by` (the new reply's id); the new
//   reply takes the next seq. Seqs stay gap-free; the window skips replaced replies.
// - The new reply's id is derived from the old one's (ids.ts), and a request names the
//   reply it replaces (`message_id`): a retry finds it replaced and answers with the reply
//   that replaced it, so one request never generates twice.
// - The turn's tool effects are not repeated: the new run is shown the turn's recorded
//   tool calls (a repeated call gets the recorded result, as a re-run does: tool-calls.ts)
//   and the activity log's entries, and the user is told them (`previous_effects`).

/** Entries of the old turn listed to the model and the user. */
const EFFECTS_MAX = 20;

type NotStarted = { kind: "busy" };

/**
 * Step A of a Regenerate: under the conversation's lease, the reply to replace (the one
 * named, or the conversation's last), its user message and what the turn did. A repeated
 * request whose reply was already replaced is answered from the database.
 */
export async function startRegenerate(
  ctx: RequestContext,
  deps: TurnDeps,
  input: { conversationId: string; messageId?: string | undefined; model: ModelSpec },
): Promise<StartedTurn | ReplayedTurn> {
  const deadline = Date.now() + deps.turnQueueMs;
  for (;;) {
    const outcome = await inTransaction(ctx.db, (tx) => startInTx(tx, ctx.userId, deps, input));
    if (outcome.kind !== "busy") return outcome;
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      throw new AppError(
        "turn_in_progress",
        "A reply is still being generated in this conversation; retry shortly",
        { extra: { conversation_id: input.conversationId } },
      );
    }
    await waitForTurnEnd(input.conversationId, Math.min(remaining, 250));
  }
}

async function startInTx(
  tx: Tx,
  userId: string,
  deps: TurnDeps,
  input: { conversationId: string; messageId?: string | undefined; model: ModelSpec },
): Promise<StartedTurn | ReplayedTurn | NotStarted> {
  const { conversationId } = input;
  if (!(await repo.lockConversation(tx, userId, conversationId))) {
    throw new AppError("not_found", "Conversation not found");
  }
  const messageId = input.messageId ?? (await lastMessageId(tx, userId, conversationId));
  const found = messageId
    ? await regenerateRepo.findMessageInConversation(tx, userId, conversationId, messageId)
    : undefined;
  if (found?.message.role !== "assistant" || !found.message.replyTo) {
    throw new AppError("not_found", "No such reply in this conversation");
  }
  const old = found.message;
  const userMessage = await regenerateRepo.findMessage(tx, userId, old.replyTo ?? "");
  if (!userMessage) throw new AppError("not_found", "No such reply in this conversation");
  const regeneration = {
    replaces: old,
    replyId: regeneratedReplyIdFor(old.id),
    effects: await listTurnEntries(tx, userId, userMessage.id, EFFECTS_MAX),
  };
  if (old.replacedBy) {
    // Already replaced: a repeated request answers with the reply that replaced it.
    const reply = await regenerateRepo.findMessage(tx, userId, old.replacedBy);
    if (!reply) throw new AppError("not_found", "No such reply in this conversation");
    const error = storedError(reply);
    return { kind: "replay", conversationId, userMessage, reply, error, regenerate: regeneration };
  }
  if (old.seq !== found.lastSeq) {
    throw new AppError("conflict", "Only the conversation's last reply can be regenerated");
  }
  const turnId = randomUUID();
  const lease = { userId, conversationId, turnId, leaseMs: deps.turnLeaseMs, seqs: 0 };
  if (!(await repo.takeLease(tx, lease))) return { kind: "busy" };
  return {
    kind: "run",
    turnId,
    conversationId,
    userMessage,
    model: input.model,
    regenerate: regeneration,
  };
}

async function lastMessageId(tx: Tx, userId: string, conversationId: string) {
  return (await regenerateRepo.findLastMessage(tx, userId, conversationId))?.id;
}

/**
 * What a regenerated reply is told (appended to the system prompt): the turn's changes,
 * from the activity log, are already made and must not be made again unasked.
 */
export function regenerateNote(effects: Activity[]): string {
  const head =
    "The user asked for a new answer to their last message; your previous answer is discarded.";
  if (effects.length === 0) return `${head} It changed nothing.`;
  const lines = effects.map((e) => `- ${e.summary}`).join("\n");
  return `${head} It already made these changes (from the activity log); they are in effect. Do not make them again unless the user asks; say what was done:\n${lines}`;
}
