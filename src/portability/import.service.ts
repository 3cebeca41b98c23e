import { randomUUID } from "node:crypto";
import { and, eq } from "drizzle-orm";
import type { RequestContext } from "../context.ts";
import type { StoredToolCall } from "../conversations/conversation.ts";
import type { Db, Tx } from "../db/client.ts";
import { conversations, importKeys, messages } from "../db/schema.ts";
import { inTransaction, retryingRead } from "../db/transaction.ts";
import { AppError, type ErrorCode } from "../errors.ts";
import { type DueInput, resolveDue } from "../tasks/due.ts";
import * as tasks from "../tasks/task.service.ts";
import { DESCRIPTION_MAX, LABEL_MAX, LABELS_MAX, type Priority, TITLE_MAX } from "../tasks/task.ts";

/** One task as an importer read it, whatever the source. */
export interface ImportTask {
  /** Stable for the same item of the same file: the same key is never imported twice. */
  key: string;
  title: string;
  description?: string;
  priority?: Priority;
  list?: string;
  labels?: string[];
  due?: DueInput;
  completed?: boolean;
  /** The key of its parent, imported earlier in the same file. */
  parentKey?: string;
  /** A task of this account with this number is this item (re-importing one's own export). */
  sameAccountNumber?: number;
}

export interface ImportMessage {
  seq: number;
  role: "user" | "assistant" | "tool" | "system";
  content: string;
  toolCalls: StoredToolCall[];
  status: "complete" | "error" | "truncated";
  createdAt: Date;
  /** The seq of the user message an assistant message answers. */
  replyToSeq?: number;
}

export interface ImportConversation {
  key: string;
  /** Kept when free (a move to another database keeps its links); else a new id. */
  id?: string;
  title: string;
  createdAt: Date;
  messages: ImportMessage[];
}

export interface ImportReport {
  tasks: { created: number; skipped: number };
  conversations: { created: number; skipped: number };
  /** Items not imported, and why (the rest of the file was). */
  failed: { key: string; code: ErrorCode; reason: string }[];
  /** Imported with something left out (a due date no parser understood…). */
  warnings: { key: string; warning: string }[];
}

/** The most items one import takes (a bigger export is split, or imported in parts). */
export const IMPORT_MAX_ITEMS = 20_000;

/**
 * Imports tasks and conversations, each item in its own transaction together with its
 * import key: the same file imported twice creates nothing new, and a failure (one bad
 * row, or the server stopping midway) leaves every item either imported or not — a retry
 * brings in only the rest. Tasks go through the task service like any other write.
 */
export async function importItems(
  ctx: RequestContext,
  input: { tasks: ImportTask[]; conversations?: ImportConversation[] },
  /** Called after each item with how many are done (an import job records its progress). */
  onProgress?: (processed: number, report: ImportReport) => Promise<void>,
): Promise<ImportReport> {
  const total = input.tasks.length + (input.conversations?.length ?? 0);
  if (total > IMPORT_MAX_ITEMS) {
    throw new AppError(
      "payload_too_large",
      `An import takes at most ${IMPORT_MAX_ITEMS} items; this file has ${total}`,
    );
  }
  const report: ImportReport = {
    tasks: { created: 0, skipped: 0 },
    conversations: { created: 0, skipped: 0 },
    failed: [],
    warnings: [],
  };
  // Parents before their subtasks, whatever the file's order.
  const ordered = [
    ...input.tasks.filter((t) => !t.parentKey),
    ...input.tasks.filter((t) => t.parentKey),
  ];
  let processed = 0;
  for (const item of ordered) {
    try {
      const outcome = await importTask(ctx, item, report);
      report.tasks[outcome] += 1;
    } catch (error) {
      fail(report, item.key, error);
    }
    await onProgress?.(++processed, report);
  }
  for (const conversation of input.conversations ?? []) {
    try {
      const outcome = await inTransaction(ctx.db, (tx) =>
        importConversation(tx, ctx, conversation),
      );
      report.conversations[outcome] += 1;
    } catch (error) {
      fail(report, conversation.key, error);
    }
    await onProgress?.(++processed, report);
  }
  return report;
}

function fail(report: ImportReport, key: string, error: unknown): void {
  if (!(error instanceof AppError) || error.status >= 500) throw error;
  report.failed.push({ key, code: error.code, reason: error.detail });
}

async function importTask(
  ctx: RequestContext,
  item: ImportTask,
  report: ImportReport,
): Promise<"created" | "skipped"> {
  if (item.sameAccountNumber !== undefined) {
    const number = item.sameAccountNumber;
    const exists = await retryingRead(() =>
      tasks.getTask(ctx, number).then(
        () => true,
        (error) =>
          error instanceof AppError && error.code === "not_found" ? false : Promise.reject(error),
      ),
    );
    if (exists) return "skipped";
  }
  const due = readableDue(ctx, item, report);
  return inTransaction(ctx.db, async (tx) => {
    const claimed = await tx
      .insert(importKeys)
      .values({ userId: ctx.userId, key: item.key })
      .onConflictDoNothing()
      .returning({ key: importKeys.key });
    if (claimed.length === 0) return "skipped";
    const inTx: RequestContext = { ...ctx, db: tx as unknown as Db };
    const parent = item.parentKey ? await numberOf(tx, ctx.userId, item.parentKey) : undefined;
    if (item.parentKey && parent === undefined) {
      report.warnings.push({
        key: item.key,
        warning: "its parent was not imported: a top-level task",
      });
    }
    const task = await tasks.addTask(inTx, {
      title: clip(item.title.trim() || "(untitled)", TITLE_MAX),
      description: clip(item.description ?? "", DESCRIPTION_MAX),
      ...(item.priority ? { priority: item.priority } : {}),
      ...(item.list ? { list: item.list } : {}),
      labels: cleanLabels(item.labels ?? []),
      ...(due ? { due } : {}),
      ...(parent !== undefined ? { parent_id: parent } : {}),
    });
    if (item.completed) await tasks.completeTask(inTx, task.number);
    await tx
      .update(importKeys)
      .set({ taskNumber: task.number })
      .where(and(eq(importKeys.userId, ctx.userId), eq(importKeys.key, item.key)));
    return "created";
  });
}

/** The due date when it can be read; else none, and a warning naming what was dropped. */
function readableDue(ctx: RequestContext, item: ImportTask, report: ImportReport) {
  if (!item.due) return undefined;
  try {
    resolveDue(item.due, ctx.timezone);
    return item.due;
  } catch {
    const said = "string" in item.due ? item.due.string : JSON.stringify(item.due);
    report.warnings.push({ key: item.key, warning: `due date "${said}" not understood: left out` });
    return undefined;
  }
}

async function numberOf(tx: Tx, userId: string, key: string): Promise<number | undefined> {
  const [row] = await tx
    .select({ number: importKeys.taskNumber })
    .from(importKeys)
    .where(and(eq(importKeys.userId, userId), eq(importKeys.key, key)));
  return row?.number ?? undefined;
}

async function importConversation(
  tx: Tx,
  ctx: RequestContext,
  item: ImportConversation,
): Promise<"created" | "skipped"> {
  const claimed = await tx
    .insert(importKeys)
    .values({ userId: ctx.userId, key: item.key })
    .onConflictDoNothing()
    .returning({ key: importKeys.key });
  if (claimed.length === 0) return "skipped";
  const wanted = item.id ?? randomUUID();
  // By id alone: the key is (id, user_id), so the id may be held by several users.
  const holders = await tx
    .select({ userId: conversations.userId })
    .from(conversations)
    .where(eq(conversations.id, wanted));
  // One's own conversation, still here (its export imported back): nothing to do.
  if (holders.some((row) => row.userId === ctx.userId)) return "skipped";
  const id = holders.length > 0 ? randomUUID() : wanted;
  const sorted = [...item.messages].sort((a, b) => a.seq - b.seq);
  const lastSeq = sorted.at(-1)?.seq ?? 0;
  await tx.insert(conversations).values({
    id,
    userId: ctx.userId,
    title: clip(item.title || "Imported conversation", 200),
    lastSeq,
    createdAt: item.createdAt,
    updatedAt: sorted.at(-1)?.createdAt ?? item.createdAt,
  });
  const ids = new Map(sorted.map((m) => [m.seq, randomUUID()]));
  for (let i = 0; i < sorted.length; i += 500) {
    const chunk = sorted.slice(i, i + 500);
    await tx.insert(messages).values(
      chunk.map((m) => ({
        id: ids.get(m.seq) as string,
        conversationId: id,
        userId: ctx.userId,
        seq: m.seq,
        role: m.role,
        content: m.content.replaceAll("\u0000", ""),
        toolCalls: m.toolCalls,
        replyTo: m.replyToSeq === undefined ? null : (ids.get(m.replyToSeq) ?? null),
        status: m.status,
        createdAt: m.createdAt,
      })),
    );
  }
  await tx
    .update(importKeys)
    .set({ conversationId: id })
    .where(and(eq(importKeys.userId, ctx.userId), eq(importKeys.key, item.key)));
  return "created";
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Labels as the task model takes them: no '#', no spaces, bounded. */
function cleanLabels(labels: string[]): string[] {
  const clean = labels
    .map((l) =>
      l
        .trim()
        .replace(/^[#@]/, "")
        .replace(/[^\p{L}\p{N}_./-]+/gu, "-")
        .toLowerCase()
        .slice(0, LABEL_MAX),
    )
    .filter((l) => l.length > 0);
  return [...new Set(clean)].slice(0, LABELS_MAX);
}
