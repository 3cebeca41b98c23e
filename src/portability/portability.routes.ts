import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { AppError } from "../errors.ts";
import { requireContext } from "../http/request-context.ts";
import { readTickTickCsv, readTodoistCsv } from "./csv-formats.ts";
import { importItems } from "./import.service.ts";
import { exportAll, readTasktalkExport, TasktalkExport } from "./tasktalk-format.ts";

const ImportReportJson = z.object({
  format: z.enum(["tasktalk", "todoist", "ticktick"]),
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
        summary: "Import a Tasktalk export (JSON), a Todoist CSV or a TickTick CSV backup",
        consumes: ["application/json", "text/csv", "text/plain"],
        querystring: z.strictObject({
          format: z.enum(["tasktalk", "todoist", "ticktick"]),
          list: z.string().trim().min(1).max(100).optional(),
        }),
        body: z.unknown(),
        response: { 200: ImportReportJson },
      },
    },
    async (request) => {
      const ctx = requireContext(request);
      const { format, list } = request.query;
      const body = request.body;
      let items: Parameters<typeof importItems>[1];
      if (format === "tasktalk") {
        const parsed = TasktalkExport.safeParse(typeof body === "string" ? parseJson(body) : body);
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          throw new AppError(
            "validation_failed",
            `Not a Tasktalk export: ${issue?.path.join(".") || "body"}: ${issue?.message}`,
          );
        }
        items = readTasktalkExport(ctx, parsed.data);
      } else {
        if (typeof body !== "string") {
          throw new AppError(
            "unsupported_media_type",
            `A ${format} import is a CSV file: send it as text/csv`,
          );
        }
        items = {
          tasks:
            format === "todoist"
              ? readTodoistCsv(body, list ? { list } : {})
              : readTickTickCsv(body, ctx.timezone),
        };
      }
      const report = await importItems(ctx, items);
      request.log.info({ format, ...report.tasks, failed: report.failed.length }, "import done");
      return { format, ...report };
    },
  );
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new AppError("invalid_json", "The Tasktalk export is not valid JSON");
  }
}
