import { z } from "zod";
import * as activity from "../activity/activity.service.ts";
import type { RequestContext } from "../context.ts";
import { AppError } from "../errors.ts";
import { remindersInput } from "../reminders/reminder.ts";
import { dueLabel } from "../tasks/due.ts";
import { RECURRENCE_MAX } from "../tasks/recurrence.ts";
import { repeatingLabel } from "../tasks/recurrence-phrases.ts";
import * as tasks from "../tasks/task.service.ts";
import {
  DESCRIPTION_MAX,
  DUE_FILTERS,
  DueJson,
  dueInput,
  LABELS_MAX,
  LIST_NAME_MAX,
  listName,
  PRIORITIES,
  recurrenceInput,
  repeatFromInput,
  SEARCH_MAX,
  TASK_STATUS_FILTERS,
  type Task,
  TITLE_MAX,
  taskDescription,
  taskLabel,
  taskLabels,
  taskNumber,
  taskPriority,
  taskTitle,
} from "../tasks/task.ts";
import { type AnyToolDefinition, clip, defineTool, toolError, toolFailure } from "./tool.ts";

// The five task tools: the third door (after REST and MCP) to the same service functions.
// Descriptions and .describe() texts are read by the model on every turn: keep them exact.

const taskId = taskNumber.describe(
  'The task\'s number, as shown to the user ("task 3" → 3). Take it from the conversation or from list_tasks; never guess it.',
);

// The fields add_task and update_task share, each described once.
const fields = {
  due: dueInput.describe(
    'When the task is due: {"string": "<the user\'s date words, e.g. tomorrow at 5pm>"} (read in the user\'s time zone), or {"date": "YYYY-MM-DD", "time"?: "HH:MM"}; null clears it (and any repeat). Repeat words work here too: {"string": "every monday at 8am"} makes a repeating task due on its first occurrence. Changing the date of a repeating task moves only this occurrence; the pattern stays. Leave the date words out of the title.',
  ),
  recurrence: recurrenceInput.describe(
    `Makes the task repeat: the user's words ("every monday", "every weekday at 9", "every 2 weeks", "on the 1st of every month", "every other day") or an RFC 5545 RRULE ("FREQ=WEEKLY;BYDAY=MO", at most ${RECURRENCE_MAX} characters; daily or less often; COUNT=n ends it after n completions, UNTIL=YYYYMMDD on a date). Without a date, the task becomes due on the first occurrence. null stops repeating and keeps the due date ("stop repeating task 4").`,
  ),
  reminders: remindersInput.describe(
    'Reminders, replacing any the task has: {"before_minutes": 30} is 30 minutes before the due time (0 = at it), {"at": "<ISO instant with offset>"} an exact moment; [] removes them. Leave it out to keep them.',
  ),
  repeat_from: repeatFromInput.describe(
    '"due" (default): the next occurrence follows the current due date. "completion": it is counted from the day the task is completed ("every 2 weeks after I finish it").',
  ),
  priority: taskPriority.describe(`One of ${PRIORITIES.join(", ")}. "urgent" or "!!" means high.`),
  list: listName.describe(
    `The list's name (up to ${LIST_NAME_MAX} characters), created on first use; "Inbox" is the default list.`,
  ),
  labels: taskLabels.describe(
    `Labels (at most ${LABELS_MAX}), single words like "errands"; a leading # is dropped. Replaces the task's labels.`,
  ),
  parent_id: taskNumber
    .nullable()
    .describe(
      "The number of a top-level task this task is a subtask of (one level deep); null makes it top-level.",
    ),
};

/** What a tool says about one task: enough for a reply to say what was understood. */
const TaskResult = z.object({
  task_id: z.number(),
  status: z.enum(["created", "updated", "completed", "reopened", "deleted", "restored"]),
  title: z.string(),
  due: DueJson.nullable(),
  due_label: z.string().nullable(),
  priority: taskPriority,
  list: z.string(),
  labels: z.array(z.string()),
  subtasks_deleted: z.number().optional(),
  subtasks_restored: z.number().optional(),
  /** A repeating task's completion: the occurrence done and the next one (null: it ended). */
  occurrence: z
    .object({ completed_for: z.string(), next: z.string().nullable(), note: z.string() })
    .optional(),
});
type TaskResult = z.infer<typeof TaskResult>;

export function taskResult(task: tasks.UpdatedTask, status: TaskResult["status"]): TaskResult {
  const done = task.occurrence;
  const occurrence = done
    ? {
        completed_for: dueLabel(done.completedFor),
        next: done.next ? dueLabel(done.next) : null,
        note: done.next
          ? `done for ${dueLabel(done.completedFor)}; next: ${dueLabel(done.next)}`
          : `done for ${dueLabel(done.completedFor)}; that was the last occurrence, so the task is completed`,
      }
    : undefined;
  return {
    task_id: task.number,
    status,
    title: task.title,
    due: task.due,
    due_label: task.due ? repeatingLabel(task.due) : null,
    priority: task.priority,
    list: task.list,
    labels: task.labels,
    ...(occurrence ? { occurrence } : {}),
  };
}

/** A task in a list_tasks page: no description, the due date as one short string. */
const CompactTask = z.object({
  id: z.number(),
  title: z.string(),
  completed: z.boolean(),
  /** When it was completed (ISO): answers "what did I finish this week?". */
  completed_at: z.string().nullable(),
  due: z.string().nullable(),
  /** The repeat pattern in words ("every monday"), when the task repeats. */
  repeats: z.string().optional(),
  priority: taskPriority,
  list: z.string(),
  labels: z.array(z.string()),
  parent_id: z.number().nullable(),
});

function compact(task: Task): z.infer<typeof CompactTask> {
  const due = task.due
    ? task.due.time
      ? `${task.due.date} ${task.due.time}`
      : task.due.date
    : null;
  return {
    id: task.number,
    title: task.title,
    completed: task.completed,
    completed_at: task.completedAt ? task.completedAt.toISOString() : null,
    due,
    ...(task.repeat ? { repeats: task.due?.string ?? task.repeat.rule } : {}),
    priority: task.priority,
    list: task.list,
    labels: task.labels,
    parent_id: task.parentNumber,
  };
}

export const addTaskTool = defineTool({
  name: "add_task",
  description:
    "Create a new task for the user. Use it when the user asks to add, create or remember something to do. " +
    "Put a date or time the user gave in `due` (their words in due.string), not in the title. " +
    'For a repeating task ("water the plants every Monday at 8am") put the repeat words in due.string (or recurrence) and leave them out of the title. ' +
    "Returns the new task's number (task_id) and what was understood (due_label, priority, list, labels).",
  inputSchema: z.strictObject({
    title: taskTitle.describe(
      `A short title for the task, 1 to ${TITLE_MAX} characters, in the user's own words (without the date words).`,
    ),
    description: taskDescription
      .optional()
      .describe(
        `Optional details (up to ${DESCRIPTION_MAX} characters). Leave it out when the user gave none.`,
      ),
    due: fields.due.optional(),
    priority: fields.priority.optional(),
    list: fields.list.optional(),
    labels: fields.labels.optional(),
    parent_id: fields.parent_id.optional(),
    reminders: fields.reminders.optional(),
    recurrence: fields.recurrence.optional(),
    repeat_from: fields.repeat_from.optional(),
  }),
  outputSchema: TaskResult,
  async execute(ctx, input) {
    return taskResult(await tasks.addTask(ctx, input), "created");
  },
});

export const listTasksTool = defineTool({
  name: "list_tasks",
  readOnly: true,
  description:
    "List the user's tasks in number order, filtered, one page at a time: {items, total, next_cursor}. " +
    "Each item has its number (id), title, completed, due (YYYY-MM-DD or YYYY-MM-DD HH:MM in the task's zone), priority, list, labels and parent_id. " +
    "`total` counts every match; pass next_cursor back as `cursor` for more. " +
    'Use it to answer questions about the tasks ("what\'s due today?": due ["today", "overdue"]) and to find a task\'s number by its title (q).',
  inputSchema: z.strictObject({
    status: z
      .enum(TASK_STATUS_FILTERS)
      .optional()
      .describe(
        '"pending" for tasks still to do, "completed" for finished ones, "all" (the default) for both; "deleted" lists the trash (deleted tasks that restore_task can bring back).',
      ),
    due: z
      .union([z.enum(DUE_FILTERS), z.array(z.enum(DUE_FILTERS)).min(1).max(4)])
      .optional()
      .describe(
        'Due "today", "overdue" (pending and past due), "upcoming" (after today) or "none"; a list matches any of them. Today is the user\'s.',
      ),
    list: listName.optional().describe('Only the tasks of this list ("Inbox" = no list).'),
    label: taskLabel.optional().describe("Only the tasks with this label."),
    priority: taskPriority.optional().describe("Only the tasks of this priority."),
    q: z
      .string()
      .max(SEARCH_MAX)
      .optional()
      .describe("Words to search for in titles and descriptions (whole words)."),
    limit: z
      .number()
      .int()
      .min(1)
      .max(100)
      .optional()
      .describe("Page size, 1 to 100 (default 50)."),
    cursor: z.string().max(500).optional().describe("next_cursor of the previous page."),
  }),
  outputSchema: z.object({
    items: z.array(CompactTask),
    total: z.number(),
    next_cursor: z.string().nullable(),
  }),
  async execute(ctx, input) {
    const { due, limit, ...filters } = input;
    const page = await tasks.listTasks(
      ctx,
      {
        ...filters,
        due: due === undefined ? undefined : typeof due === "string" ? [due] : due,
        limit: limit ?? 50,
      },
      { withTotal: true },
    );
    return {
      items: page.tasks.map(compact),
      total: page.total ?? page.tasks.length,
      next_cursor: page.nextCursor,
    };
  },
});

export const completeTaskTool = defineTool({
  name: "complete_task",
  description:
    "Mark one of the user's tasks as done, by its number. Completing a task that is already done changes nothing. " +
    'A repeating task stays one task: it moves to its next occurrence (the result\'s occurrence.note says "done for <date>; next: <date>"; tell the user both dates), and completes for good only after its last occurrence. ' +
    "If you only know the title, call list_tasks first to find the number. To reopen a task use update_task with completed: false.",
  inputSchema: z.strictObject({ task_id: taskId }),
  outputSchema: TaskResult,
  async execute(ctx, input) {
    return taskResult(await tasks.completeTask(ctx, input.task_id), "completed");
  },
});

export const deleteTaskTool = defineTool({
  name: "delete_task",
  description:
    "Delete one of the user's tasks, by its number, together with its subtasks: they go to the trash (restore_task brings them back, under the same number). Only use it when the user clearly asks to delete or remove a task; " +
    "to mark a task as done use complete_task instead.",
  inputSchema: z.strictObject({ task_id: taskId }),
  outputSchema: TaskResult,
  async execute(ctx, input) {
    const { task, subtasksDeleted } = await tasks.deleteTask(ctx, input.task_id);
    return { ...taskResult(task, "deleted"), subtasks_deleted: subtasksDeleted };
  },
});

export const updateTaskTool = defineTool({
  name: "update_task",
  description:
    "Change one of the user's tasks, by its number: title, description, due date, repeat pattern (recurrence, repeat_from), priority, list, labels, parent, " +
    "or completed (false reopens a finished task). Give only what changes, at least one field. " +
    '"Make task 3 repeat every Friday" → recurrence: "every friday"; "stop repeating task 4" → recurrence: null.',
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
    completed: z
      .boolean()
      .optional()
      .describe("true marks the task done; false reopens it (not done)."),
    due: fields.due.optional(),
    priority: fields.priority.optional(),
    list: fields.list.optional(),
    labels: fields.labels.optional(),
    parent_id: fields.parent_id.optional(),
    reminders: fields.reminders.optional(),
    recurrence: fields.recurrence.optional(),
    repeat_from: fields.repeat_from.optional(),
  }),
  outputSchema: TaskResult,
  async execute(ctx, input) {
    const { task_id, ...changes } = input;
    const task = await tasks.updateTask(ctx, task_id, changes);
    const status =
      changes.completed === false ? "reopened" : changes.completed ? "completed" : "updated";
    return taskResult(task, status);
  },
});

export const restoreTaskTool = defineTool({
  name: "restore_task",
  description:
    "Bring back a deleted task from the trash, by its number, with the subtasks deleted together with it; it keeps its number. " +
    'To find the number of a deleted task, call list_tasks with status "deleted".',
  inputSchema: z.strictObject({ task_id: taskId }),
  outputSchema: TaskResult,
  async execute(ctx, input) {
    const { task, subtasksRestored } = await tasks.restoreTask(ctx, input.task_id);
    return { ...taskResult(task, "restored"), subtasks_restored: subtasksRestored };
  },
});

const ActivitySummary = z.object({
  activity_id: z.string(),
  kind: z.string(),
  task_id: z.number().nullable(),
  summary: z.string(),
});

export const undoLastTurnTool = defineTool({
  name: "undo_last_turn",
  chatOnly: true,
  description:
    'Undo what your previous reply in this conversation changed (the user says "undo", "undo that", "put it back"): tasks added are deleted, deleted ones restored, changes reverted. ' +
    "A task changed since by something else is left as it is and listed in `skipped` with the reason: tell the user. Returns {undone, skipped}.",
  inputSchema: z.strictObject({}),
  outputSchema: z.object({
    undone: z.array(ActivitySummary),
    skipped: z.array(z.object({ task_id: z.number().nullable(), reason: z.string() })),
  }),
  async execute(ctx) {
    const result = await activity.undoLastTurn(ctx);
    const summary = (a: (typeof result.undone)[number]) => ({
      activity_id: a.id,
      kind: a.kind,
      task_id: a.subjectType === "task" ? Number(a.subject) : null,
      summary: a.summary,
    });
    return {
      undone: result.undone.map(summary),
      skipped: result.skipped.map((s) => ({
        task_id: s.entry.subjectType === "task" ? Number(s.entry.subject) : null,
        reason: s.reason,
      })),
    };
  },
});

/** Every task tool, in the order they are offered to a model (MCP leaves out chatOnly). */
export const TASK_TOOLS: readonly AnyToolDefinition[] = [
  addTaskTool,
  listTasksTool,
  completeTaskTool,
  deleteTaskTool,
  updateTaskTool,
  restoreTaskTool,
  undoLastTurnTool,
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
  definitions: readonly AnyToolDefinition[] = TASK_TOOLS,
): Promise<unknown> {
  const definition = definitions.find((t) => t.name === name);
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
