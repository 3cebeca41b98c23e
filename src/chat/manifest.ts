import type { ModelMessage, ToolSet } from "ai";
import { z } from "zod";
import type { Config } from "../config.ts";
import type { Message } from "../conversations/conversation.ts";
import { messageChars } from "./history.ts";
import { PROMPT_VERSION } from "./prompts.ts";

// Issue 19 item 3: every reply records what the model was given — ids and sizes, never a
// copy of the text — in messages.context, written by step B with the reply itself. Token
// counts per part are an estimate (characters / 4); the totals are the provider's usage.

/** Parts listed one by one (newest kept); the rest are counted in parts_omitted. */
export const PARTS_MAX = 60;
/** Tool names listed; the rest are counted. */
export const TOOLS_MAX = 40;

const estimate = (chars: number) => Math.ceil(chars / 4);
const Size = z.object({ chars: z.number(), tokens_estimate: z.number() });
const size = (chars: number) => ({ chars, tokens_estimate: estimate(chars) });

export const ContextManifestJson = z.object({
  version: z.literal(1),
  model: z.string(),
  settings: z.object({
    max_steps: z.number(),
    max_output_tokens: z.number(),
    history_max_messages: z.number(),
    history_max_chars: z.number(),
  }),
  system_prompt: Size.extend({ version: z.string() }),
  window: Size.extend({
    seqs: z.array(z.tuple([z.number(), z.number()])).describe("Seq ranges given, inclusive"),
    messages: z.number(),
    read: z.number().describe("Messages read from storage; the rest were cut or replaced"),
  }),
  parts: z.array(
    Size.extend({ seq: z.number(), role: z.string(), tool_calls: z.number(), id: z.string() }),
  ),
  parts_omitted: z.number(),
  earlier_tool_calls: Size.extend({ count: z.number() }).describe(
    "Tool calls already made in this turn (a re-run, or a regenerated reply) shown to the model",
  ),
  note: Size.nullable().describe("The system note of a regenerated reply"),
  tools: z.object({
    count: z.number(),
    names: z.array(z.string()),
    description_chars: z.number(),
  }),
  usage: z.object({
    input_tokens: z.number().nullable(),
    output_tokens: z.number().nullable(),
    total_tokens: z.number().nullable(),
  }),
  token_estimate: z.literal("characters / 4"),
});
export type ContextManifest = z.infer<typeof ContextManifestJson>;

export interface ManifestInput {
  modelName: string;
  llm: Config["llm"];
  history: Config["history"];
  systemChars: number;
  /** What the window read from storage, and what of it the model got (history.ts). */
  read: Message[];
  given: Message[];
  earlier: ModelMessage[];
  note: string | undefined;
  tools: ToolSet;
  usage: Record<string, number | undefined>;
}

/** The manifest of one reply: bounded (PARTS_MAX, TOOLS_MAX), a few kilobytes at most. */
export function buildManifest(input: ManifestInput): ContextManifest {
  const parts = input.given.map((m) => ({
    id: m.id,
    seq: m.seq,
    role: m.role,
    tool_calls: m.toolCalls?.length ?? 0,
    ...size(messageChars(m)),
  }));
  const windowChars = parts.reduce((sum, p) => sum + p.chars, 0);
  const names = Object.keys(input.tools).sort();
  const descriptionChars = Object.values(input.tools).reduce(
    (sum, t) => sum + (t.description?.length ?? 0),
    0,
  );
  const earlierCalls = input.earlier.flatMap((m) =>
    m.role === "assistant" && Array.isArray(m.content) ? m.content : [],
  );
  const number = (key: string) => input.usage[key] ?? null;
  return {
    version: 1,
    model: input.modelName,
    settings: {
      max_steps: input.llm.maxSteps,
      max_output_tokens: input.llm.maxOutputTokens,
      history_max_messages: input.history.maxMessages,
      history_max_chars: input.history.maxChars,
    },
    system_prompt: { version: PROMPT_VERSION, ...size(input.systemChars) },
    window: {
      seqs: seqRanges(input.given.map((m) => m.seq)),
      messages: input.given.length,
      read: input.read.length,
      ...size(windowChars),
    },
    parts: parts.slice(-PARTS_MAX),
    parts_omitted: Math.max(0, parts.length - PARTS_MAX),
    earlier_tool_calls: {
      count: earlierCalls.length,
      ...size(JSON.stringify(input.earlier).length),
    },
    note: input.note ? size(input.note.length) : null,
    tools: {
      count: names.length,
      names: names.slice(0, TOOLS_MAX),
      description_chars: descriptionChars,
    },
    usage: {
      input_tokens: number("inputTokens"),
      output_tokens: number("outputTokens"),
      total_tokens: number("totalTokens"),
    },
    token_estimate: "characters / 4",
  };
}

/** Ascending seqs as inclusive ranges: [1,2,3,5] → [[1,3],[5,5]]. */
export function seqRanges(seqs: number[]): [number, number][] {
  const out: [number, number][] = [];
  for (const seq of [...seqs].sort((a, b) => a - b)) {
    const last = out.at(-1);
    if (last && seq === last[1] + 1) last[1] = seq;
    else out.push([seq, seq]);
  }
  return out;
}
