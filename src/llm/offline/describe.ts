/**
 * How the assistant reads back a task: its due date ("due Tue 1 Dec, 17:00"), priority,
 * list and labels, from a one-task tool result or a compact list_tasks item. Every reply
 * says what was understood, so a wrong date is seen at once.
 */
import type { TaskView } from "./types.ts";

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** "2026-12-01 17:00" (or "2026-12-01") → "Tue 1 Dec, 17:00" (or "Tue 1 Dec"). */
export function compactDueLabel(due: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}:\d{2}))?/u.exec(due);
  if (!m) return due;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  const day = `${DAYS[d.getUTCDay()]} ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}`;
  return m[4] ? `${day}, ${m[4]}` : day;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** The label of a due date in any shape the tools give: due_label, a Due object, a compact string. */
export function dueText(result: unknown): string | undefined {
  if (!isObject(result)) return undefined;
  if (typeof result.due_label === "string" && result.due_label) return result.due_label;
  const due = result.due;
  if (typeof due === "string" && due) return compactDueLabel(due);
  if (isObject(due) && typeof due.date === "string") {
    return compactDueLabel(typeof due.time === "string" ? `${due.date} ${due.time}` : due.date);
  }
  return undefined;
}

/** "due Tue 1 Dec, 17:00, high priority, in Shopping, #errands": what a task carries. */
export function attributes(result: unknown, options: { inbox?: boolean } = {}): string[] {
  if (!isObject(result)) return [];
  const parts: string[] = [];
  const due = dueText(result);
  if (due) parts.push(`due ${due}`);
  const p = result.priority;
  if (p === "high" || p === "medium" || p === "low") parts.push(`${p} priority`);
  const list = result.list;
  if (typeof list === "string" && list && (options.inbox || list.toLowerCase() !== "inbox")) {
    parts.push(`in ${list}`);
  }
  if (Array.isArray(result.labels)) {
    for (const l of result.labels) if (typeof l === "string" && l) parts.push(`#${l}`);
  }
  return parts;
}

/** One line of a list answer. */
export function taskLine(t: TaskView, showDone: boolean): string {
  const extra = attributes(t);
  const description = t.description ? ` — ${t.description}` : "";
  const tail = extra.length > 0 ? ` (${extra.join(", ")})` : "";
  const done = showDone && t.completed ? " (done)" : "";
  return `- Task ${t.id} · ${t.title}${description}${tail}${done}`;
}
