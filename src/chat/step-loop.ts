import type {
  JSONValue,
  LanguageModelV4,
  LanguageModelV4CallOptions,
  LanguageModelV4FunctionTool,
  LanguageModelV4Message,
  LanguageModelV4Prompt,
  LanguageModelV4StreamPart,
  LanguageModelV4Usage,
  SharedV4ProviderMetadata,
} from "@ai-sdk/provider";
import {
  APICallError,
  asSchema,
  createIdGenerator,
  InvalidToolInputError,
  JSONParseError,
  type LanguageModel,
  type ModelMessage,
  NoSuchToolError,
  RetryError,
  type TextStreamPart,
  type ToolSet,
} from "ai";
import { VERSION } from "../version.ts";

// The agent's step loop (docs/decisions.md, "Our own step loop"): what `streamText` did for
// a turn — the prompt in the provider's format, the tools offered, each step's stream read,
// tool calls parsed and run, their results given back in the next step, retries of a
// refused request — written over the provider's `doStream` directly. It emits the same
// stream parts `streamText`'s full stream did (TextStreamPart), so the fold (generate.ts),
// the SSE converter (the SDK's own toUIMessageStream) and the metrics read them unchanged
// (test/chat/step-loop.test.ts compares the two part for part). The SDK's pipeline of web
// streams, telemetry and bookkeeping around each part cost ~2.6–2.9 ms of CPU per JSON
// tool turn that this loop does not spend (bench/ab.ts; docs/decisions.md).

type Part = TextStreamPart<ToolSet>;

export interface StepLoopOptions {
  model: LanguageModel;
  system: string;
  messages: ModelMessage[];
  tools: ToolSet;
  maxSteps: number;
  maxOutputTokens: number;
  maxRetries: number;
  /** Ends the loop: an `abort` part is the last one emitted. */
  signal: AbortSignal;
}

/** Who asks, as the model's server sees it (the provider adds its own part). */
const USER_AGENT = { "user-agent": `tasktalk/${VERSION}` };
/** The first delay before a retried request, doubled each time (the AI SDK's default). */
const RETRY_DELAY_MS = 2000;
/** A server's retry-after is followed up to this long (the AI SDK's bound). */
const RETRY_AFTER_MAX_MS = 60_000;

/**
 * Runs the agent's steps, emitting each stream part to `emit` as it happens. Never throws:
 * a failure is an `error` part, an abort an `abort` part (then nothing more).
 */
export async function runSteps(
  options: StepLoopOptions,
  emit: (part: Part) => void,
): Promise<void> {
  const { signal, tools } = options;
  const ids = { text: idReserver(), reasoning: idReserver() };
  let total: Usage | undefined;
  emit({ type: "start" });
  try {
    const model = languageModelV4(options.model);
    const prompt: LanguageModelV4Prompt = [
      { role: "system", content: options.system },
      ...options.messages.map(toPromptMessage),
    ];
    const offered = await offeredTools(tools);
    for (let step = 1; ; step++) {
      const result = await withRetries(
        () =>
          model.doStream({
            prompt,
            maxOutputTokens: options.maxOutputTokens,
            ...(offered ? { tools: offered, toolChoice: { type: "auto" } } : {}),
            abortSignal: signal,
            headers: USER_AGENT,
          } satisfies LanguageModelV4CallOptions),
        options.maxRetries,
        signal,
      );
      emit({ type: "start-step", request: result.request ?? {}, warnings: [] } as Part);
      const ended = await readStep(result.stream, tools, ids, signal, emit);
      if (ended === "aborted") return abortWith(signal, emit);
      total = total ? addUsage(total, ended.usage) : ended.usage;
      emit({
        type: "finish-step",
        finishReason: ended.finishReason,
        rawFinishReason: ended.rawFinishReason,
        usage: ended.usage,
        providerMetadata: ended.providerMetadata,
      } as Part);
      const more = ended.calls.length > 0 && step < options.maxSteps;
      if (more) prompt.push(...ended.messages);
      if (signal.aborted) return abortWith(signal, emit);
      if (!more) {
        emit({
          type: "finish",
          finishReason: ended.finishReason,
          rawFinishReason: ended.rawFinishReason,
          totalUsage: total,
        } as Part);
        return;
      }
    }
  } catch (error) {
    if (signal.aborted) return abortWith(signal, emit);
    emit({ type: "error", error });
  }
}

/**
 * A part id unique in the whole run: a provider numbers its text parts per response
 * ("txt-0" in every step), the SDK renamed a repeated one, and a UI client keys parts by it.
 */
function idReserver(): (id: string) => string {
  const used = new Set<string>();
  return (id) => {
    let unique = id;
    while (used.has(unique)) unique = newPartId();
    used.add(unique);
    return unique;
  };
}
const newPartId = createIdGenerator({ prefix: "aitxt", size: 24 });

function abortWith(signal: AbortSignal, emit: (part: Part) => void): void {
  emit({ type: "abort", reason: String(signal.reason ?? "") } as Part);
}

function languageModelV4(model: LanguageModel): LanguageModelV4 {
  if (typeof model === "string" || model.specificationVersion !== "v4") {
    throw new Error("the step loop needs a LanguageModelV4 instance");
  }
  return model as LanguageModelV4;
}

/** The tools as the provider is given them (the SDK's prepareTools), in their set's order. */
async function offeredTools(tools: ToolSet): Promise<LanguageModelV4FunctionTool[] | undefined> {
  const offered: LanguageModelV4FunctionTool[] = [];
  for (const [name, tool] of Object.entries(tools)) {
    const description = typeof tool.description === "string" ? tool.description : undefined;
    offered.push({
      type: "function",
      name,
      inputSchema: await asSchema(tool.inputSchema).jsonSchema,
      ...(description !== undefined ? { description } : {}),
      ...(tool.providerOptions != null ? { providerOptions: tool.providerOptions } : {}),
    } as LanguageModelV4FunctionTool);
  }
  return offered.length > 0 ? offered : undefined;
}

/** One stored message as the provider reads it (the SDK's convertToLanguageModelMessage). */
function toPromptMessage(message: ModelMessage): LanguageModelV4Message {
  switch (message.role) {
    case "system":
      return { role: "system", content: message.content };
    case "user":
      if (typeof message.content === "string") {
        return { role: "user", content: [{ type: "text", text: message.content }] };
      }
      return {
        role: "user",
        content: message.content.flatMap((part) =>
          part.type === "text" && part.text !== ""
            ? [{ type: "text" as const, text: part.text }]
            : [],
        ),
      };
    case "assistant":
      if (typeof message.content === "string") {
        return { role: "assistant", content: [{ type: "text", text: message.content }] };
      }
      return {
        role: "assistant",
        content: message.content.flatMap((part): AssistantPart[] => {
          if (part.type === "text")
            return part.text === "" ? [] : [{ type: "text" as const, text: part.text }];
          if (part.type === "tool-call") {
            return [
              {
                type: "tool-call" as const,
                toolCallId: part.toolCallId,
                toolName: part.toolName,
                input: part.input,
              },
            ];
          }
          return [];
        }),
      };
    case "tool":
      return {
        role: "tool",
        content: message.content.flatMap((part) =>
          part.type === "tool-result"
            ? [
                {
                  type: "tool-result" as const,
                  toolCallId: part.toolCallId,
                  toolName: part.toolName,
                  output: part.output,
                },
              ]
            : [],
        ),
      } as LanguageModelV4Message;
  }
}

/** Usage as the SDK reports it (asLanguageModelUsage), summed over steps (addLanguageModelUsage). */
interface Usage {
  inputTokens: number | undefined;
  inputTokenDetails: {
    noCacheTokens: number | undefined;
    cacheReadTokens: number | undefined;
    cacheWriteTokens: number | undefined;
  };
  outputTokens: number | undefined;
  outputTokenDetails: { textTokens: number | undefined; reasoningTokens: number | undefined };
  totalTokens: number | undefined;
  raw?: unknown;
}

function asUsage(usage: LanguageModelV4Usage | undefined): Usage {
  return {
    inputTokens: usage?.inputTokens.total,
    inputTokenDetails: {
      noCacheTokens: usage?.inputTokens.noCache,
      cacheReadTokens: usage?.inputTokens.cacheRead,
      cacheWriteTokens: usage?.inputTokens.cacheWrite,
    },
    outputTokens: usage?.outputTokens.total,
    outputTokenDetails: {
      textTokens: usage?.outputTokens.text,
      reasoningTokens: usage?.outputTokens.reasoning,
    },
    totalTokens: add(usage?.inputTokens.total, usage?.outputTokens.total),
    ...(usage?.raw != null ? { raw: usage.raw } : {}),
  };
}

function addUsage(a: Usage, b: Usage): Usage {
  return {
    inputTokens: add(a.inputTokens, b.inputTokens),
    inputTokenDetails: {
      noCacheTokens: add(a.inputTokenDetails.noCacheTokens, b.inputTokenDetails.noCacheTokens),
      cacheReadTokens: add(
        a.inputTokenDetails.cacheReadTokens,
        b.inputTokenDetails.cacheReadTokens,
      ),
      cacheWriteTokens: add(
        a.inputTokenDetails.cacheWriteTokens,
        b.inputTokenDetails.cacheWriteTokens,
      ),
    },
    outputTokens: add(a.outputTokens, b.outputTokens),
    outputTokenDetails: {
      textTokens: add(a.outputTokenDetails.textTokens, b.outputTokenDetails.textTokens),
      reasoningTokens: add(
        a.outputTokenDetails.reasoningTokens,
        b.outputTokenDetails.reasoningTokens,
      ),
    },
    totalTokens: add(a.totalTokens, b.totalTokens),
  };
}

function add(a: number | undefined, b: number | undefined): number | undefined {
  return a == null && b == null ? undefined : (a ?? 0) + (b ?? 0);
}

interface StepEnd {
  finishReason: string;
  rawFinishReason: string | undefined;
  usage: Usage;
  providerMetadata: SharedV4ProviderMetadata | undefined;
  /** The step's client tool calls, each with its result or error given back. */
  calls: string[];
  /** The step as the next one's prompt reads it: the model's message, then the results. */
  messages: LanguageModelV4Message[];
}

type AssistantPart = Extract<LanguageModelV4Message, { role: "assistant" }>["content"][number];
type ToolResultPart = Extract<
  Extract<LanguageModelV4Message, { role: "tool" }>["content"][number],
  { type: "tool-result" }
>;

/**
 * Reads one step's stream: its parts emitted as the SDK's full stream had them, each tool
 * call run as soon as it is complete (in parallel, as the SDK does), and the step's end
 * awaited until every call has its result.
 */
async function readStep(
  stream: ReadableStream<LanguageModelV4StreamPart>,
  tools: ToolSet,
  ids: { text: (id: string) => string; reasoning: (id: string) => string },
  signal: AbortSignal,
  emit: (part: Part) => void,
): Promise<StepEnd | "aborted"> {
  const content: AssistantPart[] = [];
  // The step's open text and reasoning parts by the provider's id: the run's id, the text.
  const open = new Map<string, { id: string; entry: { text: string } }>();
  const results: Array<ToolResultPart | undefined> = [];
  const running: Promise<void>[] = [];
  const calls: string[] = [];
  let finish: Extract<LanguageModelV4StreamPart, { type: "finish" }> | undefined;
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value: part } = await reader.read();
      if (done) break;
      switch (part.type) {
        case "text-start":
        case "reasoning-start": {
          const text = part.type === "text-start";
          const id = (text ? ids.text : ids.reasoning)(part.id);
          const entry = { type: text ? "text" : "reasoning", text: "" };
          open.set(`${text ? "t" : "r"}${part.id}`, { id, entry });
          content.push(
            (part.providerMetadata != null
              ? { ...entry, providerOptions: part.providerMetadata }
              : entry) as AssistantPart,
          );
          emit({ ...part, id } as Part);
          break;
        }
        case "text-delta":
        case "reasoning-delta": {
          const key = `${part.type === "text-delta" ? "t" : "r"}${part.id}`;
          const known = open.get(key);
          if (known) known.entry.text += part.delta;
          if (part.delta.length === 0 && part.providerMetadata == null) break;
          emit({
            type: part.type,
            id: known?.id ?? part.id,
            text: part.delta,
            ...(part.providerMetadata != null ? { providerMetadata: part.providerMetadata } : {}),
          } as Part);
          break;
        }
        case "text-end":
        case "reasoning-end": {
          const key = `${part.type === "text-end" ? "t" : "r"}${part.id}`;
          emit({ ...part, id: open.get(key)?.id ?? part.id } as Part);
          open.delete(key);
          break;
        }
        case "tool-input-start":
          emit({ ...part, dynamic: part.dynamic ?? false } as Part);
          break;
        case "tool-input-delta":
        case "tool-input-end":
          emit(part as Part);
          break;
        case "tool-call": {
          const call = parseCall(part, tools);
          const index = calls.length;
          calls.push(call.toolCallId);
          results.push(undefined);
          content.push({
            type: "tool-call",
            toolCallId: call.toolCallId,
            toolName: call.toolName,
            input: call.error && typeof call.input !== "object" ? {} : call.input,
            ...(part.providerMetadata != null ? { providerOptions: part.providerMetadata } : {}),
          } as AssistantPart);
          if (call.error) {
            emit({
              type: "tool-call",
              toolCallId: call.toolCallId,
              toolName: call.toolName,
              input: call.input,
              dynamic: true,
              invalid: true,
              error: call.error,
            } as Part);
            const message = errorMessage(call.error);
            emit({
              type: "tool-error",
              toolCallId: call.toolCallId,
              toolName: call.toolName,
              input: call.input,
              error: message,
              dynamic: true,
            } as Part);
            results[index] = toolResult(call, { type: "error-text", value: message });
            break;
          }
          emit({
            type: "tool-call",
            toolCallId: call.toolCallId,
            toolName: call.toolName,
            input: call.input,
            ...(part.providerMetadata != null ? { providerMetadata: part.providerMetadata } : {}),
          } as Part);
          running.push(
            execute(call, tools, signal, emit).then((output) => {
              results[index] = toolResult(call, output);
            }),
          );
          break;
        }
        case "finish":
          finish = part;
          break;
        case "error":
          emit({ type: "error", error: part.error });
          break;
        case "source":
        case "file":
          emit(part as Part);
          break;
        default:
          // stream-start, response-metadata, raw, provider-executed results: not ours.
          break;
      }
    }
  } catch (error) {
    // The response is let go; tools already running finish (their effects reach the
    // reply), then the loop ends.
    reader.cancel(error).catch(() => {});
    await Promise.all(running);
    if (signal.aborted) return "aborted";
    throw error;
  } finally {
    reader.releaseLock();
  }
  await Promise.all(running);
  if (signal.aborted) return "aborted";
  const messages: LanguageModelV4Message[] = [];
  const said = content.filter(
    (p) => (p.type !== "text" && p.type !== "reasoning") || p.text !== "",
  );
  if (said.length > 0) messages.push({ role: "assistant", content: said });
  const given = results.filter((r): r is ToolResultPart => r !== undefined);
  if (given.length > 0) messages.push({ role: "tool", content: given });
  return {
    finishReason: finish?.finishReason.unified ?? "other",
    rawFinishReason: finish?.finishReason.raw,
    usage: asUsage(finish?.usage),
    providerMetadata: finish?.providerMetadata,
    // A call left without a result (none here: every tool runs) would end the loop.
    calls: given.length === calls.length ? calls : [],
    messages,
  };
}

interface ParsedCall {
  toolCallId: string;
  toolName: string;
  input: unknown;
  error?: Error;
}

/** The SDK's parseToolCall: an empty input is {}, an unknown tool or bad JSON an error. */
function parseCall(
  part: Extract<LanguageModelV4StreamPart, { type: "tool-call" }>,
  tools: ToolSet,
): ParsedCall {
  const { toolCallId, toolName } = part;
  const text = part.input;
  let input: unknown = text;
  let failure: unknown;
  try {
    input = text.trim() === "" ? {} : JSON.parse(text);
  } catch (error) {
    failure = error;
  }
  if (!Object.hasOwn(tools, toolName)) {
    return {
      toolCallId,
      toolName,
      input,
      error: new NoSuchToolError({ toolName, availableTools: Object.keys(tools) }),
    };
  }
  if (failure === undefined && isPolluting(input)) {
    failure = new SyntaxError("Object contains forbidden prototype property");
  }
  if (failure !== undefined) {
    return {
      toolCallId,
      toolName,
      input: text,
      error: new InvalidToolInputError({
        toolName,
        toolInput: text,
        cause: new JSONParseError({ text, cause: failure }),
      }),
    };
  }
  return { toolCallId, toolName, input };
}

/** The SDK's secure JSON parse refuses `__proto__` and `constructor.prototype` keys. */
function isPolluting(value: unknown): boolean {
  if (value === null || typeof value !== "object") return false;
  for (const key of Object.keys(value)) {
    if (key === "__proto__") return true;
    const child = (value as Record<string, unknown>)[key];
    if (key === "constructor" && child && typeof child === "object" && "prototype" in child) {
      return true;
    }
    if (isPolluting(child)) return true;
  }
  return false;
}

/** Runs one call; its result (or error) is emitted and returned as the model's output. */
async function execute(
  call: ParsedCall,
  tools: ToolSet,
  signal: AbortSignal,
  emit: (part: Part) => void,
): Promise<ToolResultPart["output"]> {
  const tool = tools[call.toolName];
  try {
    if (!tool?.execute) throw new NoSuchToolError({ toolName: call.toolName });
    const output: unknown = await tool.execute(
      call.input as never,
      {
        toolCallId: call.toolCallId,
        messages: [],
        abortSignal: signal,
      } as never,
    );
    emit({
      type: "tool-result",
      toolCallId: call.toolCallId,
      toolName: call.toolName,
      input: call.input,
      output,
      dynamic: false,
    } as Part);
    return typeof output === "string"
      ? { type: "text", value: output }
      : { type: "json", value: toJsonValue(output) };
  } catch (error) {
    emit({
      type: "tool-error",
      toolCallId: call.toolCallId,
      toolName: call.toolName,
      input: call.input,
      error,
      dynamic: false,
    } as Part);
    return { type: "error-text", value: errorMessage(error) };
  }
}

function toolResult(call: ParsedCall, output: ToolResultPart["output"]): ToolResultPart {
  return {
    type: "tool-result",
    toolCallId: call.toolCallId,
    toolName: call.toolName,
    output,
  } as ToolResultPart;
}

/** A tool's output as plain JSON (the SDK's toJSONValue: toJSON applied, undefined dropped). */
function toJsonValue(value: unknown): JSONValue {
  if (value === undefined) return null;
  return JSON.parse(JSON.stringify(value)) as JSONValue;
}

/** How the SDK tells the model of a failure (getErrorMessage: the error's name and message). */
function errorMessage(error: unknown): string {
  if (error == null) return "unknown error";
  if (typeof error === "string") return error;
  if (error instanceof Error) return error.toString();
  return JSON.stringify(error);
}

/**
 * Calls `request` again after a retryable refusal (HTTP 408, 409, 429, 5xx, a refused
 * connection: the provider marks them), up to `maxRetries` times, waiting 2 s, 4 s, … or
 * what the server's retry-after says when that is under a minute; the errors of several
 * attempts end in one RetryError (the SDK's retryWithExponentialBackoff).
 */
async function withRetries<T>(
  request: () => PromiseLike<T>,
  maxRetries: number,
  signal: AbortSignal,
): Promise<T> {
  const errors: unknown[] = [];
  let backoff = RETRY_DELAY_MS;
  for (;;) {
    try {
      return await request();
    } catch (error) {
      if (signal.aborted || maxRetries === 0) throw error;
      errors.push(error);
      const message = errorMessage(error);
      if (errors.length > maxRetries) {
        throw new RetryError({
          message: `Failed after ${errors.length} attempts. Last error: ${message}`,
          reason: "maxRetriesExceeded",
          errors,
        });
      }
      if (!(APICallError.isInstance(error) && error.isRetryable)) {
        if (errors.length === 1) throw error;
        throw new RetryError({
          message: `Failed after ${errors.length} attempts with non-retryable error: '${message}'`,
          reason: "errorNotRetryable",
          errors,
        });
      }
      await sleep(retryDelay(error, backoff), signal);
      backoff *= 2;
    }
  }
}

function retryDelay(error: APICallError, backoff: number): number {
  const headers = error.responseHeaders;
  if (!headers) return backoff;
  let ms: number | undefined;
  const afterMs = headers["retry-after-ms"];
  if (afterMs) {
    const value = Number.parseFloat(afterMs);
    if (!Number.isNaN(value)) ms = value;
  }
  const after = headers["retry-after"];
  if (after && ms === undefined) {
    const seconds = Number.parseFloat(after);
    ms = Number.isNaN(seconds) ? Date.parse(after) - Date.now() : seconds * 1000;
  }
  if (
    ms !== undefined &&
    !Number.isNaN(ms) &&
    ms >= 0 &&
    (ms < RETRY_AFTER_MAX_MS || ms < backoff)
  ) {
    return ms;
  }
  return backoff;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
