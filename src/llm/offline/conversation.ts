/**
 * Reading the prompt the AI SDK hands the model: the last user message, the tool calls
 * and results that followed it in this turn (the multi-step loop), and the exchange
 * before it (for follow-ups such as "the second one" after "which one?").
 */
import type { LanguageModelV4Prompt, LanguageModelV4ToolResultOutput } from "@ai-sdk/provider";
import type { ToolError, ToolStep } from "./types.ts";

export interface Turn {
  userText: string;
  /** The system prompt (it carries the user's date, time and zone: clock.ts). */
  system?: string;
  /** Tool calls of this turn, in order, each with its result once it is in the prompt. */
  steps: ToolStep[];
  previousUserText?: string;
  previousAssistantText?: string;
  /** The tool calls of the previous exchange, with their results (a confirmation asked). */
  previousSteps?: ToolStep[];
  /** The last list_tasks call of the previous exchange, with its result ("show more"). */
  previousListing?: ToolStep;
  /** Tool calls anywhere in the prompt; new call ids continue from here. */
  toolCallCount: number;
}

type Message = LanguageModelV4Prompt[number];

function textOf(message: Message): string {
  if (typeof message.content === "string") return message.content;
  return message.content
    .map((part) => (part.type === "text" ? part.text : ""))
    .join(" ")
    .trim();
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `{ error: { code, message } }` (or `{ error: "…" }`) returned by a tool. */
function errorIn(value: unknown): ToolError | undefined {
  if (!isObject(value) || !("error" in value)) return undefined;
  const e = value.error;
  if (isObject(e)) {
    return {
      code: typeof e.code === "string" ? e.code : "error",
      message: typeof e.message === "string" ? e.message : JSON.stringify(e),
    };
  }
  return { code: "error", message: String(e) };
}

function parseText(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** Decode every tool-result output shape into a value or an error. */
export function decodeOutput(output: LanguageModelV4ToolResultOutput): {
  result?: unknown;
  error?: ToolError;
} {
  switch (output.type) {
    case "json": {
      const error = errorIn(output.value);
      return error ? { error } : { result: output.value };
    }
    case "text": {
      const value = parseText(output.value);
      const error = errorIn(value);
      return error ? { error } : { result: value };
    }
    case "content": {
      const text = output.value.map((p) => (p.type === "text" ? p.text : "")).join("");
      const value = parseText(text);
      const error = errorIn(value);
      return error ? { error } : { result: value };
    }
    case "error-json":
      return {
        error: errorIn(output.value) ?? { code: "error", message: JSON.stringify(output.value) },
      };
    case "error-text": {
      const value = parseText(output.value);
      return { error: errorIn(value) ?? { code: "error", message: output.value } };
    }
    case "execution-denied":
      return { error: { code: "denied", message: output.reason ?? "the action was not allowed" } };
  }
}

function asInput(input: unknown): Record<string, unknown> {
  const value = typeof input === "string" ? parseText(input) : input;
  return isObject(value) ? value : {};
}

/** The tool calls in `messages`, each with its decoded result once it is there. */
function stepsIn(messages: LanguageModelV4Prompt): ToolStep[] {
  const steps: ToolStep[] = [];
  const byId = new Map<string, ToolStep>();
  for (const message of messages) {
    if (message.role !== "assistant" && message.role !== "tool") continue;
    for (const part of message.content) {
      if (part.type === "tool-call") {
        const step: ToolStep = { toolName: part.toolName, input: asInput(part.input) };
        steps.push(step);
        byId.set(part.toolCallId, step);
      } else if (part.type === "tool-result") {
        const step = byId.get(part.toolCallId);
        if (step) Object.assign(step, decodeOutput(part.output));
      }
    }
  }
  return steps;
}

export function readTurn(prompt: LanguageModelV4Prompt): Turn {
  let lastUser = -1;
  let previousUser = -1;
  let toolCallCount = 0;
  prompt.forEach((message, i) => {
    if (message.role === "user") {
      previousUser = lastUser;
      lastUser = i;
    }
    if (message.role === "assistant") {
      toolCallCount += message.content.filter((p) => p.type === "tool-call").length;
    }
  });

  const steps = stepsIn(prompt.slice(lastUser + 1));
  const between = previousUser >= 0 ? prompt.slice(previousUser + 1, lastUser) : [];
  const previousSteps = stepsIn(between);
  const previousListing = previousSteps.findLast(
    (st) => st.toolName === "list_tasks" && st.result !== undefined,
  );
  const system = prompt
    .filter((m) => m.role === "system")
    .map((m) => (typeof m.content === "string" ? m.content : ""))
    .join("\n");
  const userMessage = prompt[lastUser];
  const previous = previousUser >= 0 ? prompt[previousUser] : undefined;
  const assistantText = between
    .filter((m) => m.role === "assistant")
    .map(textOf)
    .join(" ")
    .trim();
  return {
    userText: userMessage ? textOf(userMessage) : "",
    ...(system ? { system } : {}),
    steps,
    previousUserText: previous ? textOf(previous) : undefined,
    previousAssistantText: assistantText || undefined,
    previousSteps,
    ...(previousListing ? { previousListing } : {}),
    toolCallCount,
  };
}
