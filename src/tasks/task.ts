import { z } from "zod";
import { remindersInput } from "../reminders/reminder.ts";
import { DUE_STRING_MAX, type Due } from "./due.ts";
import { RECURRENCE_MAX, REPEAT_FROM, type Repeat } from "./recurrence.ts";

/**
 * A task as the rest of the server sees it. `id` is the row's uuid and never leaves the
 * server; `number` is what people and the model call "task 3": small, per user, never reused.
 */
export interface Task {
  id: string;
  userId: string;
  number: number;
  title: string;
  description: string;
  completed: boolean;
  completedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  /** Bumped by every change; sent as the ETag and compared with If-Match. */
  version: number;
  due: Due | null;
  priority: Priority;
  /** The list's name; "Inbox" when the task is in no list. */
  list: string;
  /** Lowercase, without '#', unique, sorted. */
  labels: string[];
  /** The parent task's number (subtasks are one level deep). */
  parentNumber: number | null;
  /** When it was moved to the trash; null = live. */
  deletedAt: Date | null;
  /** A repeating task's pattern (also shown as due.recurrence / due.repeat_from). */
  repeat: Repeat | null;
  /** Occurrences of a repeating task completed so far. */
  completedOccurrences: number;
  lastCompletedAt: Date | null;
}

/** "deleted" is the trash: the only listing that shows trashed tasks. */
export const TASK_STATUS_FILTERS = ["all", "pending", "completed", "deleted"] as const;
export type TaskStatusFilter = (typeof TASK_STATUS_FILTERS)[number];
export const PRIORITIES = ["none", "low", "medium", "high"] as const;
export type Priority = (typeof PRIORITIES)[number];
export const DUE_FILTERS = ["today", "overdue", "upcoming", "none"] as const;
export type DueFilter = (typeof DUE_FILTERS)[number];
export const TASK_SORTS = ["number", "due", "priority", "created"] as const;
export type TaskSort = (typeof TASK_SORTS)[number];
/** The default list: a task in no list is in it. */
export const INBOX = "Inbox";

/** Lengths in UTF-16 code units (JavaScript string length), measured after trimming. */
export const TITLE_MAX = 200;
export const DESCRIPTION_MAX = 2000;
export const LIST_NAME_MAX = 100;
export const LABEL_MAX = 50;
export const LABELS_MAX = 20;
export const SEARCH_MAX = 200;
/** The `number` column is a PostgreSQL integer. */
export const TASK_NUMBER_MAX = 2_147_483_647;

// PostgreSQL text cannot hold U+0000: refuse it as invalid input instead of a database error.
const noNul = (s: string) => !s.includes("\u0000");

/** The one rule for a title, shared by the REST body, the tool input and the service. */
export const taskTitle = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(TITLE_MAX, `must be at most ${TITLE_MAX} characters`)
  .refine(noNul, "must not contain NUL characters");

/** The one rule for a description ("" means none). */
export const taskDescription = z
  .string()
  .trim()
  .max(DESCRIPTION_MAX, `must be at most ${DESCRIPTION_MAX} characters`)
  .refine(noNul, "must not contain NUL characters");

/** A task number as given by a client or the model: a positive integer that fits the column. */
export const taskNumber = z.number().int().min(1).max(TASK_NUMBER_MAX);

/**
 * A due date as given: a calendar day (and optional time) in the user's zone, words read in
 * the user's zone, or null to clear. Checked further (a real day…) by resolveDue.
 */
export const dueInput = z.union([
  z.strictObject({
    date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "must be YYYY-MM-DD"),
    time: z
      .string()
      .regex(/^\d{2}:\d{2}$/, "must be HH:MM")
      .nullable()
      .optional(),
  }),
  z.strictObject({ string: z.string().trim().min(1).max(DUE_STRING_MAX).refine(noNul) }),
  z.null(),
]);

export const taskPriority = z.enum(PRIORITIES);

/**
 * A repeat pattern as given: an RFC 5545 RRULE ("FREQ=WEEKLY;BYDAY=MO") or words ("every
 * monday at 9"); null stops repeating (the due date stays). Checked by the service (422).
 */
export const recurrenceInput = z
  .string()
  .trim()
  .min(1)
  .max(RECURRENCE_MAX)
  .refine(noNul, "must not contain NUL characters")
  .nullable();
export const repeatFromInput = z.enum(REPEAT_FROM);

/** A list's name: created on first use, unique per user ignoring case; "Inbox" is the default. */
export const listName = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(LIST_NAME_MAX, `must be at most ${LIST_NAME_MAX} characters`)
  .refine(noNul, "must not contain NUL characters");

/** One label: a word (letters, digits, - _ . /), with or without a leading '#'. */
export const taskLabel = z
  .string()
  .trim()
  .regex(/^#?[\p{L}\p{N}_./-]+$/u, "must be one word: letters, digits, - _ . /")
  .max(LABEL_MAX + 1, `must be at most ${LABEL_MAX} characters`);

export const taskLabels = z.array(taskLabel).max(LABELS_MAX, `at most ${LABELS_MAX} labels`);

/** Labels as stored: lowercase, without '#', unique, sorted. */
export function normalizeLabels(labels: readonly string[]): string[] {
  const set = new Set(labels.map((l) => l.trim().replace(/^#/, "").toLowerCase()));
  set.delete("");
  return [...set].sort();
}

// One schema per purpose, each derived from the field rules above.

/** A new task, as REST and the tools take it. Strict: `id`, `user_id`… are refused. */
export const NewTaskInput = z.strictObject({
  title: taskTitle,
  description: taskDescription.optional(),
  due: dueInput.optional(),
  priority: taskPriority.optional(),
  list: listName.optional(),
  labels: taskLabels.optional(),
  parent_id: taskNumber.nullable().optional(),
  reminders: remindersInput.optional(),
  recurrence: recurrenceInput.optional(),
  repeat_from: repeatFromInput.optional(),
});
export type NewTask = z.infer<typeof NewTaskInput>;

/** A change to a task: only what is given changes (at least one field, checked by the service). */
export const TaskChangesInput = z.strictObject({
  title: taskTitle.optional(),
  description: taskDescription.optional(),
  completed: z.boolean().optional(),
  due: dueInput.optional(),
  priority: taskPriority.optional(),
  list: listName.optional(),
  labels: taskLabels.optional(),
  parent_id: taskNumber.nullable().optional(),
  reminders: remindersInput.optional(),
  recurrence: recurrenceInput.optional(),
  repeat_from: repeatFromInput.optional(),
});
export type TaskChanges = z.infer<typeof TaskChangesInput>;

/** The filters of a list of tasks (REST query, list_tasks tool). */
export interface TaskQuery {
  status?: TaskStatusFilter | undefined;
  /** Any of these (OR). */
  due?: readonly DueFilter[] | undefined;
  list?: string | undefined;
  label?: string | undefined;
  priority?: Priority | undefined;
  q?: string | undefined;
  sort?: TaskSort | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
}

export const DueJson = z.object({
  date: z.string(),
  time: z.string().nullable(),
  timezone: z.string(),
  at: z.string().nullable(),
  string: z.string().nullable(),
  recurrence: z.string().nullable(),
  repeat_from: z.enum(REPEAT_FROM).nullable(),
});

/** The API shape of a task (REST body and tool result): `id` is the per-user number. */
export const TaskJson = z.object({
  id: z.number(),
  title: z.string(),
  description: z.string(),
  completed: z.boolean(),
  created_at: z.string(),
  updated_at: z.string(),
  completed_at: z.string().nullable(),
  due: DueJson.nullable(),
  priority: taskPriority,
  list: z.string(),
  labels: z.array(z.string()),
  parent_id: z.number().nullable(),
  /** When it went to the trash (null = not in the trash). */
  deleted_at: z.string().nullable(),
  completed_occurrences: z.number(),
  last_completed_at: z.string().nullable(),
});
export type TaskJson = z.infer<typeof TaskJson>;

export function toTaskJson(task: Task): TaskJson {
  return {
    id: task.number,
    title: task.title,
    description: task.description,
    completed: task.completed,
    created_at: task.createdAt.toISOString(),
    updated_at: task.updatedAt.toISOString(),
    completed_at: task.completedAt ? task.completedAt.toISOString() : null,
    due: task.due,
    priority: task.priority,
    list: task.list,
    labels: task.labels,
    parent_id: task.parentNumber,
    deleted_at: task.deletedAt ? task.deletedAt.toISOString() : null,
    completed_occurrences: task.completedOccurrences,
    last_completed_at: task.lastCompletedAt ? task.lastCompletedAt.toISOString() : null,
  };
}
