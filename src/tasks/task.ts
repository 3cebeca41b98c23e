import { z } from "zod";

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
}

export type TaskStatusFilter = "all" | "pending" | "completed";
export const TASK_STATUS_FILTERS = ["all", "pending", "completed"] as const;

/** Lengths in UTF-16 code units (JavaScript string length), measured after trimming. */
export const TITLE_MAX = 200;
export const DESCRIPTION_MAX = 2000;
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

// One schema per purpose, each derived from the field rules above.

/** A new task, as REST and the tools take it. Strict: `id`, `user_id`… are refused. */
export const NewTaskInput = z.strictObject({
  title: taskTitle,
  description: taskDescription.optional(),
});
export type NewTask = z.infer<typeof NewTaskInput>;

/** A change to a task: only what is given changes (at least one field, checked by the service). */
export const TaskChangesInput = z.strictObject({
  title: taskTitle.optional(),
  description: taskDescription.optional(),
  completed: z.boolean().optional(),
});
export type TaskChanges = z.infer<typeof TaskChangesInput>;

/** The API shape of a task (REST body and tool result): `id` is the per-user number. */
export const TaskJson = z.object({
  id: z.number(),
  title: z.string(),
  description: z.string(),
  completed: z.boolean(),
  created_at: z.string(),
  updated_at: z.string(),
  completed_at: z.string().nullable(),
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
  };
}
