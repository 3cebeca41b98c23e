import { isDeepStrictEqual } from "node:util";
import type { ToolSet } from "ai";
import type { RequestContext } from "../context.ts";
import type { StoredToolCall } from "../conversations/conversation.ts";
import type { Db } from "../db/client.ts";
import { inTransaction } from "../db/transaction.ts";
import { countedToolRunner } from "../ops/metrics.ts";
import { toAiSdkTools } from "../tools/ai-sdk.ts";
import { runTool, TASK_TOOLS } from "../tools/task-tools.ts";
import { type AnyToolDefinition, isToolError } from "../tools/tool.ts";
import * as repo from "./tool-calls.repository.ts";

/**
 * The turn's idempotency record (the Stripe idempotency-key model): every tool call with a
 * side effect is recorded, with its result, in the SAME transaction as the effect. If the
 * reply cannot be stored (the database drops between the tool and step B), the client's
 * documented recovery — the same client_message_id — runs the turn again; the model is
 * then shown what was already done, and a call it repeats (same tool, same arguments) gets
 * the recorded result instead of doing it twice.
 */
export interface TurnTools {
  tools: ToolSet;
  /** The calls of earlier runs of this turn, to store with the reply. */
  prior: StoredToolCall[];
  /** Tool call ids of this run that were answered from the record (not stored twice). */
  replayed: Set<string>;
}

const WRITES = new Set(TASK_TOOLS.filter((t) => !t.readOnly).map((t) => t.name));

export function turnTools(
  ctx: RequestContext,
  userMessageId: string,
  prior: StoredToolCall[],
  /** Chat-only tools of this turn (the confirmation tools: chat/pending-tools.ts). */
  chatTools: readonly AnyToolDefinition[] = [],
  conversationId?: string,
): TurnTools {
  const definitions = [...TASK_TOOLS, ...chatTools];
  const writes = new Set([...WRITES, ...chatTools.filter((t) => !t.readOnly).map((t) => t.name)]);
  const unmatched = [...prior];
  const replayed = new Set<string>();
  // Counted by tool and outcome for /metrics (a call answered from the record included).
  const run = countedToolRunner(ctx.db, async (name, raw, toolCallId) => {
    // U+0000 cannot be stored (PostgreSQL text and jsonb refuse it): a model's stray NUL
    // is dropped before the call, so the effect and its record hold the same arguments.
    const input = withoutNul(raw);
    if (!writes.has(name)) return runTool(ctx, name, input, definitions);
    const args = storable(input, ARGUMENTS_MAX);
    const i = unmatched.findIndex((c) => c.name === name && isDeepStrictEqual(c.arguments, args));
    const done = i >= 0 ? unmatched.splice(i, 1)[0] : undefined;
    if (done) {
      replayed.add(toolCallId);
      return done.result;
    }
    return inTransaction(ctx.db, async (tx) => {
      // The transaction handle runs the same statements as the database handle. The
      // activity entries of the effect join this transaction and name the turn.
      const turn = conversationId ? { conversationId, messageId: userMessageId } : ctx.turn;
      const result = await runTool(
        { ...ctx, db: tx as unknown as Db, turn },
        name,
        input,
        definitions,
      );
      if (!isToolError(result)) {
        await repo.insertToolCall(tx, {
          userId: ctx.userId,
          messageId: userMessageId,
          toolCallId,
          name,
          arguments: args,
          result: storable(result, RESULT_MAX),
        });
      }
      return result;
    });
  });
  const tools = toAiSdkTools(ctx, run, definitions);
  return { tools, prior, replayed };
}

/** The recorded calls of earlier runs of a turn (only a re-run has any). */
export function priorToolCalls(ctx: RequestContext, userMessageId: string) {
  return repo.listToolCalls(ctx.db, ctx.userId, userMessageId);
}

// ---- what is stored: bounded in bytes, and representable in PostgreSQL ----

/** Bytes of JSON kept per tool call's arguments and result (the window reads them back). */
export const ARGUMENTS_MAX = 4_000;
export const RESULT_MAX = 16_000;

/** JSON characters kept for all the tool calls of one reply together. */
export const REPLY_CALLS_MAX = 64_000;

/**
 * A reply's tool calls as stored: each bounded and without U+0000, and all of them together
 * within REPLY_CALLS_MAX — the largest results are shortened to a note of their size until
 * the whole fits (a model can ask for many calls in one step). The turn's own record keeps
 * every call's result for replays.
 */
export function storableCalls(calls: StoredToolCall[]): StoredToolCall[] {
  const out = calls.map((call) => ({
    ...call,
    arguments: storable(call.arguments, ARGUMENTS_MAX),
    result: storable(call.result, RESULT_MAX),
  }));
  const size = (c: StoredToolCall) => (JSON.stringify(c) ?? "").length;
  let total = out.reduce((sum, c) => sum + size(c), 0);
  const largestFirst = out.map((c, i) => [size(c), i] as const).sort((a, b) => b[0] - a[0]);
  for (const [, i] of largestFirst) {
    if (total <= REPLY_CALLS_MAX) break;
    const call = out[i];
    if (!call) continue;
    const before = size(call);
    const shortened = {
      ...call,
      arguments: storable(call.arguments, 200),
      result: storable(call.result, 200),
    };
    out[i] = shortened;
    total -= before - size(shortened);
  }
  return out;
}

/**
 * A JSON value that PostgreSQL can store (text and jsonb refuse U+0000, so it is removed)
 * and that is at most `max` characters of JSON: a longer list keeps the items that fit and
 * says how many there were; anything else too long is replaced by a note of its size.
 */
export function storable(value: unknown, max: number): unknown {
  const clean = withoutNul(value ?? null);
  const json = JSON.stringify(clean) ?? "null";
  if (json.length <= max) return clean;
  if (Array.isArray(clean)) {
    return { truncated: true, total: clean.length, items: fitting(clean, max - 100) };
  }
  // A page ({items, total, next_cursor}, as list_tasks answers) keeps its other members
  // and the items that fit.
  const page = clean as { items?: unknown };
  if (clean && typeof clean === "object" && Array.isArray(page.items)) {
    const rest = (JSON.stringify({ ...clean, items: [] }) ?? "").length;
    const items = fitting(page.items, max - rest - 40);
    return { ...clean, items, truncated: true };
  }
  return { truncated: true, characters: json.length };
}

/** The leading items of a list whose JSON fits in `budget` characters. */
function fitting(list: unknown[], budget: number): unknown[] {
  const items: unknown[] = [];
  let size = 2;
  for (const item of list) {
    size += (JSON.stringify(item) ?? "null").length + 1;
    if (size > budget) break;
    items.push(item);
  }
  return items;
}

/** Removes U+0000 from every string (and key) of a JSON value. */
export function withoutNul<T>(value: T): T {
  if (typeof value === "string") return value.replaceAll("\u0000", "") as T;
  if (Array.isArray(value)) return value.map(withoutNul) as T;
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k.replaceAll("\u0000", ""), withoutNul(v)]),
    ) as T;
  }
  return value;
}
