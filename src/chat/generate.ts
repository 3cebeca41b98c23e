import {
  APICallError,
  type LanguageModel,
  type ModelMessage,
  RetryError,
  type TextStreamPart,
  type ToolSet,
} from "ai";
import type { Config } from "../config.ts";
import type { MessageStatus, StoredToolCall } from "../conversations/conversation.ts";
import { AppError } from "../errors.ts";
import { toolFailure } from "../tools/tool.ts";
import { systemPrompt } from "./prompts.ts";
import { runSteps } from "./step-loop.ts";

/** Receives the model's stream as it happens (SSE); never required for correctness. */
export type PartListener = (part: TextStreamPart<ToolSet>) => void;

/** What one generation produced: the reply to store, and how it ended. */
export interface Generated {
  text: string;
  toolCalls: StoredToolCall[];
  status: MessageStatus;
  usage: Record<string, number | undefined>;
  error: AppError | undefined;
  /** Characters of the system prompt the model was given (the context manifest). */
  systemChars?: number;
}

export interface GenerationLimits {
  maxSteps: number;
  /** Characters of text; a model that ignores max_tokens is still cut here. */
  maxChars: number;
}

/** The fold's accumulator: everything the stream has said so far. */
export interface Fold {
  steps: string[];
  stepText: string;
  totalChars: number;
  calls: Map<string, StoredToolCall>;
  finishReason: string | undefined;
  usage: Record<string, unknown>;
  error: AppError | undefined;
  /** The output limit was reached: the caller aborts the stream. */
  cut: boolean;
}

export function emptyFold(): Fold {
  return {
    steps: [],
    stepText: "",
    totalChars: 0,
    calls: new Map(),
    finishReason: undefined,
    usage: {},
    error: undefined,
    cut: false,
  };
}

/**
 * Folds one stream part into the accumulator: a reducer over `streamText`'s full stream,
 * testable without HTTP, a model or a database. Returns true when the part crossed the
 * output limit (the caller then aborts the stream).
 */
export function foldPart(
  fold: Fold,
  part: TextStreamPart<ToolSet>,
  limits: GenerationLimits,
): boolean {
  switch (part.type) {
    case "text-delta": {
      if (fold.cut) return false;
      // One huge chunk is cut too: only what fits under the limit is kept.
      const room = limits.maxChars - fold.totalChars;
      fold.stepText += part.text.length > room ? part.text.slice(0, Math.max(0, room)) : part.text;
      fold.totalChars += part.text.length;
      return cutAt(fold, limits);
    }
    case "tool-call":
      fold.calls.set(part.toolCallId, {
        id: part.toolCallId,
        name: part.toolName,
        arguments: part.input,
        result: null,
      });
      // The model's tool arguments are output too: they count against the same limit, but
      // the step's tools are let finish (a half-run step would leave effects unreported);
      // the stream is stopped at the end of the step.
      fold.totalChars += (JSON.stringify(part.input) ?? "").length;
      if (fold.totalChars > limits.maxChars) fold.cut = true;
      return false;
    case "tool-result": {
      const call = fold.calls.get(part.toolCallId);
      if (call) call.result = part.output;
      return false;
    }
    case "tool-error": {
      const call = fold.calls.get(part.toolCallId);
      if (call) call.result = toolFailure(part.error);
      return false;
    }
    case "finish-step":
      if (fold.stepText) fold.steps.push(fold.stepText);
      fold.stepText = "";
      return fold.cut;
    case "finish":
      fold.finishReason = part.finishReason;
      fold.usage = { ...part.totalUsage };
      return false;
    case "abort":
      if (!fold.cut)
        fold.error = new AppError("model_timeout", "The model took too long to answer");
      return false;
    case "error":
      fold.error = modelError(part.error);
      return false;
    default:
      return false;
  }
}

function cutAt(fold: Fold, limits: GenerationLimits): boolean {
  if (fold.totalChars <= limits.maxChars || fold.cut) return false;
  fold.cut = true;
  return true;
}

/** The accumulator, once the stream has ended, as the reply to store. */
export function finishFold(fold: Fold, limits: GenerationLimits): Generated {
  const steps = fold.stepText ? [...fold.steps, fold.stepText] : fold.steps;
  let text = steps.join("\n\n").trim();
  const { error, finishReason } = fold;
  let status: MessageStatus = error ? "error" : "complete";
  if (!error && (fold.cut || finishReason === "length")) status = "truncated";
  if (!error && finishReason === "tool-calls") {
    status = "truncated";
    text = `${text}${text ? "\n\n" : ""}I stopped after ${limits.maxSteps} steps without finishing. Please check your tasks and tell me what to do next.`;
  }
  return { text, toolCalls: [...fold.calls.values()], status, usage: pickUsage(fold.usage), error };
}

export interface GenerationDeps {
  model: LanguageModel;
  llm: Config["llm"];
}

/**
 * Step 5: runs the agent (bounded steps, output and wall clock; a model silent for
 * LLM_IDLE_TIMEOUT_MS is cut) with the task tools bound to `ctx`, and folds its stream.
 * Never throws for a model failure: that comes back as `error`, beside whatever was said.
 */
export async function generate(
  deps: GenerationDeps,
  input: {
    messages: ModelMessage[];
    tools: ToolSet;
    /** The user's effective zone (ctx.timezone): the prompt tells the model their date and time. */
    timezone?: string;
    now?: Date;
    /** Appended to the system prompt (a regenerated reply is told what the old one did). */
    note?: string | undefined;
    /** Ends the generation from outside (an early request given up: speculate.ts). */
    signal?: AbortSignal | undefined;
  },
  listener?: PartListener,
): Promise<Generated> {
  const { llm } = deps;
  const limits = { maxSteps: llm.maxSteps, maxChars: llm.maxOutputTokens * 8 };
  const limiter = new AbortController();
  const prompt = systemPrompt(input.now ?? new Date(), input.timezone ?? "UTC");
  const system = input.note ? `${prompt}\n\n${input.note}` : prompt;
  const signals = [limiter.signal, AbortSignal.timeout(llm.timeoutMs)];
  if (input.signal) signals.push(input.signal);

  const fold = emptyFold();
  // One timer, restarted by every part (refresh() re-queues it without a new Timeout, where
  // clearTimeout + setTimeout per part cost ~0.08 ms of CPU per turn).
  const watchdog = setTimeout(() => limiter.abort(new Error("model silent")), llm.idleTimeoutMs);
  try {
    // The agent's steps (step-loop.ts): the stream parts of the AI SDK's streamText, each
    // handed on as it happens.
    await runSteps(
      {
        model: deps.model,
        system,
        messages: input.messages,
        tools: input.tools,
        maxSteps: llm.maxSteps,
        maxOutputTokens: llm.maxOutputTokens,
        maxRetries: llm.maxRetries,
        signal: AbortSignal.any(signals),
      },
      (part) => {
        watchdog.refresh();
        listener?.(part);
        if (foldPart(fold, part, limits)) limiter.abort(new Error("output limit"));
      },
    );
  } catch (e) {
    fold.error ??= modelError(e);
  } finally {
    clearTimeout(watchdog);
  }
  return { ...finishFold(fold, limits), systemChars: system.length };
}

function modelError(error: unknown): AppError {
  const inner = RetryError.isInstance(error) ? error.lastError : error;
  const name = (inner as { name?: unknown } | undefined)?.name;
  if (name === "TimeoutError" || name === "AbortError") {
    return new AppError("model_timeout", "The model took too long to answer", { cause: error });
  }
  const status =
    APICallError.isInstance(inner) && inner.statusCode ? ` (HTTP ${inner.statusCode})` : "";
  return new AppError(
    "model_error",
    `The language model failed${status}; your message is saved, send it again to retry`,
    { cause: error },
  );
}

function pickUsage(u: Record<string, unknown>): Record<string, number | undefined> {
  const out: Record<string, number | undefined> = {};
  for (const key of ["inputTokens", "outputTokens", "totalTokens"]) {
    const v = u[key];
    if (typeof v === "number") out[key] = v;
  }
  return out;
}
