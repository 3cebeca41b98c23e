import { RRuleTemporal } from "rrule-temporal";
import { AppError } from "../errors.ts";
import { addDays, todayIn, zonedInstant } from "./due.ts";

/**
 * Recurring tasks: an RFC 5545 RRULE (the `RRULE:` value, e.g. `FREQ=WEEKLY;BYDAY=MO`), the
 * series' time of day (null = all day) and where the next occurrence is counted from.
 * Occurrences are computed by rrule-temporal (Temporal time zones: a weekly 09:00 stays at
 * 09:00 on the wall clock across a DST change), always on a day: a task repeats at most daily.
 *
 * Two choices made here, on purpose (docs/decisions.md):
 * - The next occurrence is counted from the current due date (after a reschedule, from the
 *   new date) or, with `repeat_from: "completion"`, from the day it was completed; missed
 *   occurrences are skipped, never piled up.
 * - `COUNT=n` means n occurrences done: the task really completes at its n-th completion.
 *   `UNTIL` is the RFC's: no occurrence after it.
 */
export type RepeatFrom = "due" | "completion";
export const REPEAT_FROM = ["due", "completion"] as const;

/** What is stored (tasks.due_recurrence). */
export interface Repeat {
  rule: string;
  from: RepeatFrom;
  /** "HH:MM" on the wall clock, or null for all-day occurrences. */
  time: string | null;
}

/** One occurrence on the user's wall clock. */
export interface Occurrence {
  date: string;
  time: string | null;
}

/** A recurrence as given (an RRULE or a phrase), read: the rule and what the words said. */
export interface Pattern {
  rule: string;
  /** A time of day the words named ("at 9"); undefined = none named. */
  time?: string;
  from?: RepeatFrom;
  /** The human form: the user's words, or a description of the RRULE. */
  text: string;
  /** True when `text` was generated from an RRULE (describe it again with the due time). */
  described?: boolean;
}

export const RECURRENCE_MAX = 200;
const MAX_INTERVAL = 1000;
/** A rule that never occurs makes the library scan; this caps its work (~50 ms). */
const MAX_ITERATIONS = 3000;

const invalid = (detail: string) => new AppError("invalid_recurrence", detail);

// ---- RRULE text ----

const DAY_CODES = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"] as const;
const FREQS = ["DAILY", "WEEKLY", "MONTHLY", "YEARLY"];
const KEYS = new Set([
  "FREQ",
  "INTERVAL",
  "COUNT",
  "UNTIL",
  "BYDAY",
  "BYMONTHDAY",
  "BYMONTH",
  "BYSETPOS",
  "BYYEARDAY",
  "BYWEEKNO",
  "WKST",
]);

function intList(value: string, key: string, min: number, max: number, signed: boolean): void {
  for (const part of value.split(",")) {
    const n = Number(part);
    if (!/^[+-]?\d{1,3}$/.test(part) || (!signed && n < 1) || n === 0 || Math.abs(n) < min) {
      throw invalid(`${key}=${value}: not a list of ${signed ? "±" : ""}${min}..${max}`);
    }
    if (Math.abs(n) > max) throw invalid(`${key}=${value}: ${part} is out of range ${min}..${max}`);
  }
}

/**
 * An RRULE value checked and normalised ("rrule:freq=weekly;byday=mo;" → "FREQ=WEEKLY;BYDAY=MO").
 * Refused (422 invalid_recurrence): anything RFC 5545 does not allow, a frequency below a
 * day, BYHOUR/BYMINUTE/BYSECOND (the time of day is the due time), COUNT with UNTIL, and a
 * rule with no occurrence at all.
 */
export function normalizeRule(input: string): string {
  const text = input
    .trim()
    .replace(/^RRULE:/i, "")
    .replace(/;+$/, "")
    .toUpperCase();
  if (text.length === 0 || text.length > RECURRENCE_MAX || /[\r\n]/.test(text)) {
    throw invalid(`An RRULE is one line of at most ${RECURRENCE_MAX} characters`);
  }
  const parts = new Map<string, string>();
  for (const part of text.split(";")) {
    const m = /^([A-Z]+)=([A-Z0-9,+-]+)$/.exec(part);
    if (!m?.[1] || !m[2]) throw invalid(`"${part.slice(0, 40)}" is not a NAME=VALUE rule part`);
    if (/^BY(HOUR|MINUTE|SECOND)$/.test(m[1])) {
      throw invalid(`${m[1]} is not supported: the time of day is the task's due time`);
    }
    if (!KEYS.has(m[1])) throw invalid(`${m[1]} is not an RRULE part this server supports`);
    if (parts.has(m[1])) throw invalid(`${m[1]} is given twice`);
    parts.set(m[1], m[2]);
  }
  const freq = parts.get("FREQ");
  if (!freq) throw invalid("An RRULE needs FREQ (DAILY, WEEKLY, MONTHLY or YEARLY)");
  if (!FREQS.includes(freq)) {
    throw invalid(`FREQ=${freq}: a task repeats DAILY, WEEKLY, MONTHLY or YEARLY`);
  }
  const interval = parts.get("INTERVAL");
  if (interval !== undefined) intList(interval, "INTERVAL", 1, MAX_INTERVAL, false);
  const count = parts.get("COUNT");
  if (count !== undefined) intList(count, "COUNT", 1, 999, false);
  if (count !== undefined && parts.has("UNTIL"))
    throw invalid("COUNT and UNTIL cannot both be set");
  const until = parts.get("UNTIL");
  if (until !== undefined && !/^\d{8}(T\d{6}Z?)?$/.test(until)) {
    throw invalid("UNTIL must be a date (20261231) or a UTC date-time (20261231T235959Z)");
  }
  const byday = parts.get("BYDAY");
  if (byday !== undefined) {
    for (const d of byday.split(",")) {
      const m = /^([+-]?\d{1,2})?([A-Z]{2})$/.exec(d);
      if (!m?.[2] || !(DAY_CODES as readonly string[]).includes(m[2]) || m[1] === "0") {
        throw invalid(`BYDAY=${byday}: ${d} is not a weekday like MO or 1MO or -1FR`);
      }
    }
  }
  const ranges: Array<[string, number, number, boolean]> = [
    ["BYMONTHDAY", 1, 31, true],
    ["BYMONTH", 1, 12, false],
    ["BYSETPOS", 1, 366, true],
    ["BYYEARDAY", 1, 366, true],
    ["BYWEEKNO", 1, 53, true],
  ];
  for (const [key, min, max, signed] of ranges) {
    const v = parts.get(key);
    if (v !== undefined) intList(v, key, min, max, signed);
  }
  const wkst = parts.get("WKST");
  if (wkst !== undefined && !(DAY_CODES as readonly string[]).includes(wkst)) {
    throw invalid(`WKST=${wkst} is not a weekday code`);
  }
  const rule = [...parts].map(([k, v]) => `${k}=${v}`).join(";");
  // Some day from now on must match it (BYMONTH=2;BYMONTHDAY=30 never does).
  const y2k = "2000-01-01";
  if (!occurrenceAfter(rule, null, y2k, y2k, "UTC", new Date(Date.UTC(2000, 0, 1)))) {
    throw invalid("This RRULE has no occurrence");
  }
  return rule;
}

/** The COUNT of a rule, if it has one. */
export function countOf(rule: string): number | undefined {
  const m = /(?:^|;)COUNT=(\d+)/.exec(rule);
  return m?.[1] ? Number(m[1]) : undefined;
}

// ---- occurrences ----

const compact = (date: string, time: string) =>
  `${date.replaceAll("-", "")}T${time.replace(":", "")}00`;

/**
 * The first occurrence of `rule` on a day ≥ `fromDate` that is not before `notBefore` (an
 * all-day occurrence: on or after the day `notBefore` falls on in `timezone`). The series
 * is anchored (RFC DTSTART) at `anchorDate` at `time` in `timezone`, so INTERVAL keeps its
 * phase; COUNT is left to the caller.
 */
export function occurrenceAfter(
  rule: string,
  time: string | null,
  anchorDate: string,
  fromDate: string,
  timezone: string,
  notBefore: Date,
): Occurrence | null {
  const withoutCount = rule.replace(/(?:^|;)COUNT=\d+/, "").replace(/^;/, "");
  // All-day series are pure calendar arithmetic: computed on a UTC calendar.
  const zone = time === null ? "UTC" : timezone;
  let series: RRuleTemporal;
  try {
    series = new RRuleTemporal({
      rruleString: `DTSTART;TZID=${zone}:${compact(anchorDate, time ?? "00:00")}\nRRULE:${withoutCount}`,
      maxIterations: MAX_ITERATIONS,
    });
  } catch (error) {
    throw new AppError("invalid_recurrence", `This RRULE cannot be read: ${message(error)}`, {
      cause: error,
    });
  }
  const start =
    time === null ? new Date(`${fromDate}T00:00:00Z`) : zonedInstant(fromDate, time, timezone);
  // An all-day occurrence counts from its day: on or after the day of `notBefore` there.
  const bound = time === null ? new Date(`${todayIn(timezone, notBefore)}T00:00:00Z`) : notBefore;
  const after = new Date(Math.max(start.getTime(), bound.getTime()));
  let next: { toPlainDate(): { toString(): string } } | null;
  try {
    next = series.next(after, true);
  } catch {
    // The library gave up scanning (its iteration cap): no occurrence within reach.
    return null;
  }
  if (!next) return null;
  return { date: next.toPlainDate().toString(), time };
}

/**
 * THE function that moves a recurring task on: the occurrence that follows the current
 * one (due on `dueDate`), once it is completed at `now`. From the day after the current
 * due day (or, with `repeat_from: "completion"`, the day after `now` in `timezone`), the
 * first occurrence that has not begun yet — missed ones are skipped. Null when the series
 * is over: UNTIL passed, or COUNT reached (`completedBefore` occurrences were done before
 * this one).
 */
export function nextOccurrence(
  repeat: Repeat,
  dueDate: string,
  timezone: string,
  now: Date,
  completedBefore: number,
): Occurrence | null {
  const count = countOf(repeat.rule);
  if (count !== undefined && completedBefore + 1 >= count) return null;
  const today = todayIn(timezone, now);
  const from = repeat.from === "completion" ? today : dueDate;
  // All-day: today's occurrence has begun, so the next is tomorrow at the earliest.
  const notBefore = repeat.time === null ? zonedInstant(addDays(today, 1), "00:00", timezone) : now;
  return occurrenceAfter(repeat.rule, repeat.time, from, addDays(from, 1), timezone, notBefore);
}

/**
 * Where a series starts when a recurrence is set without a date: its first occurrence on
 * or after `fromDate` that has not begun by `now` (today counts for an all-day task).
 */
export function firstOccurrence(
  rule: string,
  time: string | null,
  fromDate: string,
  timezone: string,
  now: Date,
): Occurrence | null {
  const today = todayIn(timezone, now);
  const from = fromDate > today ? fromDate : today;
  return occurrenceAfter(rule, time, from, from, timezone, now);
}

function message(error: unknown): string {
  return error instanceof Error ? error.message.slice(0, 120) : "unknown error";
}
