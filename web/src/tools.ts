/** One tool call as the page shows it: a compact line under the assistant's reply. */
export interface ToolView {
  id: string;
  name: string;
  input: unknown;
  state: "running" | "done" | "error";
  output?: unknown;
  errorText?: string;
}

/** The tools that change tasks: after one of them the tasks panel reloads. */
export const TASK_CHANGING_TOOLS = new Set([
  "add_task",
  "complete_task",
  "delete_task",
  "update_task",
  "restore_task",
  "undo_last_turn",
]);

const VERBS: Record<string, { running: string; done: string; failed: string }> = {
  add_task: { running: "Adding a task", done: "added", failed: "couldn't add the task" },
  complete_task: {
    running: "Completing a task",
    done: "completed",
    failed: "couldn't complete the task",
  },
  delete_task: { running: "Deleting a task", done: "deleted", failed: "couldn't delete the task" },
  update_task: { running: "Updating a task", done: "updated", failed: "couldn't update the task" },
  list_tasks: { running: "Looking at your tasks", done: "listed", failed: "couldn't list tasks" },
  restore_task: {
    running: "Restoring a task",
    done: "restored",
    failed: "couldn't restore the task",
  },
  undo_last_turn: { running: "Undoing", done: "undone", failed: "couldn't undo" },
};

/** What a task tool answers about one task (the fields the line uses). */
interface TaskResult {
  task_id?: number;
  title?: string;
  status?: string;
  due_label?: string | null;
}

/** The verb of a task result's `status` ("reopened" says more than "updated"). */
const STATUS_VERBS: Record<string, string> = {
  created: "added",
  updated: "updated",
  completed: "completed",
  reopened: "reopened",
  deleted: "deleted",
  restored: "restored",
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The tool's own error (`{error: {code, message}}`), if its result is one. */
function toolError(output: unknown): string | undefined {
  if (!isRecord(output) || !isRecord(output.error)) return undefined;
  const message = output.error.message;
  return typeof message === "string" ? message : "the tool failed";
}

/** "✓ added task 3 · Buy groceries", "✓ listed 4 tasks", "✗ couldn't complete a task · …". */
export function toolSummary(tool: ToolView): { ok: boolean | null; text: string } {
  const verbs = VERBS[tool.name] ?? {
    running: `Running ${tool.name}`,
    done: `ran ${tool.name}`,
    failed: `${tool.name} failed`,
  };
  if (tool.state === "running") return { ok: null, text: `${verbs.running}…` };
  const error = tool.state === "error" ? (tool.errorText ?? "failed") : toolError(tool.output);
  if (error !== undefined) return { ok: false, text: `${verbs.failed} · ${error}` };
  if (tool.name === "list_tasks") return { ok: true, text: listSummary(tool) };
  if (tool.name === "undo_last_turn") return { ok: true, text: undoSummary(tool.output) };
  const result = (isRecord(tool.output) ? tool.output : {}) as TaskResult;
  if (typeof result.task_id === "number") {
    const verb = (result.status && STATUS_VERBS[result.status]) || verbs.done;
    const due = typeof result.due_label === "string" && result.due_label ? result.due_label : "";
    return {
      ok: true,
      text:
        `${verb} task ${result.task_id}${result.title ? ` · ${result.title}` : ""}` +
        (due && result.status !== "deleted" ? ` — due ${due}` : ""),
    };
  }
  return { ok: true, text: verbs.done };
}

/** "listed 3 pending tasks", "listed 2 tasks due today", "listed 50 of 5000 overdue tasks". */
function listSummary(tool: ToolView): string {
  // Today's tool answers {items, total, next_cursor}; replies stored before it, a bare array.
  const output = tool.output;
  const items = Array.isArray(output)
    ? output
    : isRecord(output) && Array.isArray(output.items)
      ? output.items
      : [];
  const total = isRecord(output) && typeof output.total === "number" ? output.total : items.length;
  const input = isRecord(tool.input) ? tool.input : {};
  // "overdue" and "upcoming" read before the noun, "due today" after it.
  const kind =
    input.due === "overdue" || input.due === "upcoming"
      ? `${input.due} `
      : input.status === "pending" || input.status === "completed"
        ? `${input.status} `
        : "";
  const due =
    input.due === "today" ? " due today" : input.due === "none" ? " with no due date" : "";
  const list = typeof input.list === "string" && input.list ? ` in ${input.list}` : "";
  const count = total > items.length ? `${items.length} of ${total}` : `${items.length}`;
  return `listed ${count} ${kind}task${total === 1 ? "" : "s"}${due}${list}`;
}

/** "undid 2 changes", "undid 1 change · 1 left as it was (changed since)". */
function undoSummary(output: unknown): string {
  const count = (key: string) =>
    isRecord(output) && Array.isArray(output[key]) ? (output[key] as unknown[]).length : 0;
  const undone = count("undone");
  const skipped = count("skipped");
  const text = `undid ${undone} change${undone === 1 ? "" : "s"}`;
  return skipped > 0 ? `${text} · ${skipped} left as it was (changed since)` : text;
}
