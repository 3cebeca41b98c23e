import { randomUUID } from "node:crypto";
import type { RequestContext } from "../context.ts";
import type { Message } from "../conversations/conversation.ts";
import { countEarlyRequest } from "../ops/metrics.ts";
import type { TurnPreview } from "./turn.repository.ts";
import { beginGeneration, startTurn } from "./turn.service.ts";
import type { ReplayedTurn, StartedTurn, TurnDeps, TurnInput } from "./turn.ts";

// Hiding step A's durable commit (issue 16, B2). A turn in an existing conversation that is
// free is read first (turn.repository previewTurn: the conversation's model and its last
// messages, one read), so the model's request can be built and SENT while step A stores
// the user message and commits. The model's answer is held until step A has committed:
// no token reaches the client and no tool runs before the user message is durable. If
// step A did not store exactly the turn the request was built for (the conversation
// changed in between, a retry, a busy lease), the early request is aborted — its answer
// never read — and the turn runs as it always did.

/** Whether a preview lets the request start early: a free conversation and a new message. */
export function canSpeculate(preview: TurnPreview | undefined): preview is TurnPreview {
  return preview !== undefined && !preview.busy && !preview.seenClientMessageId;
}

/**
 * Step A (startTurn) with the model's request started beside it. Resolves when step A has
 * committed, like startTurn: with the running generation attached when it was built from
 * exactly what step A stored, else as startTurn would have answered.
 */
export async function startSpeculating(
  ctx: RequestContext,
  deps: TurnDeps,
  input: TurnInput & { conversationId: string },
  /** Read with limit history.maxMessages (its seq range may hold a gap: one more is read). */
  preview: TurnPreview,
): Promise<StartedTurn | ReplayedTurn> {
  const messageId = randomUUID();
  const planned: Message = {
    id: messageId,
    conversationId: input.conversationId,
    seq: preview.lastSeq + 1,
    role: "user",
    content: input.message,
    toolCalls: null,
    replyTo: null,
    status: "complete",
    clientMessageId: input.clientMessageId ?? null,
    usage: null,
    createdAt: new Date(),
    errorCode: null,
    model: null,
    costMicros: null,
    replacedBy: null,
  };
  const gate = Promise.withResolvers<boolean>();
  const asked = Promise.withResolvers<void>();
  const abort = new AbortController();
  const running = beginGeneration(
    ctx,
    deps,
    {
      conversationId: input.conversationId,
      userMessage: planned,
      model: input.model,
      window: [...lastOf(preview.window, deps.history.maxMessages - 1), planned],
    },
    { gate: gate.promise, signal: abort.signal, onRequest: asked.resolve },
  );
  // Never left unobserved: a generation that is given up on still settles.
  running.catch(() => {});
  let started: StartedTurn | ReplayedTurn;
  try {
    // The model's request goes out first: it is the long pole (its answer waits for step A
    // anyway), and on PGlite step A runs in this thread, so a request not yet on its socket
    // would wait for the whole commit. Once the model is asked (or the generation ended
    // without asking), a few turns of the event loop let the request out (fetch writes it
    // two turns after the provider calls it: measured, test/chat/early-request.test.ts).
    const ended = running.then(
      (r) => r.done,
      () => undefined,
    );
    await Promise.race([asked.promise, ended]);
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
    started = await startTurn(ctx, deps, { ...input, messageId });
  } catch (error) {
    await giveUp();
    throw error;
  }
  if (started.kind === "run" && sameTurn(started, planned)) {
    countEarlyRequest(ctx.db, "used");
    gate.resolve(true);
    return { ...started, running: await running };
  }
  await giveUp();
  return started;

  /** The early request is dropped unread: its generation ends with nothing done. */
  async function giveUp() {
    countEarlyRequest(ctx.db, "dropped");
    abort.abort(new Error("step A did not store the turn the early request was built for"));
    gate.resolve(false);
    const settled = await running.catch(() => undefined);
    await settled?.done.catch(() => {});
  }
}

/**
 * Step A stored the planned message right after the preview's last message. Every change
 * to a conversation's messages moves its last_seq (a new message, or a reply replaced by
 * regenerate: regenerate.repository.ts, in the same transaction), so the same seq means
 * the same messages before it: the request was built from exactly what the turn holds.
 */
function sameTurn(started: StartedTurn, planned: Message): boolean {
  return started.userMessage.id === planned.id && started.userMessage.seq === planned.seq;
}

/** The last `n` items (none for 0: `slice(-0)` would be all of them). */
function lastOf<T>(items: T[], n: number): T[] {
  return items.slice(Math.max(0, items.length - n));
}
