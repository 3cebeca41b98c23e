import { and, eq, getTableColumns, isNotNull, isNull, sql } from "drizzle-orm";
import type { PgUpdateSetSource } from "drizzle-orm/pg-core";
import { type Db, rowsOf } from "../db/client.ts";
import { prepared } from "../db/prepared.ts";
import { lists, taskCounters, tasks } from "../db/schema.ts";
import type { Due } from "./due.ts";
import { REPEAT_FROM, type Repeat } from "./recurrence.ts";
import { INBOX, type Priority, type Task } from "./task.ts";

// Every statement here filters by user_id: a task number alone never identifies a row.

/** Every column, plus the list's name (a primary-key lookup; null = Inbox). */
export const taskColumns = {
  ...getTableColumns(tasks),
  listName: sql<
    string | null
  >`(select ${lists.name} from ${lists} where ${lists.id} = ${tasks.listId})`,
};

export type TaskRow = typeof tasks.$inferSelect & { listName: string | null };

/** The stored pattern (jsonb), or null for anything that is not one. */
function toRepeat(value: unknown): Repeat | null {
  if (typeof value !== "object" || value === null) return null;
  const v = value as Record<string, unknown>;
  if (typeof v.rule !== "string") return null;
  const from = REPEAT_FROM.find((f) => f === v.repeat_from) ?? "due";
  const time = typeof v.time === "string" ? v.time : null;
  return { rule: v.rule, from, time };
}

function repeatJson(repeat: Repeat | null): string | null {
  return repeat
    ? JSON.stringify({ rule: repeat.rule, repeat_from: repeat.from, time: repeat.time })
    : null;
}

export function toTask(row: TaskRow): Task {
  const repeat = row.dueDate ? toRepeat(row.dueRecurrence) : null;
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
    due:
      row.dueDate && row.dueTimezone
        ? {
            date: row.dueDate,
            time: row.dueTime,
            timezone: row.dueTimezone,
            at: row.dueAt ? row.dueAt.toISOString() : null,
            string: row.dueString,
            recurrence: repeat?.rule ?? null,
            repeat_from: repeat?.from ?? null,
          }
        : null,
    priority: row.priority,
    list: row.listName ?? INBOX,
    labels: row.labels,
    parentNumber: row.parentNumber,
    deletedAt: row.deletedAt,
    repeat,
    completedOccurrences: row.completedOccurrences,
    lastCompletedAt: row.lastCompletedAt,
  };
}

/** A live task (not in the trash) of the user by number: what every read and write but
 *  the trash's sees. */
const byNumber = (userId: string, number: number) =>
  and(eq(tasks.userId, userId), eq(tasks.number, number), isNull(tasks.deletedAt));

/** The due columns of a due (or of none). */
function dueColumns(due: Due | null) {
  return {
    dueDate: due?.date ?? null,
    dueTime: due?.time ?? null,
    dueTimezone: due?.timezone ?? null,
    dueAt: due?.at ? new Date(due.at) : null,
    dueString: due?.string ?? null,
  };
}

export interface TaskFields {
  title: string;
  description: string;
  due: Due | null;
  priority: Priority;
  listId: string | null;
  labels: string[];
  parentNumber: number | null;
  /** Null = does not repeat (also when there is no due date). */
  repeat: Repeat | null;
}

/**
 * Inserts a task with the caller's next number, in ONE statement: the counter upsert (a
 * data-modifying CTE) takes the row lock on the user's counter, so concurrent adds queue
 * on it and each gets its own number; the counter only grows, so deleted numbers are
 * never handed out again.
 */
export async function insertTask(db: Db, userId: string, input: TaskFields): Promise<Task> {
  const due = dueColumns(input.due);
  const rows = await insertTaskQuery(db).execute({
    userId,
    title: input.title,
    description: input.description,
    ...due,
    dueAt: due.dueAt?.toISOString() ?? null,
    priority: input.priority,
    listId: input.listId,
    labels: toPgArray(input.labels),
    parentNumber: input.parentNumber,
    dueRecurrence: repeatJson(input.due ? input.repeat : null),
  });
  const row = rows[0];
  if (!row) throw new Error("insert into tasks returned no row");
  return toTask(row);
}

function toJsonb(repeat: Repeat) {
  return sql`${repeatJson(repeat)}::jsonb`;
}

/** A text[] literal ('{"a","b"}'): the same parameter text on PGlite and node-postgres. */
function toPgArray(values: readonly string[]): string {
  return `{${values.map((v) => `"${v.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`).join(",")}}`;
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
  const p = (name: string) => sql.placeholder(name);
  return db
    .with(counter)
    .insert(tasks)
    .values({
      userId: p("userId"),
      number: sql`(select last_number from counter)`,
      title: p("title"),
      description: p("description"),
      dueDate: sql`${p("dueDate")}::date`,
      dueTime: p("dueTime"),
      dueTimezone: p("dueTimezone"),
      dueAt: sql`${p("dueAt")}::timestamptz`,
      dueString: p("dueString"),
      dueRecurrence: sql`${p("dueRecurrence")}::jsonb`,
      priority: sql`${p("priority")}::text`,
      listId: sql`${p("listId")}::uuid`,
      labels: sql`${p("labels")}::text[]`,
      parentNumber: sql`${p("parentNumber")}::integer`,
    })
    .returning(taskColumns);
});

/**
 * A live task by number. `includeDeleted` also finds it in the trash (restore, undo, the
 * activity filter); `lock` locks the row until the transaction ends (read-then-write).
 */
export async function findTaskByNumber(
  db: Db,
  userId: string,
  number: number,
  options: { includeDeleted?: boolean; lock?: boolean } = {},
): Promise<Task | undefined> {
  const where = options.includeDeleted
    ? and(eq(tasks.userId, userId), eq(tasks.number, number))
    : byNumber(userId, number);
  const query = db.select(taskColumns).from(tasks).where(where).limit(1);
  const rows = options.lock ? await query.for("update", { of: tasks }) : await query;
  return rows[0] ? toTask(rows[0]) : undefined;
}

/** Whether any task of the user has `number` as its parent. */
export async function hasSubtasks(db: Db, userId: string, number: number): Promise<boolean> {
  const rows = await db
    .select({ n: tasks.number })
    .from(tasks)
    .where(and(eq(tasks.userId, userId), eq(tasks.parentNumber, number)))
    .limit(1);
  return rows.length > 0;
}

/**
 * A change as the repository applies it: only the keys present change. `completedAt` is
 * for an undo, which puts back the exact completion time. `occurrenceDone` counts one more
 * completed occurrence (a repeating task moved on, or its last one done).
 */
export type TaskPatch = Partial<TaskFields> & {
  completed?: boolean;
  completedAt?: Date | null;
  occurrenceDone?: boolean;
};

/**
 * Applies a partial change, bumps `version` and `updated_at`. With `expectedVersion` the
 * row only changes if its version still matches (compare-and-set in the same statement).
 * Returns undefined when no row matched: missing, another user's, or a version mismatch
 * (or, with `unlessRepeating`, a repeating task: the caller then takes the read-first path).
 */
export async function updateTask(
  db: Db,
  userId: string,
  number: number,
  patch: TaskPatch,
  expectedVersion?: number,
  options: { unlessRepeating?: boolean } = {},
): Promise<Task | undefined> {
  const set: PgUpdateSetSource<typeof tasks> = {
    version: sql`${tasks.version} + 1`,
    updatedAt: sql`now()`,
  };
  if (patch.title !== undefined) set.title = patch.title;
  if (patch.description !== undefined) set.description = patch.description;
  if (patch.completed !== undefined) {
    set.completed = patch.completed;
    // Completing an already completed task keeps the moment it was first completed.
    set.completedAt = patch.completed ? sql`coalesce(${tasks.completedAt}, now())` : null;
    if (patch.completed) {
      set.lastCompletedAt = sql`case when ${tasks.completed} then ${tasks.lastCompletedAt} else now() end`;
    }
  }
  if (patch.occurrenceDone) {
    set.completedOccurrences = sql`${tasks.completedOccurrences} + 1`;
    set.lastCompletedAt = sql`now()`;
  }
  if (patch.completedAt !== undefined) set.completedAt = patch.completedAt;
  if (patch.due !== undefined) Object.assign(set, dueColumns(patch.due));
  if (patch.due === null) set.dueRecurrence = null;
  if (patch.repeat !== undefined) set.dueRecurrence = patch.repeat ? toJsonb(patch.repeat) : null;
  if (patch.priority !== undefined) set.priority = patch.priority;
  if (patch.listId !== undefined) set.listId = patch.listId;
  if (patch.labels !== undefined) set.labels = sql`${toPgArray(patch.labels)}::text[]`;
  if (patch.parentNumber !== undefined) set.parentNumber = patch.parentNumber;
  const rows = await db
    .update(tasks)
    .set(set)
    .where(
      and(
        byNumber(userId, number),
        expectedVersion === undefined ? undefined : eq(tasks.version, expectedVersion),
        options.unlessRepeating ? isNull(tasks.dueRecurrence) : undefined,
      ),
    )
    .returning(taskColumns);
  return rows[0] ? toTask(rows[0]) : undefined;
}

/**
 * Moves a live task to the trash (with its live subtasks, at the same instant) and bumps
 * its version; with `expectedVersion` only if the version still matches. Returns the task
 * as trashed and the numbers of the subtasks that went with it; undefined when nothing
 * matched. Run it inside a transaction (two statements).
 */
export async function trashTask(
  db: Db,
  userId: string,
  number: number,
  expectedVersion?: number,
): Promise<{ task: Task; subtasks: number[] } | undefined> {
  const rows = await db
    .update(tasks)
    .set({ deletedAt: sql`now()`, version: sql`${tasks.version} + 1`, updatedAt: sql`now()` })
    .where(
      and(
        byNumber(userId, number),
        expectedVersion === undefined ? undefined : eq(tasks.version, expectedVersion),
      ),
    )
    .returning(taskColumns);
  const row = rows[0];
  if (!row) return undefined;
  const subtasks = await db
    .update(tasks)
    .set({ deletedAt: row.deletedAt, version: sql`${tasks.version} + 1`, updatedAt: sql`now()` })
    .where(and(eq(tasks.userId, userId), eq(tasks.parentNumber, number), isNull(tasks.deletedAt)))
    .returning({ number: tasks.number });
  return { task: toTask(row), subtasks: subtasks.map((s) => s.number).sort((a, b) => a - b) };
}

/**
 * Takes a task out of the trash with the subtasks trashed together with it (same
 * `deleted_at`), bumping versions; with `expectedVersion` only if it still matches.
 * Undefined when no trashed task matched. Run it inside a transaction.
 */
export async function restoreTask(
  db: Db,
  userId: string,
  number: number,
  deletedAt: Date,
  expectedVersion?: number,
): Promise<{ task: Task; subtasks: number[] } | undefined> {
  const rows = await db
    .update(tasks)
    .set({ deletedAt: null, version: sql`${tasks.version} + 1`, updatedAt: sql`now()` })
    .where(
      and(
        eq(tasks.userId, userId),
        eq(tasks.number, number),
        isNotNull(tasks.deletedAt),
        expectedVersion === undefined ? undefined : eq(tasks.version, expectedVersion),
      ),
    )
    .returning(taskColumns);
  const row = rows[0];
  if (!row) return undefined;
  const subtasks = await db
    .update(tasks)
    .set({ deletedAt: null, version: sql`${tasks.version} + 1`, updatedAt: sql`now()` })
    .where(
      and(eq(tasks.userId, userId), eq(tasks.parentNumber, number), eq(tasks.deletedAt, deletedAt)),
    )
    .returning({ number: tasks.number });
  return { task: toTask(row), subtasks: subtasks.map((s) => s.number).sort((a, b) => a - b) };
}

/**
 * The id and stored name of the user's list called `name` (ignoring case), created if
 * there is none, in one statement (a concurrent creation of the same name meets the
 * unique index and returns the same row).
 */
export async function ensureList(
  db: Db,
  userId: string,
  name: string,
): Promise<{ id: string; name: string }> {
  const result = await db.execute(sql`
    insert into ${lists} (user_id, name) values (${userId}, ${name})
    on conflict (user_id, lower(name)) do update set name = ${lists.name}
    returning id, name`);
  const row = rowsOf<{ id: string; name: string }>(result)[0];
  if (!row) throw new Error("insert into lists returned no row");
  return row;
}
