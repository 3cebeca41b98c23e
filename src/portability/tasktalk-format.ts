import { z } from "zod";
import type { RequestContext } from "../context.ts";
import * as conversationService from "../conversations/conversation.service.ts";
import { toConversationJson, toMessageJson } from "../conversations/conversation.ts";
import * as tasks from "../tasks/task.service.ts";
import { PRIORITIES, type TaskJson, toTaskJson } from "../tasks/task.ts";
import * as users from "../users/user.service.ts";
import type { ImportConversation, ImportTask } from "./import.service.ts";

/** Bumped when the export's shape changes; an import reads every version up to it. */
export const EXPORT_VERSION = 1;

/**
 * Everything of one user, as JSON: every task with all its fields (completed ones
 * included), the lists and labels in use, every conversation with every message (tool
 * calls included). Read page by page through the services, like the API would.
 */
export async function exportAll(ctx: RequestContext) {
  const me = await users.getMe(ctx);
  const allTasks: TaskJson[] = [];
  let cursor: string | undefined;
  do {
    const page = await tasks.listTasks(ctx, {
      status: "all",
      limit: 500,
      ...(cursor ? { cursor } : {}),
    });
    allTasks.push(...page.tasks.map(toTaskJson));
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  const lists = await tasks.listLists(ctx);
  const conversations = [];
  let after: string | undefined;
  do {
    const page = await conversationService.listConversations(ctx, {
      limit: 100,
      ...(after ? { cursor: after } : {}),
    });
    for (const conversation of page.items) {
      const messages = [];
      let afterSeq: number | undefined;
      for (;;) {
        const part = await conversationService.listMessages(ctx, conversation.id, {
          limit: 500,
          ...(afterSeq !== undefined ? { afterSeq } : {}),
        });
        messages.push(...part.items.map(toMessageJson));
        if (part.nextCursor === null || part.items.length === 0) break;
        afterSeq = part.nextCursor;
      }
      conversations.push({ ...toConversationJson(conversation), messages });
    }
    after = page.nextCursor ?? undefined;
  } while (after);
  return {
    format: "tasktalk" as const,
    version: EXPORT_VERSION,
    exported_at: new Date().toISOString(),
    user: { id: ctx.userId, email: me.email, timezone: me.timezone },
    tasks: allTasks,
    lists,
    labels: [...new Set(allTasks.flatMap((t) => t.labels))].sort(),
    conversations,
  };
}

// What an import reads of an export: lenient about members it does not use, strict about
// those it does.
const ExportedTask = z.looseObject({
  id: z.number().int().positive(),
  title: z.string(),
  description: z.string().default(""),
  completed: z.boolean().default(false),
  due: z
    .looseObject({
      date: z.string(),
      time: z.string().nullable().optional(),
      string: z.string().nullable().optional(),
    })
    .nullable()
    .optional(),
  priority: z.enum(PRIORITIES).default("none"),
  list: z.string().default("Inbox"),
  labels: z.array(z.string()).default([]),
  parent_id: z.number().int().positive().nullable().optional(),
});
const ExportedMessage = z.looseObject({
  id: z.string(),
  seq: z.number().int().positive(),
  role: z.enum(["user", "assistant", "tool", "system"]),
  content: z.string(),
  tool_calls: z
    .array(z.looseObject({ name: z.string(), arguments: z.unknown(), result: z.unknown() }))
    .default([]),
  status: z.enum(["complete", "error", "truncated"]).default("complete"),
  reply_to: z.string().nullable().optional(),
  created_at: z.iso.datetime({ offset: true }),
});
export const TasktalkExport = z.looseObject({
  format: z.literal("tasktalk"),
  version: z.number().int().min(1).max(EXPORT_VERSION),
  user: z.looseObject({ id: z.string() }),
  tasks: z.array(ExportedTask).default([]),
  conversations: z
    .array(
      z.looseObject({
        id: z.uuid(),
        title: z.string(),
        created_at: z.iso.datetime({ offset: true }),
        messages: z.array(ExportedMessage).default([]),
      }),
    )
    .default([]),
});
export type TasktalkExport = z.infer<typeof TasktalkExport>;

/** An export as import items: keyed by the exporting account and the task's number. */
export function readTasktalkExport(
  ctx: RequestContext,
  data: TasktalkExport,
): { tasks: ImportTask[]; conversations: ImportConversation[] } {
  const from = data.user.id;
  const key = (n: number) => `tasktalk:${from}:${n}`;
  const importTasks: ImportTask[] = data.tasks.map((t) => ({
    key: key(t.id),
    title: t.title,
    description: t.description,
    priority: t.priority,
    list: t.list,
    labels: t.labels,
    completed: t.completed,
    ...(t.due ? { due: { date: t.due.date, time: t.due.time ?? null } } : {}),
    ...(t.parent_id ? { parentKey: key(t.parent_id) } : {}),
    ...(from === ctx.userId ? { sameAccountNumber: t.id } : {}),
  }));
  const conversations: ImportConversation[] = data.conversations.map((c) => {
    const seqOf = new Map(c.messages.map((m) => [m.id, m.seq]));
    return {
      key: `tasktalk-conversation:${c.id}`,
      id: c.id,
      title: c.title,
      createdAt: new Date(c.created_at),
      messages: c.messages.map((m) => {
        const replyToSeq = m.reply_to ? seqOf.get(m.reply_to) : undefined;
        return {
          seq: m.seq,
          role: m.role,
          content: m.content,
          toolCalls: m.tool_calls.map((call) => ({
            name: call.name,
            arguments: call.arguments,
            result: call.result,
          })),
          status: m.status,
          createdAt: new Date(m.created_at),
          ...(replyToSeq !== undefined ? { replyToSeq } : {}),
        };
      }),
    };
  });
  return { tasks: importTasks, conversations };
}
