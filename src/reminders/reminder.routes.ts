import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { requireContext } from "../http/request-context.ts";
import { getTask } from "../tasks/task.service.ts";
import { taskNumber } from "../tasks/task.ts";
import type { NotificationSettings } from "./reminder.repository.ts";
import * as service from "./reminder.service.ts";
import { ReminderJson, toReminderJson } from "./reminder.ts";

const NumberParams = z.strictObject({
  number: z
    .string()
    .regex(/^[1-9][0-9]{0,9}$/, "a task number is a positive integer")
    .transform(Number)
    .pipe(taskNumber),
});

const SettingsJson = z.object({
  default_reminder: z.boolean().describe("A reminder at the due time for timed tasks given none"),
  web: z.boolean().describe("Fired reminders go to the inbox (GET /api/notifications)"),
  webhook: z.boolean().describe("Events go to the registered webhooks"),
  email: z.boolean().describe("Fired reminders are e-mailed (when the server has SMTP_URL)"),
  email_available: z.boolean().describe("Whether this server can send e-mail at all"),
});

const SettingsPatch = z.strictObject({
  default_reminder: z.boolean().optional(),
  web: z.boolean().optional(),
  webhook: z.boolean().optional(),
  email: z.boolean().optional(),
});

/** A task's reminders (they are set through the task's `reminders` field) and the delivery settings. */
export async function reminderRoutes(app: FastifyInstance, options: { emailAvailable: boolean }) {
  app.removeContentTypeParser("text/plain");
  const r = app.withTypeProvider<ZodTypeProvider>();
  const toJson = (s: NotificationSettings) => ({
    default_reminder: s.defaultReminder,
    web: s.web,
    webhook: s.webhook,
    email: s.email,
    email_available: options.emailAvailable,
  });

  r.get(
    "/api/tasks/:number/reminders",
    {
      schema: {
        summary: "A task's reminders (set through the task's reminders field)",
        params: NumberParams,
        response: { 200: z.object({ items: z.array(ReminderJson) }) },
        errors: ["not_found"],
      },
    },
    async (request) => {
      const ctx = requireContext(request);
      const task = await getTask(ctx, request.params.number);
      return { items: (await service.listTaskReminders(ctx, task)).map(toReminderJson) };
    },
  );

  r.get(
    "/api/me/notifications",
    { schema: { summary: "The caller's notification settings", response: { 200: SettingsJson } } },
    async (request) => toJson(await service.getNotificationSettings(requireContext(request))),
  );

  r.patch(
    "/api/me/notifications",
    {
      schema: {
        summary: "Change the caller's notification settings",
        body: SettingsPatch,
        response: { 200: SettingsJson },
      },
    },
    async (request) => {
      const b = request.body;
      const changes: Partial<NotificationSettings> = {};
      if (b.default_reminder !== undefined) changes.defaultReminder = b.default_reminder;
      if (b.web !== undefined) changes.web = b.web;
      if (b.webhook !== undefined) changes.webhook = b.webhook;
      if (b.email !== undefined) changes.email = b.email;
      return toJson(await service.updateNotificationSettings(requireContext(request), changes));
    },
  );
}
