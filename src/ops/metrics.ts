import type { FastifyInstance, FastifyReply } from "fastify";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { Database, Db } from "../db/client.ts";
import type { DbErrorCategory } from "../db/db-errors.ts";
import type { Jobs } from "../jobs/queue.ts";
import { isToolError, toolFailure } from "../tools/tool.ts";
import { activeSessionsGauge } from "./metrics-sessions.ts";

/**
 * The app's Prometheus metrics. Each app instance has its own Registry (tests build many
 * apps in one process; the global default registry would make them collide), created in
 * buildApp and cleared when the app closes. Names follow Prometheus conventions: a
 * `tasktalk_` prefix, the unit in the name, `_total` on counters, seconds for durations.
 */
export interface Metrics {
  readonly registry: Registry;
  /** One answered HTTP request: `route` is the route pattern, never the raw URL. */
  httpRequest(method: string, route: string, status: number, seconds: number): void;
  /** A turn's end: `failed` when its reply could not be stored, else the model's error code. */
  turn(format: TurnFormat, seconds: number, end: { failed: true } | { errorCode?: string }): void;
  firstToken(format: TurnFormat, seconds: number): void;
  toolCall(door: "chat" | "mcp", tool: string, outcome: string): void;
  dbFailure(category: DbErrorCategory): void;
  dbRetry(): void;
  /** A request refused with 429 quota_exceeded, by the quota that was used up. */
  quotaRejection(quota: string): void;
  /** A model request sent while step A committed (chat/speculate.ts): used, or dropped unread. */
  earlyRequest(outcome: "used" | "dropped"): void;
  /** The text exposition of this app's metrics and the process's. */
  scrape(): Promise<string>;
  readonly contentType: string;
}

export type TurnFormat = "json" | "sse";

declare module "fastify" {
  interface FastifyInstance {
    /** This app's metrics (src/ops/metrics.ts). */
    metrics: Metrics;
  }
}

const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
// A turn waits for a model: seconds to a minute (LLM_TIMEOUT_MS defaults to 60 s).
const TURN_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120];

export function createMetrics(database: Database, jobs?: Jobs): Metrics {
  const registry = new Registry();
  const registers = [registry];
  const httpRequests = new Counter({
    name: "tasktalk_http_requests_total",
    help: "HTTP requests answered, by method, route pattern and status code.",
    labelNames: ["method", "route", "status_code"] as const,
    registers,
  });
  const httpDuration = new Histogram({
    name: "tasktalk_http_request_duration_seconds",
    help: "Time from receiving a request to the end of its response, by method and route pattern.",
    labelNames: ["method", "route"] as const,
    buckets: SECONDS_BUCKETS,
    registers,
  });
  const turnDuration = new Histogram({
    name: "tasktalk_chat_turn_duration_seconds",
    help: "Chat turns (not replays) from request to outcome, by format and outcome (ok, error, failed).",
    labelNames: ["format", "outcome"] as const,
    buckets: TURN_BUCKETS,
    registers,
  });
  const firstToken = new Histogram({
    name: "tasktalk_chat_time_to_first_token_seconds",
    help: "Chat turns from request to the model's first text, by response format.",
    labelNames: ["format"] as const,
    buckets: TURN_BUCKETS,
    registers,
  });
  const modelErrors = new Counter({
    name: "tasktalk_model_errors_total",
    help: "Chat turns that ended in a language model failure, by error code.",
    labelNames: ["code"] as const,
    registers,
  });
  const toolCalls = new Counter({
    name: "tasktalk_tool_calls_total",
    help: "Tool calls by door (chat), tool and outcome (ok, or the tool error code).",
    labelNames: ["door", "tool", "outcome"] as const,
    registers,
  });
  const dbErrors = new Counter({
    name: "tasktalk_db_errors_total",
    help: "Database failures seen by the retry helpers (src/db/transaction.ts), by category.",
    labelNames: ["category"] as const,
    registers,
  });
  const dbRetries = new Counter({
    name: "tasktalk_db_retries_total",
    help: "Transactions and statements retried after a transient database failure.",
    registers,
  });
  const quotaRejections = new Counter({
    name: "tasktalk_quota_rejections_total",
    help: "Requests refused because a per-user quota was used up, by quota.",
    labelNames: ["quota"] as const,
    registers,
  });
  const earlyRequests = new Counter({
    name: "tasktalk_chat_early_requests_total",
    help: "Model requests sent while step A committed the user message: used, or dropped unread because step A stored another turn (a race).",
    labelNames: ["outcome"] as const,
    registers,
  });
  // PGlite has no pool: its scrape has no pool gauges rather than made-up zeros.
  if (database.kind === "pg") registerPoolGauges(database, registers);
  activeSessionsGauge(database, registers);
  if (jobs) registerQueueGauges(jobs, registers);

  return {
    registry,
    contentType: registry.contentType,
    httpRequest(method, route, status, seconds) {
      httpRequests.inc({ method, route, status_code: String(status) });
      httpDuration.observe({ method, route }, seconds);
    },
    turn(format, seconds, end) {
      const errorCode = "errorCode" in end ? end.errorCode : undefined;
      const outcome = "failed" in end ? "failed" : errorCode ? "error" : "ok";
      turnDuration.observe({ format, outcome }, seconds);
      if (errorCode) modelErrors.inc({ code: errorCode });
    },
    firstToken: (format, seconds) => firstToken.observe({ format }, seconds),
    toolCall: (door, tool, outcome) => toolCalls.inc({ door, tool, outcome }),
    dbFailure: (category) => dbErrors.inc({ category }),
    dbRetry: () => dbRetries.inc(),
    quotaRejection: (quota) => quotaRejections.inc({ quota }),
    earlyRequest: (outcome) => earlyRequests.inc({ outcome }),
    async scrape() {
      return (await registry.metrics()) + (await processRegistry().metrics());
    },
  };
}

/** The job queue's depth and recent failures per queue, read from pg-boss at scrape time. */
function registerQueueGauges(jobs: Jobs, registers: Registry[]) {
  new Gauge({
    name: "tasktalk_jobs",
    help: "Jobs in the queue by queue and state (ready, deferred = due later, active, failed = failed jobs still kept).",
    labelNames: ["queue", "state"] as const,
    registers,
    async collect() {
      this.reset();
      for (const q of await jobs.stats().catch(() => [])) {
        for (const state of ["ready", "deferred", "active", "failed"] as const) {
          this.set({ queue: q.name, state }, q[state]);
        }
      }
    },
  });
}

function registerPoolGauges(database: Database, registers: Registry[]) {
  new Gauge({
    name: "tasktalk_db_pool_connections",
    help: "PostgreSQL pool connections by state (in_use, idle), read at scrape time.",
    labelNames: ["state"] as const,
    registers,
    collect() {
      const stats = database.poolStats();
      if (!stats) return;
      this.set({ state: "in_use" }, stats.total - stats.idle);
      this.set({ state: "idle" }, stats.idle);
    },
  });
  new Gauge({
    name: "tasktalk_db_pool_waiting_requests",
    help: "Queries waiting for a free PostgreSQL pool connection, read at scrape time.",
    registers,
    collect() {
      this.set(database.poolStats()?.waiting ?? 0);
    },
  });
  new Gauge({
    name: "tasktalk_db_pool_max_connections",
    help: "The PostgreSQL pool's size (PG_POOL_MAX).",
    registers,
    collect() {
      this.set(database.poolStats()?.max ?? 0);
    },
  });
}

/**
 * Process metrics (CPU, memory, event loop, GC) belong to the process, not to an app, and
 * prom-client's collectors cannot be stopped (a GC PerformanceObserver and an event-loop
 * histogram per call): one registry per process, shared by every app's scrape, so building
 * many apps in one process does not pile them up.
 */
let processMetrics: Registry | undefined;
const PROM_CLIENT_MISNAMED = [
  "nodejs_active_handles_total",
  "nodejs_active_requests_total",
  "nodejs_active_resources_total",
];
function processRegistry(): Registry {
  if (!processMetrics) {
    processMetrics = new Registry();
    collectDefaultMetrics({ register: processMetrics });
    // Gauges named like counters (promtool refuses them); each is the sum of the
    // per-type gauge of the same name without `_total`, which stays.
    for (const name of PROM_CLIENT_MISNAMED) processMetrics.removeSingleMetric(name);
  }
  return processMetrics;
}

/** The metrics of the app each database belongs to, for code that only has `ctx.db`. */
const byDb = new WeakMap<Db, Metrics>();

export function bindMetrics(db: Db, metrics: Metrics): void {
  byDb.set(db, metrics);
}

type ToolRunner = (name: string, input: unknown, toolCallId: string) => Promise<unknown>;

/** Counts one early model request of a chat turn (chat/speculate.ts). */
export function countEarlyRequest(db: Db, outcome: "used" | "dropped"): void {
  byDb.get(db)?.earlyRequest(outcome);
}

/** Counts one MCP tool call (the MCP adapter reports each outcome). */
export function countMcpToolCall(db: Db, tool: string, outcome: string): void {
  byDb.get(db)?.toolCall("mcp", tool, outcome);
}

/** Wraps a chat turn's tool runner to count each call by tool and outcome. */
export function countedToolRunner(db: Db, run: ToolRunner): ToolRunner {
  return async (name, input, toolCallId) => {
    const metrics = byDb.get(db);
    try {
      const result = await run(name, input, toolCallId);
      metrics?.toolCall("chat", name, isToolError(result) ? result.error.code : "ok");
      return result;
    } catch (error) {
      metrics?.toolCall("chat", name, toolFailure(error).error.code);
      throw error;
    }
  };
}

/**
 * Times one chat turn for the histograms: time to first token at the first text part,
 * turn latency at the outcome, both from the moment the request arrived.
 */
export function turnProbe(app: FastifyInstance, reply: FastifyReply, format: TurnFormat) {
  let first = true;
  return {
    onPart(part: { type: string }) {
      if (first && part.type === "text-delta") {
        first = false;
        app.metrics.firstToken(format, reply.elapsedTime / 1000);
      }
    },
    /** Awaits the turn and observes its latency and outcome (`failed` when it throws). */
    async track<T extends { error: { code: string } | undefined }>(turn: Promise<T>): Promise<T> {
      const seconds = () => reply.elapsedTime / 1000;
      try {
        const outcome = await turn;
        const code = outcome.error?.code;
        app.metrics.turn(format, seconds(), code ? { errorCode: code } : {});
        return outcome;
      } catch (error) {
        app.metrics.turn(format, seconds(), { failed: true });
        throw error;
      }
    },
  };
}
