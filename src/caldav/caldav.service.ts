import type { RequestContext } from "../context.ts";
import type { Db } from "../db/client.ts";
import { inTransaction, retryingRead } from "../db/transaction.ts";
import { AppError } from "../errors.ts";
import type { Reminder, ReminderInput } from "../reminders/reminder.ts";
import { normalizeRule } from "../tasks/recurrence.ts";
import { addTask, deleteTask, updateTask } from "../tasks/task.service.ts";
import { INBOX, normalizeLabels, type Task, type TaskChanges } from "../tasks/task.ts";
import * as repo from "./caldav.repository.ts";
import { extraText, type ParsedTodo, parseTodo, renderTodoCalendar } from "./ical-task.ts";

// The CalDAV door's use cases. Every task write goes through the task service (activity
// with door "caldav", reminders, webhooks, recurring completion), inside ONE transaction
// that also records what the client gave (UID, resource name, extra properties): a
// refused write changes nothing.

/** One calendar collection: the default one (tasks in no list) or one of the user's lists. */
export interface Collection {
  /** The path segment: "inbox", the segment a client chose, or the list's id. */
  key: string;
  listId: string | null;
  displayName: string;
  /** The task service's name for the list ("Inbox" for the default collection). */
  listName: string;
}

export const DEFAULT_KEY = "inbox";
export const DEFAULT_DISPLAY_NAME = "Tasks";

const defaultCollection: Collection = {
  key: DEFAULT_KEY,
  listId: null,
  displayName: DEFAULT_DISPLAY_NAME,
  listName: INBOX,
};

/** The user's collections, the default one first. */
export async function listCollections(ctx: RequestContext): Promise<Collection[]> {
  const rows = await retryingRead(() => repo.listLists(ctx.db, ctx.userId));
  return [defaultCollection, ...rows.map(toCollection)];
}

/** A collection by its path segment; undefined = none of the user's (404). */
export async function findCollection(
  ctx: RequestContext,
  key: string,
): Promise<Collection | undefined> {
  if (key === DEFAULT_KEY) return defaultCollection;
  const row = await retryingRead(() => repo.findListByKey(ctx.db, ctx.userId, key));
  return row ? toCollection(row) : undefined;
}

function toCollection(row: { id: string; name: string; caldavName: string | null }): Collection {
  return {
    key: row.caldavName ?? row.id,
    listId: row.id,
    displayName: row.name,
    listName: row.name,
  };
}

/** A sync token (RFC 6578) is the user's change number as a URI. */
export const SYNC_PREFIX = "urn:tasktalk:sync:";
export const syncTokenOf = (seq: number) => `${SYNC_PREFIX}${seq}`;

export async function currentSyncToken(ctx: RequestContext): Promise<string> {
  const counter = await retryingRead(() => repo.findCounter(ctx.db, ctx.userId));
  return syncTokenOf(counter.lastSeq);
}

/** A resource with its body, as served. */
export interface Served {
  resource: repo.TaskResource;
  name: string;
  etag: string;
  body: string;
}

/**
 * A resource's ETag: its task's version. For one version the body is fixed: the client's
 * own body while the version is the one its PUT produced (see keptBody), else the
 * rendering of the task.
 */
export const etagOf = (task: Task) => `"${task.version}"`;

/** The largest PUT body kept to be served back verbatim (bytes); above, the task is rendered. */
export const RAW_LIMIT = 256 * 1024;

/** Whether a body can be kept: within RAW_LIMIT and only characters XML 1.0 can carry. */
function keepable(body: string): boolean {
  if (Buffer.byteLength(body) > RAW_LIMIT) return false;
  for (const ch of body) {
    const c = ch.codePointAt(0) ?? 0;
    const control = c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d;
    if (control || (c >= 0xd800 && c <= 0xdfff) || c === 0xfffe || c === 0xffff) return false;
  }
  return true;
}

/** The client's body, while the task is still the version its PUT produced. */
function keptBody(resource: repo.TaskResource): string | undefined {
  const object = resource.object;
  if (object?.raw == null || object.rawVersion !== resource.task.version) return undefined;
  return object.raw;
}

function serve(resource: repo.TaskResource, reminders: readonly Reminder[]): Served {
  const body =
    keptBody(resource) ??
    renderTodoCalendar(resource.task, {
      uid: repo.uidOf(resource),
      parentUid: resource.parentUid,
      extra: resource.object?.extra ?? "",
      reminders,
    });
  return { resource, name: repo.nameOf(resource), etag: etagOf(resource.task), body };
}

async function serveAll(ctx: RequestContext, resources: repo.TaskResource[]): Promise<Served[]> {
  const reminders = await retryingRead(() =>
    repo.listReminders(
      ctx.db,
      ctx.userId,
      resources.map((r) => r.task.id),
    ),
  );
  return resources.map((r) => serve(r, reminders.get(r.task.id) ?? []));
}

const inCollection = (resource: repo.TaskResource, collection: Collection) =>
  resource.listId === collection.listId && resource.task.deletedAt === null;

/** The live tasks of a collection, rendered. */
export async function listResources(ctx: RequestContext, collection: Collection) {
  const resources = await retryingRead(() =>
    repo.listCollectionTasks(ctx.db, ctx.userId, collection.listId),
  );
  return serveAll(ctx, resources);
}

/** One resource of a collection by name; undefined = 404. */
export async function getResource(
  ctx: RequestContext,
  collection: Collection,
  name: string,
): Promise<Served | undefined> {
  const resource = await retryingRead(() => repo.findResource(ctx.db, ctx.userId, name));
  if (!resource || !inCollection(resource, collection)) return undefined;
  return (await serveAll(ctx, [resource]))[0];
}

/**
 * What changed in a collection since a sync token: members written since (200) and names
 * that left it (trashed, moved to another list). Undefined token = the initial sync. A
 * token this server cannot answer (unknown, or older than a purge) → `invalid`.
 */
export async function syncCollection(
  ctx: RequestContext,
  collection: Collection,
  token: string | undefined,
): Promise<
  { kind: "invalid" } | { kind: "ok"; changed: Served[]; removed: string[]; token: string }
> {
  const since = token ? parseSyncToken(token) : 0;
  if (since === undefined) return { kind: "invalid" };
  const read = await inTransaction(
    ctx.db,
    async (tx) => {
      const db = tx as unknown as Db;
      const counter = await repo.findCounter(db, ctx.userId);
      if (since > counter.lastSeq || (token && since < counter.forgottenSeq)) return undefined;
      const resources = token
        ? await repo.listChangedSince(db, ctx.userId, since)
        : await repo.listCollectionTasks(db, ctx.userId, collection.listId);
      return { counter, resources };
    },
    { isolationLevel: "repeatable read" },
  );
  if (!read) return { kind: "invalid" };
  const members = read.resources.filter((r) => inCollection(r, collection));
  const removed = read.resources.filter((r) => !inCollection(r, collection)).map(repo.nameOf);
  return {
    kind: "ok",
    changed: await serveAll(ctx, members),
    removed,
    token: syncTokenOf(read.counter.lastSeq),
  };
}

function parseSyncToken(token: string): number | undefined {
  if (!token.startsWith(SYNC_PREFIX)) return undefined;
  const digits = token.slice(SYNC_PREFIX.length);
  return /^(0|[1-9][0-9]{0,15})$/.test(digits) ? Number(digits) : undefined;
}

/** If-Match / If-None-Match as sent (absent = undefined). */
export interface Conditions {
  ifMatch?: string | undefined;
  ifNoneMatch?: string | undefined;
}

/** Whether an If-Match / If-None-Match list names this ETag ("*" names any). */
function listed(header: string, etag: string | undefined): boolean {
  if (etag === undefined) return false;
  return header
    .split(",")
    .map((t) => t.trim().replace(/^W\//, ""))
    .some((t) => t === "*" || t === etag);
}

/**
 * Creates or replaces a resource from a client's VCALENDAR. A stale If-Match or an
 * If-None-Match: * on an existing resource is 412 (never a silent overwrite). A UID the
 * user already has elsewhere moves that task here (a client moving a task between lists).
 *
 * When the stored task says exactly what the body says, the body is kept and served
 * verbatim until the task changes again, and the answer carries its ETag (RFC 4791
 * §5.3.4). When it differs (a repeating task completed in place moves to its next date,
 * an over-long body), nothing is kept and there is no ETag: the client reads the task back.
 */
export async function putResource(
  ctx: RequestContext,
  collection: Collection,
  name: string,
  body: string,
  conditions: Conditions,
): Promise<{ created: boolean; etag: string | undefined }> {
  const parsed = parseTodo(body, ctx.timezone);
  const zone = parsed.due?.time ? parsed.due.timezone : ctx.timezone;
  return inTransaction(ctx.db, async (tx) => {
    const db = tx as unknown as Db;
    // The write runs in the due date's zone: its wall-clock time is read there.
    const txCtx: RequestContext = { ...ctx, db, timezone: zone };
    const byName = await repo.findResource(db, ctx.userId, name);
    const here = byName && inCollection(byName, collection) ? byName : undefined;
    if (conditions.ifNoneMatch !== undefined && here && listed(conditions.ifNoneMatch, "*")) {
      throw precondition(`${name} already exists`);
    }
    if (
      conditions.ifMatch !== undefined &&
      !listed(conditions.ifMatch, here && etagOf(here.task))
    ) {
      throw precondition(`${name} changed since it was read (or does not exist)`);
    }
    const byUid = await repo.findByUid(db, ctx.userId, parsed.uid);
    // A UID is one resource: under another name in this same collection it is a conflict
    // (RFC 4791 no-uid-conflict); in another collection, the client is moving the task here.
    const clash = byName
      ? byUid && byName.task.id !== byUid.task.id
      : byUid && inCollection(byUid, collection);
    if (clash) {
      throw new AppError("conflict", `UID ${parsed.uid} belongs to another resource`);
    }
    const target = byName ?? byUid;
    await repo.releaseTrashed(db, ctx.userId, { uid: parsed.uid, name });
    const parentNumber = await resolveParent(db, ctx.userId, parsed, target);
    const extra = extraText(parsed.extra);
    let task: Task;
    if (!target) {
      task = await addTask(txCtx, {
        title: parsed.title,
        description: parsed.description,
        priority: parsed.priority,
        list: collection.listName,
        labels: parsed.labels,
        parent_id: parentNumber,
        ...(parsed.due ? { due: { date: parsed.due.date, time: parsed.due.time } } : {}),
        ...(parsed.recurrence ? { recurrence: parsed.recurrence } : {}),
        reminders: parsed.reminders,
      });
      if (parsed.completed) task = await updateTask(txCtx, task.number, { completed: true });
    } else {
      const reminders = await repo.listReminders(db, ctx.userId, [target.task.id]);
      const changes = changesFor(target, parsed, {
        collection,
        parentNumber,
        reminders: reminders.get(target.task.id) ?? [],
      });
      const objectChanged =
        target.object?.extra !== extra ||
        repo.uidOf(target) !== parsed.uid ||
        repo.nameOf(target) !== name;
      // Only the extra properties (or only the bytes: DTSTAMP, LAST-MODIFIED, layout)
      // changed: still a new version, so the ETag changes with the body served.
      const sameBody = keptBody(target) === body;
      if (Object.keys(changes).length === 0 && (objectChanged || !sameBody)) {
        changes.title = target.task.title;
      }
      task =
        Object.keys(changes).length > 0
          ? await updateTask(txCtx, target.task.number, changes, {
              ifMatchVersion: target.task.version,
            })
          : target.task;
    }
    const object = { uid: parsed.uid, name, extra, raw: null, rawVersion: null };
    await repo.upsertObject(db, ctx.userId, task.id, object);
    const stored = await repo.findResourceByTaskId(db, ctx.userId, task.id);
    // The version this PUT wrote (or found unchanged): a change committed meanwhile by
    // another door is not what the body says.
    const faithful =
      stored !== undefined &&
      stored.task.version === task.version &&
      keepable(body) &&
      (await storedAsSent(db, ctx.userId, stored, parsed, { collection, parentNumber }));
    if (!stored || !faithful) return { created: !here, etag: undefined };
    await repo.upsertObject(db, ctx.userId, task.id, {
      ...object,
      raw: body,
      rawVersion: stored.task.version,
    });
    return { created: !here, etag: etagOf(stored.task) };
  });
}

/** Whether the task as stored is what the client's VTODO says (no field would change). */
async function storedAsSent(
  db: Db,
  userId: string,
  stored: repo.TaskResource,
  parsed: ParsedTodo,
  with_: { collection: Collection; parentNumber: number | null },
): Promise<boolean> {
  if (stored.task.deletedAt !== null) return false;
  const reminders = await repo.listReminders(db, userId, [stored.task.id]);
  const differences = changesFor(stored, parsed, {
    ...with_,
    reminders: reminders.get(stored.task.id) ?? [],
  });
  return Object.keys(differences).length === 0;
}

/** RELATED-TO names a parent the user has (top level, not the task itself); else kept as is. */
async function resolveParent(
  db: Db,
  userId: string,
  parsed: ParsedTodo,
  target: repo.TaskResource | undefined,
): Promise<number | null> {
  if (!parsed.parentUid) return null;
  const parent = await repo.findByUid(db, userId, parsed.parentUid);
  const usable = parent && parent.task.parentNumber === null && parent.task.id !== target?.task.id;
  if (usable) return parent.task.number;
  // Not (yet) known — a client may upload a subtask before its parent: kept verbatim.
  const related = parsed.extra.addPropertyWithValue("related-to", parsed.parentUid);
  related.setParameter("reltype", "PARENT");
  return target?.task.parentNumber ?? null;
}

const reminderKey = (r: ReminderInput) =>
  "at" in r ? `at:${new Date(r.at).toISOString()}` : `before:${r.before_minutes}`;

const storedKey = (r: Reminder) =>
  r.at ? `at:${r.at.toISOString()}` : `before:${r.beforeMinutes ?? 0}`;

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && [...a].sort().join("\n") === [...b].sort().join("\n");
}

/** The fields a VTODO changes on its task: only these are written (and logged). */
function changesFor(
  target: repo.TaskResource,
  parsed: ParsedTodo,
  with_: { collection: Collection; parentNumber: number | null; reminders: readonly Reminder[] },
): TaskChanges {
  const task = target.task;
  const changes: TaskChanges = {};
  if (parsed.title !== task.title) changes.title = parsed.title;
  if (parsed.description.trim() !== task.description) changes.description = parsed.description;
  if (parsed.priority !== task.priority) changes.priority = parsed.priority;
  const labels = normalizeLabels(parsed.labels);
  if (labels.join("\n") !== task.labels.join("\n")) changes.labels = labels;
  if (target.listId !== with_.collection.listId) changes.list = with_.collection.listName;
  if (with_.parentNumber !== task.parentNumber) changes.parent_id = with_.parentNumber;
  const due = parsed.due;
  const dueSame = due
    ? task.due !== null &&
      task.due.date === due.date &&
      task.due.time === due.time &&
      (due.time === null || task.due.timezone === due.timezone)
    : task.due === null;
  if (!dueSame) changes.due = due ? { date: due.date, time: due.time } : null;
  const rule = parsed.recurrence ? safeRule(parsed.recurrence) : null;
  if (due && rule !== (task.due?.recurrence ?? null)) changes.recurrence = parsed.recurrence;
  if (
    !sameSet(
      parsed.reminders.map(reminderKey),
      with_.reminders.map((r) => storedKey(r)),
    )
  ) {
    changes.reminders = parsed.reminders;
  }
  if (parsed.completed !== task.completed) changes.completed = parsed.completed;
  return changes;
}

/** The rule as the task service stores it (an invalid one differs: the service says why). */
function safeRule(rule: string): string {
  try {
    return normalizeRule(rule);
  } catch {
    return rule;
  }
}

function precondition(detail: string): AppError {
  return new AppError("precondition_failed", detail);
}

/** Creates a list for MKCALENDAR at the segment the client chose. */
export async function makeCalendar(
  ctx: RequestContext,
  key: string,
  displayName: string | undefined,
): Promise<void> {
  if (key === DEFAULT_KEY || (await findCollection(ctx, key))) {
    throw new AppError("method_not_allowed", `The collection ${key} already exists`);
  }
  const name = (displayName ?? key).trim();
  if (name.length === 0 || name.length > 100 || name.toLowerCase() === INBOX.toLowerCase()) {
    throw new AppError("validation_failed", "displayname: a list name of 1 to 100 characters");
  }
  const made = await inTransaction(ctx.db, (tx) =>
    repo.insertList(tx as unknown as Db, ctx.userId, { name, caldavName: key }),
  );
  if (made.kind === "exists") {
    throw new AppError("conflict", `A list named "${name}" already exists`);
  }
}

/** Moves a resource's task to the trash (with its subtasks, as everywhere). */
export async function deleteResource(
  ctx: RequestContext,
  collection: Collection,
  name: string,
  conditions: Conditions,
): Promise<void> {
  const resource = await retryingRead(() => repo.findResource(ctx.db, ctx.userId, name));
  if (!resource || !inCollection(resource, collection)) {
    throw new AppError("not_found", `${name} was not found`);
  }
  const ifMatch = conditions.ifMatch;
  if (ifMatch !== undefined && !listed(ifMatch, etagOf(resource.task))) {
    throw precondition(`${name} changed since it was read`);
  }
  await deleteTask(ctx, resource.task.number, {
    ifMatchVersion: ifMatch === undefined ? undefined : resource.task.version,
  });
}
