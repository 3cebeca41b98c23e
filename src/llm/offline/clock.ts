/**
 * The user's "now": the system prompt carries it in one fixed line (task-model contract),
 * `Current date and time for the user: 2026-11-29 23:45 (Sunday), time zone Europe/Lisbon.`
 * Dates the user says ("tomorrow", "this week") are read against it, never the server's
 * clock or zone. Without the line: UTC and the server's now.
 */
import { isValidTimeZone } from "./dates.ts";

export interface Clock {
  timezone: string;
  now: Date;
}

const LINE =
  /Current date and time for the user: (\d{4}-\d{2}-\d{2}) (\d{2}):(\d{2})(?: \(\w+\))?, time zone ([A-Za-z0-9_+\-/]{1,64})\./u;

/** Offset (ms) of `timezone` from UTC at `instant`. */
export function offsetAt(instant: Date, timezone: string): number {
  const f = new Intl.DateTimeFormat("en-CA", {
    timeZone: timezone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
  });
  const p = Object.fromEntries(f.formatToParts(instant).map((x) => [x.type, x.value]));
  const shown = Date.UTC(
    Number(p.year),
    Number(p.month) - 1,
    Number(p.day),
    Number(p.hour),
    Number(p.minute),
    Number(p.second),
  );
  return shown - Math.floor(instant.getTime() / 1000) * 1000;
}

/** The instant at which the wall clock in `timezone` shows `date` `hh:mm`. */
export function instantAt(date: string, hh: number, mm: number, timezone: string): Date {
  const [y, m, d] = date.split("-").map(Number);
  const wall = Date.UTC(y ?? 1970, (m ?? 1) - 1, d ?? 1, hh, mm);
  const first = wall - offsetAt(new Date(wall), timezone);
  // Second pass: the offset may differ on the other side of a daylight-saving change.
  return new Date(wall - offsetAt(new Date(first), timezone));
}

export function readClock(system: string | undefined, fallbackNow: () => Date): Clock {
  const m = system ? LINE.exec(system) : null;
  const zone = m?.[4];
  if (!m || !zone || !isValidTimeZone(zone)) return { timezone: "UTC", now: fallbackNow() };
  const now = instantAt(m[1] ?? "", Number(m[2]), Number(m[3]), zone);
  return Number.isNaN(now.getTime()) ? { timezone: zone, now: fallbackNow() } : { timezone: zone, now };
}
