import { and, asc, eq, gt, inArray, isNotNull, isNull, or, type SQL, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { type Db, type Executor, rowsOf } from "../db/client.ts";
import { caldavObjects, lists, taskChangeCounters, taskReminders, tasks } from "../db/schema.ts";
import { toReminder } from "../reminders/reminder.repository.ts";
import type { Reminder } from "../reminders/reminder.ts";
import { taskColumns, toTask } from "../tasks/task.repository.ts";
import type { Task } from "../tasks/task.ts";

// Reads for the CalDAV door (every statement filters by user_id). Task writes go through
// the task service; this module writes only its own table, caldav_objects.

/** A task as a CalDAV resource: the task, its resource name and UID, and what it carries. */
export interface TaskResource {
  task: Task;
  listId: string | null;
  changeSeq: number;
  /** The client's UID and resource name, or null when the task never came over CalDAV. */
  object: StoredObject | null;
  /** The parent's UID as it is served (the client's, or the default one). */
  parentUid: string | null;
}

/** What a client gave a task: UID, resource name, unmapped properties, and its last body. */
export interface StoredObject {
  uid: string;
  name: string;
  extra: string;
  /** The body of the client's last PUT and the task version it produced (null = none kept). */
  raw: string | null;
  rawVersion: number | null;
}

/** The default resource name and UID of a task that never came over CalDAV. */
export const defaultName = (number: number) => `tasktalk-${number}.ics`;
export const defaultUid = (number: number) => `tasktalk-${number}@tasktalk`;

export const nameOf = (r: TaskResource) => r.object?.name ?? defaultName(r.task.number);
export const uidOf = (r: TaskResource) => r.object?.uid ?? defaultUid(r.task.number);

const parent = alias(tasks, "parent");
const parentObject = alias(caldavObjects, "parent_object");

function resourceQuery(db: Executor, where: SQL | undefined) {
  return db
    .select({
      ...taskColumns,
      objectUid: caldavObjects.uid,
      objectName: caldavObjects.name,
      objectExtra: caldavObjects.extra,
      objectRaw: caldavObjects.raw,
      objectRawVersion: caldavObjects.rawVersion,
      parentNumberOf: parent.number,
      parentUid: parentObject.uid,
    })
    .from(tasks)
    .leftJoin(caldavObjects, eq(caldavObjects.taskId, tasks.id))
    .leftJoin(parent, and(eq(parent.userId, tasks.userId), eq(parent.number, tasks.parentNumber)))
    .leftJoin(parentObject, eq(parentObject.taskId, parent.id))
    .where(where)
    .orderBy(asc(tasks.number));
}

type ResourceRow = Awaited<ReturnType<typeof resourceQuery>>[number];

function toResource(row: ResourceRow): TaskResource {
  const {
    objectUid,
    objectName,
    objectExtra,
    objectRaw,
    objectRawVersion,
    parentNumberOf,
    parentUid,
    ...taskRow
  } = row;
  return {
    task: toTask(taskRow),
    listId: taskRow.listId,
    changeSeq: taskRow.changeSeq,
    object:
      objectUid !== null && objectName !== null
        ? {
            uid: objectUid,
            name: objectName,
            extra: objectExtra ?? "",
            raw: objectRaw,
            rawVersion: objectRawVersion,
          }
        : null,
    parentUid: parentUid ?? (parentNumberOf !== null ? defaultUid(parentNumberOf) : null),
  };
}

/** The live tasks of one collection (a list, or no list for the default collection). */
export async function listCollectionTasks(
  db: Db,
  userId: string,
  listId: string | null,
): Promise<TaskResource[]> {
  const inList = listId === null ? isNull(tasks.listId) : eq(tasks.listId, listId);
  const rows = await resourceQuery(
    db,
    and(eq(tasks.userId, userId), isNull(tasks.deletedAt), inList),
  );
  return rows.map(toResource);
}

/** Every task of the user (trashed ones too) written after change `seq`. */
export async function listChangedSince(
  db: Db,
  userId: string,
  seq: number,
): Promise<TaskResource[]> {
  const rows = await resourceQuery(db, and(eq(tasks.userId, userId), gt(tasks.changeSeq, seq)));
  return rows.map(toResource);
}

/**
 * One resource by its name: the name a client gave it, or `tasktalk-<n>.ics`. Live only,
 * unless `includeDeleted` (a name whose task is in the trash is taken by it until purged).
 */
export async function findResource(
  db: Executor,
  userId: string,
  name: string,
  options: { includeDeleted?: boolean } = {},
): Promise<TaskResource | undefined> {
  const live = options.includeDeleted ? undefined : isNull(tasks.deletedAt);
  const [given] = await resourceQuery(
    db,
    and(eq(tasks.userId, userId), eq(caldavObjects.name, name), live),
  );
  if (given) return toResource(given);
  const number = /^tasktalk-([1-9][0-9]{0,9})\.ics$/.exec(name)?.[1];
  if (!number || Number(number) > 2_147_483_647) return undefined;
  const [row] = await resourceQuery(
    db,
    and(
      eq(tasks.userId, userId),
      eq(tasks.number, Number(number)),
      isNull(caldavObjects.taskId),
      live,
    ),
  );
  return row ? toResource(row) : undefined;
}

/** A task of the user as a resource, by its id (trashed too). */
export async function findResourceByTaskId(
  db: Executor,
  userId: string,
  taskId: string,
): Promise<TaskResource | undefined> {
  const [row] = await resourceQuery(db, and(eq(tasks.userId, userId), eq(tasks.id, taskId)));
  return row ? toResource(row) : undefined;
}

/** The live task a UID names: the client's UID, or the default `tasktalk-<n>@tasktalk`. */
export async function findByUid(
  db: Executor,
  userId: string,
  uid: string,
): Promise<TaskResource | undefined> {
  const [given] = await resourceQuery(
    db,
    and(eq(tasks.userId, userId), eq(caldavObjects.uid, uid), isNull(tasks.deletedAt)),
  );
  if (given) return toResource(given);
  const number = /^tasktalk-([1-9][0-9]{0,9})@tasktalk$/.exec(uid)?.[1];
  if (!number || Number(number) > 2_147_483_647) return undefined;
  const [row] = await resourceQuery(
    db,
    and(
      eq(tasks.userId, userId),
      eq(tasks.number, Number(number)),
      isNull(caldavObjects.taskId),
      isNull(tasks.deletedAt),
    ),
  );
  return row ? toResource(row) : undefined;
}

/** Records (or replaces) what a client gave a task: UID, name, extra properties, body. */
export async function upsertObject(
  db: Executor,
  userId: string,
  taskId: string,
  object: StoredObject,
): Promise<void> {
  await db
    .insert(caldavObjects)
    .values({ taskId, userId, ...object })
    .onConflictDoUpdate({ target: [caldavObjects.taskId, caldavObjects.userId], set: object });
}

/**
 * Frees a UID or a resource name held by a task in the trash (a client reusing them for a
 * new resource): the trashed task keeps its default name.
 */
export async function releaseTrashed(
  db: Executor,
  userId: string,
  object: { uid: string; name: string },
): Promise<void> {
  await db.execute(
    sql`delete from caldav_objects o using tasks t
        where o.task_id = t.id and o.user_id = ${userId} and t.deleted_at is not null
          and (o.uid = ${object.uid} or o.name = ${object.name})`,
  );
}

/** The reminders of some tasks of the user, by task id. */
export async function listReminders(
  db: Db,
  userId: string,
  taskIds: readonly string[],
): Promise<Map<string, Reminder[]>> {
  const byTask = new Map<string, Reminder[]>();
  if (taskIds.length === 0) return byTask;
  const rows = await db
    .select()
    .from(taskReminders)
    .where(and(eq(taskReminders.userId, userId), inArray(taskReminders.taskId, [...taskIds])))
    .orderBy(sql`${taskReminders.fireAt} asc nulls last`, asc(taskReminders.id));
  for (const row of rows) {
    const list = byTask.get(row.taskId) ?? [];
    list.push(toReminder(row));
    byTask.set(row.taskId, list);
  }
  return byTask;
}

/** The user's change counter: the newest change, and the oldest token still answerable. */
export async function findCounter(
  db: Db,
  userId: string,
): Promise<{ lastSeq: number; forgottenSeq: number }> {
  const [row] = await db
    .select({ lastSeq: taskChangeCounters.lastSeq, forgottenSeq: taskChangeCounters.forgottenSeq })
    .from(taskChangeCounters)
    .where(eq(taskChangeCounters.userId, userId));
  return row ?? { lastSeq: 0, forgottenSeq: 0 };
}

const listColumns = { id: lists.id, name: lists.name, caldavName: lists.caldavName };

/** The user's lists, by name. */
export async function listLists(db: Db, userId: string) {
  return db
    .select(listColumns)
    .from(lists)
    .where(eq(lists.userId, userId))
    .orderBy(asc(lists.name));
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A list by its collection segment: the one a client chose, else its id. */
export async function findListByKey(db: Db, userId: string, key: string) {
  const byName = eq(lists.caldavName, key);
  const match = UUID.test(key)
    ? or(byName, and(isNull(lists.caldavName), eq(lists.id, key)))
    : byName;
  const [row] = await db
    .select(listColumns)
    .from(lists)
    .where(and(eq(lists.userId, userId), match))
    .limit(1);
  return row;
}

/** A new list with the collection segment a client chose; "exists" when the name is taken. */
export async function insertList(
  db: Db,
  userId: string,
  list: { name: string; caldavName: string },
): Promise<{ kind: "created"; id: string } | { kind: "exists" }> {
  const rows = rowsOf<{ id: string }>(
    await db.execute(sql`
      insert into ${lists} (user_id, name, caldav_name) values (${userId}, ${list.name}, ${list.caldavName})
      on conflict do nothing
      returning id`),
  );
  const row = rows[0];
  return row ? { kind: "created", id: row.id } : { kind: "exists" };
}

/** The live tasks of the user that have a due date (the calendar feed). */
export async function listDueTasks(db: Db, userId: string): Promise<TaskResource[]> {
  const rows = await resourceQuery(
    db,
    and(eq(tasks.userId, userId), isNull(tasks.deletedAt), isNotNull(tasks.dueDate)),
  );
  return rows.map(toResource);
}
