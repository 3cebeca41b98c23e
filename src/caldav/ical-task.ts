import ICAL from "ical.js";
import { AppError } from "../errors.ts";
import type { Reminder, ReminderInput } from "../reminders/reminder.ts";
import { isValidTimeZone, nowIn, zonedInstant } from "../tasks/due.ts";
import type { Priority, Task } from "../tasks/task.ts";

// A task ↔ one VTODO (RFC 5545). What Tasktalk maps: SUMMARY, DESCRIPTION, STATUS and
// COMPLETED, DUE (all day, in a zone, UTC or floating), PRIORITY (1/5/9), CATEGORIES,
// RELATED-TO (the parent), RRULE and VALARMs it can express as reminders. Everything else
// the client set — properties and components — is kept as text (`extra`) and given back
// unchanged, so a round trip through Tasktalk loses nothing the client wrote.

export const PRODID = "-//Tasktalk//CalDAV//EN";

/** Properties this module writes itself; any other VTODO property is the client's extra. */
const MAPPED = new Set([
  "uid",
  "dtstamp",
  "created",
  "last-modified",
  "summary",
  "description",
  "status",
  "completed",
  "due",
  "priority",
  "categories",
  "rrule",
]);

/** A VTODO as read from a client: what maps to the task, and what is kept as it came. */
export interface ParsedTodo {
  uid: string;
  title: string;
  description: string;
  completed: boolean;
  /** Null = no due date; zone is the IANA zone the wall-clock date/time is in. */
  due: { date: string; time: string | null; timezone: string } | null;
  priority: Priority;
  labels: string[];
  /** The parent's UID (RELATED-TO;RELTYPE=PARENT), if any: resolved by the caller. */
  parentUid: string | null;
  recurrence: string | null;
  reminders: ReminderInput[];
  /** Unmapped properties and components, as iCalendar text (a wrapper component). */
  extra: ICAL.Component;
}

const invalid = (detail: string, cause?: unknown) =>
  new AppError("validation_failed", `iCalendar: ${detail}`, { cause });

/** Parses a PUT body: one VCALENDAR with exactly one VTODO (one UID). */
export function parseTodo(text: string, userTimezone: string): ParsedTodo {
  try {
    return readTodo(text, userTimezone);
  } catch (error) {
    // ical.js reads values lazily: a malformed DUE or TRIGGER throws while it is mapped.
    if (error instanceof AppError) throw error;
    throw invalid(error instanceof Error ? error.message : "malformed data", error);
  }
}

function readTodo(text: string, userTimezone: string): ParsedTodo {
  let calendar: ICAL.Component;
  try {
    calendar = new ICAL.Component(ICAL.parse(text));
  } catch (error) {
    throw invalid("the body is not iCalendar data", error);
  }
  if (calendar.name !== "vcalendar") throw invalid("the body is not a VCALENDAR");
  const todos = calendar.getAllSubcomponents("vtodo");
  const first = todos[0];
  if (!first) throw invalid("the calendar holds no VTODO (only tasks are stored here)");
  if (calendar.getAllSubcomponents("vevent").length > 0 || todos.length > 1) {
    throw invalid("one VTODO per resource, without VEVENTs");
  }
  const uid = text1(first, "uid");
  if (!uid) throw invalid("the VTODO has no UID");
  // The client's own zone definitions, for this body only (never the global registry).
  const zones = new Map<string, ICAL.Timezone>();
  for (const tz of calendar.getAllSubcomponents("vtimezone")) {
    const zone = new ICAL.Timezone(tz);
    if (zone.tzid) zones.set(zone.tzid, zone);
  }

  const extra = new ICAL.Component("x-tasktalk-extra");
  for (const prop of first.getAllProperties()) {
    if (!MAPPED.has(prop.name)) extra.addProperty(ICAL.Property.fromString(prop.toICALString()));
  }
  const parentUid = takeParent(extra);
  const reminders: ReminderInput[] = [];
  for (const alarm of first.getAllSubcomponents()) {
    const reminder = alarm.name === "valarm" ? toReminder(alarm) : undefined;
    if (reminder && reminders.length < 10) reminders.push(reminder);
    else extra.addSubcomponent(new ICAL.Component(ICAL.parse(alarm.toString())));
  }
  const status = text1(first, "status")?.toUpperCase();
  const due = readDue(first, userTimezone, zones);
  const rrule = first.getFirstPropertyValue("rrule");
  // A task repeats from its due date: an RRULE without DUE (on DTSTART) is kept as it came.
  const recurrence = due && rrule instanceof ICAL.Recur ? rrule.toString() : null;
  if (!due) {
    for (const prop of first.getAllProperties("rrule")) {
      extra.addProperty(ICAL.Property.fromString(prop.toICALString()));
    }
  }
  return {
    uid,
    title: text1(first, "summary")?.trim() || "Untitled",
    description: text1(first, "description") ?? "",
    completed: status === "COMPLETED" || (status === undefined && first.hasProperty("completed")),
    due,
    priority: toPriority(Number(first.getFirstPropertyValue("priority") ?? 0)),
    labels: readCategories(first),
    parentUid,
    recurrence,
    reminders,
    extra,
  };
}

function text1(component: ICAL.Component, name: string): string | undefined {
  const value = component.getFirstPropertyValue(name);
  return value === null || value === undefined ? undefined : String(value);
}

/** RELATED-TO with RELTYPE=PARENT (the default) names the parent; others stay extra. */
function takeParent(extra: ICAL.Component): string | null {
  for (const prop of extra.getAllProperties("related-to")) {
    const reltype = String(prop.getParameter("reltype") ?? "PARENT").toUpperCase();
    if (reltype === "PARENT") {
      extra.removeProperty(prop);
      return String(prop.getFirstValue());
    }
  }
  return null;
}

function readDue(
  todo: ICAL.Component,
  userTimezone: string,
  zones: ReadonlyMap<string, ICAL.Timezone>,
): ParsedTodo["due"] {
  const prop = todo.getFirstProperty("due");
  if (!prop) return null;
  const value = prop.getFirstValue();
  if (!(value instanceof ICAL.Time)) throw invalid("DUE is not a date or date-time");
  const date = `${pad(value.year, 4)}-${pad(value.month)}-${pad(value.day)}`;
  if (value.isDate) return { date, time: null, timezone: userTimezone };
  const time = `${pad(value.hour)}:${pad(value.minute)}`;
  const tzid = prop.getParameter("tzid");
  const zone = typeof tzid === "string" ? tzid : undefined;
  if (value.zone === ICAL.Timezone.utcTimezone || zone === "UTC") {
    const at = new Date(Date.UTC(value.year, value.month - 1, value.day, value.hour, value.minute));
    const local = nowIn(userTimezone, at);
    return { date: local.date, time: local.time, timezone: userTimezone };
  }
  if (zone && isValidTimeZone(zone)) return { date, time, timezone: zone };
  const described = zone ? zones.get(zone) : undefined;
  if (described) {
    // A zone the client described in its own VTIMEZONE (Outlook's names): its instant.
    const instant = value.clone();
    instant.zone = described;
    const local = nowIn(userTimezone, new Date(instant.toUnixTime() * 1000));
    return { date: local.date, time: local.time, timezone: userTimezone };
  }
  // Floating (or an unknown zone): the user's wall clock.
  return { date, time, timezone: userTimezone };
}

function readCategories(todo: ICAL.Component): string[] {
  const labels: string[] = [];
  for (const prop of todo.getAllProperties("categories")) {
    for (const value of prop.getValues()) {
      // A label is one word: spaces become dashes, other characters drop.
      const word = String(value)
        .trim()
        .toLowerCase()
        .replace(/\s+/g, "-")
        .replace(/[^\p{L}\p{N}_./-]/gu, "")
        .slice(0, 50);
      if (word) labels.push(word);
    }
  }
  return [...new Set(labels)].slice(0, 20);
}

/** A VALARM as a reminder, when it is one: relative to the due time (not after) or absolute. */
function toReminder(alarm: ICAL.Component): ReminderInput | undefined {
  const trigger = alarm.getFirstProperty("trigger");
  if (!trigger) return undefined;
  const value = trigger.getFirstValue();
  if (value instanceof ICAL.Duration) {
    const seconds = value.toSeconds();
    if (seconds > 0 || seconds % 60 !== 0 || -seconds / 60 > 40_320) return undefined;
    return { before_minutes: -seconds / 60 };
  }
  if (value instanceof ICAL.Time) return { at: value.toJSDate().toISOString() };
  return undefined;
}

function toPriority(value: number): Priority {
  if (!Number.isInteger(value) || value <= 0 || value > 9) return "none";
  if (value < 5) return "high";
  if (value === 5) return "medium";
  return "low";
}

const PRIORITY_VALUE: Record<Priority, number | null> = {
  none: null,
  high: 1,
  medium: 5,
  low: 9,
};

/** What a VTODO needs beyond the task: its UID, its parent's UID and the client's extras. */
export interface TodoContext {
  uid: string;
  parentUid: string | null;
  extra: string;
  reminders: readonly Reminder[];
}

/** The VCALENDAR of one task (a VTODO and the VTIMEZONE its DUE names). */
export function renderTodoCalendar(task: Task, context: TodoContext): string {
  const calendar = newCalendar();
  const todo = todoOf(task, context);
  const zone = task.due?.time && task.due.timezone !== "UTC" ? task.due : null;
  if (zone?.at) calendar.addSubcomponent(vtimezone(zone.timezone, new Date(zone.at)));
  calendar.addSubcomponent(todo);
  return calendar.toString();
}

export function newCalendar(name?: string): ICAL.Component {
  const calendar = new ICAL.Component("vcalendar");
  calendar.addPropertyWithValue("version", "2.0");
  calendar.addPropertyWithValue("prodid", PRODID);
  if (name) calendar.addPropertyWithValue("x-wr-calname", name);
  return calendar;
}

export function todoOf(task: Task, context: TodoContext): ICAL.Component {
  const todo = new ICAL.Component("vtodo");
  todo.addPropertyWithValue("uid", context.uid);
  todo.addPropertyWithValue("dtstamp", utc(task.updatedAt));
  todo.addPropertyWithValue("created", utc(task.createdAt));
  todo.addPropertyWithValue("last-modified", utc(task.updatedAt));
  todo.addPropertyWithValue("summary", task.title);
  if (task.description) todo.addPropertyWithValue("description", task.description);
  todo.addPropertyWithValue("status", task.completed ? "COMPLETED" : "NEEDS-ACTION");
  if (task.completed && task.completedAt)
    todo.addPropertyWithValue("completed", utc(task.completedAt));
  if (task.due) addDue(todo, "due", task.due);
  const priority = PRIORITY_VALUE[task.priority];
  if (priority !== null) todo.addPropertyWithValue("priority", priority);
  if (task.labels.length > 0) {
    const categories = new ICAL.Property("categories");
    categories.setValues(task.labels);
    todo.addProperty(categories);
  }
  if (context.parentUid) {
    const related = todo.addPropertyWithValue("related-to", context.parentUid);
    related.setParameter("reltype", "PARENT");
  }
  if (task.due?.recurrence) {
    todo.addPropertyWithValue("rrule", ICAL.Recur.fromString(task.due.recurrence));
  }
  for (const reminder of context.reminders) todo.addSubcomponent(alarmOf(task, reminder));
  if (context.extra) {
    const extra = new ICAL.Component(ICAL.parse(context.extra));
    for (const prop of extra.getAllProperties()) {
      todo.addProperty(ICAL.Property.fromString(prop.toICALString()));
    }
    for (const sub of extra.getAllSubcomponents()) {
      todo.addSubcomponent(new ICAL.Component(ICAL.parse(sub.toString())));
    }
  }
  return todo;
}

/** DUE (or DTSTART): a DATE when all day, a UTC time in UTC, else the wall time with TZID. */
export function addDue(component: ICAL.Component, name: string, due: NonNullable<Task["due"]>) {
  const [year, month, day] = due.date.split("-").map(Number) as [number, number, number];
  if (!due.time) {
    const value = ICAL.Time.fromData({ year, month, day, isDate: true });
    component.addPropertyWithValue(name, value);
    return;
  }
  const [hour, minute] = due.time.split(":").map(Number) as [number, number];
  if (due.timezone === "UTC") {
    component.addPropertyWithValue(name, utc(zonedInstant(due.date, due.time, "UTC")));
    return;
  }
  const value = ICAL.Time.fromData({ year, month, day, hour, minute, second: 0, isDate: false });
  const prop = component.addPropertyWithValue(name, value);
  prop.setParameter("tzid", due.timezone);
}

function alarmOf(task: Task, reminder: Reminder): ICAL.Component {
  const alarm = new ICAL.Component("valarm");
  alarm.addPropertyWithValue("action", "DISPLAY");
  alarm.addPropertyWithValue("description", task.title);
  if (reminder.at) {
    const trigger = alarm.addPropertyWithValue("trigger", utc(reminder.at));
    trigger.setParameter("value", "DATE-TIME");
  } else {
    const minutes = reminder.beforeMinutes ?? 0;
    const duration = ICAL.Duration.fromSeconds(-minutes * 60);
    const trigger = alarm.addPropertyWithValue("trigger", duration);
    trigger.setParameter("related", "END");
  }
  return alarm;
}

export function utc(date: Date): ICAL.Time {
  return ICAL.Time.fromJSDate(date, true);
}

/**
 * A VTIMEZONE for an IANA zone, with the zone's offset at the given instant: clients look
 * the zone up by its TZID (IANA names are what they know); this keeps the file valid.
 */
export function vtimezone(tzid: string, at: Date): ICAL.Component {
  const offset = offsetMinutes(tzid, at);
  const component = new ICAL.Component("vtimezone");
  component.addPropertyWithValue("tzid", tzid);
  const standard = new ICAL.Component("standard");
  standard.addPropertyWithValue(
    "dtstart",
    ICAL.Time.fromData({ year: 1970, month: 1, day: 1, hour: 0, minute: 0, second: 0 }),
  );
  const text = ICAL.UtcOffset.fromSeconds(offset * 60);
  standard.addPropertyWithValue("tzoffsetfrom", text);
  standard.addPropertyWithValue("tzoffsetto", text);
  component.addSubcomponent(standard);
  return component;
}

function offsetMinutes(timezone: string, at: Date): number {
  const local = nowIn(timezone, at);
  const wall = Date.parse(`${local.date}T${local.time}:00Z`);
  return Math.round((wall - Math.floor(at.getTime() / 60_000) * 60_000) / 60_000);
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

/** The text form of the extra component (empty when the client set nothing else). */
export function extraText(extra: ICAL.Component): string {
  return extra.getAllProperties().length + extra.getAllSubcomponents().length > 0
    ? extra.toString()
    : "";
}
