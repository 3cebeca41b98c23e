import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { AppError } from "../errors.ts";
import { requireContext } from "../http/request-context.ts";
import {
  ASYNC_IMPORT_ABOVE,
  createImportJob,
  getImportJob,
  type ImportJob,
} from "./import.jobs.ts";
import { IMPORT_MAX_ITEMS, importItems } from "./import.service.ts";
import { IMPORT_FORMATS, readImportFile } from "./import-file.ts";
import { exportAll } from "./tasktalk-format.ts";

const ImportReportJson = z.object({
  format: z.enum(IMPORT_FORMATS),
  tasks: z.object({ created: z.number(), skipped: z.number() }),
  conversations: z.object({ created: z.number(), skipped: z.number() }),
  failed: z.array(z.object({ key: z.string(), code: z.string(), reason: z.string() })),
  warnings: z.array(z.object({ key: z.string(), warning: z.string() })),
});

/**
 * GET /api/export: everything of the caller as one JSON file. POST /api/import: a Tasktalk
 * export (JSON), a Todoist CSV or a TickTick CSV backup as the body; importing the same
 * file again creates nothing new.
 */
export async function portabilityRoutes(app: FastifyInstance, opts: { bodyLimit: number }) {
  // CSV arrives as text; JSON uses the app's parser (within this route's bodyLimit).
  app.removeContentTypeParser("text/plain");
  app.addContentTypeParser(
    ["text/csv", "text/plain"],
    { parseAs: "string", bodyLimit: opts.bodyLimit },
    (_request, body, done) => done(null, body),
  );
  const r = app.withTypeProvider<ZodTypeProvider>();

  // The full shape is TasktalkExport (what POST /api/import reads back); documented loosely.
  const ExportJson = z
    .looseObject({
      format: z.literal("tasktalk"),
      version: z.number(),
      exported_at: z.string(),
      user: z.looseObject({ id: z.string() }),
      tasks: z.array(z.looseObject({})),
      conversations: z.array(z.looseObject({})),
    })
    .describe("Everything of the caller: tasks, lists, labels, conversations with messages");
  r.get(
    "/api/export",
    { schema: { summary: "Export everything (JSON)", response: { 200: ExportJson } } },
    async (request, reply) => {
      const data = await exportAll(requireContext(request));
      const day = data.exported_at.slice(0, 10);
      reply.header("content-disposition", `attachment; filename="tasktalk-export-${day}.json"`);
      return data;
    },
  );

  r.post(
    "/api/import",
    {
      bodyLimit: opts.bodyLimit,
      schema: {
        summary:
          "Import a Tasktalk export (JSON), a Todoist CSV or a TickTick CSV backup (a large file: as a job)",
        description: `A file of more than ${ASYNC_IMPORT_ABOVE} items, or any with \`async=true\`, is stored and imported by a job: 202 with the job and \`Location: /api/import/jobs/{id}\`. Smaller files answer 200 with the report.`,
        consumes: ["application/json", "text/csv", "text/plain"],
        querystring: z.strictObject({
          format: z.enum(IMPORT_FORMATS),
          list: z.string().trim().min(1).max(100).optional(),
          async: z.enum(["true", "false"]).optional(),
        }),
        body: z.unknown(),
        response: { 200: ImportReportJson, 202: ImportJobJson },
      },
    },
    async (request, reply) => {
      const ctx = requireContext(request);
      const { format, list } = request.query;
      const body = request.body;
      const items = readImportFile(ctx, format, list, body);
      const total = items.tasks.length + (items.conversations?.length ?? 0);
      if (total > IMPORT_MAX_ITEMS) {
        throw new AppError(
          "payload_too_large",
          `An import takes at most ${IMPORT_MAX_ITEMS} items; this file has ${total}`,
        );
      }
      const jobs = ctx.jobs;
      if (jobs && (request.query.async === "true" || total > ASYNC_IMPORT_ABOVE)) {
        const job = await createImportJob(
          { ...ctx, jobs },
          {
            format,
            list,
            body: typeof body === "string" ? body : JSON.stringify(body),
            total,
          },
        );
        request.log.info({ format, total, importJobId: job.id }, "import job queued");
        return reply
          .status(202)
          .header("location", `/api/import/jobs/${job.id}`)
          .send(toImportJobJson(job));
      }
      const report = await importItems(ctx, items);
      request.log.info({ format, ...report.tasks, failed: report.failed.length }, "import done");
      return { format, ...report };
    },
  );

  r.get(
    "/api/import/jobs/:id",
    {
      schema: {
        summary: "An import job's progress (and its report once done)",
        params: z.strictObject({ id: z.uuid() }),
        response: { 200: ImportJobJson },
        errors: ["not_found"],
      },
    },
    async (request) =>
      toImportJobJson(await getImportJob(requireContext(request), request.params.id)),
  );
}

const ImportJobJson = z.object({
  id: z.string(),
  format: z.enum(IMPORT_FORMATS),
  state: z.enum(["queued", "running", "done", "failed"]),
  total: z.number().describe("Items in the file"),
  processed: z.number().describe("Items handled so far (created, skipped or failed)"),
  created: z.number(),
  skipped: z.number().describe("Already here (imported before)"),
  errors: z.array(z.object({ key: z.string(), code: z.string(), reason: z.string() })),
  warnings: z.array(z.object({ key: z.string(), warning: z.string() })),
  error: z.string().nullable().describe("Why the job failed (state failed)"),
  created_at: z.string(),
  updated_at: z.string(),
});

function toImportJobJson(job: ImportJob): z.infer<typeof ImportJobJson> {
  return {
    id: job.id,
    format: job.format,
    state: job.state,
    total: job.total,
    processed: job.processed,
    created: job.created,
    skipped: job.skipped,
    errors: job.report?.failed ?? [],
    warnings: job.report?.warnings ?? [],
    error: job.report?.error ?? null,
    created_at: job.createdAt.toISOString(),
    updated_at: job.updatedAt.toISOString(),
  };
}
