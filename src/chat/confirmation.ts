import type {
  LanguageModelV4Content,
  LanguageModelV4GenerateResult,
  LanguageModelV4Middleware,
  LanguageModelV4Prompt,
  LanguageModelV4StreamPart,
  LanguageModelV4Usage,
} from "@ai-sdk/provider";
import { type LanguageModel, wrapLanguageModel } from "ai";

/**
 * Confirmation for bulk and risky actions (issue 13), for ANY model — the offline assistant
 * and a real one alike: a language-model middleware sees each step's tool calls before the
 * AI SDK runs them. A step that would delete or complete more than one task in the turn, or
 * delete a task whose title shares no word with what the user said (a fuzzy pick), is
 * rewritten: its destructive calls are replaced by ONE call of the hidden tool
 * `hold_for_confirmation`, which stores them as the conversation's pending action and returns
 * the question; the next model call of the step is then answered with that question
 * without asking the model. The user's next message confirms through
 * `confirm_pending_action` (src/chat/pending-tools.ts). Pure: no database, no I/O.
 */

/** Hidden from the model (the middleware removes it from the tools it is shown). */
export const HOLD_TOOL = "hold_for_confirmation";
export const CONFIRM_TOOL = "confirm_pending_action";
export const CANCEL_TOOL = "cancel_pending_action";

/** The tools whose calls can be held. */
export const HOLDABLE = ["delete_task", "complete_task", "update_task"] as const;

export interface HoldInput {
  reason: "bulk" | "fuzzy";
  calls: Array<{ name: string; input: Record<string, unknown> }>;
}

interface Call {
  toolCallId: string;
  toolName: string;
  input: string;
}

type Message = LanguageModelV4Prompt[number];

function parseInput(input: unknown): Record<string, unknown> | undefined {
  try {
    const value = typeof input === "string" ? JSON.parse(input) : input;
    return value && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** A call that deletes or completes one task: its task number, else undefined. */
function destructiveTask(toolName: string, input: unknown): number | undefined {
  const args = parseInput(input);
  const id = args?.task_id;
  if (typeof id !== "number") return undefined;
  if (toolName === "delete_task" || toolName === "complete_task") return id;
  if (toolName === "update_task" && args?.completed === true) return id;
  return undefined;
}

function textOf(message: Message | undefined): string {
  if (!message) return "";
  if (typeof message.content === "string") return message.content;
  return message.content
    .map((part) => (part.type === "text" ? part.text : ""))
    .join(" ")
    .trim();
}

/** The parts of the prompt the rules read. */
interface PromptView {
  userText: string;
  previousAssistantText: string;
  /** Tasks destroyed by earlier steps of this turn. */
  done: Set<number>;
  /** Titles of the tasks this turn's list_tasks calls returned, by number. */
  listed: Map<number, string>;
  /** The calls held in the previous exchange, if it asked for a confirmation. */
  previousHold?: HoldInput;
}

function readPrompt(prompt: LanguageModelV4Prompt): PromptView {
  let last = -1;
  let previous = -1;
  prompt.forEach((m, i) => {
    if (m.role === "user") {
      previous = last;
      last = i;
    }
  });
  const view: PromptView = {
    userText: textOf(prompt[last]),
    previousAssistantText: "",
    done: new Set(),
    listed: new Map(),
  };
  for (const message of prompt.slice(last + 1)) {
    if (message.role === "assistant") {
      for (const part of message.content) {
        if (part.type !== "tool-call") continue;
        const id = destructiveTask(part.toolName, part.input);
        if (id !== undefined) view.done.add(id);
      }
    }
    if (message.role === "tool") {
      for (const part of message.content) {
        if (part.type !== "tool-result" || part.toolName !== "list_tasks") continue;
        const value = part.output.type === "json" ? part.output.value : undefined;
        const items = (value as { items?: unknown } | undefined)?.items;
        if (!Array.isArray(items)) continue;
        for (const item of items as Array<{ id?: unknown; title?: unknown }>) {
          if (typeof item.id === "number" && typeof item.title === "string") {
            view.listed.set(item.id, item.title);
          }
        }
      }
    }
  }
  if (previous >= 0) {
    const between = prompt.slice(previous + 1, last);
    view.previousAssistantText = between
      .filter((m) => m.role === "assistant")
      .map(textOf)
      .join(" ");
    for (const message of between) {
      if (message.role !== "assistant") continue;
      for (const part of message.content) {
        if (part.type === "tool-call" && part.toolName === HOLD_TOOL) {
          const input = parseInput(part.input) as HoldInput | undefined;
          if (input && Array.isArray(input.calls)) view.previousHold = input;
        }
      }
    }
  }
  return view;
}

/** Lowercase word stems of at least 3 letters ("washed" → "wash", "bills" → "bill"). */
function stems(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [])
    .filter((w) => w.length >= 2)
    .map((w) => w.replace(/(?:ing|ed|es|s)$/u, "") || w);
}

const POSITION =
  /\b(?:last|latest|newest|oldest|first|second|third|fourth|fifth|final|bottom|top|recent|previous|next|\d+(?:st|nd|rd|th)|all|every|everything|completed|finished|done|pending|open|remaining|checked)\b/iu;

const STOP = new Set(
  (
    "the task todo item one and for from list that this it its to of on in my me an is do up " +
    "at so no or by be we us as please delete remove get rid off can you could just"
  ).split(" "),
);

/**
 * A delete of a task the user did not name: the number is not in their message, its title
 * (as this turn's list showed it) shares no word with the message, and the previous reply
 * did not offer it (then the user picked it from a question).
 */
function fuzzyPick(id: number, view: PromptView): boolean {
  const title = view.listed.get(id);
  if (title === undefined) return false;
  if (new RegExp(`(?<![\\d])${id}(?![\\d])`, "u").test(view.userText)) return false;
  const before = view.previousAssistantText;
  if (before.includes(title) || new RegExp(`\\b${id}\\b`, "u").test(before)) return false;
  // A place in the list ("the last one", "the second task") names a task as surely as words.
  if (POSITION.test(view.userText)) return false;
  const said = stems(view.userText).filter((w) => !STOP.has(w));
  const named = stems(title).filter((w) => !STOP.has(w));
  const close = (a: string, b: string) =>
    a === b || (a.length >= 4 && b.length >= 4 && (a.startsWith(b) || b.startsWith(a)));
  return !said.some((a) => named.some((b) => close(a, b)));
}

const sameCalls = (held: HoldInput, calls: Call[]): boolean => {
  const key = (name: string, input: unknown) =>
    `${name}:${String(destructiveTask(name, input) ?? "")}`;
  const a = held.calls.map((c) => key(c.name, c.input)).sort();
  const b = calls.map((c) => key(c.toolName, c.input)).sort();
  return a.length === b.length && a.every((k, i) => k === b[i]);
};

/**
 * The step's calls as they may run: unchanged (undefined), or with the destructive ones
 * replaced by one hold call — or, when they repeat exactly what the previous reply asked
 * about (a model that answers "yes" by asking again), by confirm_pending_action.
 */
export function gateCalls(calls: Call[], prompt: LanguageModelV4Prompt): Call[] | undefined {
  const destructive = calls.filter((c) => destructiveTask(c.toolName, c.input) !== undefined);
  const first = destructive[0];
  if (!first) return undefined;
  const view = readPrompt(prompt);
  const kept = calls.filter((c) => !destructive.includes(c));
  if (view.previousHold && sameCalls(view.previousHold, destructive)) {
    return [...kept, { toolCallId: first.toolCallId, toolName: CONFIRM_TOOL, input: "{}" }];
  }
  const ids = new Set(view.done);
  for (const c of destructive) ids.add(destructiveTask(c.toolName, c.input) as number);
  let reason: HoldInput["reason"] | undefined;
  if (ids.size > 1) reason = "bulk";
  else if (first.toolName === "delete_task" && view.done.size === 0) {
    const id = destructiveTask(first.toolName, first.input) as number;
    if (fuzzyPick(id, view)) reason = "fuzzy";
  }
  if (!reason) return undefined;
  const hold: HoldInput = {
    reason,
    calls: destructive.map((c) => ({ name: c.toolName, input: parseInput(c.input) ?? {} })),
  };
  return [
    ...kept,
    { toolCallId: `${first.toolCallId}-hold`, toolName: HOLD_TOOL, input: JSON.stringify(hold) },
  ];
}

/**
 * When the prompt ends with the result of a hold, the question to answer with (the model
 * is not asked: the reply must be the question, whatever the model). Otherwise undefined.
 */
export function heldQuestion(prompt: LanguageModelV4Prompt): string | undefined {
  const last = prompt.at(-1);
  if (last?.role !== "tool") return undefined;
  for (const part of last.content) {
    if (part.type !== "tool-result" || part.toolName !== HOLD_TOOL) continue;
    const value = part.output.type === "json" ? part.output.value : undefined;
    const question = (value as { question?: unknown } | undefined)?.question;
    return typeof question === "string"
      ? question
      : "I couldn't find those tasks any more, so I changed nothing.";
  }
  return undefined;
}

const NO_USAGE: LanguageModelV4Usage = {
  inputTokens: { total: 0, noCache: 0, cacheRead: 0, cacheWrite: 0 },
  outputTokens: { total: 0, text: 0, reasoning: 0 },
};

function textParts(text: string): LanguageModelV4StreamPart[] {
  return [
    { type: "stream-start", warnings: [] },
    { type: "text-start", id: "confirm-0" },
    { type: "text-delta", id: "confirm-0", delta: text },
    { type: "text-end", id: "confirm-0" },
    { type: "finish", usage: NO_USAGE, finishReason: { unified: "stop", raw: "stop" } },
  ];
}

function streamOf(parts: LanguageModelV4StreamPart[]): ReadableStream<LanguageModelV4StreamPart> {
  return new ReadableStream({
    start(controller) {
      for (const part of parts) controller.enqueue(part);
      controller.close();
    },
  });
}

const isToolPart = (part: LanguageModelV4StreamPart): boolean =>
  part.type === "tool-call" ||
  part.type === "tool-input-start" ||
  part.type === "tool-input-delta" ||
  part.type === "tool-input-end";

/** The middleware: wrap a model with `wrapLanguageModel({ model, middleware })`. */
export function confirmationMiddleware(): LanguageModelV4Middleware {
  return {
    specificationVersion: "v4",
    async transformParams({ params }) {
      if (!params.tools) return params;
      return { ...params, tools: params.tools.filter((t) => t.name !== HOLD_TOOL) };
    },
    async wrapGenerate({ doGenerate, params }): Promise<LanguageModelV4GenerateResult> {
      const question = heldQuestion(params.prompt);
      if (question !== undefined) {
        return {
          content: [{ type: "text", text: question }],
          finishReason: { unified: "stop", raw: "stop" },
          usage: NO_USAGE,
          warnings: [],
        };
      }
      const result = await doGenerate();
      const calls = result.content.filter(
        (c): c is Extract<LanguageModelV4Content, { type: "tool-call" }> => c.type === "tool-call",
      );
      const gated = gateCalls(calls, params.prompt);
      if (!gated) return result;
      return {
        ...result,
        content: [
          ...result.content.filter((c) => c.type !== "tool-call"),
          ...gated.map((c) => ({ type: "tool-call" as const, ...c })),
        ],
      };
    },
    async wrapStream({ doStream, params }) {
      const question = heldQuestion(params.prompt);
      if (question !== undefined) return { stream: streamOf(textParts(question)) };
      const result = await doStream();
      // The step's tool parts are held until the step ends: only then is it known whether
      // they may run as they are.
      const held: LanguageModelV4StreamPart[] = [];
      const release = (controller: TransformStreamDefaultController<LanguageModelV4StreamPart>) => {
        if (held.length === 0) return;
        const calls = held.flatMap((p) =>
          p.type === "tool-call"
            ? [{ toolCallId: p.toolCallId, toolName: p.toolName, input: p.input }]
            : [],
        );
        const gated = gateCalls(calls, params.prompt);
        if (gated) {
          for (const c of gated) controller.enqueue({ type: "tool-call", ...c });
        } else {
          for (const part of held) controller.enqueue(part);
        }
        held.length = 0;
      };
      const stream = result.stream.pipeThrough(
        new TransformStream<LanguageModelV4StreamPart, LanguageModelV4StreamPart>({
          transform(part, controller) {
            if (isToolPart(part)) {
              held.push(part);
              return;
            }
            if (part.type === "finish") release(controller);
            controller.enqueue(part);
          },
          flush(controller) {
            release(controller);
          },
        }),
      );
      return { ...result, stream };
    },
  };
}

/** `model` with the confirmation middleware around it (a model id string is left as is). */
export function withConfirmation(model: LanguageModel): LanguageModel {
  if (typeof model === "string") return model;
  return wrapLanguageModel({ model, middleware: confirmationMiddleware() });
}
