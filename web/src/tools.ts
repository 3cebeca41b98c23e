import type { Task } from "./api.ts";

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
};

interface TaskResult {
  task_id?: number;
  title?: string;
}

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
  if (tool.name === "list_tasks") {
    const items = Array.isArray(tool.output) ? (tool.output as Task[]) : [];
    const status = isRecord(tool.input) ? tool.input.status : undefined;
    const kind = status === "pending" || status === "completed" ? `${status} ` : "";
    return {
      ok: true,
      text: `${verbs.done} ${items.length} ${kind}task${items.length === 1 ? "" : "s"}`,
    };
  }
  const result = (isRecord(tool.output) ? tool.output : {}) as TaskResult;
  if (typeof result.task_id === "number") {
    return {
      ok: true,
      text: `${verbs.done} task ${result.task_id}${result.title ? ` · ${result.title}` : ""}`,
    };
  }
  return { ok: true, text: verbs.done };
}
