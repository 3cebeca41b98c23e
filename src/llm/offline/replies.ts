/**
 * Everything the offline assistant says, in one place. Every confirmation names the
 * task's number and title, as a person would want to read back what was changed.
 */
import { MAX_CANDIDATES_NAMED, MAX_REQUEST_CHARS, MAX_TASKS_PER_REQUEST } from "./bounds.ts";
import { attributes, taskLine } from "./describe.ts";
import { moreNote } from "./look.ts";
import { occurrenceNote, repeatChanged } from "./recurrence.ts";
import type { ActionKind, AskMode, ChatTopic, Status, TaskView, ToolError } from "./types.ts";

export const label = (t: { id: number; title: string }): string => `task ${t.id} · ${t.title}`;

const CAPABILITIES =
  "I can add tasks (with a due date, priority, list or #label), show them (all, pending, completed, due today, overdue, or one list), complete or reopen them, update them, and delete them.";

export const CHAT: Record<ChatTopic, string> = {
  greeting: `Hi! I'm your task assistant. ${CAPABILITIES} What would you like to do?`,
  thanks: "You're welcome! Let me know if there's anything else on your list.",
  bye: "Bye for now! Your tasks will be here when you get back.",
  help: `${CAPABILITIES} Try things like "add buy milk", "what's pending?", "mark task 2 as done", "rename task 1 to Call mom tonight" or "delete the groceries task".`,
  unknown: `Sorry, I can only help with your tasks. ${CAPABILITIES} For example: "remind me to call the bank" or "show my tasks".`,
  not_english: `I only understand English for now. ${CAPABILITIES} For example: "add buy milk" or "show my tasks".`,
  cant_repeat: `I didn't understand that repeat pattern. Try "water the plants every Monday at 8am", "pay rent on the 1st of every month" or "make task 3 repeat every 2 weeks". ${CAPABILITIES}`,
  cant_schedule: `I can't schedule, share or send tasks yet: I only keep your task list. ${CAPABILITIES}`,
  unclear_task: `I didn't understand what to do with your tasks there. ${CAPABILITIES} For example: "add call the bank", "mark task 2 as done" or "delete the milk task".`,
  no_question: `There's nothing waiting for a yes or no right now, so I didn't change anything. ${CAPABILITIES}`,
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

// ---- issue 13: questions, negations, confirmations, undo and restore ----

const Label = (t: { id: number; title: string }): string => `Task ${t.id} · ${t.title}`;

/** The answer to a question or a negation about tasks; nothing was changed. */
export function answered(mode: AskMode, tasks: TaskView[]): string {
  if (tasks.length > 1) {
    const lines = tasks
      .slice(0, MAX_CANDIDATES_NAMED)
      .map((t) => `- ${Label(t)}: ${t.completed ? "done" : "still pending"}`);
    const more = tasks.length > lines.length ? `\n…and ${tasks.length - lines.length} more.` : "";
    return `Here's what I found (I haven't changed anything):\n${lines.join("\n")}${more}`;
  }
  const t = tasks[0];
  if (!t) return "I couldn't find that task.";
  switch (mode) {
    case "done":
      return t.completed ? `Yes — ${label(t)} is done.` : `Not yet — ${label(t)} is still pending.`;
    case "delete":
      return `${Label(t)} is still on your list (${t.completed ? "done" : "pending"}). I haven't changed anything; say "delete task ${t.id}" if you want it gone.`;
    case "not_done":
      return t.completed
        ? `${Label(t)} is marked as done. I haven't changed it; say "reopen task ${t.id}" if it isn't finished.`
        : `OK — ${label(t)} stays pending. I haven't changed anything.`;
    case "keep":
      return `OK, I won't delete ${label(t)}; it stays on your list.`;
    case "keep_open":
      return t.completed
        ? `OK. ${Label(t)} is already marked as done; say "reopen task ${t.id}" if it isn't finished.`
        : `OK, I won't mark ${label(t)} as done; it stays pending.`;
  }
}

export function askWhichAbout(): string {
  return "Which task do you mean? Tell me its number or a few words from its title.";
}

interface DoneItem {
  task_id?: unknown;
  title?: unknown;
  status?: unknown;
}

/** After confirm_pending_action: what was done and what was skipped. */
export function confirmed(result: unknown): string {
  const r = (result ?? {}) as { done?: DoneItem[]; skipped?: Array<{ task_id?: unknown }> };
  const done = Array.isArray(r.done) ? r.done : [];
  const groups = new Map<string, string[]>();
  for (const d of done) {
    const verb =
      d.status === "deleted"
        ? "Deleted"
        : d.status === "completed"
          ? "Marked as complete"
          : "Updated";
    const list = groups.get(verb) ?? [];
    list.push(label({ id: Number(d.task_id), title: String(d.title ?? "") }));
    groups.set(verb, list);
  }
  const lines = [...groups].map(([verb, items]) => `${verb}: ${items.join(", ")}.`);
  const skipped = Array.isArray(r.skipped) ? r.skipped : [];
  if (skipped.length > 0) {
    lines.push(
      `I skipped ${skipped.map((s) => `task ${String(s.task_id)}`).join(", ")}: already gone or changed.`,
    );
  }
  return lines.length > 0 ? lines.join(" ") : "Done — there was nothing left to change.";
}

export const CANCELLED = "OK, I won't change anything. Your tasks stay as they were.";
export const NOTHING_PENDING =
  "There's nothing waiting for a yes any more, so I didn't change anything. Tell me again what you'd like to do.";

/** After undo_last_turn: its summaries, or why nothing was undone. */
export function undone(result: unknown): string {
  const r = (result ?? {}) as {
    undone?: unknown[];
    skipped?: Array<{ task_id?: unknown; reason?: unknown }>;
  };
  const items = (Array.isArray(r.undone) ? r.undone : []).map(summaryOf);
  const skipped = Array.isArray(r.skipped) ? r.skipped : [];
  const parts: string[] = [];
  if (items.length > 0) parts.push(`Undone: ${items.join("; ")}.`);
  if (skipped.length > 0) {
    parts.push(
      `I left ${skipped
        .map((s) => `task ${String(s.task_id)}${s.reason ? ` (${String(s.reason)})` : ""}`)
        .join(", ")} as it is: it changed since.`,
    );
  }
  return parts.length > 0 ? parts.join(" ") : "There was nothing to undo.";
}

function summaryOf(item: unknown): string {
  if (typeof item === "string") return item;
  const o = (item ?? {}) as Record<string, unknown>;
  if (typeof o.summary === "string") return o.summary;
  const id = o.task_id ?? o.task_number;
  const title = typeof o.title === "string" ? ` · ${o.title}` : "";
  const action = typeof o.action === "string" ? `${o.action} ` : "";
  return id !== undefined ? `${action}task ${String(id)}${title}` : JSON.stringify(item);
}

export const NOTHING_TO_UNDO =
  "There's nothing to undo from your last message in this conversation.";
export const CANT_UNDO = "Sorry, I can't undo changes here yet.";

export function restored(task: { task_id: number; title: string }): string {
  return `Restored ${label({ id: task.task_id, title: task.title })}: it's back on your list with its number.`;
}

export const RESTORE_BY_NUMBER =
  'Tell me the number of the deleted task to restore, for example "restore task 3".';
