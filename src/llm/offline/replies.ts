/**
 * Everything the offline assistant says, in one place. Every confirmation names the
 * task's number and title, as a person would want to read back what was changed.
 */
import { MAX_CANDIDATES_NAMED, MAX_REQUEST_CHARS, MAX_TASKS_PER_REQUEST } from "./bounds.ts";
import { attributes, taskLine } from "./describe.ts";
import { moreNote } from "./look.ts";
import { occurrenceNote, repeatChanged } from "./recurrence.ts";
import type { ActionKind, ChatTopic, Status, TaskView, ToolError } from "./types.ts";

export const label = (t: { id: number; title: string }): string => `task ${t.id} · ${t.title}`;

const CAPABILITIES =
  "I can add tasks (with a due date, priority, list or #label), show them (all, pending, completed, due today, overdue, or one list), complete or reopen them, update them, and delete them.";

export const CHAT: Record<ChatTopic, string> = {
  greeting: `Hi! I'm your task assistant. ${CAPABILITIES} What would you like to do?`,
  thanks: "You're welcome! Let me know if there's anything else on your list.",
  bye: "Bye for now! Your tasks will be here when you get back.",
  help: `${CAPABILITIES} Try things like "add buy milk", "what's pending?", "mark task 2 as done", "rename task 1 to Call mom tonight" or "delete the groceries task".`,
  unknown: `Sorry, I can only help with your tasks. ${CAPABILITIES} For example: "remind me to call the bank" or "show my tasks".`,
  too_long: `That message is too long for me: I read requests of up to ${MAX_REQUEST_CHARS} characters. Please send a shorter one, one request at a time, for example "add call the bank" or "mark task 2 as done".`,
};

const VERB: Record<ActionKind, string> = {
  complete: "mark as complete",
  reopen: "reopen",
  delete: "delete",
  update: "update",
};

/**
 * "Added task 4 · call mom — due Tue 1 Dec, 17:00, high priority." `result` is the tool's
 * one-task result (due_label, priority, list, labels); `noDate` the date words it could not read.
 */
export function added(
  task: { task_id: number; title: string },
  description?: string,
  result?: unknown,
  noDate?: string,
): string {
  const note = description ? ` I added the description "${description}".` : "";
  const extra = attributes(result);
  const what = label({ id: task.task_id, title: task.title });
  const head =
    extra.length > 0 ? `Added ${what} — ${extra.join(", ")}.` : `Added ${what} to your list.`;
  const miss = noDate ? ` I couldn't read "${noDate}" as a date, so it has no due date.` : "";
  return `${head}${note}${miss}`;
}

export interface Fields {
  title?: string;
  description?: string;
  due?: unknown;
  priority?: string;
  list?: string;
  labels?: string[];
  recurrence?: string | null;
}

export function changed(
  action: ActionKind,
  task: { task_id: number; title: string },
  fields: Fields = {},
  result?: unknown,
): string {
  const t = { id: task.task_id, title: task.title };
  const repeating = action === "complete" ? occurrenceNote(result) : undefined;
  if (repeating) return `Marked ${label(t)} as done: ${repeating}.`;
  if (action === "complete") return `Marked ${label(t)} as complete. Nice work!`;
  if (action === "reopen") return `Reopened ${label(t)}: it's pending again.`;
  if (action === "delete") return `Deleted ${label(t)}.`;
  const extra = attributes(result, { inbox: fields.list !== undefined });
  const shown = (re: RegExp) => extra.find((e) => re.test(e));
  if (fields.recurrence !== undefined) {
    return repeatChanged(label(t).replace(/^task/u, "Task"), result, fields.recurrence === null);
  }
  if (fields.due === null) return `Removed the due date of ${label(t)}.`;
  if (fields.due !== undefined) {
    const due = shown(/^due /u);
    return due ? `Moved ${label(t)}: ${due}.` : `Updated the due date of ${label(t)}.`;
  }
  if (fields.priority !== undefined) {
    return fields.priority === "none"
      ? `Removed the priority of ${label(t)}.`
      : `Set ${label(t)} to ${fields.priority} priority.`;
  }
  if (fields.list !== undefined) return `Moved ${label(t)} to the ${fields.list} list.`;
  if (fields.labels !== undefined) {
    const tags = extra.filter((e) => e.startsWith("#"));
    return tags.length > 0
      ? `${label(t)} now has the labels ${tags.join(", ")}.`.replace(/^task/u, "Task")
      : `${label(t)} has no labels now.`.replace(/^task/u, "Task");
  }
  if (fields.description !== undefined && fields.title === undefined) {
    return `Updated the description of ${label(t)} to "${fields.description}".`;
  }
  return `Updated ${label(t)}.`;
}

export function toolFailed(
  action: ActionKind | "add" | "list",
  taskId: unknown,
  error: ToolError,
): string {
  if (error.code === "not_found" && typeof taskId === "number") {
    return `I couldn't find task ${taskId}. It may have been deleted already, or the number is different.`;
  }
  if (error.code === "not_found") return "I couldn't find that task.";
  const what =
    action === "add"
      ? "add that task"
      : action === "list"
        ? "load your tasks"
        : `${VERB[action]} that task`;
  return `Sorry, I couldn't ${what}: ${error.message}`;
}

export function notFound(text: string): string {
  return `I couldn't find a task matching "${text}". Say "show my tasks" to see what's on your list.`;
}

export function missingNumbers(numbers: number[]): string {
  const list = numbers.map((n) => `task ${n}`).join(" or ");
  return `I couldn't find ${list}.`;
}

export function nothingTo(action: ActionKind): string {
  return action === "complete"
    ? "I couldn't find any pending tasks to complete."
    : `I couldn't find any matching tasks to ${VERB[action]}.`;
}

export function ambiguous(action: ActionKind, text: string, candidates: TaskView[]): string {
  const named = candidates.slice(0, MAX_CANDIDATES_NAMED).map(label);
  const more = candidates.length - named.length;
  const list = more > 0 ? `${named.join(", ")} and ${more} more` : named.join(", ");
  return `More than one task matches "${text}": ${list}. Which one should I ${VERB[action]}? You can tell me its number.`;
}

export function tooMany(action: ActionKind): string {
  return `That's more tasks than I can ${VERB[action]} in one go: I handle up to ${MAX_TASKS_PER_REQUEST} at a time. Could you split it into smaller requests?`;
}

export function askWhich(action: ActionKind): string {
  return `Which task would you like me to ${VERB[action]}? Tell me its number or a few words from its title.`;
}

export function askTitle(): string {
  return 'Sure! What should the task be? For example: "add call the bank".';
}

export function askChange(what: string): string {
  return `What would you like to change about ${what}? Give me a new title or a new description.`;
}

const HEADINGS: Record<Status, [string, string]> = {
  all: ["Here are all your tasks:", "Your task list is empty. Want to add something?"],
  pending: ["Here's what's still pending:", "You have no pending tasks. All caught up!"],
  completed: ["Here's what you've completed:", "You haven't completed any tasks yet."],
};

export function listed(status: Status, tasks: TaskView[], total = tasks.length): string {
  const [heading, empty] = HEADINGS[status];
  if (tasks.length === 0) return empty;
  const lines = tasks.map((t) => taskLine(t, status === "all"));
  return `${[heading, ...lines].join("\n")}${moreNote(tasks.length, total)}`;
}
