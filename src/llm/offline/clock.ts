/**
 * The user's "now": the system prompt carries it in one fixed line (task-model contract),
 * `Current date and time for the user: 2026-11-29 23:45 (Sunday), time zone Europe/Lisbon.`
 * Dates the user says ("tomorrow", "this week") are read against it, never the server's
 * clock or zone. Without the line: UTC and the server's now.
 */
import { isValidTimeZone, zonedInstant } from "./dates.ts";

export interface Clock {
  timezone: string;
  now: Date;
}

const LINE =
  /Current date and time for the user: (\d{4}-\d{2}-\d{2}) (\d{2}):(\d{2})(?: \(\w+\))?, time zone ([A-Za-z0-9_+\-/]{1,64})\./u;

/** The instant at which the wall clock in `timezone` shows `date` `hh:mm` (DST-aware). */
export function instantAt(date: string, hh: number, mm: number, timezone: string): Date {
  const pad = (n: number) => String(n).padStart(2, "0");
  return zonedInstant(date, `${pad(hh)}:${pad(mm)}`, timezone);
}

export function readClock(system: string | undefined, fallbackNow: () => Date): Clock {
  const m = system ? LINE.exec(system) : null;
  const zone = m?.[4];
  if (!m || !zone || !isValidTimeZone(zone)) return { timezone: "UTC", now: fallbackNow() };
  const now = instantAt(m[1] ?? "", Number(m[2]), Number(m[3]), zone);
  return Number.isNaN(now.getTime())
    ? { timezone: zone, now: fallbackNow() }
    : { timezone: zone, now };
}
