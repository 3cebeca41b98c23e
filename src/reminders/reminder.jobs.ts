import type { Config } from "../config.ts";
import type { Log } from "../context.ts";
import type { Db } from "../db/client.ts";
import { inTransaction, retryingRead } from "../db/transaction.ts";
import { type Jobs, QUEUES } from "../jobs/queue.ts";
import type { ReminderEmail } from "../notifications/email.ts";
import { insertNotification } from "../notifications/notification.repository.ts";
import { enqueueEvent } from "../webhooks/webhook.service.ts";
import * as repo from "./reminder.repository.ts";

/**
 * The `reminder-fire` worker. A job names a reminder and the time it was queued for; it
 * fires the reminder only if that is still its time, it has not fired, and its task is
 * pending (claimReminder: one UPDATE, so it fires once however many instances run the
 * queue, and a job queued for a time since changed does nothing). In the same transaction
 * it writes the inbox row (with the reminder's own time, which a restart after the server
 * was down shows as it was) and queues the webhook and e-mail deliveries.
 */
export async function startReminderWorker(
  jobs: Jobs,
  db: Db,
  config: Pick<Config, "smtp">,
  log: Log,
): Promise<void> {
  await jobs.work<{ reminderId: string; fireAt: string }>(QUEUES.reminderFire, async (job) => {
    const fired = await inTransaction(db, async (tx) => {
      const claimed = await repo.claimReminder(tx, job.data.reminderId, new Date(job.data.fireAt));
      if (!claimed) return undefined;
      const settings = await repo.findSettings(tx, claimed.userId);
      const shown = {
        task_id: claimed.taskNumber,
        title: claimed.title,
        due_at: claimed.dueAt?.toISOString() ?? null,
        scheduled_for: claimed.fireAt.toISOString(),
      };
      if (settings.web) {
        await insertNotification(tx, {
          userId: claimed.userId,
          reminderId: claimed.id,
          taskNumber: claimed.taskNumber,
          title: claimed.title,
          dueAt: claimed.dueAt,
          scheduledFor: claimed.fireAt,
        });
      }
      await enqueueEvent(tx, jobs, claimed.userId, "reminder.fired", { reminder: shown });
      if (settings.email && config.smtp.url) {
        const email: ReminderEmail = {
          userId: claimed.userId,
          taskNumber: claimed.taskNumber,
          title: claimed.title,
          dueAt: shown.due_at,
          scheduledFor: shown.scheduled_for,
        };
        await jobs.send(tx, QUEUES.emailDeliver, email);
      }
      return claimed;
    });
    if (fired) {
      const lateMs = Date.now() - fired.fireAt.getTime();
      log.info({ category: "reminders", reminderId: fired.id, lateMs }, "reminder fired");
    }
  });
}

/**
 * Queues every reminder still to fire (its job is kept once per reminder and time, so one
 * already queued is not doubled): reminders set where no queue was at hand (the stdio MCP
 * entry), and any whose job was lost. Past-due ones fire at once.
 */
export async function requeueReminders(jobs: Jobs, db: Db): Promise<void> {
  const pending = await retryingRead(() => repo.listUnfired(db, 10_000));
  for (const r of pending) {
    const fireAt = r.fireAt.toISOString();
    await jobs.sendNow(
      QUEUES.reminderFire,
      { reminderId: r.id, fireAt },
      { startAfter: r.fireAt, singletonKey: `${r.id}@${fireAt}` },
    );
  }
}
