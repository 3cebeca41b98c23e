import type { Due } from "./api.ts";

// Due dates as the page shows them: "Tue 1 Dec, 17:00", in the user's time zone (the one
// stored on the server, not the browser's), in the same words the assistant uses.

const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** The wall-clock parts of an instant in a zone: "2026-12-01" and "17:00". */
function partsIn(instant: Date, timeZone: string): { date: string; time: string } {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(instant);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "00";
  return {
    date: `${get("year")}-${get("month")}-${get("day")}`,
    time: `${get("hour")}:${get("minute")}`,
  };
}

/** Today's calendar day in a zone, "YYYY-MM-DD". */
export function todayIn(timeZone: string, now = new Date()): string {
  return partsIn(now, safeZone(timeZone)).date;
}

/** A zone the browser knows; an unknown one reads as UTC rather than throwing. */
function safeZone(timeZone: string): string {
  try {
    new Intl.DateTimeFormat("en", { timeZone });
    return timeZone;
  } catch {
    return "UTC";
  }
}

/** The day and time of a due date as seen from `timeZone` (a timed due moves with the zone). */
export function dueIn(due: Due, timeZone: string): { date: string; time: string | null } {
  if (due.at && due.time && due.timezone !== timeZone) {
    return partsIn(new Date(due.at), safeZone(timeZone));
  }
  return { date: due.date, time: due.time };
}

/** "Tue 1 Dec" for "2026-12-01" (a calendar day: no zone arithmetic). */
export function dayLabel(date: string): string {
  const [y, m, d] = date.split("-").map(Number);
  const day = new Date(Date.UTC(y ?? 1970, (m ?? 1) - 1, d ?? 1));
  return `${WEEKDAYS[day.getUTCDay()]} ${day.getUTCDate()} ${MONTHS[day.getUTCMonth()]}`;
}

/** "Tue 1 Dec, 17:00" or "Tue 1 Dec", in the user's zone. */
export function dueLabel(due: Due, timeZone: string): string {
  const shown = dueIn(due, timeZone);
  return shown.time ? `${dayLabel(shown.date)}, ${shown.time}` : dayLabel(shown.date);
}

/** Past due: a timed due once its instant has passed, an all-day one from the next day on. */
export function isOverdue(due: Due, timeZone: string, now = new Date()): boolean {
  if (due.at && due.time) return new Date(due.at).getTime() < now.getTime();
  return due.date < todayIn(timeZone, now);
}

/** Due today in the user's zone (and not yet past, for a timed one). */
export function isDueToday(due: Due, timeZone: string, now = new Date()): boolean {
  return dueIn(due, timeZone).date === todayIn(timeZone, now);
}

/** The browser's own zone, for a user who has not chosen one yet. */
export function browserTimeZone(): string | undefined {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || undefined;
  } catch {
    return undefined;
  }
}
