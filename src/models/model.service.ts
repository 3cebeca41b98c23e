import type { Access } from "../admin/features.ts";
import type { RequestContext } from "../context.ts";
import * as conversations from "../conversations/conversation.repository.ts";
import { retryingRead, retryingWrite } from "../db/transaction.ts";
import { AppError } from "../errors.ts";
import {
  allowedModels,
  chooseModel,
  defaultModelFor,
  type ModelCatalog,
  turnModel,
} from "./catalog.ts";
import type { ModelSpec } from "./model.ts";
import * as repo from "./usage.repository.ts";

/** The models the caller may choose, and which one a new conversation of theirs gets. */
export async function listModels(ctx: RequestContext, catalog: ModelCatalog, access: Access) {
  const own = await retryingRead(() => repo.findDefaultModel(ctx.db, ctx.userId));
  return {
    models: allowedModels(catalog, access),
    defaultModel: defaultModelFor(catalog, access, own)?.id ?? null,
    userDefault: own,
  };
}

/** Sets (or with null clears) the model the caller's new conversations get. */
export async function setDefaultModel(
  ctx: RequestContext,
  catalog: ModelCatalog,
  access: Access,
  model: string | null,
): Promise<void> {
  if (model !== null) chooseModel(catalog, access, model);
  const found = await retryingWrite(() => repo.updateDefaultModel(ctx.db, ctx.userId, model));
  if (!found) throw new AppError("unauthorized", "The account no longer exists");
}

/**
 * The model a chat turn runs on, read before the turn starts so a refused model stores
 * nothing: the conversation's own (GET/PATCH /api/conversations), or for a turn that creates
 * the conversation the one asked for, else the user's default, else the server's.
 */
export async function modelForTurn(
  ctx: RequestContext,
  catalog: ModelCatalog,
  access: Access,
  input: {
    conversationId: string | undefined;
    requested: string | undefined;
    sdk: boolean;
    /** The conversation's model when the caller read it already (undefined: not found). */
    known?: { model: string | null } | undefined;
  },
): Promise<ModelSpec> {
  const { conversationId, requested } = input;
  const existing =
    "known" in input
      ? input.known
      : conversationId
        ? await retryingRead(() =>
            conversations.findConversationModel(ctx.db, ctx.userId, conversationId),
          )
        : undefined;
  if (existing) {
    if (requested !== undefined && requested !== existing.model && !input.sdk) {
      throw new AppError(
        "validation_failed",
        "model applies to a new conversation; switch this one with PATCH /api/conversations/{id}",
      );
    }
    const spec = turnModel(catalog, access, existing.model);
    if (spec instanceof AppError) throw spec;
    return spec;
  }
  if (requested !== undefined) return chooseModel(catalog, access, requested);
  const own = await retryingRead(() => repo.findDefaultModel(ctx.db, ctx.userId));
  const spec = defaultModelFor(catalog, access, own);
  if (!spec) throw new AppError("model_not_allowed", "Your account may not use any model");
  return spec;
}

/** Switches a conversation's model: its next replies come from `model`. */
export async function switchConversationModel(
  ctx: RequestContext,
  catalog: ModelCatalog,
  access: Access,
  id: string,
  model: string,
) {
  const spec = chooseModel(catalog, access, model);
  const updated = await retryingWrite(() =>
    conversations.updateConversationModel(ctx.db, ctx.userId, id, spec.id),
  );
  if (!updated) throw new AppError("not_found", "Conversation not found");
  return updated;
}

/** Sums of one period or conversation: per model and overall. */
export interface UsageTotals {
  replies: number;
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  /** Sum over replies that had prices; null when none had. */
  costMicros: number | null;
  models: (Omit<UsageTotals, "models"> & { model: string | null })[];
}

function totals(rows: repo.UsageRow[]): UsageTotals {
  const cost = (priced: number, micros: number) => (priced > 0 ? micros : null);
  const models = rows.map((r) => ({
    model: r.model,
    replies: r.replies,
    inputTokens: r.inputTokens,
    outputTokens: r.outputTokens,
    totalTokens: r.totalTokens,
    costMicros: cost(r.priced, r.costMicros),
  }));
  const sum = (f: (r: repo.UsageRow) => number) => rows.reduce((n, r) => n + f(r), 0);
  return {
    replies: sum((r) => r.replies),
    inputTokens: sum((r) => r.inputTokens),
    outputTokens: sum((r) => r.outputTokens),
    totalTokens: sum((r) => r.totalTokens),
    costMicros: cost(
      sum((r) => r.priced),
      sum((r) => r.costMicros),
    ),
    models,
  };
}

/** Today's date (or `date`) in the caller's time zone, as YYYY-MM-DD. */
function localDate(timezone: string, now = new Date()): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone: timezone }).format(now);
}

/**
 * The caller's tokens and costs over a day and its month (in their time zone), and over one
 * conversation when asked (404 when it is not theirs).
 */
export async function getUsage(
  ctx: RequestContext,
  input: { date?: string | undefined; conversationId?: string | undefined },
) {
  const date = input.date ?? localDate(ctx.timezone);
  const periods = await retryingRead(() =>
    repo.sumByPeriod(ctx.db, { userId: ctx.userId, date, tz: ctx.timezone }),
  );
  let conversation: UsageTotals | null = null;
  const { conversationId } = input;
  if (conversationId) {
    const found = await retryingRead(() =>
      conversations.findConversationModel(ctx.db, ctx.userId, conversationId),
    );
    if (!found) throw new AppError("not_found", "Conversation not found");
    conversation = totals(
      await retryingRead(() =>
        repo.sumByConversation(ctx.db, { userId: ctx.userId, conversationId }),
      ),
    );
  }
  return {
    date,
    timezone: ctx.timezone,
    day: totals(periods.day),
    month: totals(periods.month),
    conversation,
  };
}
