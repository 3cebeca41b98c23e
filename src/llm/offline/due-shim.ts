/**
 * TEMPORARY stand-in for src/tasks/due.ts (the lead's, per the task-model contract) until it
 * is merged; same signatures. Deleted when the real one lands.
 */
import * as chrono from "chrono-node";

export interface Due {
  date: string;
  time: string | null;
  timezone: string;
  at: string | null;
  string: string | null;
  recurrence: null;
}
export type DueInput = { date: string; time?: string | null } | { string: string } | null;

function partsIn(instant: Date, timezone: string): { date: string; time: string } {
  const f = new Intl.DateTimeFormat("en-CA", {
    timeZone: timezone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  });
  const p = Object.fromEntries(f.formatToParts(instant).map((x) => [x.type, x.value]));
  return { date: `${p.year}-${p.month}-${p.day}`, time: `${p.hour}:${p.minute}` };
}

export function todayIn(timezone: string, now: Date = new Date()): string {
  return partsIn(now, timezone).date;
}

export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function instantOf(date: string, time: string, timezone: string): string {
  const guess = new Date(`${date}T${time}:00Z`);
  const local = partsIn(guess, timezone);
  const shown = new Date(`${local.date}T${local.time}:00Z`);
  return new Date(guess.getTime() - (shown.getTime() - guess.getTime())).toISOString();
}

/** chrono takes the zone as minutes from UTC. */
function ref(now: Date, timezone: string) {
  const p = partsIn(now, timezone);
  const shown = Date.parse(`${p.date}T${p.time}:00Z`);
  const offset = Math.round((shown - Math.floor(now.getTime() / 60000) * 60000) / 60000);
  return { instant: now, timezone: offset };
}

function dueFrom(r: chrono.ParsedResult, timezone: string, text: string | null): Due {
  const { date, time } = partsIn(r.start.date(), timezone);
  const timed = r.start.isCertain("hour");
  return {
    date,
    time: timed ? time : null,
    timezone,
    at: timed ? instantOf(date, time, timezone) : null,
    string: text,
    recurrence: null,
  };
}

export function resolveDue(input: DueInput, timezone: string, now: Date = new Date()): Due | null {
  if (input === null) return null;
  if ("date" in input) {
    const time = input.time ?? null;
    return {
      date: input.date,
      time,
      timezone,
      at: time ? instantOf(input.date, time, timezone) : null,
      string: null,
      recurrence: null,
    };
  }
  const r = chrono.parse(input.string, ref(now, timezone), { forwardDate: true })[0];
  if (!r) throw new Error("validation_failed");
  return dueFrom(r, timezone, input.string);
}

export function findDuePhrase(
  text: string,
  timezone: string,
  now: Date = new Date(),
): { phrase: string; index: number; due: Due } | undefined {
  const r = chrono.parse(text, ref(now, timezone), { forwardDate: true })[0];
  return r ? { phrase: r.text, index: r.index, due: dueFrom(r, timezone, r.text) } : undefined;
}

export function dueLabel(due: Due): string {
  const d = new Date(`${due.date}T00:00:00Z`);
  const day = d.toLocaleDateString("en-GB", {
    weekday: "short",
    day: "numeric",
    month: "short",
    timeZone: "UTC",
  });
  return due.time ? `${day.replace(",", "")}, ${due.time}` : day.replace(",", "");
}
