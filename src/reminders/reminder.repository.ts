import { and, asc, eq, sql } from "drizzle-orm";
import { type Executor, rowsOf } from "../db/client.ts";
import { notificationSettings, taskReminders } from "../db/schema.ts";
import type { Reminder } from "./reminder.ts";

export interface NotificationSettings {
  defaultReminder: boolean;
  web: boolean;
  webhook: boolean;
  email: boolean;
}

export const DEFAULT_SETTINGS: NotificationSettings = {
  defaultReminder: true,
  web: true,
  webhook: true,
  email: false,
};

export async function findSettings(db: Executor, userId: string): Promise<NotificationSettings> {
  const rows = await db
    .select()
    .from(notificationSettings)
    .where(eq(notificationSettings.userId, userId))
    .limit(1);
  const row = rows[0];
  return row
    ? { defaultReminder: row.defaultReminder, web: row.web, webhook: row.webhook, email: row.email }
    : DEFAULT_SETTINGS;
}

export async function upsertSettings(
  db: Executor,
  userId: string,
  settings: NotificationSettings,
): Promise<NotificationSettings> {
  await db
    .insert(notificationSettings)
    .values({ userId, ...settings })
    .onConflictDoUpdate({
      target: notificationSettings.userId,
      set: { ...settings, updatedAt: sql`now()` },
    });
  return settings;
}

export async function listReminders(db: Executor, userId: string, taskId: string) {
  const rows = await db
    .select()
    .from(taskReminders)
    .where(and(eq(taskReminders.userId, userId), eq(taskReminders.taskId, taskId)))
    .orderBy(sql`${taskReminders.fireAt} asc nulls last`, asc(taskReminders.id));
  return rows.map(toReminder);
}

export async function countReminders(db: Executor, userId: string, taskId: string) {
  const [row] = rowsOf<{ n: number }>(
    await db.execute(
      sql`select count(*)::int as n from task_reminders where user_id = ${userId} and task_id = ${taskId}`,
    ),
  );
  return row?.n ?? 0;
}

export async function deleteReminders(db: Executor, userId: string, taskId: string) {
  await db
    .delete(taskReminders)
    .where(and(eq(taskReminders.userId, userId), eq(taskReminders.taskId, taskId)));
}

export async function insertReminders(
  db: Executor,
  userId: string,
  taskId: string,
  reminders: { at: Date | null; beforeMinutes: number | null; isDefault: boolean }[],
) {
  if (reminders.length === 0) return;
  await db.insert(taskReminders).values(reminders.map((r) => ({ ...r, userId, taskId })));
}

/**
 * Recomputes when each of the task's reminders fires (from its `at`, or the task's due
 * instant minus `before_minutes`). A reminder whose time changed may fire again; one that
 * changed to a time more than a minute past is settled without firing (no reminder for a
 * moment already gone when it was set). Returns the reminders that are still to fire.
 */
export async function refreshFireTimes(
  db: Executor,
  userId: string,
  taskId: string,
): Promise<{ id: string; fireAt: Date }[]> {
  const rows = rowsOf<{ id: string; fire_at: string | Date | null; fired_at: unknown }>(
    await db.execute(sql`
      with next as (
        select r.id,
               coalesce(r.at, t.due_at - make_interval(mins => r.before_minutes)) as fire_at,
               r.fire_at as old_fire_at
        from task_reminders r join tasks t on t.id = r.task_id
        where r.user_id = ${userId} and r.task_id = ${taskId}
      )
      update task_reminders r
      set fire_at = next.fire_at,
          fired_at = case
            when next.fire_at is not distinct from next.old_fire_at then r.fired_at
            when next.fire_at < now() - interval '1 minute' then now()
            else null end
      from next
      where r.id = next.id
      returning r.id, r.fire_at, r.fired_at`),
  );
  return rows
    .filter((r) => r.fire_at !== null && r.fired_at === null)
    .map((r) => ({ id: r.id, fireAt: new Date(r.fire_at as string) }));
}

/** A fired reminder, with what the notification shows. */
export interface ClaimedReminder {
  id: string;
  userId: string;
  taskNumber: number;
  title: string;
  dueAt: Date | null;
  fireAt: Date;
}

/**
 * Marks the reminder fired — only if it is still unfired, still meant for `fireAt` and its
 * task is still pending. The row lock makes this the one place a reminder fires: two
 * runs of the same job (two instances, a retry after a crash) cannot both get a row.
 */
export async function claimReminder(
  db: Executor,
  id: string,
  fireAt: Date,
): Promise<ClaimedReminder | undefined> {
  const rows = rowsOf<{
    id: string;
    user_id: string;
    number: number;
    title: string;
    due_at: string | Date | null;
    fire_at: string | Date;
  }>(
    await db.execute(sql`
      update task_reminders r set fired_at = now()
      from tasks t
      where r.id = ${id} and r.fired_at is null and r.fire_at = ${fireAt.toISOString()}::timestamptz
        and t.id = r.task_id and not t.completed and t.deleted_at is null
      returning r.id, r.user_id, t.number, t.title, t.due_at, r.fire_at`),
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    id: row.id,
    userId: row.user_id,
    taskNumber: Number(row.number),
    title: row.title,
    dueAt: row.due_at === null ? null : new Date(row.due_at),
    fireAt: new Date(row.fire_at),
  };
}

/** Every reminder still to fire whose task is pending (not done, not in the trash): queued again at start. */
export async function listUnfired(db: Executor, limit: number) {
  return rowsOf<{ id: string; fire_at: string | Date }>(
    await db.execute(sql`
      select r.id, r.fire_at from task_reminders r join tasks t on t.id = r.task_id
      where r.fired_at is null and r.fire_at is not null and not t.completed
        and t.deleted_at is null
      order by r.fire_at limit ${limit}`),
  ).map((r) => ({ id: r.id, fireAt: new Date(r.fire_at) }));
}

export function toReminder(row: typeof taskReminders.$inferSelect): Reminder {
  return {
    id: row.id,
    taskId: row.taskId,
    at: row.at,
    beforeMinutes: row.beforeMinutes,
    isDefault: row.isDefault,
    fireAt: row.fireAt,
    firedAt: row.firedAt,
  };
}
