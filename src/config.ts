import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { isIP } from "node:net";
import { join, resolve } from "node:path";
import { z } from "zod";
import type { QuotaLimits } from "./admin/features.ts";
import { type ModelSpec, OFFLINE_MODEL, parseModels } from "./models/model.ts";

/**
 * The whole environment, validated once. Nothing else in the codebase reads process.env:
 * every setting a module needs arrives through this object.
 */
const int = (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

const bool = (fallback: boolean) =>
  z
    .enum(["true", "false", "1", "0", "yes", "no"])
    .default(fallback ? "true" : "false")
    .transform((v) => v === "true" || v === "1" || v === "yes");

const optionalUrl = z
  .string()
  .trim()
  .transform((v) => (v === "" ? undefined : v))
  .pipe(z.url().optional())
  .optional();

const EnvSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  PORT: int(3000, 0, 65535),
  HOST: z.string().min(1).default("127.0.0.1"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  DATABASE_URL: z
    .string()
    .trim()
    .transform((v) => (v === "" ? undefined : v))
    .pipe(
      z
        .string()
        .regex(/^postgres(ql)?:\/\//, "must start with postgres:// or postgresql://")
        .optional(),
    )
    .optional(),
  DATA_DIR: z.string().min(1).default("./data"),
  /** PGlite's shared_buffers in MB (PostgreSQL's default of 128 MB is resident at once). */
  PGLITE_SHARED_BUFFERS_MB: int(16, 1, 1024),
  PG_POOL_MAX: int(10, 1, 1000),
  PG_CONNECT_TIMEOUT_MS: int(5000, 100, 120_000),
  PG_IDLE_TIMEOUT_MS: int(10_000, 0, 3_600_000),
  /** Sent as startup parameters; set to 0 behind poolers that reject them (see README). */
  PG_STATEMENT_TIMEOUT_MS: int(15_000, 0, 3_600_000),
  PG_IDLE_IN_TRANSACTION_TIMEOUT_MS: int(10_000, 0, 3_600_000),
  /** Client-side bound on one query's answer (a partition sends none); 0 disables. */
  PG_QUERY_TIMEOUT_MS: int(20_000, 0, 3_600_000),
  /** Named statements (parsed once per connection); false behind a pooler that drops them. */
  PG_NAMED_STATEMENTS: bool(true),
  BETTER_AUTH_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  BETTER_AUTH_URL: optionalUrl,
  TRUSTED_ORIGINS: z.string().default(""),
  AUTH_RATE_LIMIT: bool(true),
  /** Failed sign-ins for one e-mail before it is locked out (with growing backoff). */
  SIGN_IN_MAX_FAILURES: int(5, 1, 1000),
  /** Which proxies may set X-Forwarded-For: "false", or their addresses / CIDR ranges. */
  TRUST_PROXY: z
    .string()
    .trim()
    .default("false")
    .transform((v, ctx) => {
      const trust = parseTrustProxy(v);
      if (trust === undefined) {
        ctx.addIssue({
          code: "custom",
          message:
            'must be "false" or a comma-separated list of proxy addresses, CIDR ranges, or loopback/linklocal/uniquelocal ("true" and hop counts are refused: they would let a client that connects directly forge X-Forwarded-For)',
        });
        return z.NEVER;
      }
      return trust;
    }),
  SHUTDOWN_DRAIN_MS: int(10_000, 0, 600_000),
  /**
   * On SIGTERM, readiness fails this long while requests are still served, so a load
   * balancer's health checks (interval × fall count) take the instance out first.
   */
  SHUTDOWN_GRACE_MS: int(3000, 0, 600_000),
  /** Housekeeping (expired sessions, stale leases…) every this long, once across instances; 0 = off. */
  MAINTENANCE_INTERVAL_MS: int(600_000, 0, 86_400_000),
  /** Deleted tasks stay in the trash (restorable) this many days, then maintenance purges them. */
  TRASH_DAYS: int(30, 1, 3650),
  /** The activity log keeps entries (and so what can be undone) this many days. */
  ACTIVITY_RETENTION_DAYS: int(90, 1, 3650),
  /** How often each instance's job workers (pg-boss) look for due jobs; at least 500. */
  JOBS_POLL_INTERVAL_MS: int(2000, 500, 60_000),
  /** Let webhook URLs point at loopback and private addresses (tests, a home network). */
  WEBHOOKS_ALLOW_PRIVATE: bool(false),
  /** One webhook POST may take this long before it counts as failed. */
  WEBHOOK_TIMEOUT_MS: int(10_000, 100, 120_000),
  /** Retries of a failed webhook delivery (exponential backoff from WEBHOOK_RETRY_DELAY_S). */
  WEBHOOK_RETRY_LIMIT: int(8, 0, 50),
  WEBHOOK_RETRY_DELAY_S: int(10, 1, 3600),
  /** smtp(s)://user:pass@host:port: reminders by e-mail; unset = no e-mail channel. */
  SMTP_URL: z
    .string()
    .trim()
    .transform((v) => (v === "" ? undefined : v))
    .pipe(
      z
        .string()
        .regex(/^smtps?:\/\//, "must start with smtp:// or smtps://")
        .optional(),
    )
    .optional(),
  SMTP_FROM: z.string().trim().min(3).default("Tasktalk <tasktalk@localhost>"),
  BODY_LIMIT_BYTES: int(64 * 1024, 1024, 10 * 1024 * 1024),
  /** POST /api/chat only: an AI SDK client sends the whole chat each time (only its last message is read). */
  CHAT_BODY_LIMIT_BYTES: int(4 * 1024 * 1024, 1024, 64 * 1024 * 1024),
  /** POST /api/import only: an export or a CSV file. */
  IMPORT_BODY_LIMIT_BYTES: int(20 * 1024 * 1024, 1024, 512 * 1024 * 1024),
  /** Headers and body must arrive within this (a trickled body holds a socket otherwise). */
  HTTP_REQUEST_TIMEOUT_MS: int(30_000, 1000, 3_600_000),
  /** Open connections one client address may hold; 0 = no limit (behind a proxy). */
  HTTP_MAX_CONNECTIONS_PER_IP: int(64, 0, 100_000),
  LLM_PROVIDER: z.enum(["offline", "openai-compatible"]).default("offline"),
  LLM_BASE_URL: optionalUrl,
  LLM_API_KEY: z.string().optional(),
  LLM_MODEL: z.string().optional(),
  /** A JSON array of models users choose from (see README "Models and usage"). */
  LLM_MODELS: z
    .string()
    .trim()
    .transform((v) => (v === "" ? undefined : v))
    .optional(),
  /** The model a new conversation gets when neither it nor the user names one. */
  LLM_DEFAULT_MODEL: z
    .string()
    .trim()
    .transform((v) => (v === "" ? undefined : v))
    .optional(),
  LLM_MAX_STEPS: int(6, 1, 50),
  LLM_MAX_OUTPUT_TOKENS: int(1024, 16, 100_000),
  LLM_TIMEOUT_MS: int(60_000, 1000, 600_000),
  LLM_IDLE_TIMEOUT_MS: int(20_000, 100, 600_000),
  LLM_MAX_RETRIES: int(2, 0, 10),
  TURN_QUEUE_MS: int(3000, 0, 60_000),
  TURN_LEASE_MS: int(15_000, 3000, 600_000),
  HISTORY_MAX_MESSAGES: int(40, 1, 1000),
  HISTORY_MAX_CHARS: int(24_000, 500, 1_000_000),
  /** The bearer token GET /metrics requires; unset, only loopback clients may scrape. */
  METRICS_TOKEN: z
    .string()
    .trim()
    .transform((v) => (v === "" ? undefined : v))
    .pipe(z.string().min(16, "must be at least 16 characters").optional())
    .optional(),
  /** Per-user quotas on chat turns, task writes, MCP calls and API-key creation (src/quotas/). */
  RATE_LIMITS: bool(true),
  RATE_LIMIT_CHAT_PER_MINUTE: int(20, 0, 1_000_000_000),
  RATE_LIMIT_CHAT_PER_DAY: int(500, 0, 1_000_000_000),
  RATE_LIMIT_TASK_WRITES_PER_MINUTE: int(120, 0, 1_000_000_000),
  RATE_LIMIT_MCP_PER_MINUTE: int(120, 0, 1_000_000_000),
  RATE_LIMIT_API_KEYS_PER_DAY: int(20, 0, 1_000_000_000),
  /** Tokens of a user's replies over the last 24 hours; 0 = no limit. */
  RATE_LIMIT_TOKENS_PER_DAY: int(0, 0, 1_000_000_000_000),
  /** Quota counters in Redis instead of the database (shared by instances either way). */
  REDIS_URL: z
    .string()
    .trim()
    .transform((v) => (v === "" ? undefined : v))
    .pipe(
      z
        .string()
        .regex(/^rediss?:\/\//, "must start with redis:// or rediss://")
        .optional(),
    )
    .optional(),
  /** The personal API key the stdio MCP entry (scripts/mcp-stdio.ts) acts with. */
  TASKTALK_API_KEY: z
    .string()
    .trim()
    .transform((v) => (v === "" ? undefined : v))
    .optional(),
});

export type Env = z.input<typeof EnvSchema>;

export interface Config {
  readonly env: "development" | "production" | "test";
  readonly port: number;
  readonly host: string;
  readonly logLevel: string;
  readonly database:
    | {
        readonly kind: "pglite";
        readonly dataDir: string;
        /** shared_buffers in MB; src/db/client.ts's default when absent. */
        readonly sharedBuffersMb?: number;
      }
    | {
        readonly kind: "pg";
        readonly url: string;
        readonly poolMax: number;
        readonly connectTimeoutMs: number;
        readonly idleTimeoutMs: number;
        readonly statementTimeoutMs: number;
        readonly idleInTransactionTimeoutMs: number;
        readonly queryTimeoutMs: number;
        /** PG_NAMED_STATEMENTS (default true): the hot path's statements parsed once per connection. */
        readonly namedStatements?: boolean;
      };
  readonly dataDir: string;
  readonly auth: {
    /**
     * BETTER_AUTH_SECRET; undefined on PostgreSQL without it: every instance then shares
     * one secret generated once and kept in the database (src/auth/secret.ts).
     */
    readonly secret: string | undefined;
    readonly baseURL: string;
    readonly trustedOrigins: readonly string[];
    /** Better Auth's per-address limit and our per-account sign-in lockout. */
    readonly rateLimit: boolean;
    readonly signInMaxFailures: number;
    readonly logLevel: string;
  };
  readonly http: {
    readonly bodyLimit: number;
    readonly chatBodyLimit: number;
    readonly importBodyLimit: number;
    readonly shutdownDrainMs: number;
    /** Readiness fails, requests still served, this long before the drain starts. */
    readonly shutdownGraceMs: number;
    /**
     * Fastify's `trustProxy`: false (request.ip is the socket address) or the trusted
     * proxy addresses; X-Forwarded-For is believed only as far as they vouch for it.
     */
    readonly trustProxy: false | readonly string[];
    readonly requestTimeoutMs: number;
    readonly maxConnectionsPerIp: number;
  };
  readonly llm: {
    readonly provider: "offline" | "openai-compatible";
    readonly baseURL: string | undefined;
    readonly apiKey: string | undefined;
    readonly model: string;
    readonly maxSteps: number;
    readonly maxOutputTokens: number;
    readonly timeoutMs: number;
    readonly idleTimeoutMs: number;
    readonly maxRetries: number;
    /** Every model offered (the offline assistant always among them), in display order. */
    readonly models: readonly ModelSpec[];
    /** The server's default model id (one of `models`). */
    readonly defaultModel: string;
  };
  readonly history: { readonly maxMessages: number; readonly maxChars: number };
  /** How long a send to a conversation that is busy with another turn waits before 409. */
  readonly turnQueueMs: number;
  /** A turn's lease on its conversation, renewed while it runs; a crashed turn's expires. */
  readonly turnLeaseMs: number;
  /** src/ops/maintenance.ts every this long; 0 = never. */
  readonly maintenanceIntervalMs: number;
  /** What maintenance purges: tasks trashed and activity entries older than these (days). */
  readonly retention: { readonly trashDays: number; readonly activityDays: number };
  /** The job queue (pg-boss) and what runs on it: reminders, webhooks, e-mail. */
  readonly jobs: { readonly pollIntervalMs: number };
  readonly webhooks: {
    readonly allowPrivate: boolean;
    readonly timeoutMs: number;
    readonly retryLimit: number;
    readonly retryDelaySeconds: number;
  };
  readonly smtp: { readonly url: string | undefined; readonly from: string };
  readonly mcp: { readonly stdioApiKey: string | undefined };
  /** GET /metrics: with a token, `Authorization: Bearer <token>`; without, loopback only. */
  readonly metrics: { readonly token: string | undefined };
  /**
   * Per-user quotas: on/off, the default limits (0 = none; an admin overrides them per
   * role or user), and where the counters live (Redis when set, else the database).
   */
  readonly quotas: {
    readonly enabled: boolean;
    readonly limits: QuotaLimits;
    readonly redisUrl: string | undefined;
  };
}

export class ConfigError extends Error {
  readonly issues: string[];
  constructor(issues: string[]) {
    super(`Invalid configuration:\n${issues.map((i) => `  - ${i}`).join("\n")}`);
    this.name = "ConfigError";
    this.issues = issues;
  }
}

/**
 * Parses the environment into a frozen Config, listing every bad variable at once.
 * In development a missing BETTER_AUTH_SECRET is generated and persisted in DATA_DIR so
 * sessions survive restarts.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  const issues: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      issues.push(`${issue.path.join(".") || "(environment)"}: ${issue.message}`);
    }
    throw new ConfigError(issues);
  }
  const e = parsed.data;
  if (e.NODE_ENV === "production" && !e.BETTER_AUTH_SECRET) {
    issues.push("BETTER_AUTH_SECRET: required when NODE_ENV=production (at least 32 characters)");
  }
  const catalogue = modelCatalogue(e, issues);
  if (e.LLM_PROVIDER === "openai-compatible" && !e.LLM_MODELS) {
    if (!e.LLM_BASE_URL) issues.push("LLM_BASE_URL: required when LLM_PROVIDER=openai-compatible");
    if (!e.LLM_MODEL) issues.push("LLM_MODEL: required when LLM_PROVIDER=openai-compatible");
  }
  if (
    e.PG_QUERY_TIMEOUT_MS > 0 &&
    e.PG_STATEMENT_TIMEOUT_MS > 0 &&
    e.PG_QUERY_TIMEOUT_MS <= e.PG_STATEMENT_TIMEOUT_MS
  ) {
    // The server's own cancel (57014, a clean timeout) must fire before the client gives
    // up on the connection.
    issues.push("PG_QUERY_TIMEOUT_MS: must be greater than PG_STATEMENT_TIMEOUT_MS (or 0)");
  }
  if (issues.length > 0) throw new ConfigError(issues);

  // "memory://" is PGlite's in-memory database (tests); anything else is a directory.
  const inMemory = e.DATA_DIR.startsWith("memory://");
  const dataDir = inMemory ? e.DATA_DIR : resolve(e.DATA_DIR);
  const baseURL = e.BETTER_AUTH_URL ?? `http://${e.HOST}:${e.PORT}`;
  const config: Config = {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    dataDir,
    database: e.DATABASE_URL
      ? {
          kind: "pg",
          url: e.DATABASE_URL,
          poolMax: e.PG_POOL_MAX,
          connectTimeoutMs: e.PG_CONNECT_TIMEOUT_MS,
          idleTimeoutMs: e.PG_IDLE_TIMEOUT_MS,
          statementTimeoutMs: e.PG_STATEMENT_TIMEOUT_MS,
          idleInTransactionTimeoutMs: e.PG_IDLE_IN_TRANSACTION_TIMEOUT_MS,
          queryTimeoutMs: e.PG_QUERY_TIMEOUT_MS,
          namedStatements: e.PG_NAMED_STATEMENTS,
        }
      : { kind: "pglite", dataDir, sharedBuffersMb: e.PGLITE_SHARED_BUFFERS_MB },
    auth: {
      secret:
        e.BETTER_AUTH_SECRET ??
        (e.DATABASE_URL
          ? undefined
          : inMemory
            ? randomBytes(32).toString("base64url")
            : devSecret(dataDir)),
      baseURL,
      trustedOrigins: [
        new URL(baseURL).origin,
        ...e.TRUSTED_ORIGINS.split(",")
          .map((o) => o.trim())
          .filter(Boolean),
      ],
      rateLimit: e.AUTH_RATE_LIMIT,
      signInMaxFailures: e.SIGN_IN_MAX_FAILURES,
      logLevel: e.LOG_LEVEL,
    },
    http: {
      bodyLimit: e.BODY_LIMIT_BYTES,
      chatBodyLimit: e.CHAT_BODY_LIMIT_BYTES,
      importBodyLimit: e.IMPORT_BODY_LIMIT_BYTES,
      shutdownDrainMs: e.SHUTDOWN_DRAIN_MS,
      shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
      trustProxy: e.TRUST_PROXY,
      requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
      maxConnectionsPerIp: e.HTTP_MAX_CONNECTIONS_PER_IP,
    },
    llm: {
      provider: e.LLM_PROVIDER,
      baseURL: e.LLM_BASE_URL,
      apiKey: e.LLM_API_KEY,
      model: e.LLM_MODEL ?? "offline",
      maxSteps: e.LLM_MAX_STEPS,
      maxOutputTokens: e.LLM_MAX_OUTPUT_TOKENS,
      timeoutMs: e.LLM_TIMEOUT_MS,
      idleTimeoutMs: e.LLM_IDLE_TIMEOUT_MS,
      maxRetries: e.LLM_MAX_RETRIES,
      models: catalogue.models,
      defaultModel: catalogue.defaultModel,
    },
    history: { maxMessages: e.HISTORY_MAX_MESSAGES, maxChars: e.HISTORY_MAX_CHARS },
    turnQueueMs: e.TURN_QUEUE_MS,
    turnLeaseMs: e.TURN_LEASE_MS,
    maintenanceIntervalMs: e.MAINTENANCE_INTERVAL_MS,
    retention: { trashDays: e.TRASH_DAYS, activityDays: e.ACTIVITY_RETENTION_DAYS },
    jobs: { pollIntervalMs: e.JOBS_POLL_INTERVAL_MS },
    webhooks: {
      allowPrivate: e.WEBHOOKS_ALLOW_PRIVATE,
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      retryLimit: e.WEBHOOK_RETRY_LIMIT,
      retryDelaySeconds: e.WEBHOOK_RETRY_DELAY_S,
    },
    smtp: { url: e.SMTP_URL, from: e.SMTP_FROM },
    mcp: { stdioApiKey: e.TASKTALK_API_KEY },
    metrics: { token: e.METRICS_TOKEN },
    quotas: {
      enabled: e.RATE_LIMITS,
      limits: {
        chat_per_minute: e.RATE_LIMIT_CHAT_PER_MINUTE,
        chat_per_day: e.RATE_LIMIT_CHAT_PER_DAY,
        task_writes_per_minute: e.RATE_LIMIT_TASK_WRITES_PER_MINUTE,
        mcp_calls_per_minute: e.RATE_LIMIT_MCP_PER_MINUTE,
        api_keys_per_day: e.RATE_LIMIT_API_KEYS_PER_DAY,
        tokens_per_day: e.RATE_LIMIT_TOKENS_PER_DAY,
      },
      redisUrl: e.REDIS_URL,
    },
  };
  return deepFreeze(config);
}

/**
 * The models offered: LLM_MODELS when set, else the one model of LLM_PROVIDER / LLM_MODEL;
 * the offline assistant is always one of them. The default is LLM_DEFAULT_MODEL, else the
 * first model listed (the single model of the LLM_* variables).
 */
function modelCatalogue(
  e: z.output<typeof EnvSchema>,
  issues: string[],
): { models: ModelSpec[]; defaultModel: string } {
  let models: ModelSpec[];
  if (e.LLM_MODELS) {
    const parsed = parseModels(e.LLM_MODELS);
    if ("issues" in parsed) {
      issues.push(...parsed.issues);
      return { models: [OFFLINE_MODEL], defaultModel: OFFLINE_MODEL.id };
    }
    models = parsed.models;
  } else if (e.LLM_PROVIDER === "openai-compatible" && e.LLM_MODEL) {
    const model = e.LLM_MODEL;
    models = [
      {
        id: model,
        label: model,
        provider: "openai-compatible",
        baseURL: e.LLM_BASE_URL,
        apiKey: e.LLM_API_KEY,
        providerModel: model,
        prices: null,
      },
    ];
  } else {
    models = [];
  }
  if (!models.some((m) => m.provider === "offline" || m.id === OFFLINE_MODEL.id)) {
    models.push(OFFLINE_MODEL);
  }
  const fallback = models[0]?.id ?? OFFLINE_MODEL.id;
  const defaultModel = e.LLM_DEFAULT_MODEL ?? fallback;
  if (!models.some((m) => m.id === defaultModel)) {
    issues.push(
      `LLM_DEFAULT_MODEL: "${defaultModel}" is not a configured model (${models.map((m) => m.id).join(", ")})`,
    );
  }
  return { models, defaultModel };
}

/**
 * TRUST_PROXY: "false" or "" trusts no proxy; otherwise a comma-separated list of proxy
 * addresses, CIDR ranges or proxy-addr's names (loopback, linklocal, uniquelocal).
 * A hop count is not offered: it cannot tell a proxy from a client that connects
 * directly and writes its own X-Forwarded-For (Fastify 5 refuses it for that reason).
 * Undefined when the value is none of these.
 */
function parseTrustProxy(value: string): false | string[] | undefined {
  if (value === "" || value === "false") return false;
  const entries = value
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);
  const valid = (entry: string) => {
    if (PROXY_ADDR_NAMES.has(entry)) return true;
    const [address = "", prefix, extra] = entry.split("/");
    if (extra !== undefined) return false;
    const family = isIP(address);
    if (family === 0) return false;
    if (prefix === undefined) return true;
    return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
  };
  return entries.length > 0 && entries.every(valid) ? entries : undefined;
}

const PROXY_ADDR_NAMES = new Set(["loopback", "linklocal", "uniquelocal"]);

/** The development secret kept in DATA_DIR, if one was generated there before. */
export function existingDevSecret(dataDir: string): string | undefined {
  try {
    const existing = readFileSync(join(dataDir, ".auth-secret"), "utf8").trim();
    return existing.length >= 32 ? existing : undefined;
  } catch {
    return undefined;
  }
}

/** A development secret, generated once and kept beside the data so restarts keep sessions. */
function devSecret(dataDir: string): string {
  const existing = existingDevSecret(dataDir);
  if (existing) return existing;
  const file = join(dataDir, ".auth-secret");
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString("base64url");
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
