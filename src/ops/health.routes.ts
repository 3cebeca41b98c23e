import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { type Database, withDeadline } from "../db/client.ts";
import { appliedMigrations, EXPECTED_MIGRATIONS } from "../db/migrate.ts";
import { AppError } from "../errors.ts";
import { sendProblem } from "../http/problem.ts";
import type { Jobs } from "../jobs/queue.ts";
import { VERSION } from "../version.ts";

const startedAt = Date.now();

const HealthJson = z.object({
  status: z.enum(["ok", "unavailable"]),
  version: z.string(),
  uptime_s: z.number(),
  database: z.object({
    kind: z.enum(["pglite", "pg"]),
    ready: z.boolean(),
    latency_ms: z.number().nullable(),
    migrations: z.object({ applied: z.number(), expected: z.number() }),
    error: z.string().optional(),
    pool: z
      .object({ total: z.number(), idle: z.number(), waiting: z.number(), max: z.number() })
      .optional()
      .describe("PostgreSQL only"),
  }),
  jobs: z
    .record(z.string(), z.unknown())
    .optional()
    .describe("The job queues (pg-boss): per queue, jobs ready, due later, running, failed"),
  memory_rss_mb: z.number(),
});

interface Readiness {
  ready: boolean;
  dbLatencyMs?: number;
  migrations: { applied: number; expected: number };
  error?: string;
}

/** Liveness says the process answers; readiness makes a database round trip. */
export async function healthRoutes(
  app: FastifyInstance,
  opts: { database: Database; jobs?: Jobs | undefined },
) {
  const { database, jobs } = opts;

  /** The job queue per queue (depth, running, failed), or why it could not be read. */
  async function queue() {
    if (!jobs) return undefined;
    try {
      return { queues: await withDeadline(jobs.stats(), database.probeTimeoutMs) };
    } catch {
      return { error: "job queue unreadable" };
    }
  }

  async function readiness(): Promise<Readiness> {
    const start = performance.now();
    try {
      // Bounded: a partitioned database never answers, and a probe that hangs is worse
      // than one that fails (the orchestrator's own timeout would decide instead).
      const applied = await withDeadline(appliedMigrations(database.db), database.probeTimeoutMs);
      const ready = applied >= EXPECTED_MIGRATIONS;
      return {
        ready,
        dbLatencyMs: round(performance.now() - start),
        migrations: { applied, expected: EXPECTED_MIGRATIONS },
        ...(ready ? {} : { error: "migrations not applied" }),
      };
    } catch (error) {
      app.log.warn({ err: error, category: "database" }, "readiness check failed");
      return {
        ready: false,
        migrations: { applied: 0, expected: EXPECTED_MIGRATIONS },
        error: "database unreachable",
      };
    }
  }

  const typed = app.withTypeProvider<ZodTypeProvider>();
  const config = { auth: "public" } as const;

  typed.get(
    "/health/live",
    {
      config,
      logLevel: "warn",
      schema: {
        summary: "Liveness: the process answers",
        response: { 200: z.object({ status: z.literal("ok") }) },
      },
    },
    async () => ({ status: "ok" as const }),
  );

  typed.get(
    "/health/ready",
    {
      config,
      logLevel: "warn",
      schema: {
        summary: "Readiness: a database round trip, migrations applied (the load balancer's probe)",
        response: {
          200: z.object({ status: z.literal("ready"), db_latency_ms: z.number().optional() }),
        },
        // Not ready: the database (503 database_unavailable) or draining (shutting_down).
        errors: ["database_unavailable"],
      },
    },
    async (request, reply) => {
      // Draining: not ready, whatever the database says, so the balancer moves on first.
      // Answered, not thrown: expected while stopping, no error to log.
      if (app.shutdown.phase !== "serving") {
        const draining = new AppError("shutting_down", "Not ready: this instance is shutting down");
        return sendProblem(reply, request, draining);
      }
      const r = await readiness();
      if (!r.ready) throw new AppError("database_unavailable", `Not ready: ${r.error}`);
      reply.header("cache-control", "no-store");
      return { status: "ready" as const, db_latency_ms: r.dbLatencyMs };
    },
  );

  const health = HealthJson.describe("Status, version, uptime, database and pool, memory");
  typed.get(
    "/health",
    {
      config,
      logLevel: "warn",
      schema: {
        summary: "Details: database and pool, version, uptime, memory (503 when not ready)",
        response: { 200: health, 503: health },
      },
    },
    async (_request, reply) => {
      const r = await readiness();
      const pool = database.poolStats();
      const jobsState = r.ready ? await queue() : undefined;
      reply.status(r.ready ? 200 : 503).header("cache-control", "no-store");
      return {
        status: r.ready ? ("ok" as const) : ("unavailable" as const),
        version: VERSION,
        uptime_s: Math.round((Date.now() - startedAt) / 1000),
        database: {
          kind: database.kind,
          ready: r.ready,
          latency_ms: r.dbLatencyMs ?? null,
          migrations: r.migrations,
          ...(r.error ? { error: r.error } : {}),
          ...(pool ? { pool } : {}),
        },
        ...(jobsState ? { jobs: jobsState } : {}),
        memory_rss_mb: Math.round(process.memoryUsage.rss() / 1048576),
      };
    },
  );
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
