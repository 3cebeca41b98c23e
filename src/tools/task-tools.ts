import { z } from "zod";
import type { RequestContext } from "../context.ts";
import { AppError } from "../errors.ts";
import * as tasks from "../tasks/task.service.ts";
import {
  DESCRIPTION_MAX,
  TASK_STATUS_FILTERS,
  TITLE_MAX,
  taskDescription,
  taskNumber,
  taskTitle,
  toTaskJson,
} from "../tasks/task.ts";
import { type AnyToolDefinition, clip, defineTool, toolError, toolFailure } from "./tool.ts";

// The five task tools: the third door (after REST and MCP) to the same service functions.
// Descriptions and .describe() texts are read by the model on every turn: keep them exact.

const taskId = taskNumber.describe(
  'The task\'s number, as shown to the user ("task 3" → 3). Take it from the conversation or from list_tasks; never guess it.',
);

export const addTaskTool = defineTool({
  name: "add_task",
  description:
    "Create a new task for the user. Use it when the user asks to add, create or remember something to do. " +
    "Returns the new task's number (task_id), which the user can use later to refer to it.",
  inputSchema: z.strictObject({
    title: taskTitle.describe(
      `A short title for the task, 1 to ${TITLE_MAX} characters, in the user's own words.`,
    ),
    description: taskDescription
      .optional()
      .describe(
        `Optional details (up to ${DESCRIPTION_MAX} characters). Leave it out when the user gave none.`,
      ),
  }),
  async execute(ctx, input) {
    const task = await tasks.addTask(ctx, input);
    return { task_id: task.number, status: "created" as const, title: task.title };
  },
});

export const listTasksTool = defineTool({
  name: "list_tasks",
  readOnly: true,
  description:
    "List the user's tasks in number order, each with its number (id), title, description and whether it is completed. " +
    "Use it to answer questions about the user's tasks, and to find a task's number when the user names a task by its title.",
  inputSchema: z.strictObject({
    status: z
      .enum(TASK_STATUS_FILTERS)
      .optional()
      .describe(
        '"pending" for tasks still to do, "completed" for finished ones, "all" (the default) for both.',
      ),
  }),
  async execute(ctx, input) {
    return (await tasks.listTasks(ctx, input.status ?? "all")).map(toTaskJson);
  },
});

export const completeTaskTool = defineTool({
  name: "complete_task",
  description:
    "Mark one of the user's tasks as done, by its number. Completing a task that is already done changes nothing. " +
    "If you only know the title, call list_tasks first to find the number.",
  inputSchema: z.strictObject({ task_id: taskId }),
  async execute(ctx, input) {
    const task = await tasks.completeTask(ctx, input.task_id);
    return { task_id: task.number, status: "completed" as const, title: task.title };
  },
});

export const deleteTaskTool = defineTool({
  name: "delete_task",
  description:
    "Permanently delete one of the user's tasks, by its number. Only use it when the user clearly asks to delete or remove a task; " +
    "to mark a task as done use complete_task instead. A deleted task cannot be restored and its number is not reused.",
  inputSchema: z.strictObject({ task_id: taskId }),
  async execute(ctx, input) {
    const task = await tasks.deleteTask(ctx, input.task_id);
    return { task_id: task.number, status: "deleted" as const, title: task.title };
  },
});

export const updateTaskTool = defineTool({
  name: "update_task",
  description:
    "Change the title and/or the description of one of the user's tasks, by its number. " +
    "Give only what changes; at least one of title or description. To mark a task as done use complete_task.",
  inputSchema: z.strictObject({
    task_id: taskId,
    title: taskTitle
      .optional()
      .describe(
        `The new title, 1 to ${TITLE_MAX} characters. Leave it out to keep the current one.`,
      ),
    description: taskDescription
      .optional()
      .describe(
        `The new description, up to ${DESCRIPTION_MAX} characters ("" clears it). Leave it out to keep the current one.`,
      ),
  }),
  async execute(ctx, input) {
    const { task_id, ...changes } = input;
    const task = await tasks.updateTask(ctx, task_id, changes);
    return { task_id: task.number, status: "updated" as const, title: task.title };
  },
});

/** Every task tool, in the order they are offered to a model. */
export const TASK_TOOLS: readonly AnyToolDefinition[] = [
  addTaskTool,
  listTasksTool,
  completeTaskTool,
  deleteTaskTool,
  updateTaskTool,
];

/**
 * Runs one tool call as the user in `ctx`: validates the raw arguments (whatever a model or
 * client sent), then executes. Expected failures — invalid arguments, an unknown tool, a
 * task that is not the caller's, any 4xx AppError — come back as `{ error: { code,
 * message } }` for the caller to read and correct; a 5xx or an unknown error is thrown.
 */
export async function runTool(
  ctx: RequestContext,
  name: string,
  rawInput: unknown,
): Promise<unknown> {
  const definition = TASK_TOOLS.find((t) => t.name === name);
  if (!definition) return toolError("not_found", `There is no tool named ${clip(name, 64)}`);
  const parsed = definition.inputSchema.safeParse(rawInput);
  if (!parsed.success) return toolError("validation_failed", describeIssues(parsed.error));
  try {
    return await definition.execute(ctx, parsed.data);
  } catch (error) {
    if (error instanceof AppError && error.status < 500) return toolFailure(error);
    throw error;
  }
}

/** "title: Too big…; user_id: Unrecognized key" — never echoing the (maybe huge) input. */
function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => {
      const path = issue.path.map(String).join(".");
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join("; ");
}
