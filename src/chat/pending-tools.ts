import { z } from "zod";
import type { RequestContext } from "../context.ts";
import { AppError } from "../errors.ts";
import * as tasks from "../tasks/task.service.ts";
import { runTool } from "../tools/task-tools.ts";
import { type AnyToolDefinition, defineTool, isToolError } from "../tools/tool.ts";
import { CANCEL_TOOL, CONFIRM_TOOL, HOLD_TOOL, HOLDABLE, type HoldInput } from "./confirmation.ts";
import * as repo from "./pending.repository.ts";

/**
 * The chat-only tools of a confirmation (issue 13), bound to one turn: the conversation and
 * the user message it answers. hold_for_confirmation is hidden from the model (only the
 * middleware in confirmation.ts calls it); confirm_pending_action and cancel_pending_action
 * are the model's. Each runs in the transaction of the turn's tool record
 * (chat/tool-calls.ts), so a retried turn replays them instead of running them twice.
 */
export interface TurnRef {
  conversationId: string;
  userMessageId: string;
  /** The user message's seq: a pending action of seq − 2 is the previous turn's. */
  seq: number;
}

/** Names shown in a question: the rest are counted. */
const NAMED_MAX = 10;

const TaskRef = z.object({ task_id: z.number(), title: z.string() });

const HoldSchema = z.strictObject({
  reason: z.enum(["bulk", "fuzzy"]),
  calls: z
    .array(
      z.strictObject({
        name: z.enum(HOLDABLE),
        input: z.record(z.string(), z.unknown()),
      }),
    )
    .min(1)
    .max(100),
});

// The tools below are built per turn (they close over it); their schemas are built once.
const HoldOutput = z.object({
  status: z.literal("confirmation_needed"),
  tasks: z.array(TaskRef.extend({ action: z.string() })),
  question: z.string(),
});
const NoInput = z.strictObject({});
const ConfirmOutput = z.object({
  status: z.literal("confirmed"),
  done: z.array(z.unknown()),
  skipped: z.array(z.object({ task_id: z.number(), reason: z.string() })),
});
const CancelOutput = z.object({ status: z.literal("cancelled"), task_ids: z.array(z.number()) });

function verb(name: string, input: Record<string, unknown>): "delete" | "complete" | "change" {
  if (name === "delete_task") return "delete";
  if (name === "complete_task" || input.completed === true) return "complete";
  return "change";
}

function named(items: Array<z.infer<typeof TaskRef>>): string {
  const shown = items.slice(0, NAMED_MAX).map((t) => `task ${t.task_id} · ${t.title}`);
  const rest = items.length - shown.length;
  if (rest > 0) shown.push(`and ${rest} more`);
  return shown.join(", ");
}

/** "Delete these 3 tasks: task 1 · Buy milk, …? (yes / no)". */
export function questionFor(
  reason: HoldInput["reason"],
  items: Array<z.infer<typeof TaskRef> & { verb: string }>,
): string {
  const deletes = items.filter((t) => t.verb === "delete");
  const completes = items.filter((t) => t.verb === "complete");
  const others = items.filter((t) => t.verb === "change");
  if (reason === "fuzzy" && items.length === 1 && deletes.length === 1) {
    return `Did you mean ${named(deletes)}? Delete it? (yes / no)`;
  }
  const parts: string[] = [];
  if (deletes.length > 0) {
    parts.push(
      deletes.length === 1
        ? `delete ${named(deletes)}`
        : `delete these ${deletes.length} tasks: ${named(deletes)}`,
    );
  }
  if (completes.length > 0) {
    parts.push(
      completes.length === 1
        ? `mark ${named(completes)} as done`
        : `mark these ${completes.length} tasks as done: ${named(completes)}`,
    );
  }
  if (others.length > 0) parts.push(`change ${named(others)}`);
  const sentence = parts.join("; and ");
  return `${sentence.charAt(0).toUpperCase()}${sentence.slice(1)}? (yes / no)`;
}

function nothingPending(): AppError {
  return new AppError(
    "nothing_pending",
    "No action is waiting for a confirmation in this conversation (a confirmation is only good for the very next message)",
  );
}

export function pendingActionTools(turn: TurnRef): AnyToolDefinition[] {
  const hold = defineTool({
    name: HOLD_TOOL,
    description:
      "Internal: holds the step's destructive calls until the user confirms them. Never offered to the model.",
    inputSchema: HoldSchema,
    outputSchema: HoldOutput,
    async execute(ctx: RequestContext, input) {
      const items: Array<z.infer<typeof TaskRef> & { verb: string }> = [];
      const calls: repo.HeldCall[] = [];
      for (const call of input.calls) {
        const id = call.input.task_id;
        if (typeof id !== "number") continue;
        let title: string;
        try {
          title = (await tasks.getTask(ctx, id)).title;
        } catch (error) {
          if (error instanceof AppError && error.status < 500) continue;
          throw error;
        }
        items.push({ task_id: id, title, verb: verb(call.name, call.input) });
        calls.push({ name: call.name, input: call.input });
      }
      if (items.length === 0) throw new AppError("not_found", "None of those tasks exists");
      const question = questionFor(input.reason, items);
      await repo.savePending(ctx.db, {
        userId: ctx.userId,
        conversationId: turn.conversationId,
        messageId: turn.userMessageId,
        seq: turn.seq,
        calls,
        question,
      });
      return {
        status: "confirmation_needed" as const,
        tasks: items.map(({ verb: action, ...t }) => ({ ...t, action })),
        question,
      };
    },
  });

  const confirm = defineTool({
    name: CONFIRM_TOOL,
    description:
      "Carry out the action you asked the user to confirm in your previous reply (a bulk or risky delete or completion). " +
      'Call it only when the user\'s very next message says yes ("yes", "go ahead", "do it"); it does nothing later or in another conversation. ' +
      "Returns what was done and what was skipped (a task gone meanwhile).",
    inputSchema: NoInput,
    outputSchema: ConfirmOutput,
    async execute(ctx: RequestContext) {
      const pending = await repo.takePending(ctx.db, ctx.userId, turn.conversationId);
      if (!pending || pending.seq !== turn.seq - 2) throw nothingPending();
      const done: unknown[] = [];
      const skipped: Array<{ task_id: number; reason: string }> = [];
      for (const call of pending.calls) {
        const result = await runTool(ctx, call.name, call.input);
        if (isToolError(result)) {
          skipped.push({ task_id: Number(call.input.task_id), reason: result.error.message });
        } else {
          done.push(result);
        }
      }
      return { status: "confirmed" as const, done, skipped };
    },
  });

  const cancel = defineTool({
    name: CANCEL_TOOL,
    description:
      "Drop the action you asked the user to confirm in your previous reply, when their next message says no. Changes no task.",
    inputSchema: NoInput,
    outputSchema: CancelOutput,
    async execute(ctx: RequestContext) {
      const pending = await repo.takePending(ctx.db, ctx.userId, turn.conversationId);
      if (!pending || pending.seq !== turn.seq - 2) throw nothingPending();
      return {
        status: "cancelled" as const,
        task_ids: pending.calls.map((c) => Number(c.input.task_id)),
      };
    },
  });

  return [hold, confirm, cancel] as AnyToolDefinition[];
}
