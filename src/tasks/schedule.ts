import { AppError } from "../errors.ts";
import { type Due, type DueInput, makeDue, resolveDue, todayIn } from "./due.ts";
import { firstOccurrence, nextOccurrence, type Repeat, type RepeatFrom } from "./recurrence.ts";
import { describeRule, readPattern } from "./recurrence-phrases.ts";
import type { Task } from "./task.ts";

/**
 * A task's schedule — its due date and repeat pattern — after a change, decided in one
 * place for every door (REST, tools, MCP, the page). Pure: the caller reads the task first.
 *
 * - A new date keeps the pattern (rescheduling one occurrence); a date given in repeat words
 *   ("every monday at 9") replaces it.
 * - `recurrence` alone sets the pattern and moves the due date to its first occurrence on or
 *   after the current due date (or today); with a date in the same change, the date is kept.
 * - `recurrence: null` stops repeating and keeps the due date; `due: null` clears both.
 */
export interface ScheduleInput {
  due?: DueInput | undefined;
  recurrence?: string | null | undefined;
  repeat_from?: RepeatFrom | undefined;
}

export interface Schedule {
  due: Due | null;
  repeat: Repeat | null;
}

const invalid = (detail: string) => new AppError("invalid_recurrence", detail);

/** The schedule after `input` (undefined: the change does not touch it). */
export function planSchedule(
  current: Pick<Task, "due" | "repeat"> | null,
  input: ScheduleInput,
  timezone: string,
  now: Date,
): Schedule | undefined {
  const { due: dueIn, recurrence, repeat_from: from } = input;
  if (dueIn === undefined && recurrence === undefined && from === undefined) return undefined;
  if (dueIn === null) {
    if (recurrence) throw invalid("A repeating task needs a due date; due: null clears both");
    return { due: null, repeat: null };
  }
  let due = dueIn === undefined ? (current?.due ?? null) : resolveDue(dueIn, timezone, now);
  let repeat: Repeat | null;
  if (dueIn !== undefined && due?.recurrence) {
    if (recurrence !== undefined) {
      throw invalid("Give the repeat pattern once: in due.string or in recurrence, not both");
    }
    repeat = { rule: due.recurrence, from: due.repeat_from ?? "due", time: due.time };
  } else if (recurrence === null) {
    repeat = null;
    // The words described the pattern; the date stays.
    if (due && current?.repeat) due = { ...due, string: null };
  } else if (recurrence !== undefined) {
    const pattern = readPattern(recurrence, timezone, now);
    let time: string | null;
    let date: string;
    if (dueIn !== undefined && due) {
      time = due.time ?? pattern.time ?? null;
      date = due.date;
    } else {
      time = pattern.time ?? current?.due?.time ?? null;
      const first = firstOccurrence(
        pattern.rule,
        time,
        current?.due?.date ?? todayIn(timezone, now),
        timezone,
        now,
      );
      if (!first) throw invalid(`${pattern.text}: no occurrence from today on`);
      date = first.date;
    }
    const text = pattern.described ? describeRule(pattern.rule, time) : pattern.text;
    due = makeDue(date, time, timezone, text);
    repeat = {
      rule: pattern.rule,
      from: pattern.from ?? current?.repeat?.from ?? "due",
      time,
    };
  } else {
    repeat = current?.repeat ?? null;
    // Rescheduling one occurrence: the pattern (and its words) stay.
    if (repeat && due && current?.due) due = { ...due, string: current.due.string };
  }
  if (from !== undefined) {
    if (!repeat) throw invalid("repeat_from needs a recurrence (the task does not repeat)");
    repeat = { ...repeat, from };
  }
  if (!due) return { due: null, repeat: null };
  return { due: withRepeat(due, repeat), repeat };
}

/** A due date showing its pattern (due.recurrence, due.repeat_from). */
export function withRepeat(due: Due, repeat: Repeat | null): Due {
  return { ...due, recurrence: repeat?.rule ?? null, repeat_from: repeat?.from ?? null };
}

/** What completing one occurrence did: the occurrence done, and the next (null: it ended). */
export interface OccurrenceDone {
  completedFor: Due;
  next: Due | null;
}

/**
 * Completing a repeating task at `now`: its next due date, or null when the series is over
 * (the task then really completes). See nextOccurrence for how the next one is found.
 */
export function completeOccurrence(
  due: Due,
  repeat: Repeat,
  completedBefore: number,
  timezone: string,
  now: Date,
): OccurrenceDone {
  const next = nextOccurrence(repeat, due.date, timezone, now, completedBefore);
  return {
    completedFor: due,
    next: next ? withRepeat(makeDue(next.date, next.time, timezone, due.string), repeat) : null,
  };
}
