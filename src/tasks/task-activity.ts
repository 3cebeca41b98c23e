import type { ActivityEntry, ActivityKind } from "../activity/activity.ts";
import type { Due } from "./due.ts";
import type { Priority, Task } from "./task.ts";

/**
 * A task's fields as the activity log keeps them (before/after of a change): the API's
 * names, the due date as stored (an undo puts back exactly this). `version` rides along
 * in every task entry: an undo applies only while the task is still at the entry's
 * after-version, i.e. nobody changed it since.
 */
export interface TaskSnapshot {
  title: string;
  description: string;
  completed: boolean;
  completed_at: string | null;
  due: Due | null;
  priority: Priority;
  list: string;
  labels: string[];
  parent_id: number | null;
}

export type SnapshotKey = keyof TaskSnapshot;

export function snapshotOf(task: Task): TaskSnapshot {
  return {
    title: task.title,
    description: task.description,
    completed: task.completed,
    completed_at: task.completedAt ? task.completedAt.toISOString() : null,
    due: task.due,
    priority: task.priority,
    list: task.list,
    labels: task.labels,
    parent_id: task.parentNumber,
  };
}

const quote = (title: string) => `“${title.length > 80 ? `${title.slice(0, 79)}…` : title}”`;

export function taskCreated(task: Task): ActivityEntry {
  return {
    kind: "task.created",
    subjectType: "task",
    subject: task.number,
    summary: `Added task ${task.number} ${quote(task.title)}`,
    before: null,
    after: { ...snapshotOf(task), version: task.version },
  };
}

/** The fields that differ (JSON-equal compare), before and after, plus both versions. */
export function taskChanged(before: Task, after: Task, kind: ActivityKind): ActivityEntry {
  const a = snapshotOf(before);
  const b = snapshotOf(after);
  const was: Record<string, unknown> = {};
  const now: Record<string, unknown> = {};
  for (const key of Object.keys(a) as SnapshotKey[]) {
    if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) {
      was[key] = a[key];
      now[key] = b[key];
    }
  }
  const verb =
    kind === "task.completed" ? "Completed" : kind === "task.reopened" ? "Reopened" : "Changed";
  const fields = Object.keys(now).filter((k) => k !== "completed_at");
  const what = kind === "task.updated" && fields.length > 0 ? ` (${fields.join(", ")})` : "";
  return {
    kind,
    subjectType: "task",
    subject: after.number,
    summary: `${verb} task ${after.number} ${quote(after.title)}${what}`,
    before: { ...was, version: before.version },
    after: { ...now, version: after.version },
  };
}

export function taskTrashed(task: Task, subtasks: number[]): ActivityEntry {
  const with_ = subtasks.length > 0 ? ` with ${subtasks.length} subtask(s)` : "";
  return {
    kind: "task.deleted",
    subjectType: "task",
    subject: task.number,
    summary: `Deleted task ${task.number} ${quote(task.title)}${with_} (in the trash)`,
    before: { deleted_at: null, version: task.version - 1 },
    after: {
      deleted_at: task.deletedAt?.toISOString() ?? null,
      subtasks,
      version: task.version,
    },
  };
}

export function taskRestored(task: Task, deletedAt: Date, subtasks: number[]): ActivityEntry {
  const with_ = subtasks.length > 0 ? ` with ${subtasks.length} subtask(s)` : "";
  return {
    kind: "task.restored",
    subjectType: "task",
    subject: task.number,
    summary: `Restored task ${task.number} ${quote(task.title)}${with_}`,
    before: { deleted_at: deletedAt.toISOString(), version: task.version - 1 },
    after: { deleted_at: null, subtasks, version: task.version },
  };
}
