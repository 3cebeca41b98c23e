/**
 * Deciding the next step of the agent loop from the turn so far: call a tool, or answer.
 * Word references are resolved against a fresh list_tasks result, never guessed; numbers
 * go straight to the action (the tool says not_found if there is no such task).
 */
import { MAX_TASKS_PER_REQUEST } from "./bounds.ts";
import type { Turn } from "./conversation.ts";
import { resolveRef } from "./match.ts";
import { cleanMessage, parseFollowUpRef, parseMessage } from "./parse.ts";
import { splitTitle } from "./phrases.ts";
import * as say from "./replies.ts";
import type { ActionKind, Decision, Intent, Ref, Status, TaskView, ToolStep } from "./types.ts";

const ACTION_TOOL: Record<ActionKind, string> = {
  complete: "complete_task",
  delete: "delete_task",
  update: "update_task",
};

/** A turn that keeps calling tools without converging is answered, not looped. */
const MAX_STEPS = 12;

const text = (t: string): Decision => ({ type: "text", text: t });
const call = (toolName: string, input: Record<string, unknown>): Decision => ({
  type: "tools",
  calls: [{ toolName, input }],
});

/** The intent of this turn, reading a bare answer to our own question as a follow-up. */
export function interpret(turn: Turn): Intent {
  const intent = parseMessage(turn.userText);
  if (intent.kind !== "chat" || intent.topic !== "unknown") return intent;
  if (!turn.previousUserText || !turn.previousAssistantText?.includes("?")) return intent;
  const before = parseMessage(turn.previousUserText);
  if (before.kind === "add" && !before.title) {
    // Cleaned like any message: the raw text may hold long runs of spaces, and the
    // splitting patterns backtrack on those.
    const { title, description } = splitTitle(cleanMessage(turn.userText));
    return title ? { kind: "add", title, description: description ?? before.description } : intent;
  }
  if (before.kind === "complete" || before.kind === "delete" || before.kind === "update") {
    const ref = parseFollowUpRef(turn.userText);
    return ref ? { ...before, ref } : intent;
  }
  return intent;
}

function isTask(value: unknown): value is TaskView {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.id === "number" && typeof v.title === "string";
}

function tasksOf(step: ToolStep): TaskView[] {
  const value = step.result;
  const items = Array.isArray(value)
    ? value
    : typeof value === "object" &&
        value !== null &&
        Array.isArray((value as { tasks?: unknown }).tasks)
      ? (value as { tasks: unknown[] }).tasks
      : [];
  return items.filter(isTask).map((t) => ({ ...t, completed: t.completed === true }));
}

function keep(status: Status, t: TaskView): boolean {
  return status === "all" || (status === "completed") === t.completed;
}

function refText(ref: Ref): string {
  if (ref.kind === "words") return ref.text;
  if (ref.kind === "numbers") return ref.numbers.map((n) => `task ${n}`).join(", ");
  return ref.kind === "last" ? "your last task" : "those tasks";
}

function actionInput(intent: Intent, id: number): Record<string, unknown> {
  if (intent.kind !== "update") return { task_id: id };
  return {
    task_id: id,
    ...(intent.title !== undefined ? { title: intent.title } : {}),
    ...(intent.description !== undefined ? { description: intent.description } : {}),
  };
}

function confirm(action: ActionKind, intent: Intent, steps: ToolStep[]): Decision {
  const fields = intent.kind === "update" ? intent : {};
  const lines = steps.map((s) => {
    if (s.error) return say.toolFailed(action, s.input.task_id, s.error);
    const r = s.result as { task_id?: unknown; title?: unknown } | undefined;
    const id = typeof r?.task_id === "number" ? r.task_id : Number(s.input.task_id);
    const title = typeof r?.title === "string" ? r.title : String(s.input.title ?? "");
    return say.changed(action, { task_id: id, title }, fields);
  });
  return text(lines.join(" "));
}

function act(action: ActionKind, intent: Intent & { ref?: Ref }, turn: Turn): Decision {
  const tool = ACTION_TOOL[action];
  const done = turn.steps.filter((s) => s.toolName === tool);
  if (done.length > 0) return confirm(action, intent, done);
  const ref = intent.ref;
  if (!ref) return text(say.askWhich(action));
  if (intent.kind === "update" && intent.title === undefined && intent.description === undefined) {
    return text(say.askChange(refText(ref)));
  }
  if (ref.kind === "numbers") {
    if (ref.numbers.length > MAX_TASKS_PER_REQUEST) return text(say.tooMany(action));
    return {
      type: "tools",
      calls: ref.numbers.map((n) => ({ toolName: tool, input: actionInput(intent, n) })),
    };
  }
  const listing = turn.steps.findLast((s) => s.toolName === "list_tasks");
  if (!listing) return call("list_tasks", { status: "all" });
  if (listing.error) return text(say.toolFailed("list", undefined, listing.error));
  const resolution = resolveRef(ref, tasksOf(listing), action);
  switch (resolution.kind) {
    case "found":
      if (resolution.tasks.length > MAX_TASKS_PER_REQUEST) return text(say.tooMany(action));
      return {
        type: "tools",
        calls: resolution.tasks.map((t) => ({ toolName: tool, input: actionInput(intent, t.id) })),
      };
    case "ambiguous":
      return text(say.ambiguous(action, refText(ref), resolution.candidates));
    case "none":
      if (resolution.missing) return text(say.missingNumbers(resolution.missing));
      return text(ref.kind === "words" ? say.notFound(ref.text) : say.nothingTo(action));
  }
}

/** The next step: tool calls to make, or the answer to give. */
export function decide(turn: Turn, tools: ReadonlySet<string>): Decision {
  const intent = interpret(turn);
  if (turn.steps.length > MAX_STEPS)
    return text("Sorry, I got stuck on that one. Could you rephrase it?");
  const needs = (name: string): boolean => tools.has(name);
  switch (intent.kind) {
    case "chat":
      return text(say.CHAT[intent.topic]);
    case "add": {
      const step = turn.steps.find((s) => s.toolName === "add_task");
      if (step?.error) return text(say.toolFailed("add", undefined, step.error));
      if (step) {
        const r = step.result as { task_id?: unknown; title?: unknown } | undefined;
        const id = typeof r?.task_id === "number" ? r.task_id : 0;
        const title = typeof r?.title === "string" ? r.title : (intent.title ?? "");
        return text(say.added({ task_id: id, title }, intent.description));
      }
      if (!intent.title) return text(say.askTitle());
      if (!needs("add_task")) return text(say.CHAT.unknown);
      return call("add_task", {
        title: intent.title,
        ...(intent.description ? { description: intent.description } : {}),
      });
    }
    case "list": {
      const step = turn.steps.findLast((s) => s.toolName === "list_tasks");
      if (step?.error) return text(say.toolFailed("list", undefined, step.error));
      if (step) {
        const status = intent.status;
        return text(
          say.listed(
            status,
            tasksOf(step).filter((t) => keep(status, t)),
          ),
        );
      }
      if (!needs("list_tasks")) return text(say.CHAT.unknown);
      return call("list_tasks", { status: intent.status });
    }
    case "complete":
    case "delete":
    case "update": {
      const decision = act(intent.kind, intent, turn);
      const missing = decision.type === "tools" && decision.calls.some((c) => !needs(c.toolName));
      return missing ? text(say.CHAT.unknown) : decision;
    }
  }
}
