import type { FastifyInstance } from "fastify";
import { type Database, withDeadline } from "../db/client.ts";
import { appliedMigrations, EXPECTED_MIGRATIONS } from "../db/migrate.ts";
import { AppError } from "../errors.ts";
import { sendProblem } from "../http/problem.ts";
import type { Jobs } from "../jobs/queue.ts";
import { VERSION } from "../version.ts";

const startedAt = Date.now();

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

  app.get("/health/live", { config: { auth: "public" }, logLevel: "warn" }, async () => ({
    status: "ok",
  }));

  app.get(
    "/health/ready",
    { config: { auth: "public" }, logLevel: "warn" },
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
      return { status: "ready", db_latency_ms: r.dbLatencyMs };
    },
  );

  app.get("/health", { config: { auth: "public" }, logLevel: "warn" }, async (_request, reply) => {
    const r = await readiness();
    const pool = database.poolStats();
    const jobsState = r.ready ? await queue() : undefined;
    reply.status(r.ready ? 200 : 503).header("cache-control", "no-store");
    return {
      status: r.ready ? "ok" : "unavailable",
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
  });
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
