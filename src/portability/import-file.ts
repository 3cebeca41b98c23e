import type { RequestContext } from "../context.ts";
import { AppError } from "../errors.ts";
import { readTickTickCsv, readTodoistCsv } from "./csv-formats.ts";
import type { ImportConversation, ImportTask } from "./import.service.ts";
import { readTasktalkExport, TasktalkExport } from "./tasktalk-format.ts";

export const IMPORT_FORMATS = ["tasktalk", "todoist", "ticktick"] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

/** What an import file holds, read (a bad file: a 4xx AppError). */
export function readImportFile(
  ctx: RequestContext,
  format: ImportFormat,
  list: string | undefined,
  body: unknown,
): { tasks: ImportTask[]; conversations?: ImportConversation[] } {
  if (format === "tasktalk") {
    const parsed = TasktalkExport.safeParse(typeof body === "string" ? parseJson(body) : body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new AppError(
        "validation_failed",
        `Not a Tasktalk export: ${issue?.path.join(".") || "body"}: ${issue?.message}`,
      );
    }
    return readTasktalkExport(ctx, parsed.data);
  }
  if (typeof body !== "string") {
    throw new AppError(
      "unsupported_media_type",
      `A ${format} import is a CSV file: send it as text/csv`,
    );
  }
  return {
    tasks:
      format === "todoist"
        ? readTodoistCsv(body, list ? { list } : {})
        : readTickTickCsv(body, ctx.timezone),
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new AppError("invalid_json", "The Tasktalk export is not valid JSON");
  }
}
