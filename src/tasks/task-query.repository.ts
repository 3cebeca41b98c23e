import { and, asc, desc, eq, isNotNull, isNull, type SQL, sql } from "drizzle-orm";
import { type Db, rowsOf } from "../db/client.ts";
import { lists, tasks } from "../db/schema.ts";
import { taskColumns, toTask } from "./task.repository.ts";
import {
  type DueFilter,
  INBOX,
  type Priority,
  type Task,
  type TaskSort,
  type TaskStatusFilter,
} from "./task.ts";

// The reads behind GET /api/tasks, list_tasks and GET /api/lists. Every one filters by
// user_id first; "today" is the user's (the service passes their date and zone).

export interface TaskFilters {
  status: TaskStatusFilter;
  due: readonly DueFilter[];
  list: string | undefined;
  label: string | undefined;
  priority: Priority | undefined;
  q: string | undefined;
  /** The user's zone and today's date there, and now: what the due filters compare with. */
  timezone: string;
  today: string;
  now: Date;
}

/** A sort: its key expressions (compared as a row, all in one direction, ending with number). */
interface SortSpec {
  keys: { expr: SQL; cast: "integer" | "date" | "text" }[];
  direction: "asc" | "desc";
  /** The key values of a task, as a cursor carries them. */
  valuesOf(task: Task): (string | number)[];
}

const PRIORITY_RANK = sql`(case ${tasks.priority} when 'high' then 0 when 'medium' then 1 when 'low' then 2 else 3 end)`;
const RANK: Record<Priority, number> = { high: 0, medium: 1, low: 2, none: 3 };
const numberKey = { expr: sql`${tasks.number}`, cast: "integer" as const };

export const SORTS: Record<TaskSort, SortSpec> = {
  number: { keys: [numberKey], direction: "asc", valuesOf: (t) => [t.number] },
  // Numbers are handed out in creation order: newest first is number descending.
  created: { keys: [numberKey], direction: "desc", valuesOf: (t) => [t.number] },
  // Soonest first, all-day before timed on the same day, tasks without a due date last.
  due: {
    keys: [
      { expr: sql`coalesce(${tasks.dueDate}, 'infinity'::date)`, cast: "date" },
      { expr: sql`coalesce(${tasks.dueTime}, '')`, cast: "text" },
      numberKey,
    ],
    direction: "asc",
    valuesOf: (t) => [t.due?.date ?? "infinity", t.due?.time ?? "", t.number],
  },
  priority: {
    keys: [{ expr: PRIORITY_RANK, cast: "integer" }, numberKey],
    direction: "asc",
    valuesOf: (t) => [RANK[t.priority], t.number],
  },
};

function whereOf(userId: string, f: TaskFilters): SQL | undefined {
  const conditions: (SQL | undefined)[] = [
    eq(tasks.userId, userId),
    // The trash is its own listing: no other filter shows a trashed task.
    f.status === "deleted" ? isNotNull(tasks.deletedAt) : isNull(tasks.deletedAt),
  ];
  if (f.status === "pending") conditions.push(eq(tasks.completed, false));
  if (f.status === "completed") conditions.push(eq(tasks.completed, true));
  if (f.due.length > 0) {
    const parts = f.due.map((d) => dueCondition(d, f));
    conditions.push(sql`(${sql.join(parts, sql` or `)})`);
  }
  if (f.list !== undefined) {
    conditions.push(
      f.list.toLowerCase() === INBOX.toLowerCase()
        ? sql`${tasks.listId} is null`
        : sql`${tasks.listId} = (select ${lists.id} from ${lists} where ${lists.userId} = ${userId} and lower(${lists.name}) = lower(${f.list}))`,
    );
  }
  if (f.label !== undefined) conditions.push(sql`${tasks.labels} @> array[${f.label}]::text[]`);
  if (f.priority !== undefined) conditions.push(eq(tasks.priority, f.priority));
  if (f.q !== undefined) {
    // The expression of the GIN index tasks_search_idx (src/db/schema.ts), word for word.
    conditions.push(
      sql`to_tsvector('simple', ${tasks.title} || ' ' || ${tasks.description}) @@ plainto_tsquery('simple', ${f.q})`,
    );
  }
  return and(...conditions);
}

function dueCondition(filter: DueFilter, f: TaskFilters): SQL {
  // The day a task is due ON in the user's zone: a timed task's instant seen there; an
  // all-day task's date as it is.
  const localDay = sql`coalesce((${tasks.dueAt} at time zone ${f.timezone})::date, ${tasks.dueDate})`;
  const today = sql`${f.today}::date`;
  switch (filter) {
    case "today":
      return sql`${localDay} = ${today}`;
    case "upcoming":
      return sql`${localDay} > ${today}`;
    case "none":
      return sql`${tasks.dueDate} is null`;
    case "overdue":
      return sql`(${tasks.completed} = false and (${tasks.dueAt} < ${f.now.toISOString()}::timestamptz or (${tasks.dueAt} is null and ${tasks.dueDate} < ${today})))`;
  }
}

/** One page: up to `limit` tasks after the cursor's key values, and whether more follow. */
export async function listTasks(
  db: Db,
  userId: string,
  filters: TaskFilters,
  page: { sort: TaskSort; limit: number; after: (string | number)[] | undefined },
): Promise<{ tasks: Task[]; more: boolean }> {
  const spec = SORTS[page.sort];
  const keyRow = sql`(${sql.join(
    spec.keys.map((k) => k.expr),
    sql`, `,
  )})`;
  const after = page.after
    ? sql`${keyRow} ${sql.raw(spec.direction === "asc" ? ">" : "<")} (${sql.join(
        page.after.map((v, i) => sql`${v}::${sql.raw(spec.keys[i]?.cast ?? "text")}`),
        sql`, `,
      )})`
    : undefined;
  const order = spec.direction === "asc" ? asc : desc;
  const rows = await db
    .select(taskColumns)
    .from(tasks)
    .where(and(whereOf(userId, filters), after))
    .orderBy(...spec.keys.map((k) => order(k.expr)))
    .limit(page.limit + 1);
  return { tasks: rows.slice(0, page.limit).map(toTask), more: rows.length > page.limit };
}

/** How many tasks match the filters (all pages). */
export async function countTasks(db: Db, userId: string, filters: TaskFilters): Promise<number> {
  const rows = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(tasks)
    .where(whereOf(userId, filters));
  return Number(rows[0]?.n ?? 0);
}

/** The user's lists with their pending tasks: Inbox first, then by name. */
export async function listLists(
  db: Db,
  userId: string,
): Promise<{ name: string; task_count: number }[]> {
  const result = await db.execute(sql`
    select ${INBOX} as name, 0 as pos,
           (select count(*)::int from ${tasks}
            where ${tasks.userId} = ${userId} and ${tasks.listId} is null
              and ${tasks.completed} = false and ${tasks.deletedAt} is null) as task_count
    union all
    select l.name, 1 as pos,
           (select count(*)::int from ${tasks}
            where ${tasks.userId} = ${userId} and ${tasks.listId} = l.id
              and ${tasks.completed} = false and ${tasks.deletedAt} is null) as task_count
    from ${lists} l where l.user_id = ${userId}
    order by pos, name`);
  return rowsOf<{ name: string; task_count: number }>(result).map((r) => ({
    name: r.name,
    task_count: Number(r.task_count),
  }));
}
