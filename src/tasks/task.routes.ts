import type { FastifyInstance, FastifyReply } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { AppError } from "../errors.ts";
import { requireContext } from "../http/request-context.ts";
import * as service from "./task.service.ts";
import {
  DUE_FILTERS,
  listName,
  NewTaskInput,
  SEARCH_MAX,
  TASK_SORTS,
  TASK_STATUS_FILTERS,
  type Task,
  TaskChangesInput,
  TaskJson,
  taskLabel,
  taskNumber,
  taskPriority,
  toTaskJson,
} from "./task.ts";

// `:number` is digits only (no sign, exponent, hex, spaces or leading zero) before it is a
// number: a params failure is answered as 400 invalid_id by the error handler.
const NumberParams = z.strictObject({
  number: z
    .string()
    .regex(/^[1-9][0-9]{0,9}$/, "a task number is a positive integer")
    .transform(Number)
    .pipe(taskNumber),
});

/** GET /api/tasks: filters (all optional, combined with AND), sort and page. */
const TaskListQuery = z.strictObject({
  q: z.string().max(SEARCH_MAX).optional(),
  status: z.enum(TASK_STATUS_FILTERS).default("all"),
  // One or more of today|overdue|upcoming|none, comma-separated: any of them matches.
  due: z
    .string()
    .max(100)
    .transform((value) => value.split(",").map((part) => part.trim()))
    .pipe(z.array(z.enum(DUE_FILTERS)).min(1))
    .optional(),
  list: listName.optional(),
  label: taskLabel.optional(),
  priority: taskPriority.optional(),
  sort: z.enum(TASK_SORTS).default("number"),
  limit: z.coerce.number().int().min(1).max(200).default(100),
  cursor: z.string().max(500).optional(),
});

const TaskPage = z.object({ items: z.array(TaskJson), next_cursor: z.string().nullable() });

/** A task answered with an `ETag: "<version>"` header (If-Match for the next PATCH). */
const TaskWithEtag = TaskJson.describe('The task; the ETag header is its version ("3")');

/**
 * REST door to the task service. DELETE answers 200 with the task as it was (not 204), so
 * a client can show or undo what it removed, as the delete_task tool reports its title.
 */
export async function taskRoutes(app: FastifyInstance) {
  // JSON only: a text/plain body would otherwise be parsed and fail as a 400; say 415.
  app.removeContentTypeParser("text/plain");
  const r = app.withTypeProvider<ZodTypeProvider>();
  const ctx = requireContext;

  r.get(
    "/api/tasks",
    {
      schema: {
        summary: "List tasks: filters, search, sort, cursor pages",
        querystring: TaskListQuery,
        response: { 200: TaskPage },
      },
    },
    async (request) => {
      const page = await service.listTasks(ctx(request), request.query);
      return { items: page.tasks.map(toTaskJson), next_cursor: page.nextCursor };
    },
  );

  r.get(
    "/api/lists",
    {
      schema: {
        summary: "The lists, Inbox first, with their pending task counts",
        response: {
          200: z.object({ items: z.array(z.object({ name: z.string(), task_count: z.number() })) }),
        },
      },
    },
    async (request) => ({ items: await service.listLists(ctx(request)) }),
  );

  r.post(
    "/api/tasks",
    {
      config: WRITE,
      schema: {
        summary: "Add a task",
        body: NewTaskInput,
        response: { 201: TaskWithEtag.describe("The new task (ETag: its version)") },
        // parent_id names no task of the caller's.
        errors: ["not_found"],
      },
    },
    async (request, reply) =>
      withEtag(reply.status(201), await service.addTask(ctx(request), request.body)),
  );

  r.get(
    "/api/tasks/:number",
    {
      schema: {
        summary: "One task by its number",
        params: NumberParams,
        response: { 200: TaskWithEtag },
        errors: ["not_found"],
      },
    },
    async (request, reply) =>
      withEtag(reply, await service.getTask(ctx(request), request.params.number)),
  );

  r.patch(
    "/api/tasks/:number",
    {
      config: WRITE,
      schema: {
        summary: "Change a task (If-Match: its ETag, else no version check)",
        params: NumberParams,
        body: TaskChangesInput,
        response: { 200: TaskWithEtag },
        errors: ["not_found", "precondition_failed"],
      },
    },
    async (request, reply) => {
      const ifMatchVersion = parseIfMatch(request.headers["if-match"]);
      const task = await service.updateTask(ctx(request), request.params.number, request.body, {
        ifMatchVersion,
      });
      return withEtag(reply, task);
    },
  );

  r.delete(
    "/api/tasks/:number",
    {
      config: WRITE,
      schema: {
        summary: "Move a task and its subtasks to the trash",
        params: NumberParams,
        response: { 200: TaskJson.describe("The task as it was") },
        errors: ["not_found"],
      },
    },
    // To the trash, with its subtasks: POST …/restore brings them back (TRASH_DAYS).
    async (request) =>
      toTaskJson((await service.deleteTask(ctx(request), request.params.number)).task),
  );

  r.post(
    "/api/tasks/:number/restore",
    {
      schema: {
        summary: "Bring a task (and the subtasks trashed with it) back from the trash",
        params: NumberParams,
        response: { 200: TaskWithEtag.describe("The restored task (ETag: its version)") },
        errors: ["not_found", "not_in_trash", "parent_in_trash"],
      },
    },
    // Restores the task (and the subtasks trashed with it) under its own number.
    async (request, reply) =>
      withEtag(reply, (await service.restoreTask(ctx(request), request.params.number)).task),
  );
}

/** Task writes through REST count against the per-user task-write quota. */
const WRITE = { quota: "task_write" } as const;

function withEtag(reply: FastifyReply, task: Task) {
  reply.header("etag", `"${task.version}"`);
  return toTaskJson(task);
}

/**
 * `If-Match: "3"` (the ETag of a previous answer) → 3; `*` or no header → no condition.
 * Anything else is a malformed request, not a failed precondition.
 */
function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  if (value === "*") return undefined;
  const match = /^"([1-9][0-9]{0,9})"$/.exec(value);
  const version = match ? Number(match[1]) : Number.NaN;
  if (!Number.isSafeInteger(version) || version > 2_147_483_647) {
    throw new AppError("validation_failed", 'If-Match must be an ETag from this API, like "3"');
  }
  return version;
}
