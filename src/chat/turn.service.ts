import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import {
  APICallError,
  type LanguageModel,
  RetryError,
  stepCountIs,
  streamText,
  type TextStreamPart,
  type ToolSet,
} from "ai";
import type { Config } from "../config.ts";
import type { UserContext } from "../context.ts";
import * as repo from "../conversations/conversation.repository.ts";
import { type Message, type MessageStatus, titleFrom } from "../conversations/conversation.ts";
import type { Tx } from "../db/client.ts";
import type { StoredToolCall } from "../db/schema.ts";
import { inTransaction, retryingRead, retryingWrite } from "../db/transaction.ts";
import { AppError, type ErrorCode } from "../errors.ts";
import { toAiSdkTools } from "../tools/ai-sdk.ts";
import { toModelMessages } from "./history.ts";
import { SYSTEM_PROMPT } from "./prompts.ts";

export interface TurnInput {
  message: string;
  conversationId?: string | undefined;
  clientMessageId?: string | undefined;
}

export interface TurnDeps {
  model: LanguageModel;
  modelName: string;
  /** How long a send to a busy conversation waits before 409 turn_in_progress. */
  turnQueueMs: number;
  /** How long a turn's lease lasts without renewal; renewed every third of it. */
  turnLeaseMs: number;
  llm: Config["llm"];
  history: Config["history"];
}

/** A turn that has its user message stored and holds the conversation's lease. */
export interface StartedTurn {
  kind: "run";
  turnId: string;
  conversationId: string;
  userMessage: Message;
  /** The model's window (ending with userMessage) when step A could read it too. */
  window?: Message[];
}

/** A repeated send whose reply is already stored: answered from the database. */
export interface ReplayedTurn {
  kind: "replay";
  conversationId: string;
  userMessage: Message;
  reply: Message;
}

export interface TurnOutcome {
  conversationId: string;
  userMessage: Message;
  /** undefined when the model failed before producing anything (nothing stored). */
  reply: Message | undefined;
  error: AppError | undefined;
}

/**
 * Step A of the turn (one short transaction): create or lease the conversation, take the
 * next seq and store the user message. A repeated client_message_id returns the stored
 * turn, or re-runs it when the first attempt died before replying.
 */
export async function startTurn(
  ctx: UserContext,
  deps: TurnDeps,
  input: TurnInput,
): Promise<StartedTurn | ReplayedTurn> {
  // A send to a busy conversation waits its turn for a short while (queued in arrival
  // order, roughly), then gets 409. Correctness rests on the lease in the database; the
  // in-process signal only wakes waiters early.
  const deadline = Date.now() + deps.turnQueueMs;
  for (;;) {
    try {
      return await startOnce(ctx, deps, input);
    } catch (error) {
      const busy = error instanceof AppError && error.code === "turn_in_progress";
      const remaining = deadline - Date.now();
      if (!busy || remaining <= 0) throw error;
      await turnEnd(String(error.extra?.conversation_id), Math.min(remaining, 250));
    }
  }
}

async function startOnce(ctx: UserContext, deps: TurnDeps, input: TurnInput) {
  if (input.conversationId) {
    const started = await startInOneStatement(ctx, deps, input, input.conversationId);
    if (started) return started;
  }
  try {
    return await inTransaction(ctx.db, (tx) => startInTx(tx, ctx.userId, deps, input));
  } catch (error) {
    // Two sends with one client_message_id raced: the loser now sees the winner's row.
    if (error instanceof AppError && error.code === "conflict" && input.clientMessageId) {
      return inTransaction(ctx.db, (tx) => startInTx(tx, ctx.userId, deps, input));
    }
    throw error;
  }
}

const turnEnded = new EventEmitter().setMaxListeners(0);

/** Resolves when a turn of this conversation ends in this process, or after `ms`. */
function turnEnd(conversationId: string, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      turnEnded.off(conversationId, done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    turnEnded.on(conversationId, done);
  });
}

/**
 * The common case of step A — an existing conversation, a new message — as ONE statement
 * (lease + seq + user message) instead of BEGIN, UPDATE, INSERT, COMMIT. Anything else (a
 * client_message_id already stored — the unique index refuses it —, the lease not taken)
 * returns undefined and goes through startInTx, which decides exactly as before.
 */
async function startInOneStatement(
  ctx: UserContext,
  deps: TurnDeps,
  input: TurnInput,
  conversationId: string,
): Promise<StartedTurn | undefined> {
  const { clientMessageId } = input;
  const turnId = randomUUID();
  try {
    const started = await retryingWrite(() =>
      repo.leaseAndInsertUserMessage(ctx.db, {
        userId: ctx.userId,
        conversationId,
        turnId,
        leaseMs: deps.turnLeaseMs,
        content: input.message,
        clientMessageId: clientMessageId ?? null,
        windowBefore: deps.history.maxMessages - 1,
      }),
    );
    if (!started) return undefined;
    const { message: userMessage, windowBefore } = started;
    // Seqs are gap-free, so a whole window holds every seq right before the new message.
    // Anything less missed a reply committed while step A waited for the row lock (or
    // met a gap): runTurn reads it again.
    const expected = Math.min(deps.history.maxMessages - 1, userMessage.seq - 1);
    const complete =
      windowBefore.length === expected &&
      (expected === 0 || windowBefore.at(-1)?.seq === userMessage.seq - 1);
    return {
      kind: "run",
      turnId,
      conversationId,
      userMessage,
      ...(complete ? { window: [...windowBefore, userMessage] } : {}),
    };
  } catch (error) {
    if (error instanceof AppError && error.code === "conflict" && clientMessageId) return undefined;
    throw error;
  }
}

async function startInTx(
  tx: Tx,
  userId: string,
  deps: TurnDeps,
  input: TurnInput,
): Promise<StartedTurn | ReplayedTurn> {
  const turnId = randomUUID();
  // Short, and renewed while the turn runs (runTurn's heartbeat): a crashed turn's lease
  // expires within seconds, a live one never does.
  const leaseMs = deps.turnLeaseMs;
  if (input.clientMessageId) {
    const existing = await repo.findMessageByClientId(tx, userId, input.clientMessageId);
    if (existing) {
      if (
        existing.role !== "user" ||
        existing.content !== input.message ||
        (input.conversationId && input.conversationId !== existing.conversationId)
      ) {
        throw new AppError(
          "idempotency_mismatch",
          "This client_message_id was already used for a different message",
        );
      }
      const reply = await repo.findReply(tx, userId, existing.id);
      if (reply)
        return {
          kind: "replay",
          conversationId: existing.conversationId,
          userMessage: existing,
          reply,
        };
      const lease = await repo.leaseTurn(tx, {
        userId,
        conversationId: existing.conversationId,
        turnId,
        leaseMs,
        seqs: 0,
      });
      if (!lease) {
        throw new AppError("turn_in_progress", "This message is still being answered", {
          extra: { conversation_id: existing.conversationId },
        });
      }
      return {
        kind: "run",
        turnId,
        conversationId: existing.conversationId,
        userMessage: existing,
      };
    }
  }
  let conversationId: string;
  let seq: number;
  if (input.conversationId) {
    const lease = await repo.leaseTurn(tx, {
      userId,
      conversationId: input.conversationId,
      turnId,
      leaseMs,
      seqs: 1,
    });
    if (!lease) {
      const exists = await repo.findConversation(tx, userId, input.conversationId);
      if (!exists) throw new AppError("not_found", "Conversation not found");
      throw new AppError(
        "turn_in_progress",
        "A reply is still being generated in this conversation; retry shortly",
        { extra: { conversation_id: input.conversationId } },
      );
    }
    conversationId = input.conversationId;
    seq = lease.lastSeq;
  } else {
    const created = await repo.insertConversationForTurn(tx, {
      userId,
      title: titleFrom(input.message),
      model: deps.modelName,
      turnId,
      leaseMs,
      seqs: 1,
    });
    conversationId = created.id;
    seq = 1;
  }
  const userMessage = await repo.insertMessage(tx, {
    conversationId,
    userId,
    seq,
    role: "user",
    content: input.message,
    clientMessageId: input.clientMessageId ?? null,
  });
  return { kind: "run", turnId, conversationId, userMessage };
}

/** Receives the model's stream as it happens (SSE); never required for correctness. */
export type PartListener = (part: TextStreamPart<ToolSet>) => void;

/**
 * Steps 4–6: read the bounded window, run the agent with NO transaction or pooled
 * connection held, then store the reply (one short transaction). Generation is bounded by
 * steps, output size and wall clock, and is not cancelled when the client goes away.
 */
export async function runTurn(
  ctx: UserContext,
  deps: TurnDeps,
  turn: StartedTurn,
  listener?: PartListener,
): Promise<TurnOutcome> {
  const window =
    turn.window ??
    (await retryingRead(() =>
      repo.historyWindow(
        ctx.db,
        ctx.userId,
        turn.conversationId,
        turn.userMessage.seq,
        deps.history.maxMessages,
      ),
    ));
  const messages = toModelMessages(window, deps.history.maxChars);
  const heartbeat = setInterval(() => {
    repo
      .renewTurn(ctx.db, ctx.userId, turn.conversationId, turn.turnId, deps.turnLeaseMs)
      .catch(() => {}); // a missed renewal only shortens the lease; the next one retries
  }, deps.turnLeaseMs / 3);
  const generated = await generate(ctx, deps, messages, listener).finally(() =>
    clearInterval(heartbeat),
  );

  if (generated.error && generated.text.length === 0 && generated.toolCalls.length === 0) {
    // Nothing happened: free the conversation; the same client_message_id can be re-sent.
    await retryingRead(() =>
      repo.releaseTurn(ctx.db, ctx.userId, turn.conversationId, turn.turnId),
    ).catch(() => {});
    turnEnded.emit(turn.conversationId);
    return {
      conversationId: turn.conversationId,
      userMessage: turn.userMessage,
      reply: undefined,
      error: generated.error,
    };
  }
  const reply = await storeReply(ctx, turn, generated).finally(() =>
    turnEnded.emit(turn.conversationId),
  );
  return {
    conversationId: turn.conversationId,
    userMessage: turn.userMessage,
    reply,
    error: generated.error,
  };
}

interface Generated {
  text: string;
  toolCalls: StoredToolCall[];
  status: MessageStatus;
  usage: Record<string, number | undefined>;
  error: AppError | undefined;
}

async function generate(
  ctx: UserContext,
  deps: TurnDeps,
  messages: ReturnType<typeof toModelMessages>,
  listener?: PartListener,
): Promise<Generated> {
  const { llm } = deps;
  const limiter = new AbortController();
  const maxChars = llm.maxOutputTokens * 8; // a model that ignores max_tokens is still cut
  const result = streamText({
    model: deps.model,
    system: SYSTEM_PROMPT,
    messages,
    tools: toAiSdkTools(ctx),
    stopWhen: stepCountIs(llm.maxSteps),
    maxOutputTokens: llm.maxOutputTokens,
    maxRetries: llm.maxRetries,
    abortSignal: limiter.signal,
    timeout: { totalMs: llm.timeoutMs },
    onError: () => {}, // errors arrive as stream parts below
  });

  const steps: string[] = [];
  let stepText = "";
  let totalChars = 0;
  const calls = new Map<string, StoredToolCall>();
  let finishReason: string | undefined;
  let usage: Record<string, number | undefined> = {};
  let error: AppError | undefined;
  let cut = false;
  // A model that goes silent (never answers, or stalls mid-stream) is cut after this long
  // without a single part, well before the total time limit.
  let watchdog: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(watchdog);
    watchdog = setTimeout(() => limiter.abort(new Error("model silent")), llm.idleTimeoutMs);
  };
  arm();

  try {
    for await (const part of result.fullStream) {
      arm();
      listener?.(part);
      switch (part.type) {
        case "text-delta":
          stepText += part.text;
          totalChars += part.text.length;
          if (totalChars > maxChars && !cut) {
            cut = true;
            limiter.abort(new Error("output limit"));
          }
          break;
        case "tool-call":
          calls.set(part.toolCallId, {
            id: part.toolCallId,
            name: part.toolName,
            arguments: part.input,
            result: null,
          });
          break;
        case "tool-result": {
          const call = calls.get(part.toolCallId);
          if (call) call.result = part.output;
          break;
        }
        case "tool-error": {
          const call = calls.get(part.toolCallId);
          if (call) call.result = { error: { code: "tool_error", message: messageOf(part.error) } };
          break;
        }
        case "finish-step":
          if (stepText) steps.push(stepText);
          stepText = "";
          break;
        case "finish":
          finishReason = part.finishReason;
          usage = { ...part.totalUsage } as unknown as Record<string, number | undefined>;
          break;
        case "abort":
          if (!cut) error = new AppError("model_timeout", "The model took too long to answer");
          break;
        case "error":
          error = modelError(part.error);
          break;
        default:
          break;
      }
    }
  } catch (e) {
    error ??= modelError(e);
  } finally {
    clearTimeout(watchdog);
  }
  if (stepText) steps.push(stepText);

  let text = steps.join("\n\n").trim();
  let status: MessageStatus = error ? "error" : "complete";
  if (!error && (cut || finishReason === "length")) status = "truncated";
  if (!error && finishReason === "tool-calls") {
    status = "truncated";
    text = `${text}${text ? "\n\n" : ""}I stopped after ${llm.maxSteps} steps without finishing. Please check your tasks and tell me what to do next.`;
  }
  return {
    text,
    toolCalls: [...calls.values()],
    status,
    usage: pickUsage(usage),
    error,
  };
}

/** Step 6: the reply, its tool calls and usage, in one atomic statement; frees the lease. */
async function storeReply(
  ctx: UserContext,
  turn: StartedTurn,
  g: Generated,
): Promise<Message | undefined> {
  try {
    // One statement (next seq, lease freed, reply inserted): no BEGIN/COMMIT round trips.
    return await retryingWrite(() =>
      repo.finishTurnWithReply(ctx.db, {
        userId: ctx.userId,
        conversationId: turn.conversationId,
        turnId: turn.turnId,
        content: g.text,
        toolCalls: g.toolCalls,
        replyTo: turn.userMessage.id,
        status: g.status,
        usage: g.usage,
      }),
    );
  } catch (error) {
    // A reply to this user message already exists (unique reply_to): keep that one.
    if (error instanceof AppError && error.code === "conflict") {
      return retryingRead(() => repo.findReply(ctx.db, ctx.userId, turn.userMessage.id));
    }
    throw error;
  }
}

function modelError(error: unknown): AppError {
  const inner = RetryError.isInstance(error) ? error.lastError : error;
  const name = (inner as { name?: unknown } | undefined)?.name;
  if (name === "TimeoutError" || name === "AbortError") {
    return new AppError("model_timeout", "The model took too long to answer", { cause: error });
  }
  const code: ErrorCode = "model_error";
  if (APICallError.isInstance(inner)) {
    const status = inner.statusCode ? ` (HTTP ${inner.statusCode})` : "";
    return new AppError(
      code,
      `The language model failed${status}; your message is saved, send it again to retry`,
      {
        cause: error,
      },
    );
  }
  return new AppError(
    code,
    "The language model failed; your message is saved, send it again to retry",
    {
      cause: error,
    },
  );
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message.slice(0, 500) : String(error).slice(0, 500);
}

function pickUsage(u: Record<string, unknown>): Record<string, number | undefined> {
  const out: Record<string, number | undefined> = {};
  for (const key of ["inputTokens", "outputTokens", "totalTokens"]) {
    const v = u[key];
    if (typeof v === "number") out[key] = v;
  }
  return out;
}
