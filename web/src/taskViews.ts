import type { Task, TaskQuery } from "./api.ts";

// What each view of the tasks panel asks the server: the filters are the server's (the
// user's "today" is in their zone, which only the server applies the same way everywhere).

export type View = "today" | "upcoming" | "all";
/** "deleted" is the trash. */
export type Status = "all" | "pending" | "completed" | "deleted";

export const VIEWS: { value: View; label: string }[] = [
  { value: "today", label: "Today" },
  { value: "upcoming", label: "Upcoming" },
  { value: "all", label: "All" },
];

export interface Filters {
  view: View;
  /** A list's name, or "" for every list. */
  list: string;
  status: Status;
  /** Search words; when set they search every view. */
  q: string;
}

const PAGE = 100;

/**
 * The queries of a view, shown one after the other. Today is two: what is overdue, then
 * what is due today (the contract's two calls); the others are one.
 */
export function queriesOf(filters: Filters): TaskQuery[] {
  const base: TaskQuery = {
    status: filters.status,
    limit: PAGE,
    ...(filters.list ? { list: filters.list } : {}),
  };
  if (filters.q.trim()) return [{ ...base, q: filters.q.trim() }];
  // The trash is one list whatever the view: due dates do not matter there.
  if (filters.status === "deleted") return [{ ...base, sort: "number" }];
  switch (filters.view) {
    case "today":
      // Overdue is pending by definition: asking for completed overdue tasks finds none.
      return [
        ...(filters.status === "completed"
          ? []
          : [{ ...base, due: "overdue", sort: "due" } as const]),
        { ...base, due: "today", sort: "due" },
      ];
    case "upcoming":
      return [{ ...base, due: "upcoming", sort: "due" }];
    case "all":
      return [{ ...base, sort: "number" }];
  }
}

/** Tasks in the order shown: each subtask right under its parent when both are listed. */
export function nest(items: Task[]): { task: Task; subtasks: Task[]; orphan: boolean }[] {
  const listed = new Set(items.map((t) => t.id));
  const children = new Map<number, Task[]>();
  for (const task of items) {
    if (task.parent_id !== null && listed.has(task.parent_id)) {
      children.set(task.parent_id, [...(children.get(task.parent_id) ?? []), task]);
    }
  }
  return items
    .filter((t) => t.parent_id === null || !listed.has(t.parent_id))
    .map((task) => ({
      task,
      subtasks: children.get(task.id) ?? [],
      orphan: task.parent_id !== null,
    }));
}

/** Items of several pages, each task once (the first time it came). */
export function merge(current: Task[], more: Task[]): Task[] {
  const seen = new Set(current.map((t) => t.id));
  return [...current, ...more.filter((t) => !seen.has(t.id))];
}

/** "errands, #Home  home" → ["errands", "home"]: what the labels field means. */
export function parseLabels(text: string): string[] {
  const words = text
    .split(/[\s,]+/)
    .map((w) => w.replace(/^#+/, "").trim().toLowerCase())
    .filter(Boolean);
  return [...new Set(words)].sort();
}
