import { and, asc, eq, type SQL, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { prepared } from "../db/prepared.ts";
import { taskCounters, tasks } from "../db/schema.ts";
import type { Task, TaskChanges, TaskStatusFilter } from "./task.ts";

// Every statement here filters by user_id: a task number alone never identifies a row.

type TaskRow = typeof tasks.$inferSelect;

function toTask(row: TaskRow): Task {
  return {
    id: row.id,
    userId: row.userId,
    number: row.number,
    title: row.title,
    description: row.description,
    completed: row.completed,
    completedAt: row.completedAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    version: row.version,
  };
}

const byNumber = (userId: string, number: number) =>
  and(eq(tasks.userId, userId), eq(tasks.number, number));

/**
 * Inserts a task with the caller's next number, in ONE statement: the counter upsert (a
 * data-modifying CTE) takes the row lock on the user's counter, so concurrent adds queue
 * on it and each gets its own number; the counter only grows, so deleted numbers are
 * never handed out again.
 */
export async function insertTask(
  db: Db,
  userId: string,
  input: { title: string; description: string },
): Promise<Task> {
  const rows = await insertTaskQuery(db).execute({
    userId,
    title: input.title,
    description: input.description,
  });
  const row = rows[0];
  if (!row) throw new Error("insert into tasks returned no row");
  return toTask(row);
}

const insertTaskQuery = prepared((db) => {
  const counter = db.$with("counter").as(
    db
      .insert(taskCounters)
      .values({ userId: sql.placeholder("userId"), lastNumber: 1 })
      .onConflictDoUpdate({
        target: taskCounters.userId,
        set: { lastNumber: sql`${taskCounters.lastNumber} + 1` },
      })
      .returning({ lastNumber: taskCounters.lastNumber }),
  );
  return db
    .with(counter)
    .insert(tasks)
    .values({
      userId: sql.placeholder("userId"),
      number: sql`(select last_number from counter)`,
      title: sql.placeholder("title"),
      description: sql.placeholder("description"),
    })
    .returning();
});

/** The user's tasks in number order, optionally only the pending or the completed ones. */
export async function listTasks(db: Db, userId: string, status: TaskStatusFilter): Promise<Task[]> {
  const filter =
    status === "pending"
      ? eq(tasks.completed, false)
      : status === "completed"
        ? eq(tasks.completed, true)
        : undefined;
  const rows = await db
    .select()
    .from(tasks)
    .where(and(eq(tasks.userId, userId), filter))
    .orderBy(asc(tasks.number));
  return rows.map(toTask);
}

export async function findTaskByNumber(
  db: Db,
  userId: string,
  number: number,
): Promise<Task | undefined> {
  const rows = await db.select().from(tasks).where(byNumber(userId, number)).limit(1);
  return rows[0] ? toTask(rows[0]) : undefined;
}

/**
 * Applies a partial change, bumps `version` and `updated_at`. With `expectedVersion` the
 * row only changes if its version still matches (compare-and-set in the same statement).
 * Returns undefined when no row matched: missing, another user's, or a version mismatch.
 */
export async function updateTask(
  db: Db,
  userId: string,
  number: number,
  patch: TaskChanges,
  expectedVersion?: number,
): Promise<Task | undefined> {
  const set: {
    title?: string;
    description?: string;
    completed?: boolean;
    completedAt?: SQL | null;
    version: SQL;
    updatedAt: SQL;
  } = { version: sql`${tasks.version} + 1`, updatedAt: sql`now()` };
  if (patch.title !== undefined) set.title = patch.title;
  if (patch.description !== undefined) set.description = patch.description;
  if (patch.completed !== undefined) {
    set.completed = patch.completed;
    // Completing an already completed task keeps the moment it was first completed.
    set.completedAt = patch.completed ? sql`coalesce(${tasks.completedAt}, now())` : null;
  }
  const rows = await db
    .update(tasks)
    .set(set)
    .where(
      and(
        byNumber(userId, number),
        expectedVersion === undefined ? undefined : eq(tasks.version, expectedVersion),
      ),
    )
    .returning();
  return rows[0] ? toTask(rows[0]) : undefined;
}

/** Deletes one task and returns it as it was, or undefined when there was none. */
export async function deleteTaskByNumber(
  db: Db,
  userId: string,
  number: number,
): Promise<Task | undefined> {
  const rows = await db.delete(tasks).where(byNumber(userId, number)).returning();
  return rows[0] ? toTask(rows[0]) : undefined;
}
