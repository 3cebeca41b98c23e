import { and, desc, eq, isNull, lt, or, sql } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import { notifications } from "../db/schema.ts";

export interface Notification {
  id: string;
  taskNumber: number;
  title: string;
  dueAt: Date | null;
  scheduledFor: Date;
  firedAt: Date;
  readAt: Date | null;
}

const toNotification = (row: typeof notifications.$inferSelect): Notification => ({
  id: row.id,
  taskNumber: row.taskNumber,
  title: row.title,
  dueAt: row.dueAt,
  scheduledFor: row.scheduledFor,
  firedAt: row.firedAt,
  readAt: row.readAt,
});

/** One inbox row per fired reminder and time (a unique index: a second insert is a no-op). */
export async function insertNotification(
  db: Executor,
  row: {
    userId: string;
    reminderId: string;
    taskNumber: number;
    title: string;
    dueAt: Date | null;
    scheduledFor: Date;
  },
): Promise<void> {
  await db.insert(notifications).values(row).onConflictDoNothing();
}

/** Newest first; `before` is the previous page's last (fired_at, id). */
export async function listNotifications(
  db: Executor,
  userId: string,
  options: {
    unreadOnly: boolean;
    limit: number;
    before?: { firedAt: Date; id: string } | undefined;
  },
): Promise<Notification[]> {
  const before = options.before;
  const rows = await db
    .select()
    .from(notifications)
    .where(
      and(
        eq(notifications.userId, userId),
        options.unreadOnly ? isNull(notifications.readAt) : undefined,
        before
          ? or(
              lt(notifications.firedAt, before.firedAt),
              and(eq(notifications.firedAt, before.firedAt), lt(notifications.id, before.id)),
            )
          : undefined,
      ),
    )
    .orderBy(desc(notifications.firedAt), desc(notifications.id))
    .limit(options.limit);
  return rows.map(toNotification);
}

export async function countUnread(db: Executor, userId: string): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(notifications)
    .where(and(eq(notifications.userId, userId), isNull(notifications.readAt)));
  return Number(row?.n ?? 0);
}

/** Marks one (or, without an id, every) unread notification read; returns how many. */
export async function markRead(db: Executor, userId: string, id?: string): Promise<number> {
  const rows = await db
    .update(notifications)
    .set({ readAt: sql`now()` })
    .where(
      and(
        eq(notifications.userId, userId),
        isNull(notifications.readAt),
        id === undefined ? undefined : eq(notifications.id, id),
      ),
    )
    .returning({ id: notifications.id });
  return rows.length;
}

export async function findNotification(db: Executor, userId: string, id: string) {
  const rows = await db
    .select()
    .from(notifications)
    .where(and(eq(notifications.userId, userId), eq(notifications.id, id)))
    .limit(1);
  return rows[0] ? toNotification(rows[0]) : undefined;
}
