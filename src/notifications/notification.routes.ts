import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { retryingRead, retryingWrite } from "../db/transaction.ts";
import { AppError } from "../errors.ts";
import { requireContext } from "../http/request-context.ts";
import * as repo from "./notification.repository.ts";

const NotificationJson = z.object({
  id: z.string(),
  type: z.literal("reminder"),
  task_id: z.number(),
  title: z.string(),
  due_at: z.string().nullable(),
  scheduled_for: z.string().describe("The reminder's own time (a late one still shows it)"),
  fired_at: z.string(),
  read: z.boolean(),
});

const toJson = (n: repo.Notification): z.infer<typeof NotificationJson> => ({
  id: n.id,
  type: "reminder",
  task_id: n.taskNumber,
  title: n.title,
  due_at: n.dueAt?.toISOString() ?? null,
  scheduled_for: n.scheduledFor.toISOString(),
  fired_at: n.firedAt.toISOString(),
  read: n.readAt !== null,
});

const ListQuery = z.strictObject({
  unread: z.enum(["true", "false"]).default("false"),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});

/** The inbox of fired reminders: newest first; the page polls it for its toasts. */
export async function notificationRoutes(app: FastifyInstance) {
  app.removeContentTypeParser("text/plain");
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    "/api/notifications",
    {
      schema: {
        summary: "The inbox: fired reminders, newest first",
        querystring: ListQuery,
        response: {
          200: z.object({
            items: z.array(NotificationJson),
            unread_count: z.number(),
            next_cursor: z.string().nullable(),
          }),
        },
      },
    },
    async (request) => {
      const ctx = requireContext(request);
      const { unread, limit, cursor } = request.query;
      const before = cursor === undefined ? undefined : decodeCursor(cursor);
      const items = await retryingRead(() =>
        repo.listNotifications(ctx.db, ctx.userId, {
          unreadOnly: unread === "true",
          limit,
          before,
        }),
      );
      const unreadCount = await retryingRead(() => repo.countUnread(ctx.db, ctx.userId));
      const last = items.at(-1);
      return {
        items: items.map(toJson),
        unread_count: unreadCount,
        next_cursor: items.length === limit && last ? encodeCursor(last) : null,
      };
    },
  );

  r.post(
    "/api/notifications/:id/read",
    {
      schema: {
        summary: "Mark one notification read",
        params: z.strictObject({ id: z.uuid() }),
        response: { 200: NotificationJson },
        errors: ["not_found"],
      },
    },
    async (request) => {
      const ctx = requireContext(request);
      await retryingWrite(() => repo.markRead(ctx.db, ctx.userId, request.params.id));
      const n = await retryingRead(() =>
        repo.findNotification(ctx.db, ctx.userId, request.params.id),
      );
      if (!n) throw new AppError("not_found", "Notification not found");
      return toJson(n);
    },
  );

  r.post(
    "/api/notifications/read-all",
    {
      schema: {
        summary: "Mark every notification read",
        response: { 200: z.object({ marked: z.number() }) },
      },
    },
    async (request) => {
      const ctx = requireContext(request);
      return { marked: await retryingWrite(() => repo.markRead(ctx.db, ctx.userId)) };
    },
  );
}

function encodeCursor(n: repo.Notification): string {
  return Buffer.from(JSON.stringify([n.firedAt.toISOString(), n.id])).toString("base64url");
}

function decodeCursor(cursor: string): { firedAt: Date; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown[];
    const firedAt = new Date(String(at));
    if (
      typeof id === "string" &&
      z.uuid().safeParse(id).success &&
      !Number.isNaN(firedAt.getTime())
    )
      return { firedAt, id };
  } catch {
    // falls through
  }
  throw new AppError("validation_failed", "cursor: not a cursor of this listing");
}
