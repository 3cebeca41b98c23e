import { createHash } from "node:crypto";
import { parse } from "csv-parse/sync";
import { AppError } from "../errors.ts";
import type { DueInput } from "../tasks/due.ts";
import type { Priority } from "../tasks/task.ts";
import type { ImportTask } from "./import.service.ts";

// The CSV files other task apps write, read into import items. Each row keeps a key that is
// the same every time the same file is read, so importing it again creates nothing new.

function rows(text: string, options: { fromHeader?: string } = {}): Record<string, string>[] {
  let records: string[][];
  try {
    records = parse(text.replace(/^\uFEFF/, ""), {
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: true,
    }) as string[][];
  } catch (error) {
    throw new AppError("validation_failed", `Not a CSV file: ${(error as Error).message}`);
  }
  const at = options.fromHeader ? records.findIndex((r) => r[0]?.trim() === options.fromHeader) : 0;
  const header = at >= 0 ? records[at] : undefined;
  if (!header) {
    throw new AppError("validation_failed", `No "${options.fromHeader}" header row in the file`);
  }
  const names = header.map((h) => h.trim());
  return records.slice(at + 1).map((r) => Object.fromEntries(names.map((n, i) => [n, r[i] ?? ""])));
}

const hash = (...parts: string[]) =>
  createHash("sha256").update(parts.join("\u0001")).digest("base64url").slice(0, 22);

/** Keys made from a row's contents, with a counter for identical rows in one file. */
function keyMaker(prefix: string) {
  const seen = new Map<string, number>();
  return (...parts: string[]) => {
    const base = hash(...parts);
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return `${prefix}:${base}:${n}`;
  };
}

// ---- Todoist: the documented CSV template (a project export) ----
// TYPE, CONTENT, DESCRIPTION, PRIORITY, INDENT, AUTHOR, RESPONSIBLE, DATE, DATE_LANG,
// TIMEZONE (and DURATION, DURATION_UNIT, DEADLINE, DEADLINE_LANG in newer exports).
// PRIORITY 1 is p1, the highest, … 4 is p4, the lowest (no priority); an empty cell is p1,
// as the template documents. @words in CONTENT are labels. INDENT 1 is a task, 2 a
// subtask (Tasktalk's subtasks are one level deep: deeper ones hang on the top task).
// A `section` row names the tasks below it (kept as a label); a `note` row is a comment on
// the task above (appended to its description).

const TODOIST_PRIORITY: Record<string, Priority> = {
  "": "high",
  "1": "high",
  "2": "medium",
  "3": "low",
  "4": "none",
};

export function readTodoistCsv(text: string, options: { list?: string } = {}): ImportTask[] {
  const records = rows(text);
  if (records.length > 0 && !("TYPE" in (records[0] ?? {}) && "CONTENT" in (records[0] ?? {}))) {
    throw new AppError(
      "validation_failed",
      "Not a Todoist CSV: the first row must be its header (TYPE, CONTENT, DESCRIPTION, PRIORITY, INDENT, …)",
    );
  }
  const key = keyMaker("todoist");
  const items: ImportTask[] = [];
  let section = "";
  let top: ImportTask | undefined;
  for (const row of records) {
    const type = (row.TYPE ?? "").trim();
    const content = (row.CONTENT ?? "").trim();
    if (type === "section") {
      section = content;
      top = undefined;
      continue;
    }
    if (type === "note") {
      const last = items.at(-1);
      if (last && content) {
        last.description = last.description ? `${last.description}\n\n${content}` : content;
      }
      continue;
    }
    if (type !== "task" || !content) continue;
    const labels = [...content.matchAll(/(?:^|\s)@([\p{L}\p{N}_./-]+)/gu)].map((m) => m[1] ?? "");
    const title = content.replace(/(?:^|\s)@[\p{L}\p{N}_./-]+/gu, "").trim() || content;
    if (section) labels.push(section);
    const indent = Number.parseInt(row.INDENT ?? "1", 10) || 1;
    const date = (row.DATE ?? "").trim();
    const lang = (row.DATE_LANG ?? "").trim().toLowerCase();
    const due: DueInput | undefined =
      date && (lang === "" || lang === "en") ? { string: date } : undefined;
    const item: ImportTask = {
      key: key(section, indent > 1 ? (top?.key ?? "") : "", content, row.DESCRIPTION ?? "", date),
      title,
      description: (row.DESCRIPTION ?? "").trim(),
      priority: TODOIST_PRIORITY[(row.PRIORITY ?? "").trim()] ?? "none",
      labels,
      ...(options.list ? { list: options.list } : {}),
      ...(due ? { due } : {}),
      ...(indent > 1 && top ? { parentKey: top.key } : {}),
    };
    if (indent <= 1) top = item;
    items.push(item);
  }
  return items;
}

// ---- TickTick: the CSV backup (Settings → Backup) ----
// A few lines about the file, then a header row starting "Folder Name": List Name, Title,
// Tags, Content, Due Date (ISO with offset), Priority (0 none, 1 low, 3 medium, 5 high),
// Status (0 normal, 1 completed, 2 archived = completed), Timezone, Is All Day, taskId,
// parentId. An all-day due is a midnight in the row's zone, written in UTC.

const TICKTICK_PRIORITY: Record<string, Priority> = {
  "0": "none",
  "1": "low",
  "3": "medium",
  "5": "high",
};

/** `timezone`: the importing user's, in which a timed due's wall-clock time is read. */
export function readTickTickCsv(text: string, timezone = "UTC"): ImportTask[] {
  const records = rows(text, { fromHeader: "Folder Name" });
  const items: ImportTask[] = [];
  for (const row of records) {
    const title = (row.Title ?? "").trim();
    const id = (row.taskId ?? "").trim();
    if (!title || !id) continue;
    const parent = (row.parentId ?? "").trim();
    const list = (row["List Name"] ?? "").trim();
    const due = tickTickDue(
      row["Due Date"] ?? "",
      row.Timezone ?? "",
      row["Is All Day"] ?? "",
      timezone,
    );
    items.push({
      key: `ticktick:${id}`,
      title,
      description: (row.Content ?? "").trim(),
      priority: TICKTICK_PRIORITY[(row.Priority ?? "").trim()] ?? "none",
      labels: (row.Tags ?? "")
        .split(",")
        .map((t) => t.trim())
        .filter(Boolean),
      ...(list && list.toLowerCase() !== "inbox" ? { list } : {}),
      ...(due ? { due } : {}),
      completed: ["1", "2"].includes((row.Status ?? "").trim()),
      ...(parent ? { parentKey: `ticktick:${parent}` } : {}),
    });
  }
  return items;
}

function tickTickDue(
  value: string,
  zone: string,
  allDay: string,
  userZone: string,
): DueInput | undefined {
  const text = value.trim();
  if (!text) return undefined;
  // 2024-03-05T16:00:00+0000 → an instant.
  const instant = new Date(text.replace(/([+-]\d{2})(\d{2})$/, "$1:$2"));
  if (Number.isNaN(instant.getTime())) return { string: text };
  const isAllDay = allDay.trim().toLowerCase() === "true";
  // An all-day due is that day where it was set; a timed one is the same instant, on the
  // importing user's clock.
  const timeZone = isAllDay ? (validZone(zone.trim()) ?? userZone) : userZone;
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-CA", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    })
      .formatToParts(instant)
      .map((p) => [p.type, p.value]),
  );
  const date = `${parts.year}-${parts.month}-${parts.day}`;
  return isAllDay ? { date } : { date, time: `${parts.hour}:${parts.minute}` };
}

function validZone(zone: string): string | undefined {
  if (!zone) return undefined;
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return zone;
  } catch {
    return undefined;
  }
}
