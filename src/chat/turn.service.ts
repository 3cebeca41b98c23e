import { randomUUID } from "node:crypto";
import type { RequestContext } from "../context.ts";
import { type Message, titleFrom } from "../conversations/conversation.ts";
import type { Tx } from "../db/client.ts";
import { toAppError } from "../db/db-errors.ts";
import { inTransaction, retryingRead, retryingWrite } from "../db/transaction.ts";
import { AppError, ERROR_CODES, type ErrorCode } from "../errors.ts";
import { type Generated, generate, type PartListener } from "./generate.ts";
import { toModelMessages, toolCallMessages } from "./history.ts";
import { announceTurnEnd, releaseLease, startHeartbeat, waitForTurnEnd } from "./lease.ts";
import { priorToolCalls, storableCall, turnTools, withoutNul } from "./tool-calls.ts";
import * as repo from "./turn.repository.ts";
import type { ReplayedTurn, StartedTurn, TurnDeps, TurnInput, TurnOutcome } from "./turn.ts";

// One chat turn, in the order of DESIGN.md §1: (1–2, in chat.routes) authenticate and
// validate; (3) step A stores the user message under the conversation's lease; (4) the
// bounded window; (5) the agent, with no transaction or pooled connection held; (6) step B
// stores the reply and frees the lease; (7) the reply, as JSON or SSE (chat.routes, sse.ts).

/** What step A found when it could not start: the caller waits, or answers 404/422. */
type NotStarted =
  | { kind: "busy"; conversationId: string }
  | { kind: "missing" }
  | { kind: "mismatch" };

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

/** The common case in one statement; everything else in a short transaction. */
async function startOnce(
  ctx: RequestContext,
  deps: TurnDeps,
  input: TurnInput,
): Promise<StartedTurn | ReplayedTurn | NotStarted> {
  if (input.conversationId) {
    const lease = { conversationId: input.conversationId, turnId: randomUUID() };
    const fast = await retryingWrite(() =>
      repo.startInOneStatement(ctx.db, {
        userId: ctx.userId,
        ...lease,
        leaseMs: deps.turnLeaseMs,
        content: input.message,
        clientMessageId: input.clientMessageId ?? null,
        windowBefore: deps.history.maxMessages - 1,
      }),
    );
    if (fast.kind === "started") {
      const window = wholeWindow(fast.windowBefore, fast.message, deps.history.maxMessages);
      return { kind: "run", ...lease, userMessage: fast.message, ...(window ? { window } : {}) };
    }
    // not_leased (missing, not the user's, or busy) or duplicate: the transaction decides.
  }
  return inTransaction(ctx.db, (tx) => startInTx(tx, ctx.userId, deps, input));
}

/**
 * Seqs are gap-free, so a whole window holds every seq right before the new message.
 * Anything less missed a reply committed while step A waited for the row lock (or met a
 * gap): undefined, and runTurn reads the window again.
 */
function wholeWindow(before: Message[], message: Message, maxMessages: number) {
  const expected = Math.min(maxMessages - 1, message.seq - 1);
  const whole =
    before.length === expected && (expected === 0 || before.at(-1)?.seq === message.seq - 1);
  return whole ? [...before, message] : undefined;
}

async function startInTx(
  tx: Tx,
  userId: string,
  deps: TurnDeps,
  input: TurnInput,
): Promise<StartedTurn | ReplayedTurn | NotStarted> {
  const turnId = randomUUID();
  const leaseMs = deps.turnLeaseMs;
  if (input.clientMessageId) {
    await repo.lockClientMessageId(tx, userId, input.clientMessageId);
    const existing = await repo.findMessageByClientId(tx, userId, input.clientMessageId);
    if (existing) return resumeTurn(tx, userId, { turnId, leaseMs }, input, existing);
  }
  let conversationId: string;
  let seq: number;
  if (input.conversationId) {
    conversationId = input.conversationId;
    const lease = await repo.takeLease(tx, { userId, conversationId, turnId, leaseMs, seqs: 1 });
    if (!lease) {
      const exists = await repo.conversationExists(tx, userId, conversationId);
      return exists ? { kind: "busy", conversationId } : { kind: "missing" };
    }
    seq = lease.lastSeq;
  } else {
    const title = titleFrom(input.message);
    const created = await repo.insertLeasedConversation(tx, {
      userId,
      turnId,
      leaseMs,
      title,
      model: deps.modelName,
    });
    conversationId = created.id;
    seq = 1;
  }
  const userMessage = await repo.insertUserMessage(tx, {
    userId,
    conversationId,
    seq,
    content: input.message,
    clientMessageId: input.clientMessageId ?? null,
  });
  return { kind: "run", turnId, conversationId, userMessage };
}

/** A client_message_id seen before: the stored reply, or the same message run again. */
async function resumeTurn(
  tx: Tx,
  userId: string,
  lease: { turnId: string; leaseMs: number },
  input: TurnInput,
  existing: Message,
): Promise<StartedTurn | ReplayedTurn | NotStarted> {
  const { conversationId } = existing;
  if (
    existing.role !== "user" ||
    existing.content !== input.message ||
    (input.conversationId && input.conversationId !== conversationId)
  ) {
    return { kind: "mismatch" };
  }
  const reply = await repo.findReply(tx, userId, existing.id);
  if (reply) {
    return {
      kind: "replay",
      conversationId,
      userMessage: existing,
      reply,
      error: storedError(reply),
    };
  }
  const taken = await repo.takeLease(tx, { userId, conversationId, ...lease, seqs: 0 });
  if (!taken) return { kind: "busy", conversationId };
  return { kind: "run", turnId: lease.turnId, conversationId, userMessage: existing, rerun: true };
}

/**
 * Steps 4–6: read the bounded window, run the agent with NO transaction or pooled
 * connection held (the lease renewed meanwhile), then store the reply. Generation is
 * bounded by steps, output size and wall clock, and is not cancelled when the client goes
 * away. A re-run of a turn first reads what its earlier runs did (tool-calls.ts).
 */
export async function runTurn(
  ctx: RequestContext,
  deps: TurnDeps,
  turn: StartedTurn,
  listener?: PartListener,
): Promise<TurnOutcome> {
  const window = turn.window ?? (await readWindow(ctx, deps, turn));
  const prior = turn.rerun
    ? await retryingRead(() => priorToolCalls(ctx, turn.userMessage.id))
    : [];
  const messages = [
    ...toModelMessages(window, deps.history.maxChars),
    ...toolCallMessages(prior, turn.userMessage.id),
  ];
  const { tools, replayed } = turnTools(ctx, turn.userMessage.id, prior);
  const stopHeartbeat = startHeartbeat(ctx, turn, deps.turnLeaseMs);
  const generated = await generate(
    deps,
    { messages, tools, timezone: ctx.timezone },
    listener,
  ).finally(stopHeartbeat);
  const toolCalls = [...prior, ...generated.toolCalls.filter((c) => !replayed.has(c.id ?? ""))];
  const base = { conversationId: turn.conversationId, userMessage: turn.userMessage };
  if (generated.error && generated.text.length === 0 && toolCalls.length === 0) {
    // Nothing happened: free the conversation; the same client_message_id can be re-sent.
    await releaseLease(ctx, turn);
    return { ...base, reply: undefined, error: generated.error };
  }
  const reply = await finishTurn(ctx, turn, { ...generated, toolCalls });
  if (!reply) {
    const gone = new AppError("not_found", "The conversation was deleted during the reply");
    return { ...base, reply: undefined, error: gone };
  }
  return { ...base, reply, error: generated.error };
}

function readWindow(ctx: RequestContext, deps: TurnDeps, turn: StartedTurn): Promise<Message[]> {
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
): Promise<Message | undefined> {
  let stored: Awaited<ReturnType<typeof repo.storeReply>>;
  try {
    stored = await retryingWrite(() =>
      repo.storeReply(ctx.db, {
        userId: ctx.userId,
        conversationId: turn.conversationId,
        turnId: turn.turnId,
        content: withoutNul(g.text),
        toolCalls: g.toolCalls.map(storableCall),
        replyTo: turn.userMessage.id,
        status: g.status,
        usage: g.usage,
        errorCode: g.error?.code ?? null,
      }),
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

/** A stored reply that ended in an error answers a replay with the same code. */
export function storedError(reply: Message): AppError | undefined {
  const code = reply.errorCode;
  if (reply.status !== "error" || !code || !(code in ERROR_CODES)) return undefined;
  return new AppError(code as ErrorCode);
}
