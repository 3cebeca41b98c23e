import type { RequestContext } from "../context.ts";
import type { Message } from "../conversations/conversation.ts";
import { toAppError } from "../db/db-errors.ts";
import { inTransaction, retryingRead, retryingWrite } from "../db/transaction.ts";
import { AppError } from "../errors.ts";
import { costMicros } from "../models/model.ts";
import { withConfirmation } from "./confirmation.ts";
import { type Generated, generate, type PartListener } from "./generate.ts";
import { heldUntil } from "./held-model.ts";
import { selectWindow, toModelMessages, toolCallMessages } from "./history.ts";
import { announceTurnEnd, releaseLease, startHeartbeat, waitForTurnEnd } from "./lease.ts";
import { buildManifest, type ContextManifest } from "./manifest.ts";
import { pendingActionTools } from "./pending-tools.ts";
import { type StoreRegenerated, storeRegeneratedReply } from "./regenerate.repository.ts";
import { regenerateNote } from "./regenerate.ts";
import { startOnce } from "./start.ts";
import { priorToolCalls, storableCalls, turnTools, withoutNul } from "./tool-calls.ts";
import type { StoreReply } from "./turn.repository.ts";
import * as repo from "./turn.repository.ts";
import type {
  ReplayedTurn,
  Running,
  StartedTurn,
  TurnDeps,
  TurnInput,
  TurnOutcome,
} from "./turn.ts";

// One chat turn, in the order of DESIGN.md §1: (1–2, in chat.routes) authenticate and
// validate; (3) step A stores the user message under the conversation's lease; (4) the
// bounded window; (5) the agent, with no transaction or pooled connection held; (6) step B
// stores the reply and frees the lease; (7) the reply, as JSON or SSE (chat.routes, sse.ts).

/**
 * Step 3: store the user message under the conversation's lease. A send to a busy
 * conversation waits its turn for a short while (TURN_QUEUE_MS), then gets 409. A repeated
 * client_message_id returns the stored turn, or runs it again when the first attempt died
 * before replying.
 */
export async function startTurn(
  ctx: RequestContext,
  deps: TurnDeps,
  input: TurnInput,
): Promise<StartedTurn | ReplayedTurn> {
  const deadline = Date.now() + deps.turnQueueMs;
  for (;;) {
    const outcome = await startOnce(ctx, deps, input);
    switch (outcome.kind) {
      case "run":
      case "replay":
        return outcome;
      case "missing":
        throw new AppError("not_found", "Conversation not found");
      case "mismatch":
        throw new AppError(
          "idempotency_mismatch",
          "This client_message_id was already used for a different message",
        );
      case "busy": {
        const remaining = deadline - Date.now();
        if (remaining <= 0) {
          throw new AppError(
            "turn_in_progress",
            "A reply is still being generated in this conversation; retry shortly",
            { extra: { conversation_id: outcome.conversationId } },
          );
        }
        await waitForTurnEnd(outcome.conversationId, Math.min(remaining, 250));
        break;
      }
    }
  }
}

/**
 * Steps 4–6: read the bounded window, run the agent with NO transaction or pooled
 * connection held (the lease renewed meanwhile), then store the reply. Generation is
 * bounded by steps, output size and wall clock, and is not cancelled when the client goes
 * away. A re-run of a turn first reads what its earlier runs did (tool-calls.ts). A turn
 * whose generation started while step A committed (speculate.ts) joins that generation.
 */
export async function runTurn(
  ctx: RequestContext,
  deps: TurnDeps,
  turn: StartedTurn,
  listener?: PartListener,
): Promise<TurnOutcome> {
  const stopHeartbeat = startHeartbeat(ctx, turn, deps.turnLeaseMs);
  let running: Running;
  try {
    running = turn.running ?? (await beginGeneration(ctx, deps, turn));
  } catch (error) {
    stopHeartbeat();
    throw error;
  }
  running.attach(listener);
  const { generated, plan } = await running.done.finally(stopHeartbeat);
  const toolCalls = [
    ...plan.prior,
    ...generated.toolCalls.filter((c) => !plan.replayed.has(c.id ?? "")),
  ];
  const base = {
    conversationId: turn.conversationId,
    userMessage: turn.userMessage,
    regenerate: turn.regenerate,
  };
  if (generated.error && generated.text.length === 0 && toolCalls.length === 0) {
    // Nothing happened: free the conversation; the same client_message_id can be re-sent.
    await releaseLease(ctx, turn);
    return { ...base, reply: undefined, error: generated.error };
  }
  const context = buildManifest({
    modelName: turn.model.id,
    llm: deps.llm,
    history: deps.history,
    systemChars: generated.systemChars ?? 0,
    read: plan.window,
    given: plan.given,
    earlier: plan.earlier,
    note: plan.note,
    tools: plan.tools,
    usage: generated.usage,
  });
  const reply = await finishTurn(ctx, turn, { ...generated, toolCalls }, context);
  if (!reply) {
    const gone = new AppError("not_found", "The conversation was deleted during the reply");
    return { ...base, reply: undefined, error: gone };
  }
  return { ...base, reply, error: generated.error };
}

/** What beginGeneration needs of a turn: a started one, or one step A is still storing. */
export type PlannedTurn = Pick<
  StartedTurn,
  "conversationId" | "userMessage" | "model" | "window" | "rerun" | "regenerate"
>;

/**
 * Builds the model's request for a turn and starts the agent. With `gate`, the model's
 * answer is held until the gate opens: no part is produced, no tool runs and nothing
 * reaches a listener before then, and a gate that opens with false ends the generation
 * (with an error, nothing done). Parts produced before a listener attaches are kept for it.
 */
export async function beginGeneration(
  ctx: RequestContext,
  deps: TurnDeps,
  turn: PlannedTurn,
  hold?: { gate: Promise<boolean>; signal: AbortSignal; onRequest?: () => void },
): Promise<Running> {
  const window = turn.window ?? (await readWindow(ctx, deps, turn));
  // A re-run and a regenerated reply are shown what the turn already did (tool-calls.ts).
  const prior =
    turn.rerun || turn.regenerate
      ? await retryingRead(() => priorToolCalls(ctx, turn.userMessage.id))
      : [];
  const given = selectWindow(window, deps.history.maxChars);
  const earlier = toolCallMessages(prior, turn.userMessage.id);
  const messages = [...toModelMessages(given, Number.MAX_SAFE_INTEGER), ...earlier];
  const note = turn.regenerate ? regenerateNote(turn.regenerate.effects) : undefined;
  const chatTools = pendingActionTools({
    conversationId: turn.conversationId,
    userMessageId: turn.userMessage.id,
    seq: turn.userMessage.seq,
  });
  const { tools, replayed } = turnTools(
    ctx,
    turn.userMessage.id,
    prior,
    chatTools,
    turn.conversationId,
  );
  const confirmed = withConfirmation(await deps.models.languageModel(turn.model));
  const model = hold ? heldUntil(confirmed, hold.gate, hold.onRequest) : confirmed;
  const parts: Parameters<PartListener>[0][] = [];
  let target: PartListener | undefined;
  let attached = false;
  const done = generate(
    { ...deps, model },
    { messages, tools, timezone: ctx.timezone, note, signal: hold?.signal },
    (part) => (attached ? target?.(part) : parts.push(part)),
  ).then((generated) => ({
    generated,
    plan: { window, given, earlier, note, tools, prior, replayed },
  }));
  return {
    attach(listener) {
      if (attached) throw new Error("a generation has one listener");
      attached = true;
      target = listener;
      for (const part of parts.splice(0)) target?.(part);
    },
    done,
  };
}

function readWindow(ctx: RequestContext, deps: TurnDeps, turn: PlannedTurn): Promise<Message[]> {
  return retryingRead(() =>
    repo.readWindow(ctx.db, {
      userId: ctx.userId,
      conversationId: turn.conversationId,
      uptoSeq: turn.userMessage.seq,
      limit: deps.history.maxMessages,
    }),
  );
}

/**
 * Step 6: the reply, its tool calls and usage, in one atomic statement that frees the
 * lease. What is stored is bounded and representable (no U+0000); if it still fails, the
 * lease is freed at once so the client's retry (same client_message_id) can run — the
 * tool effects are in the turn's record, so that retry replays them.
 */
async function finishTurn(
  ctx: RequestContext,
  turn: StartedTurn,
  g: Generated,
  context: ContextManifest,
): Promise<Message | undefined> {
  let stored: StoreReply | StoreRegenerated;
  const reply = {
    userId: ctx.userId,
    conversationId: turn.conversationId,
    turnId: turn.turnId,
    content: withoutNul(g.text),
    toolCalls: storableCalls(g.toolCalls),
    replyTo: turn.userMessage.id,
    status: g.status,
    usage: g.usage,
    errorCode: g.error?.code ?? null,
    model: turn.model.id,
    costMicros: costMicros(turn.model, g.usage),
    context,
  };
  const regeneration = turn.regenerate;
  try {
    stored = await retryingWrite<StoreReply | StoreRegenerated>(() =>
      regeneration
        ? inTransaction(ctx.db, (tx) =>
            storeRegeneratedReply(tx, {
              ...reply,
              id: regeneration.replyId,
              replaces: regeneration.replaces.id,
            }),
          )
        : repo.storeReply(ctx.db, reply),
    );
  } catch (error) {
    await releaseLease(ctx, turn);
    throw ownWriteFailure(error);
  } finally {
    announceTurnEnd(turn.conversationId);
  }
  switch (stored.kind) {
    case "stored":
      return stored.message;
    case "already_replied": // another run of this turn answered first: keep that reply
    case "already_replaced":
      return retryingRead(() => repo.findReply(ctx.db, ctx.userId, turn.userMessage.id));
    case "conversation_gone":
      return undefined;
  }
}

/** Data WE wrote was refused: a fault of the server (500), not of the client's request. */
function ownWriteFailure(error: unknown): AppError {
  const appError = toAppError(error);
  return appError.status === 400
    ? new AppError("internal_error", undefined, { cause: error })
    : appError;
}
