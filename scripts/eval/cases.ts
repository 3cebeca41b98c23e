/**
 * The case files: the single-turn format (shared/examples/assistant-commands.jsonl, with
 * the task-model fields of eval/task-model*.jsonl) and the multi-turn format
 * (assistant-conversations.jsonl), both read into one shape, a conversation of turns.
 * The formats are defined in /work/shared/examples/README.md.
 */
import { readFileSync } from "node:fs";
import { relative } from "node:path";
import type { DueChecks } from "./due-checks.ts";

export type Status = "all" | "pending" | "completed";
type Priority = "none" | "low" | "medium" | "high";

export interface SeedTask {
  title: string;
  completed?: boolean;
  description?: string;
  /** "+N" / "-N" days from today in the case's zone, or "YYYY-MM-DD". */
  due?: string;
  time?: string;
  priority?: Priority;
  list?: string;
  labels?: string[];
  /** A repeat pattern (words or an RRULE), sent as `recurrence`. */
  recurrence?: string;
  /** In-process only (the API cannot back-date a completion); ignored here. */
  completed_at?: string;
}

export interface Expect {
  added?: {
    title?: string;
    title_contains?: string;
    title_lacks?: string;
    description_contains?: string;
    label?: string;
    recurrence_matches?: string;
  } & DueChecks;
  completed?: number[];
  completed_one_of?: number[];
  reopened?: number[];
  restored?: number[];
  deleted?: number[];
  updated?: { task: number; title?: string; description_contains?: string } & DueChecks;
  listed?: Status;
  unchanged?: true | { names?: string[]; omits?: string[]; reply_matches?: string };
  any_of?: Expect[];
  /** Beside `unchanged: true` (single-turn format) or any other kind (task-model files). */
  reply_matches?: string;
  confirm_ok?: boolean;
}

export interface Turn {
  say: string;
  expect: Expect;
}

export interface Case {
  id: string;
  tz: string;
  tasks: SeedTask[];
  turns: Turn[];
}

/** A task as GET /api/tasks returns it. */
export interface TaskJson {
  id: number;
  title: string;
  description: string;
  completed: boolean;
  due: { date: string; time: string | null; recurrence?: unknown } | null;
  priority: string;
  list: string;
  labels: string[];
}

export class UsageError extends Error {}

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
export const isString = (v: unknown): v is string => typeof v === "string";
const optString = (v: unknown) => v === undefined || isString(v);
const isNumbers = (v: unknown): v is number[] =>
  Array.isArray(v) && v.length > 0 && v.every((n) => Number.isInteger(n) && n > 0);
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);

/** `(?i)` and friends at the start of a pattern become JavaScript flags. */
export function toRegExp(pattern: string): RegExp {
  let flags = "";
  const source = pattern.replace(/^\(\?([imsu]+)\)/, (_, f: string) => {
    flags = [...new Set(f)].join("");
    return "";
  });
  return new RegExp(source, flags);
}

const regexProblem = (v: unknown, name: string): string | undefined => {
  if (v === undefined) return undefined;
  if (!isString(v)) return `\`${name}\` must be a string`;
  try {
    toRegExp(v);
    return undefined;
  } catch (error) {
    return `bad ${name}: ${(error as Error).message}`;
  }
};

const KINDS = [
  "added",
  "completed",
  "completed_one_of",
  "reopened",
  "restored",
  "deleted",
  "updated",
  "listed",
  "unchanged",
  "any_of",
] as const;
const DUE_KEYS = [
  "due_date",
  "due_time",
  "due_weekday",
  "due_null",
  "priority",
  "list",
  "recurrence_null",
];
const ADDED_KEYS = [
  "title",
  "title_contains",
  "title_lacks",
  "description_contains",
  "label",
  "recurrence_matches",
  ...DUE_KEYS,
];
const UPDATED_KEYS = ["task", "title", "description_contains", "recurrence_matches", ...DUE_KEYS];

const unknownKey = (o: Record<string, unknown>, allowed: string[]) =>
  Object.keys(o).find((k) => !allowed.includes(k));

function dueProblem(o: Record<string, unknown>): string | undefined {
  for (const k of ["due_date", "due_time", "priority", "list"]) {
    if (!optString(o[k])) return `\`${k}\` must be a string`;
  }
  const w = o.due_weekday;
  if (w !== undefined && !(Number.isInteger(w) && (w as number) >= 0 && (w as number) <= 6)) {
    return "`due_weekday` must be 0 (Sunday) … 6";
  }
  if (o.due_null !== undefined && o.due_null !== true) return "`due_null` must be true";
  if (o.recurrence_null !== undefined && o.recurrence_null !== true) {
    return "`recurrence_null` must be true";
  }
  return undefined;
}

/** Checks one expectation; returns what is wrong with it, or undefined. */
export function expectProblem(e: unknown): string | undefined {
  if (!isObject(e)) return "`expect` must be an object";
  const extra = unknownKey(e, [...KINDS, "reply_matches", "confirm_ok"]);
  if (extra) return `unknown expectation \`${extra}\``;
  const kinds = KINDS.filter((k) => k in e);
  if (kinds.length !== 1) return `\`expect\` must have exactly one of ${KINDS.join(", ")}`;
  if (e.confirm_ok !== undefined && typeof e.confirm_ok !== "boolean") {
    return "`confirm_ok` must be true or false";
  }
  const top = regexProblem(e.reply_matches, "reply_matches");
  if (top) return top;
  const kind = kinds[0] as (typeof KINDS)[number];
  const v = e[kind];
  switch (kind) {
    case "added": {
      if (!isObject(v)) return "`added` must be an object";
      const bad = unknownKey(v, ADDED_KEYS);
      if (bad) return `unknown field \`added.${bad}\``;
      for (const k of ["title", "title_contains", "title_lacks", "description_contains", "label"]) {
        if (!optString(v[k])) return `\`added.${k}\` must be a string`;
      }
      return dueProblem(v) ?? regexProblem(v.recurrence_matches, "recurrence_matches");
    }
    case "updated": {
      if (!isObject(v) || !Number.isInteger(v.task)) return "`updated` must be {task, …}";
      const bad = unknownKey(v, UPDATED_KEYS);
      if (bad) return `unknown field \`updated.${bad}\``;
      if (!optString(v.title) || !optString(v.description_contains)) {
        return "`updated.title` / `description_contains` must be strings";
      }
      // `{task}` alone: the task changed somehow (the judge refuses an unchanged task).
      return dueProblem(v) ?? regexProblem(v.recurrence_matches, "recurrence_matches");
    }
    case "listed":
      return v === "all" || v === "pending" || v === "completed"
        ? undefined
        : "`listed` must be all, pending or completed";
    case "unchanged": {
      if (v === true) return undefined;
      if (!isObject(v)) return "`unchanged` must be true or {names?, omits?, reply_matches?}";
      const bad = unknownKey(v, ["names", "omits", "reply_matches"]);
      if (bad) return `unknown field \`unchanged.${bad}\``;
      if (!(v.names === undefined || isStrings(v.names))) return "`names` must be strings";
      if (!(v.omits === undefined || isStrings(v.omits))) return "`omits` must be strings";
      return regexProblem(v.reply_matches, "reply_matches");
    }
    case "any_of": {
      if (!Array.isArray(v) || v.length === 0) return "`any_of` must be a non-empty list";
      for (const sub of v) {
        const p = expectProblem(sub);
        if (p) return `any_of: ${p}`;
      }
      return undefined;
    }
    default:
      return isNumbers(v) ? undefined : `\`${kind}\` must be a non-empty list of task numbers`;
  }
}

function taskProblem(t: unknown): string | undefined {
  const shape =
    "`tasks` must be a list of {title, completed?, due?, time?, priority?, list?, labels?}";
  if (!isObject(t) || !isString(t.title)) return shape;
  const bad = unknownKey(t, [
    "title",
    "completed",
    "description",
    "due",
    "time",
    "priority",
    "list",
    "labels",
    "completed_at",
    "recurrence",
  ]);
  if (bad) return `unknown task field \`${bad}\``;
  if (t.completed !== undefined && typeof t.completed !== "boolean") return shape;
  for (const k of ["description", "time", "list", "completed_at", "recurrence"]) {
    if (!optString(t[k])) return `task \`${k}\` must be a string`;
  }
  if (t.due !== undefined && !(isString(t.due) && /^([+-]\d+|\d{4}-\d{2}-\d{2})$/.test(t.due))) {
    return 'task `due` must be "+N", "-N" or YYYY-MM-DD';
  }
  if (t.time !== undefined && t.due === undefined) return "task `time` needs `due`";
  if (!["none", "low", "medium", "high", undefined].includes(t.priority as string)) {
    return "task `priority` must be none, low, medium or high";
  }
  if (t.labels !== undefined && !isStrings(t.labels)) return "task `labels` must be strings";
  return undefined;
}

/** Checks one parsed line and reads it as a conversation; a string says what is wrong. */
export function readCase(c: Record<string, unknown>): Case | string {
  if (!isString(c.id) || c.id === "") return "`id` must be a non-empty string";
  if (!optString(c.tz)) return "`tz` must be a time zone name";
  const tasks = c.tasks ?? [];
  if (!Array.isArray(tasks)) return "`tasks` must be a list";
  for (const t of tasks) {
    const p = taskProblem(t);
    if (p) return p;
  }
  let turns: unknown[];
  if ("turns" in c) {
    if ("say" in c || "expect" in c) return "a case has either `turns` or `say` + `expect`";
    if (!Array.isArray(c.turns) || c.turns.length === 0) return "`turns` must be a list";
    turns = c.turns;
  } else {
    turns = [{ say: c.say, expect: c.expect }];
  }
  for (const [i, t] of turns.entries()) {
    const where = "turns" in c ? `turn ${i + 1}: ` : "";
    if (!isObject(t) || !isString(t.say) || t.say.trim() === "") {
      return `${where}\`say\` must be a non-empty string`;
    }
    const p = expectProblem(t.expect);
    if (p) return `${where}${p}`;
  }
  return {
    id: c.id,
    tz: isString(c.tz) ? c.tz : "UTC",
    tasks: tasks as SeedTask[],
    turns: turns as Turn[],
  };
}

export function loadCases(file: string): Case[] {
  const cases: Case[] = [];
  const ids = new Set<string>();
  const lines = readFileSync(file, "utf8").split(/\r?\n/);
  lines.forEach((line, index) => {
    if (line.trim() === "" || line.trimStart().startsWith("//")) return;
    const where = `${relative(process.cwd(), file) || file}:${index + 1}`;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (error) {
      throw new UsageError(`${where}: not JSON (${(error as Error).message})`);
    }
    if (!isObject(parsed)) throw new UsageError(`${where}: a case must be a JSON object`);
    const c = readCase(parsed);
    if (typeof c === "string") throw new UsageError(`${where}: ${c}`);
    if (ids.has(c.id)) throw new UsageError(`${where}: duplicate id ${c.id}`);
    ids.add(c.id);
    cases.push(c);
  });
  if (cases.length === 0) throw new UsageError(`${file}: no cases`);
  return cases;
}
