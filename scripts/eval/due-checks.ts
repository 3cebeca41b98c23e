/**
 * The task-model checks of /work/shared/examples/README.md (due_date, due_time,
 * due_weekday, due_null, priority, list), as pure functions that return what is wrong.
 * Shared by the end-to-end eval (scripts/eval-assistant.ts) and the in-process checker
 * (test/llm/offline-expect.test.ts), so both score a case the same way.
 */
import { addDays, todayIn } from "../../src/tasks/due.ts";

export interface DueChecks {
  /** "+N" / "-N" days from today in the user's zone, "MM-DD" (the next such day), or a date. */
  due_date?: string;
  due_time?: string;
  /** 0 = Sunday: a date within the coming 7 days. */
  due_weekday?: number;
  due_null?: boolean;
  priority?: string;
  list?: string;
  /** A regular expression over due.recurrence (the RRULE); `(?i)` = ignore case. */
  recurrence_matches?: string;
  /** The task does not repeat (due.recurrence is null or there is no due). */
  recurrence_null?: boolean;
}

/** The fields of a task these checks read (REST task JSON and the in-process row alike). */
export interface DueFields {
  due: { date: string; time: string | null; recurrence?: unknown } | null;
  priority: string;
  list: string;
}

/** The day a "+N" / "-N" / date spec means, seen from `now` in `timezone`. */
export function dayFrom(spec: string, timezone: string, now: Date): string {
  const rel = /^([+-]\d+)$/u.exec(spec);
  return rel ? addDays(todayIn(timezone, now), Number(rel[1])) : spec;
}

/** The day a due_date check means: as dayFrom, plus "MM-DD" = the next such day. */
export function wantedDay(spec: string, timezone: string, now: Date): string {
  const md = /^(\d{2})-(\d{2})$/u.exec(spec);
  if (!md) return dayFrom(spec, timezone, now);
  const today = todayIn(timezone, now);
  const thisYear = `${today.slice(0, 4)}-${spec}`;
  return thisYear >= today ? thisYear : `${Number(today.slice(0, 4)) + 1}-${spec}`;
}

/** What about `row` misses the checks in `e` (empty when it meets them all). */
export function dueProblems(row: DueFields, e: DueChecks, timezone: string, now: Date): string[] {
  const out: string[] = [];
  const got = JSON.stringify(row.due ? { date: row.due.date, time: row.due.time } : null);
  const rule = row.due?.recurrence ?? null;
  if (e.recurrence_null && rule !== null) out.push(`should not repeat (recurrence is ${rule})`);
  if (e.recurrence_matches !== undefined) {
    const flags = e.recurrence_matches.startsWith("(?i)") ? "iu" : "u";
    const re = new RegExp(e.recurrence_matches.replace(/^\(\?i\)/u, ""), flags);
    if (typeof rule !== "string") out.push(`should repeat (recurrence is ${JSON.stringify(rule)})`);
    else if (!re.test(rule))
      out.push(`recurrence ${rule} does not match /${e.recurrence_matches}/`);
  }
  if (e.due_null && row.due !== null) out.push(`due should be cleared (is ${got})`);
  if (e.due_date !== undefined) {
    const want = wantedDay(e.due_date, timezone, now);
    if (row.due?.date !== want) out.push(`due date should be ${want} (due is ${got})`);
  }
  if (e.due_time !== undefined && row.due?.time !== e.due_time) {
    out.push(`due time should be ${e.due_time} (due is ${got})`);
  }
  if (e.due_weekday !== undefined) {
    const date = row.due?.date ?? "";
    const today = todayIn(timezone, now);
    const weekday = new Date(`${date}T00:00:00Z`).getUTCDay();
    if (weekday !== e.due_weekday || date < today || date > addDays(today, 7)) {
      out.push(`due should be weekday ${e.due_weekday} within 7 days of ${today} (due is ${got})`);
    }
  }
  if (e.priority !== undefined && row.priority !== e.priority) {
    out.push(`priority should be ${e.priority} (is ${row.priority})`);
  }
  if (e.list !== undefined && row.list.toLowerCase() !== e.list.toLowerCase()) {
    out.push(`list should be ${e.list} (is ${row.list})`);
  }
  return out;
}
