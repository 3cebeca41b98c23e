import { and, desc, eq, isNotNull, ne, type SQL, sql } from "drizzle-orm";
import type { RequestContext } from "../context.ts";
import type { Db, Executor, Tx } from "../db/client.ts";
import { jsonText, prepared } from "../db/prepared.ts";
import { activity } from "../db/schema.ts";
import {
  type Activity,
  type ActivityEntry,
  type ActivityKind,
  activityDoor,
  type SubjectType,
} from "./activity.ts";

// Every statement filters by user_id, like every other table's.

const columns = {
  id: activity.id,
  userId: activity.userId,
  door: activity.door,
  requestId: activity.requestId,
  conversationId: activity.conversationId,
  messageId: activity.messageId,
  kind: activity.kind,
  subjectType: activity.subjectType,
  subject: activity.subject,
  summary: activity.summary,
  before: activity.before,
  after: activity.after,
  undoOf: activity.undoOf,
  createdAt: activity.createdAt,
  // created_at to the microsecond for page cursors (a JS Date keeps milliseconds only).
  cursorAt: sql<string>`to_char(${activity.createdAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
  // The entry that reverted this one (the unique index on undo_of finds it).
  // Written out qualified: Drizzle leaves names unqualified in an INSERT's RETURNING.
  undoneBy: sql<
    string | null
  >`(select u.id from activity u where u.undo_of = "activity"."id" and u.user_id = "activity"."user_id")`,
};

type Row = Omit<typeof activity.$inferSelect, "createdAt"> & {
  createdAt: Date | string;
  cursorAt: string;
  undoneBy: string | null;
};

function toActivity(row: Row): Activity {
  return {
    id: row.id,
    userId: row.userId,
    door: row.door,
    requestId: row.requestId,
    conversationId: row.conversationId,
    messageId: row.messageId,
    kind: row.kind as ActivityKind,
    subjectType: row.subjectType as SubjectType,
    subject: row.subject,
    summary: row.summary,
    before: (row.before ?? null) as Record<string, unknown> | null,
    after: (row.after ?? null) as Record<string, unknown> | null,
    undoOf: row.undoOf,
    undoneBy: row.undoneBy ?? null,
    createdAt: new Date(row.createdAt),
    cursorAt: row.cursorAt,
  };
}

/**
 * THE choke point of the activity log: every change of every door is recorded through
 * this, inside the transaction of the change (the `Tx` type makes a caller hold one), so
 * the change and its entry commit or roll back together. Who, which door, which request
 * (and which chat turn, which undo) come from `ctx`. Later features (webhooks, CalDAV
 * sync tokens) hook in here.
 */
export async function recordActivity(
  tx: Tx,
  ctx: RequestContext,
  entry: ActivityEntry,
): Promise<Activity> {
  const rows = await insertActivityQuery(tx as unknown as Db).execute({
    userId: ctx.userId,
    door: activityDoor(ctx.door),
    requestId: ctx.requestId,
    conversationId: ctx.turn?.conversationId ?? null,
    messageId: ctx.turn?.messageId ?? null,
    kind: entry.kind,
    subjectType: entry.subjectType,
    subject: String(entry.subject),
    summary: entry.summary,
    before: jsonText(entry.before),
    after: jsonText(entry.after),
    undoOf: ctx.undoOf ?? null,
  });
  const row = rows[0];
  if (!row) throw new Error("insert into activity returned no row");
  return toActivity(row);
}

// Every change of every door records one (a chat turn's add_task too): built once per
// connection (src/db/prepared.ts).
const p = (name: string) => sql.placeholder(name);
const insertActivityQuery = prepared((db) =>
  db
    .insert(activity)
    .values({
      userId: p("userId"),
      door: p("door"),
      requestId: p("requestId"),
      conversationId: p("conversationId"),
      messageId: p("messageId"),
      kind: p("kind"),
      subjectType: p("subjectType"),
      subject: p("subject"),
      summary: p("summary"),
      before: sql`${p("before")}::jsonb`,
      after: sql`${p("after")}::jsonb`,
      undoOf: p("undoOf"),
    })
    .returning(columns),
);

/** The entry that reverted `id`, if any. */
export async function findUndoOf(
  db: Executor,
  userId: string,
  id: string,
): Promise<Activity | undefined> {
  const rows = await db
    .select(columns)
    .from(activity)
    .where(and(eq(activity.userId, userId), eq(activity.undoOf, id)))
    .limit(1);
  return rows[0] ? toActivity(rows[0]) : undefined;
}

/** Newest first, after the cursor's (created_at, id); optionally one subject's entries. */
export async function listActivity(
  db: Executor,
  userId: string,
  options: {
    limit: number;
    after?: { createdAt: string; id: string } | undefined;
    subject?: { type: SubjectType; id: string } | undefined;
  },
): Promise<Activity[]> {
  const conditions: (SQL | undefined)[] = [eq(activity.userId, userId)];
  if (options.subject) {
    conditions.push(eq(activity.subjectType, options.subject.type));
    conditions.push(eq(activity.subject, options.subject.id));
  }
  if (options.after) {
    conditions.push(
      sql`(${activity.createdAt}, ${activity.id}) < (${options.after.createdAt}::timestamptz, ${options.after.id}::uuid)`,
    );
  }
  const rows = await db
    .select(columns)
    .from(activity)
    .where(and(...conditions))
    .orderBy(desc(activity.createdAt), desc(activity.id))
    .limit(options.limit);
  return rows.map(toActivity);
}

/** One entry of the user's; with `lock`, the row is locked until the transaction ends. */
export async function findActivity(
  db: Executor,
  userId: string,
  id: string,
  options: { lock?: boolean } = {},
): Promise<Activity | undefined> {
  const query = db
    .select(columns)
    .from(activity)
    .where(and(eq(activity.userId, userId), eq(activity.id, id)))
    .limit(1);
  const rows = options.lock ? await query.for("update") : await query;
  return rows[0] ? toActivity(rows[0]) : undefined;
}

/**
 * The entries of the latest chat turn in a conversation that changed something, other
 * than the turn `exceptMessageId` (the one asking): oldest first.
 */
export async function listLastTurnEntries(
  db: Executor,
  userId: string,
  conversationId: string,
  exceptMessageId: string,
): Promise<Activity[]> {
  const scope = and(
    eq(activity.userId, userId),
    eq(activity.conversationId, conversationId),
    isNotNull(activity.messageId),
    ne(activity.messageId, exceptMessageId),
  );
  const last = await db
    .select({ messageId: activity.messageId })
    .from(activity)
    .where(scope)
    .orderBy(desc(activity.createdAt), desc(activity.id))
    .limit(1);
  const messageId = last[0]?.messageId;
  if (!messageId) return [];
  const rows = await db
    .select(columns)
    .from(activity)
    .where(and(eq(activity.userId, userId), eq(activity.messageId, messageId)))
    .orderBy(activity.createdAt, activity.id);
  return rows.map(toActivity);
}

/** The entries one chat turn (its user message) wrote, oldest first, at most `limit`. */
export async function listTurnEntries(
  db: Executor,
  userId: string,
  messageId: string,
  limit: number,
): Promise<Activity[]> {
  const rows = await db
    .select(columns)
    .from(activity)
    .where(and(eq(activity.userId, userId), eq(activity.messageId, messageId)))
    .orderBy(activity.createdAt, activity.id)
    .limit(limit);
  return rows.map(toActivity);
}
