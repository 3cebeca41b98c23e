import { z } from "zod";
import type { Door } from "../context.ts";

/** The doors an activity entry names (the stdio MCP entry is recorded as `mcp`). */
export const ACTIVITY_DOORS = ["chat", "mcp", "rest", "web", "caldav", "system"] as const;
export type ActivityDoor = (typeof ACTIVITY_DOORS)[number];

export function activityDoor(door: Door): ActivityDoor {
  return door === "stdio" ? "mcp" : door;
}

export const ACTIVITY_KINDS = [
  "task.created",
  "task.updated",
  "task.completed",
  "task.reopened",
  "task.deleted",
  "task.restored",
  "conversation.renamed",
  "conversation.deleted",
  "api_key.created",
  "api_key.revoked",
  "session.new_client",
] as const;
export type ActivityKind = (typeof ACTIVITY_KINDS)[number];

export type SubjectType = "task" | "conversation" | "api_key" | "session";

/** What a write hands to recordActivity: the change, in the caller's words. */
export interface ActivityEntry {
  kind: ActivityKind;
  subjectType: SubjectType;
  /** The task's number, the conversation's or key's id. */
  subject: string | number;
  /** One line a person reads: "Deleted task 3 “Buy milk”". */
  summary: string;
  /** The changed fields before and after; null for "did not exist" / "does not any more". */
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

/** A stored entry. `undoneBy` is the entry that reverted it, if any. */
export interface Activity {
  id: string;
  userId: string;
  door: string;
  requestId: string;
  conversationId: string | null;
  messageId: string | null;
  kind: ActivityKind;
  subjectType: SubjectType;
  subject: string;
  summary: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  undoOf: string | null;
  undoneBy: string | null;
  createdAt: Date;
  /** created_at to the microsecond (UTC, ISO form): what a page cursor carries. */
  cursorAt: string;
}

/** Kinds that can never be undone: a deleted conversation's messages are gone; a revoked
 *  key stays revoked (a credential someone lost must not come back); a sign-in happened. */
const NOT_UNDOABLE: ReadonlySet<ActivityKind> = new Set([
  "conversation.deleted",
  "api_key.revoked",
  "session.new_client",
]);

export function isUndoable(entry: Pick<Activity, "kind" | "undoneBy">): boolean {
  return !NOT_UNDOABLE.has(entry.kind) && entry.undoneBy === null;
}

export const ActivityJson = z.object({
  id: z.string(),
  kind: z.enum(ACTIVITY_KINDS),
  door: z.string(),
  request_id: z.string(),
  conversation_id: z.string().nullable(),
  message_id: z.string().nullable(),
  subject: z.object({ type: z.string(), id: z.string() }),
  /** The task's number for task entries (as the rest of the API names tasks). */
  task_id: z.number().nullable(),
  summary: z.string(),
  before: z.record(z.string(), z.unknown()).nullable(),
  after: z.record(z.string(), z.unknown()).nullable(),
  undo_of: z.string().nullable(),
  undone_by: z.string().nullable(),
  undoable: z.boolean(),
  created_at: z.string(),
});
export type ActivityJson = z.infer<typeof ActivityJson>;

export function toActivityJson(a: Activity): ActivityJson {
  return {
    id: a.id,
    kind: a.kind,
    door: a.door,
    request_id: a.requestId,
    conversation_id: a.conversationId,
    message_id: a.messageId,
    subject: { type: a.subjectType, id: a.subject },
    task_id: a.subjectType === "task" ? Number(a.subject) : null,
    summary: a.summary,
    before: a.before,
    after: a.after,
    undo_of: a.undoOf,
    undone_by: a.undoneBy,
    undoable: isUndoable(a),
    created_at: a.createdAt.toISOString(),
  };
}
