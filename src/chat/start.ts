import { randomUUID } from "node:crypto";
import type { RequestContext } from "../context.ts";
import { type Message, titleFrom } from "../conversations/conversation.ts";
import type { Tx } from "../db/client.ts";
import { inTransaction, retryingWrite } from "../db/transaction.ts";
import { AppError, ERROR_CODES, type ErrorCode } from "../errors.ts";
import * as repo from "./turn.repository.ts";
import type { ReplayedTurn, StartedTurn, TurnDeps, TurnInput } from "./turn.ts";

// Step A of the turn (DESIGN.md §1, step 3), in its two ways: one statement for the common
// case, a short transaction for everything else. turn.service.ts's startTurn calls it and
// waits while the conversation is busy.

/** What step A found when it could not start: the caller waits, or answers 404/422. */
export type NotStarted =
  | { kind: "busy"; conversationId: string }
  | { kind: "missing" }
  | { kind: "mismatch" };

/** The common case in one statement; everything else in a short transaction. */
export async function startOnce(
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
        messageId: input.messageId ?? randomUUID(),
        leaseMs: deps.turnLeaseMs,
        content: input.message,
        clientMessageId: input.clientMessageId ?? null,
        // An early request (speculate.ts) already holds the window: step A skips reading it.
        windowBefore: input.messageId ? 0 : deps.history.maxMessages - 1,
      }),
    );
    if (fast.kind === "started") {
      const window = wholeWindow(fast.windowBefore, fast.message, deps.history.maxMessages);
      return {
        kind: "run",
        ...lease,
        userMessage: fast.message,
        model: input.model,
        ...(window ? { window } : {}),
      };
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
      const exists = await repo.lockConversation(tx, userId, conversationId);
      if (exists) return { kind: "busy", conversationId };
      if (!input.createConversation) return { kind: "missing" };
      // An AI SDK client names a new chat itself: the conversation gets that id, unless
      // the id is taken — by another user (404, as any conversation not yours) or by a
      // first message of the same chat that won the race (then it is busy).
      const created = await repo.insertLeasedConversation(tx, {
        id: conversationId,
        userId,
        turnId,
        leaseMs,
        title: titleFrom(input.message),
        model: input.model.id,
      });
      if (!created) return { kind: "missing" };
      seq = 1;
    } else {
      seq = lease.lastSeq;
    }
  } else {
    const title = titleFrom(input.message);
    const created = await repo.insertLeasedConversation(tx, {
      userId,
      turnId,
      leaseMs,
      title,
      model: input.model.id,
    });
    if (!created) throw new Error("insert into conversations returned no row");
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
  return { kind: "run", turnId, conversationId, userMessage, model: input.model };
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
  // Lock the conversation first: step B frees the lease and stores the reply in one
  // statement on this row, so after the lock both are seen together — never "no reply
  // yet" followed by "the lease is free", which would run the turn twice.
  await repo.lockConversation(tx, userId, conversationId);
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
  return {
    kind: "run",
    turnId: lease.turnId,
    conversationId,
    userMessage: existing,
    model: input.model,
    rerun: true,
  };
}

/** A stored reply that ended in an error answers a replay with the same code. */
export function storedError(reply: Message): AppError | undefined {
  const code = reply.errorCode;
  if (reply.status !== "error" || !code || !(code in ERROR_CODES)) return undefined;
  return new AppError(code as ErrorCode);
}
