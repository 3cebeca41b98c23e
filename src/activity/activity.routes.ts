import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { requireContext } from "../http/request-context.ts";
import { taskNumber } from "../tasks/task.ts";
import * as service from "./activity.service.ts";
import { ActivityJson, toActivityJson } from "./activity.ts";

const ActivityQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(500).optional(),
  task: z
    .string()
    .regex(/^[1-9][0-9]{0,9}$/, "a task number is a positive integer")
    .transform(Number)
    .pipe(taskNumber)
    .optional(),
});

const ActivityPage = z.object({ items: z.array(ActivityJson), next_cursor: z.string().nullable() });

const IdParams = z.strictObject({ id: z.uuid() });

/** GET /api/activity (the caller's log, newest first) and POST /api/activity/:id/undo. */
export async function activityRoutes(app: FastifyInstance) {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    "/api/activity",
    {
      schema: {
        summary: "The caller's activity log, newest first",
        querystring: ActivityQuery,
        response: { 200: ActivityPage },
        // ?task= names no task of the caller's.
        errors: ["not_found"],
      },
    },
    async (request) => {
      const page = await service.listActivity(requireContext(request), request.query);
      return { items: page.items.map(toActivityJson), next_cursor: page.nextCursor };
    },
  );

  // 201: the undo is a new entry of the log (it names the undone one in undo_of).
  r.post(
    "/api/activity/:id/undo",
    {
      schema: {
        summary: "Undo one logged change (logged itself as a new entry)",
        params: IdParams,
        response: { 201: ActivityJson.describe("The undo's own entry (undo_of: the undone one)") },
        // Restoring a deleted subtask whose parent is in the trash: parent_in_trash.
        errors: ["not_found", "already_undone", "not_undoable", "undo_conflict", "parent_in_trash"],
      },
    },
    async (request, reply) => {
      const undo = await service.undoActivity(requireContext(request), request.params.id);
      return reply.status(201).send(toActivityJson(undo));
    },
  );
}
