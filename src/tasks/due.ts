import * as chrono from "chrono-node";
import { AppError } from "../errors.ts";
import { firstOccurrence, type RepeatFrom } from "./recurrence.ts";
import { type FoundPattern, findRecurrence } from "./recurrence-phrases.ts";

/**
 * Due dates, always in a time zone: `date` is the calendar day in `timezone`, `time` its
 * wall-clock time (null = all day), `at` the instant (null when all day). Natural language
 * ("tomorrow at 5pm", "next friday 9am", "in 3 days") is read by chrono-node against the
 * user's own wall clock, so "today" and "tomorrow" are the user's, never the server's, and
 * daylight-saving transitions are resolved by the zone's rules (Intl), not by a fixed offset.
 */
export interface Due {
  date: string;
  time: string | null;
  timezone: string;
  at: string | null;
  string: string | null;
  /** An RFC 5545 RRULE value ("FREQ=WEEKLY;BYDAY=MO"); null = does not repeat. */
  recurrence: string | null;
  /** Where the next occurrence is counted from; null when it does not repeat. */
  repeat_from: RepeatFrom | null;
}

export type DueInput = { date: string; time?: string | null } | { string: string } | null;

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;
/** The longest natural-language due string read (a date phrase is a few words). */
export const DUE_STRING_MAX = 100;

/** A due input as given (REST, a tool, MCP) → the stored due, or null to clear. */
export function resolveDue(input: DueInput, timezone: string, now = new Date()): Due | null {
  if (input === null) return null;
  if ("string" in input) {
    const text = input.string.trim();
    const repeating =
      text.length <= DUE_STRING_MAX ? findRecurrence(text, timezone, now) : undefined;
    if (repeating) return { ...firstDue(repeating, timezone, now), string: text };
    const found = text.length <= DUE_STRING_MAX ? parseIn(text, timezone, now)[0] : undefined;
    if (!found) {
      throw new AppError(
        "validation_failed",
        `due: "${text.slice(0, 40)}" is not a date I understand; try "tomorrow at 5pm" or {"date": "2026-12-01"}`,
      );
    }
    return { ...found.due, string: text };
  }
  if (!isRealDate(input.date)) {
    throw new AppError("validation_failed", "due.date must be a real date, YYYY-MM-DD");
  }
  const time = input.time ?? null;
  if (time !== null && !TIME.test(time)) {
    throw new AppError("validation_failed", "due.time must be HH:MM (24-hour clock)");
  }
  return makeDue(input.date, time, timezone, null);
}

/**
 * Where the date words are in a message: the first phrase that reads as a date (a day
 * word, a weekday, a month, "in 3 days", a clock time…), outside quotes. A bare number
 * ("task 3", "the 5th") is not a date.
 */
export function findDuePhrase(
  text: string,
  timezone: string,
  now = new Date(),
): { phrase: string; index: number; due: Due } | undefined {
  // A quote opens after a space (or at the start) and closes before one: the apostrophes
  // of "don't … it's" are not a quoted title.
  const unquoted = text.replace(
    /(^|\s)(["'“‘])[^"'“”‘’]*["'”’](?=$|[\s.,!?;:])/g,
    (q, lead: string) => lead + " ".repeat(q.length - lead.length),
  );
  const repeating = findRecurrence(unquoted, timezone, now);
  if (repeating) {
    const due = firstDue(repeating, timezone, now);
    return {
      phrase: repeating.phrase,
      index: repeating.index,
      due: { ...due, string: repeating.phrase },
    };
  }
  for (const found of parseIn(unquoted, timezone, now)) {
    if (!READS_AS_DATE.test(found.phrase)) continue;
    return {
      phrase: found.phrase,
      index: found.index,
      due: { ...found.due, string: found.phrase },
    };
  }
  return undefined;
}

const READS_AS_DATE =
  /\bthe \d{1,2}(?:st|nd|rd|th)\b|\b(?:today|tonight|tomorrow|tmrw|yesterday|noon|midnight|morning|afternoon|evening|weekend|week|month|year|mon|tue|wed|thu|fri|sat|sun)|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b|\bin \d+ \w+|\d{1,2}(?::\d\d)?\s*(?:am|pm)\b|\d{1,2}:\d\d|\d{4}-\d\d-\d\d|\d{1,2}\/\d{1,2}/i;

/** "Tue 1 Dec, 17:00" or "Tue 1 Dec" (with the year when it is not this year). */
export function dueLabel(due: Due, now = new Date()): string {
  const day = new Date(`${due.date}T12:00:00Z`);
  const weekday = day.toLocaleDateString("en-GB", { weekday: "short", timeZone: "UTC" });
  const month = day.toLocaleDateString("en-GB", { month: "short", timeZone: "UTC" });
  const year =
    due.date.slice(0, 4) === todayIn(due.timezone, now).slice(0, 4)
      ? ""
      : ` ${due.date.slice(0, 4)}`;
  const label = `${weekday} ${day.getUTCDate()} ${month}${year}`;
  return due.time ? `${label}, ${due.time}` : label;
}

/** Today's date ("YYYY-MM-DD") in a time zone. */
export function todayIn(timezone: string, now = new Date()): string {
  const w = wallClock(now, timezone);
  return `${w.year}-${pad(w.month)}-${pad(w.day)}`;
}

/** The wall-clock time ("HH:MM") and weekday now in a time zone. */
export function nowIn(
  timezone: string,
  now = new Date(),
): { date: string; time: string; weekday: string } {
  // Every turn's system prompt asks: one wall-clock reading, and the weekday by number
  // (toLocaleDateString builds a formatter per call, ~0.15 ms).
  const w = wallClock(now, timezone);
  const weekday = WEEKDAYS[new Date(Date.UTC(w.year, w.month - 1, w.day)).getUTCDay()] as string;
  return {
    date: `${w.year}-${pad(w.month)}-${pad(w.day)}`,
    time: `${pad(w.hour)}:${pad(w.minute)}`,
    weekday,
  };
}

/** English weekday names by `getUTCDay()`, as `toLocaleDateString("en-GB", {weekday: "long"})`. */
const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** An IANA zone name the runtime knows ("Europe/Lisbon", "UTC"); offsets are refused. */
export function isValidTimeZone(timezone: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/.test(timezone) || timezone.length > 64) {
    return false;
  }
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}

/** The instant at which the wall clock in `timezone` shows `date` `time` (DST-aware). */
export function zonedInstant(date: string, time: string, timezone: string): Date {
  const [y, m, d] = date.split("-").map(Number) as [number, number, number];
  const [hh, mm] = time.split(":").map(Number) as [number, number];
  const wall = Date.UTC(y, m - 1, d, hh, mm);
  // Two rounds of "subtract the zone's offset at the guess" settle on the right instant,
  // also next to a transition; a wall time skipped by a spring-forward lands just after it.
  let guess = wall - offsetMs(new Date(wall), timezone);
  guess = wall - offsetMs(new Date(guess), timezone);
  return new Date(guess);
}

// ---- internals ----

interface Parsed {
  phrase: string;
  index: number;
  due: Due;
}

/** chrono-node on the user's wall clock: the reference instant is "now" as the zone shows it. */
function parseIn(text: string, timezone: string, now: Date): Parsed[] {
  const w = wallClock(now, timezone);
  const reference = new Date(Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute));
  const results = chrono.parse(text, { instant: reference, timezone: 0 }, { forwardDate: true });
  return results.map((r) => {
    const s = r.start;
    const date = `${s.get("year")}-${pad(s.get("month") ?? 1)}-${pad(s.get("day") ?? 1)}`;
    const time = s.isCertain("hour")
      ? `${pad(s.get("hour") ?? 0)}:${pad(s.get("minute") ?? 0)}`
      : null;
    return {
      phrase: r.text,
      index: r.index,
      due: makeDue(withinAWeek(r.text, date, w), time, timezone, null),
    };
  });
}

/**
 * "next thursday" said on a Wednesday means the coming Thursday (chrono reads it as a week
 * later): a weekday named alone lands within the coming seven days.
 */
function withinAWeek(phrase: string, date: string, today: Wall): string {
  if (!/^(?:next |this |on )?(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\b/i.test(phrase.trim())) {
    return date;
  }
  const todayDate = `${today.year}-${pad(today.month)}-${pad(today.day)}`;
  return date > addDays(todayDate, 7) ? addDays(date, -7) : date;
}

export function makeDue(
  date: string,
  time: string | null,
  timezone: string,
  string: string | null,
): Due {
  const at = time ? zonedInstant(date, time, timezone).toISOString() : null;
  return { date, time, timezone, at, string, recurrence: null, repeat_from: null };
}

/** A repeating due from words: its first occurrence from today on. */
function firstDue(found: FoundPattern, timezone: string, now: Date): Due {
  const { rule, time, from } = found.pattern;
  const first = firstOccurrence(rule, time ?? null, todayIn(timezone, now), timezone, now);
  if (!first) {
    throw new AppError("invalid_recurrence", `"${found.phrase}" has no occurrence from today on`);
  }
  return {
    ...makeDue(first.date, first.time, timezone, found.phrase),
    recurrence: rule,
    repeat_from: from ?? "due",
  };
}

function isRealDate(date: string): boolean {
  const m = DATE.exec(date);
  if (!m) return false;
  const d = new Date(`${date}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === date;
}

interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function wallClock(instant: Date, timezone: string): Wall {
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: timezone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(timezone, f);
  }
  const parts: Record<string, number> = {};
  for (const p of f.formatToParts(instant)) {
    if (p.type !== "literal") parts[p.type] = Number(p.value);
  }
  return {
    year: parts.year ?? 1970,
    month: parts.month ?? 1,
    day: parts.day ?? 1,
    hour: parts.hour ?? 0,
    minute: parts.minute ?? 0,
  };
}

/** The zone's offset from UTC at an instant, in ms (positive east of Greenwich). */
function offsetMs(instant: Date, timezone: string): number {
  const w = wallClock(instant, timezone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute);
  return asUtc - Math.floor(instant.getTime() / 60_000) * 60_000;
}

const pad = (n: number) => String(n).padStart(2, "0");
