import { Redis } from "ioredis";
import {
  type RateLimiterAbstract,
  RateLimiterDrizzle,
  RateLimiterRedis,
  RateLimiterRes,
} from "rate-limiter-flexible";
import type { QuotaLimits, QuotaName } from "../admin/features.ts";
import type { Db } from "../db/client.ts";
import { toAppError } from "../db/db-errors.ts";
import { quotaCounters } from "../db/schema.ts";
import { AppError } from "../errors.ts";

/**
 * Per-user quotas, counted where every instance sees the same numbers: rate-limiter-
 * flexible's Drizzle store (one atomic upsert per counted request, on PGlite and
 * PostgreSQL alike; table `quota_counters`) or its Redis store when REDIS_URL is set.
 * Each window is fixed: it starts at the user's first counted request and lasts its
 * length (a minute, a day).
 */
export type QuotaKind = "chat" | "task_write" | "mcp" | "api_key_create";

/** Which quotas a request of each kind counts against, and each quota's window. */
export const KIND_QUOTAS: Record<QuotaKind, readonly QuotaName[]> = {
  chat: ["chat_per_minute", "chat_per_day"],
  task_write: ["task_writes_per_minute"],
  mcp: ["mcp_calls_per_minute"],
  api_key_create: ["api_keys_per_day"],
};

export const WINDOW_SECONDS: Record<QuotaName, number> = {
  chat_per_minute: 60,
  chat_per_day: 86_400,
  task_writes_per_minute: 60,
  mcp_calls_per_minute: 60,
  api_keys_per_day: 86_400,
  // Not a counter: the tokens of the last 24 hours' replies (src/models/token-quota.ts).
  tokens_per_day: 86_400,
};

/** One quota's state after a counted request. */
export interface QuotaState {
  name: QuotaName;
  limit: number;
  remaining: number;
  resetSeconds: number;
}

export type QuotaOutcome =
  | { kind: "allowed"; states: QuotaState[] }
  | { kind: "exceeded"; states: QuotaState[]; quota: QuotaName; retryAfterSeconds: number };

export interface Quotas {
  readonly store: "database" | "redis";
  /** Counts one request of `kind` for the user against the limits in force for them. */
  consume(kind: QuotaKind, userId: string, limits: QuotaLimits): Promise<QuotaOutcome>;
  close(): Promise<void>;
}

export function createQuotas(db: Db, redisUrl: string | undefined): Quotas {
  const redis = redisUrl
    ? new Redis(redisUrl, {
        // A request must not wait for Redis to come back: fail fast (503), retry later.
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        connectTimeout: 2000,
        lazyConnect: false,
      })
    : undefined;
  // ioredis reports connection trouble as events; the failing request reports it as 503.
  redis?.on("error", () => {});
  // The counter row is shared by every limit on the same quota: a limiter's `points` is
  // only the threshold it compares with, so one per (quota, limit) is cached.
  const limiters = new Map<string, RateLimiterAbstract>();
  const limiter = (name: QuotaName, points: number): RateLimiterAbstract => {
    const id = `${name}:${points}`;
    let found = limiters.get(id);
    if (!found) {
      const common = { keyPrefix: `quota:${name}`, points, duration: WINDOW_SECONDS[name] };
      found = redis
        ? new RateLimiterRedis({ ...common, storeClient: redis, rejectIfRedisNotReady: true })
        : new RateLimiterDrizzle({
            ...common,
            storeClient: db,
            schema: quotaCounters,
            // Old windows are deleted by maintenance (once across instances), not a timer here.
            clearExpiredByTimeout: false,
          });
      limiters.set(id, found);
    }
    return found;
  };

  const count = async (name: QuotaName, userId: string, limit: number) => {
    try {
      const res = await limiter(name, limit).consume(userId, 1);
      return { res, exceeded: false };
    } catch (error) {
      if (error instanceof RateLimiterRes) return { res: error, exceeded: true };
      if (redis) {
        throw new AppError("database_unavailable", "The quota store (Redis) is unavailable", {
          cause: error,
        });
      }
      throw toAppError(error);
    }
  };

  return {
    store: redis ? "redis" : "database",
    async consume(kind, userId, limits) {
      const names = KIND_QUOTAS[kind].filter((name) => limits[name] > 0);
      const results = await Promise.all(names.map((name) => count(name, userId, limits[name])));
      const states = results.map(({ res }, i): QuotaState => {
        const name = names[i] as QuotaName;
        return {
          name,
          limit: limits[name],
          remaining: Math.max(0, limits[name] - res.consumedPoints),
          resetSeconds: Math.max(0, Math.ceil(res.msBeforeNext / 1000)),
        };
      });
      let worst: { name: QuotaName; seconds: number } | undefined;
      results.forEach(({ exceeded }, i) => {
        const state = states[i] as QuotaState;
        if (exceeded && (!worst || state.resetSeconds > worst.seconds)) {
          worst = { name: state.name, seconds: state.resetSeconds };
        }
      });
      if (!worst) return { kind: "allowed", states };
      return {
        kind: "exceeded",
        states,
        quota: worst.name,
        retryAfterSeconds: Math.max(1, worst.seconds),
      };
    },
    async close() {
      if (redis) await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/**
 * The IETF RateLimit fields (draft-ietf-httpapi-ratelimit-headers): the policies in force
 * (quota q per window w seconds) and where the caller stands in each (r remaining, t
 * seconds until the window resets), as structured-field lists.
 */
export function rateLimitHeaders(states: readonly QuotaState[]): Record<string, string> {
  if (states.length === 0) return {};
  return {
    "ratelimit-policy": states
      .map((s) => `"${s.name}";q=${s.limit};w=${WINDOW_SECONDS[s.name]}`)
      .join(", "),
    ratelimit: states.map((s) => `"${s.name}";r=${s.remaining};t=${s.resetSeconds}`).join(", "),
  };
}
