import type { Access } from "../admin/features.ts";
import type { RequestContext } from "../context.ts";
import { retryingRead } from "../db/transaction.ts";
import { AppError } from "../errors.ts";
import { tokensLastDay } from "./usage.repository.ts";

/**
 * The tokens_per_day quota, checked before a turn: a user whose replies of the last 24
 * hours used `limit` tokens or more gets 429 quota_exceeded until the oldest of them leaves
 * the window. The stored usage is the count (no separate counter to drift); a turn that
 * starts under the limit may end above it — the next one waits.
 */
export async function checkTokenQuota(ctx: RequestContext, access: Access): Promise<void> {
  const limit = access.quotas.tokens_per_day;
  if (limit <= 0) return;
  const used = await retryingRead(() => tokensLastDay(ctx.db, ctx.userId));
  if (used.tokens < limit) return;
  const retryAfter = Math.max(1, used.freesInSeconds);
  throw new AppError(
    "quota_exceeded",
    `Too many tokens: the tokens_per_day quota (${limit}) is used up (${used.tokens} in the last 24 hours); try again in ${retryAfter} s`,
    {
      headers: { "retry-after": String(retryAfter) },
      extra: { quota: "tokens_per_day", retry_after: retryAfter },
    },
  );
}
