import { randomUUID } from "node:crypto";
import { setImmediate } from "node:timers/promises";
import { and, eq, inArray, sql } from "drizzle-orm";
import { type Log, type RequestContext, systemContext } from "../context.ts";
import type { Db } from "../db/client.ts";
import { importJobs } from "../db/schema.ts";
import { inTransaction, retryingRead } from "../db/transaction.ts";
import { AppError } from "../errors.ts";
import { type Jobs, QUEUES } from "../jobs/queue.ts";
import { findUser } from "../users/user.repository.ts";
import { type ImportReport, importItems } from "./import.service.ts";
import { type ImportFormat, readImportFile } from "./import-file.ts";

/** Files with more items than this import as a job (202 + progress); smaller ones at once. */
export const ASYNC_IMPORT_ABOVE = 500;
/** Progress is written at most this often (items), and at the end. */
const PROGRESS_EVERY = 50;
/** Tries of one import job after its first (src/server.ts queue options). */
export const IMPORT_RETRY_LIMIT = 3;

export type ImportJobState = "queued" | "running" | "done" | "failed";

export interface ImportJob {
  id: string;
  format: ImportFormat;
  state: ImportJobState;
  total: number;
  processed: number;
  created: number;
  skipped: number;
  report: (ImportReport & { error?: string }) | null;
  createdAt: Date;
  updatedAt: Date;
}

const shown = {
  id: importJobs.id,
  format: importJobs.format,
  state: importJobs.state,
  total: importJobs.total,
  processed: importJobs.processed,
  created: importJobs.created,
  skipped: importJobs.skipped,
  report: importJobs.report,
  createdAt: importJobs.createdAt,
  updatedAt: importJobs.updatedAt,
};

/**
 * Stores the file and queues its job, in one transaction: the job exists only with its
 * file, and the file only with its job.
 */
export async function createImportJob(
  ctx: RequestContext & { jobs: Jobs },
  input: { format: ImportFormat; list: string | undefined; body: string; total: number },
): Promise<ImportJob> {
  const id = randomUUID();
  return inTransaction(ctx.db, async (tx) => {
    const [row] = await tx
      .insert(importJobs)
      .values({
        id,
        userId: ctx.userId,
        format: input.format,
        list: input.list ?? null,
        body: input.body,
        total: input.total,
      })
      .returning(shown);
    await ctx.jobs.send(tx, QUEUES.importRun, { importJobId: id });
    return row as ImportJob;
  });
}

/** One of the caller's import jobs; another user's is not found. */
export async function getImportJob(ctx: RequestContext, id: string): Promise<ImportJob> {
  const [row] = await retryingRead(() =>
    ctx.db
      .select(shown)
      .from(importJobs)
      .where(and(eq(importJobs.id, id), eq(importJobs.userId, ctx.userId))),
  );
  if (!row) throw new AppError("not_found", "Import job not found");
  return row as ImportJob;
}

/**
 * The `import-run` worker: reads the stored file again and imports it item by item (each
 * item in its own transaction with its import key), writing its progress as it goes. A
 * job retried after a crash skips what is already in and counts it as skipped.
 */
export async function startImportWorker(jobs: Jobs, db: Db, log: Log): Promise<void> {
  await jobs.work<{ importJobId: string }>(QUEUES.importRun, async (job) => {
    const [row] = await db
      .update(importJobs)
      .set({ state: "running", updatedAt: new Date() })
      .where(
        and(
          eq(importJobs.id, job.data.importJobId),
          inArray(importJobs.state, ["queued", "running"]),
        ),
      )
      .returning();
    if (!row) return; // done already, or its user was deleted
    const finish = (state: "done" | "failed", set: Partial<typeof importJobs.$inferInsert>) =>
      db
        .update(importJobs)
        .set({ state, body: "", updatedAt: new Date(), ...set })
        .where(eq(importJobs.id, row.id));
    try {
      const profile = await findUser(db, row.userId);
      if (!profile) return;
      const ctx: RequestContext = {
        ...systemContext(db, row.userId, {
          door: "rest",
          log,
          requestId: `import-${row.id}`,
          timezone: profile.timezone,
        }),
        jobs,
      };
      const items = readImportFile(
        ctx,
        row.format as ImportFormat,
        row.list ?? undefined,
        row.body,
      );
      const report = await importItems(ctx, items, async (processed, sofar) => {
        // On PGlite each statement runs on this thread and resolves as a microtask: without
        // a turn of the event loop between items, no request (nor timer) would run until
        // the whole file is in.
        await setImmediate();
        if (processed % PROGRESS_EVERY !== 0) return;
        await db
          .update(importJobs)
          .set({
            // A retried job counts again from 0: what the page saw never goes back.
            processed: sql`greatest(${importJobs.processed}, ${processed})`,
            created: sql`greatest(${importJobs.created}, ${sofar.tasks.created + sofar.conversations.created})`,
            skipped: sofar.tasks.skipped + sofar.conversations.skipped,
            updatedAt: new Date(),
          })
          .where(eq(importJobs.id, row.id));
      });
      await finish("done", {
        processed: row.total,
        created: report.tasks.created + report.conversations.created,
        skipped: report.tasks.skipped + report.conversations.skipped,
        report,
      });
      log.info(
        { category: "import", importJobId: row.id, ...report.tasks, failed: report.failed.length },
        "import job done",
      );
    } catch (error) {
      // A bad file is final; anything else is retried by the queue (it resumes).
      if (error instanceof AppError && error.status < 500) {
        await finish("failed", { report: { error: error.detail } });
        return;
      }
      if (job.retryCount >= IMPORT_RETRY_LIMIT) {
        await finish("failed", { report: { error: "The import stopped on a server error" } });
      }
      throw error;
    }
  });
}
