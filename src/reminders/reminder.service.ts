import type { RequestContext } from "../context.ts";
import type { Executor } from "../db/client.ts";
import { retryingRead, retryingWrite } from "../db/transaction.ts";
import { QUEUES } from "../jobs/queue.ts";
import type { Task } from "../tasks/task.ts";
import * as repo from "./reminder.repository.ts";
import type { Reminder, ReminderInput } from "./reminder.ts";

/**
 * Brings a task's reminders in line with a change to the task, in the change's own
 * transaction: replaces them when `given`, adds the default reminder (at the due time)
 * to a timed task that has none when the user's setting asks for it, recomputes when each
 * fires, and queues a `reminder-fire` job for each one still to fire. The jobs commit with
 * the change; one queued for a time since changed does nothing when it runs (it names the
 * time it was queued for), and one job per reminder and time is kept (its singleton key).
 */
export async function syncTaskReminders(
  tx: Executor,
  ctx: RequestContext,
  task: Task,
  given: readonly ReminderInput[] | undefined,
  change: { dueChanged: boolean },
): Promise<void> {
  if (given !== undefined) {
    await repo.deleteReminders(tx, ctx.userId, task.id);
    await repo.insertReminders(
      tx,
      ctx.userId,
      task.id,
      given.map((r) =>
        "at" in r
          ? { at: new Date(r.at), beforeMinutes: null, isDefault: false }
          : { at: null, beforeMinutes: r.before_minutes, isDefault: false },
      ),
    );
  } else if (change.dueChanged && task.due?.at) {
    const settings = await repo.findSettings(tx, ctx.userId);
    if (settings.defaultReminder && (await repo.countReminders(tx, ctx.userId, task.id)) === 0) {
      await repo.insertReminders(tx, ctx.userId, task.id, [
        { at: null, beforeMinutes: 0, isDefault: true },
      ]);
    }
  }
  const pending = await repo.refreshFireTimes(tx, ctx.userId, task.id);
  if (task.completed || !ctx.jobs) return;
  for (const reminder of pending) {
    await ctx.jobs.send(
      tx,
      QUEUES.reminderFire,
      { reminderId: reminder.id, fireAt: reminder.fireAt.toISOString() },
      {
        startAfter: reminder.fireAt,
        singletonKey: `${reminder.id}@${reminder.fireAt.toISOString()}`,
      },
    );
  }
}

/** A task's reminders, soonest first (those without a time yet last). */
export async function listTaskReminders(ctx: RequestContext, task: Task): Promise<Reminder[]> {
  return retryingRead(() => repo.listReminders(ctx.db, ctx.userId, task.id));
}

export async function getNotificationSettings(ctx: RequestContext) {
  return retryingRead(() => repo.findSettings(ctx.db, ctx.userId));
}

/** Changes only the settings given. */
export async function updateNotificationSettings(
  ctx: RequestContext,
  changes: Partial<repo.NotificationSettings>,
) {
  const current = await retryingRead(() => repo.findSettings(ctx.db, ctx.userId));
  const next = { ...current, ...changes };
  return retryingWrite(() => repo.upsertSettings(ctx.db, ctx.userId, next));
}
