/**
 * Deciding the next step of the agent loop from the turn so far: call a tool, or answer.
 * Word references are resolved against fresh list_tasks pages, never guessed; numbers go
 * straight to the action (the tool says not_found if there is no such task).
 */
import { LIST_PAGE_SIZE, MAX_LIST_PAGES, MAX_TASKS_PER_REQUEST } from "./bounds.ts";
import { type Clock, readClock } from "./clock.ts";
import type { Turn } from "./conversation.ts";
import { notUnderstood, yesOrNo } from "./judgement.ts";
import { answerMore, answerView, moreCall, nextPage, pageOf, viewCalls } from "./look.ts";
import { resolveRef } from "./match.ts";
import { understandTask } from "./model.ts";
import { cleanMessage, parseFollowUpRef, stripFiller } from "./parse.ts";
import { splitTitle } from "./phrases.ts";
import * as say from "./replies.ts";
import type { ActionKind, Decision, Intent, Ref, TaskView, ToolStep } from "./types.ts";

const ACTION_TOOL: Record<ActionKind, string> = {
  complete: "complete_task",
  reopen: "update_task",
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
export function interpret(turn: Turn, clock: Clock): Intent {
  const intent = understandTask(turn.userText, clock);
  const picked = pickedCandidate(turn, clock);
  if (picked) return picked;
  if (intent.kind !== "chat" || intent.topic !== "unknown") return intent;
  const followUp = readFollowUp(turn, clock);
  return followUp ?? { kind: "chat", topic: notUnderstood(cleanMessage(turn.userText)) };
}

/** The candidates of our last "which one?" question, in the order they were named. */
function candidatesAsked(turn: Turn): number[] {
  const asked = turn.previousAssistantText ?? "";
  if (!/^More than one task matches/u.test(asked)) return [];
  return [...asked.matchAll(/\btask (\d+) · /gu)].map((m) => Number(m[1]));
}

const ORDINALS: Record<string, number> = {
  first: 1,
  "1st": 1,
  former: 1,
  second: 2,
  "2nd": 2,
  third: 3,
  "3rd": 3,
  fourth: 4,
  "4th": 4,
  fifth: 5,
  "5th": 5,
  sixth: 6,
  "6th": 6,
};

/**
 * A reply to "which one?" that picks among the candidates named: "the first one", "the
 * second", "both", "the last one", a number (a candidate's own number, else its place).
 */
function pickedCandidate(turn: Turn, clock: Clock): Intent | undefined {
  const ids = candidatesAsked(turn);
  if (ids.length === 0 || !turn.previousUserText) return undefined;
  const before = understandTask(turn.previousUserText, clock);
  if (
    before.kind !== "complete" &&
    before.kind !== "reopen" &&
    before.kind !== "delete" &&
    before.kind !== "update"
  ) {
    return undefined;
  }
  const t = stripFiller(cleanMessage(turn.userText))
    .toLowerCase()
    .replace(/^(?:i meant|i mean|meant|mean|go with|pick|choose|take|do|it's|it is)\s+/u, "");
  let numbers: number[] | undefined;
  if (
    /^(?:both|both of them|all|all of them|all \d+|each of them|every one|them all|the two of them)$/u.test(
      t,
    )
  ) {
    numbers = ids;
  } else {
    const m =
      /^(?:the )?(?:(first|1st|former|second|2nd|third|3rd|fourth|4th|fifth|5th|sixth|6th)|(last|latter|final))(?: one| task| item)?(?: (?:please|then))?$/u.exec(
        t,
      );
    if (m?.[1]) numbers = [ids[(ORDINALS[m[1]] ?? 0) - 1] ?? -1].filter((n) => n > 0);
    else if (m?.[2]) numbers = [ids.at(-1) as number];
    const n = /^(?:(?:number|no\.?|#)\s*)?(\d+)(?: please)?$/u.exec(t);
    if (n?.[1]) {
      const value = Number(n[1]);
      const id = ids.includes(value) ? value : ids[value - 1];
      numbers = id === undefined ? [value] : [id];
    }
  }
  if (!numbers || numbers.length === 0) return undefined;
  return { ...before, ref: { kind: "numbers", numbers } };
}

function readFollowUp(turn: Turn, clock: Clock): Intent | undefined {
  if (!turn.previousUserText || !turn.previousAssistantText?.includes("?")) return undefined;
  const before = understandTask(turn.previousUserText, clock);
  if (before.kind === "add" && !before.title) {
    // Cleaned like any message: the raw text may hold long runs of spaces, and the
    // splitting patterns backtrack on those.
    const { title, description } = splitTitle(cleanMessage(turn.userText));
    return title
      ? { kind: "add", title, description: description ?? before.description }
      : undefined;
  }
  if (
    before.kind === "complete" ||
    before.kind === "reopen" ||
    before.kind === "delete" ||
    before.kind === "update"
  ) {
    const ref = parseFollowUpRef(turn.userText);
    return ref ? { ...before, ref } : undefined;
  }
  return undefined;
}

function refText(ref: Ref): string {
  if (ref.kind === "words") return ref.text;
  if (ref.kind === "numbers") return ref.numbers.map((n) => `task ${n}`).join(", ");
  return ref.kind === "last" ? "your last task" : "those tasks";
}

/** The fields of an update the user gave (a due of null clears it). */
function changes(intent: Intent): say.Fields {
  if (intent.kind !== "update") return {};
  const out: say.Fields = {};
  if (intent.title !== undefined) out.title = intent.title;
  if (intent.description !== undefined) out.description = intent.description;
  if (intent.due !== undefined) out.due = intent.due;
  if (intent.recurrence !== undefined) out.recurrence = intent.recurrence;
  if (intent.priority !== undefined) out.priority = intent.priority;
  if (intent.list !== undefined) out.list = intent.list;
  if (intent.addLabels || intent.removeLabels) out.labels = [];
  return out;
}

/** A label change needs the task's own labels: update_task replaces the whole set. */
const changesLabels = (intent: Intent): boolean =>
  intent.kind === "update" && (intent.addLabels !== undefined || intent.removeLabels !== undefined);

function actionInput(intent: Intent, id: number, task?: TaskView): Record<string, unknown> {
  if (intent.kind === "reopen") return { task_id: id, completed: false };
  const input: Record<string, unknown> = { task_id: id, ...changes(intent) };
  if (intent.kind === "update" && changesLabels(intent)) {
    const drop = new Set(intent.removeLabels ?? []);
    const kept = (task?.labels ?? []).filter((l) => !drop.has(l));
    input.labels = [...new Set([...kept, ...(intent.addLabels ?? [])])].sort();
  }
  return input;
}

function confirm(action: ActionKind, intent: Intent, steps: ToolStep[]): Decision {
  const lines = steps.map((s) => {
    if (s.error) return say.toolFailed(action, s.input.task_id, s.error);
    const r = s.result as { task_id?: unknown; title?: unknown } | undefined;
    const id = typeof r?.task_id === "number" ? r.task_id : Number(s.input.task_id);
    const title = typeof r?.title === "string" ? r.title : String(s.input.title ?? "");
    return say.changed(action, { task_id: id, title }, changes(intent), s.result);
  });
  return text(lines.join(" "));
}

/** Every task this turn's list_tasks pages returned, and the call for the next page, if any. */
function listed(turn: Turn): {
  steps: ToolStep[];
  tasks: TaskView[];
  next?: Record<string, unknown>;
} {
  const steps = turn.steps.filter((s) => s.toolName === "list_tasks");
  const tasks = steps.filter((s) => !s.error).flatMap((s) => pageOf(s).items);
  const last = steps.at(-1);
  const cursor = last && !last.error ? pageOf(last).next_cursor : undefined;
  const next =
    cursor && steps.length < MAX_LIST_PAGES
      ? { status: "all", limit: LIST_PAGE_SIZE, cursor }
      : undefined;
  return { steps, tasks, ...(next ? { next } : {}) };
}

function act(action: ActionKind, intent: Intent & { ref?: Ref }, turn: Turn): Decision {
  const tool = ACTION_TOOL[action];
  const done = turn.steps.filter((s) => s.toolName === tool);
  if (done.length > 0) return confirm(action, intent, done);
  const ref = intent.ref;
  if (!ref) return text(say.askWhich(action));
  if (intent.kind === "update" && Object.keys(changes(intent)).length === 0) {
    return text(say.askChange(refText(ref)));
  }
  if (ref.kind === "numbers" && !changesLabels(intent)) {
    if (ref.numbers.length > MAX_TASKS_PER_REQUEST) return text(say.tooMany(action));
    return {
      type: "tools",
      calls: ref.numbers.map((n) => ({ toolName: tool, input: actionInput(intent, n) })),
    };
  }
  const pages = listed(turn);
  if (pages.steps.length === 0) return call("list_tasks", { status: "all", limit: LIST_PAGE_SIZE });
  const failed = pages.steps.find((s) => s.error);
  if (failed?.error) return text(say.toolFailed("list", undefined, failed.error));
  // "All …" and "the last one" need every page; a word reference, only until it is found.
  if (pages.next && (ref.kind === "all" || ref.kind === "last")) {
    return call("list_tasks", pages.next);
  }
  const resolution = resolveRef(ref, pages.tasks, action);
  if (resolution.kind === "none" && pages.next) return call("list_tasks", pages.next);
  switch (resolution.kind) {
    case "found":
      if (resolution.tasks.length > MAX_TASKS_PER_REQUEST) return text(say.tooMany(action));
      return {
        type: "tools",
        calls: resolution.tasks.map((t) => ({
          toolName: tool,
          input: actionInput(intent, t.id, t),
        })),
      };
    case "ambiguous":
      return text(say.ambiguous(action, refText(ref), resolution.candidates));
    case "none":
      if (resolution.missing) return text(say.missingNumbers(resolution.missing));
      return text(ref.kind === "words" ? say.notFound(ref.text) : say.nothingTo(action));
  }
}

type AddIntent = Extract<Intent, { kind: "add" }>;

function addInput(intent: AddIntent, title: string, list?: string): Record<string, unknown> {
  return {
    title,
    ...(intent.description ? { description: intent.description } : {}),
    ...(intent.due ? { due: intent.due } : {}),
    ...(intent.priority ? { priority: intent.priority } : {}),
    ...(list ? { list } : {}),
    ...(intent.labels ? { labels: intent.labels } : {}),
  };
}

function add(intent: AddIntent, turn: Turn, needs: (name: string) => boolean): Decision {
  const tries = turn.steps.filter((s) => s.toolName === "add_task");
  const last = tries.at(-1);
  const first = tries[0];
  const dropped =
    tries.length > 1 && first?.input.due && !last?.input.due
      ? String((first.input.due as { string?: unknown }).string ?? "")
      : undefined;
  if (last?.error) {
    // A date the server could not read: add the task without it, and say so.
    if (tries.length === 1 && last.input.due && last.error.code === "validation_failed") {
      const { due: _, ...rest } = last.input;
      return call("add_task", rest);
    }
    return text(say.toolFailed("add", undefined, last.error));
  }
  if (last) {
    const r = last.result as { task_id?: unknown; title?: unknown } | undefined;
    const id = typeof r?.task_id === "number" ? r.task_id : 0;
    const title = typeof r?.title === "string" ? r.title : (intent.title ?? "");
    return text(say.added({ task_id: id, title }, intent.description, last.result, dropped));
  }
  if (!intent.title) return text(say.askTitle());
  if (!needs("add_task")) return text(say.CHAT.unknown);
  const wish = intent.list;
  if (!wish) return call("add_task", addInput(intent, intent.title));
  // "Add eggs to my shopping list": only when the user has a list by that name.
  const check = turn.steps.findLast((s) => s.toolName === "list_tasks");
  if (!check && needs("list_tasks")) return call("list_tasks", { list: wish.name, limit: 1 });
  const page = check && !check.error ? pageOf(check) : undefined;
  const wanted = wish.name.toLowerCase();
  const name =
    page?.items.find((t) => t.list?.toLowerCase() === wanted)?.list ??
    page?.lists?.find((l) => l.toLowerCase() === wanted);
  return call(
    "add_task",
    name
      ? addInput(intent, intent.title, name)
      : addInput(intent, wish.fallbackTitle ?? intent.title),
  );
}

/** The next step: tool calls to make, or the answer to give. */
export function decide(turn: Turn, tools: ReadonlySet<string>, now = () => new Date()): Decision {
  const clock = readClock(turn.system, now);
  if (turn.steps.length > MAX_STEPS)
    return text("Sorry, I got stuck on that one. Could you rephrase it?");
  const needs = (name: string): boolean => tools.has(name);
  const answer = confirmationAnswer(turn, needs);
  if (answer) return answer;
  const intent = interpret(turn, clock);
  const asked = /say "show more"/u.test(turn.previousAssistantText ?? "");
  const more = moreCall(stripFiller(cleanMessage(turn.userText)), turn.previousListing, asked);
  if (more && needs("list_tasks")) {
    const step = turn.steps.findLast((s) => s.toolName === "list_tasks");
    if (!step) return call("list_tasks", more);
    if (step.error) return text(say.toolFailed("list", undefined, step.error));
    return text(answerMore(step));
  }
  switch (intent.kind) {
    case "chat":
      return text(say.CHAT[intent.topic]);
    case "ask":
      return ask(intent, turn);
    case "undo": {
      const step = turn.steps.find((s) => s.toolName === UNDO_TOOL);
      if (!step) return needs(UNDO_TOOL) ? call(UNDO_TOOL, {}) : text(say.CANT_UNDO);
      if (step.error?.code === "nothing_to_undo") return text(say.NOTHING_TO_UNDO);
      if (step.error) return text(`Sorry, I couldn't undo that: ${step.error.message}`);
      return text(say.undone(step.result));
    }
    case "restore":
      return restore(intent, turn, needs);
    case "add":
      return add(intent, turn, needs);
    case "list": {
      const steps = turn.steps.filter((s) => s.toolName === "list_tasks");
      const failed = steps.find((s) => s.error);
      if (failed?.error) {
        if (intent.view?.list && failed.error.code === "not_found") {
          return text(`There's no list called "${intent.view.list}".`);
        }
        return text(say.toolFailed("list", undefined, failed.error));
      }
      if (!needs("list_tasks")) return text(say.CHAT.unknown);
      const view = intent.view;
      if (steps.length === 0) {
        const calls = view ? viewCalls(intent.status, view) : [{ status: intent.status }];
        return { type: "tools", calls: calls.map((input) => ({ toolName: "list_tasks", input })) };
      }
      if (!view) {
        const page = pageOf(steps[0] as ToolStep);
        return text(say.listed(intent.status, page.items, page.total));
      }
      const next = nextPage(steps, view);
      if (next) return call("list_tasks", next);
      return text(answerView(intent.status, view, steps, clock));
    }
    case "complete":
    case "reopen":
    case "delete":
    case "update": {
      const decision = act(intent.kind, intent, turn);
      const missing = decision.type === "tools" && decision.calls.some((c) => !needs(c.toolName));
      return missing ? text(say.CHAT.unknown) : decision;
    }
  }
}

// ---- issue 13: confirmations, questions, undo and restore ----

const CONFIRM_TOOL = "confirm_pending_action";
const CANCEL_TOOL = "cancel_pending_action";
const HOLD_TOOL = "hold_for_confirmation";
const UNDO_TOOL = "undo_last_turn";
const RESTORE_TOOL = "restore_task";

/**
 * "yes" / "no" right after a confirmation question: confirm_pending_action or
 * cancel_pending_action, then what happened. Undefined when this is not such an answer.
 */
function confirmationAnswer(turn: Turn, needs: (name: string) => boolean): Decision | undefined {
  const asked =
    (turn.previousSteps ?? []).some((s) => s.toolName === HOLD_TOOL && !s.error) ||
    /\(yes \/ no\)/u.test(turn.previousAssistantText ?? "");
  if (!asked) return undefined;
  const answer = yesOrNo(cleanMessage(turn.userText));
  if (!answer) return undefined;
  const tool = answer === "yes" ? CONFIRM_TOOL : CANCEL_TOOL;
  if (!needs(tool)) return undefined;
  const step = turn.steps.find((s) => s.toolName === tool);
  if (!step) return call(tool, {});
  if (step.error?.code === "nothing_pending") return text(say.NOTHING_PENDING);
  if (step.error) return text(`Sorry, that didn't work: ${step.error.message}`);
  return text(answer === "yes" ? say.confirmed(step.result) : say.CANCELLED);
}

type AskIntent = Extract<Intent, { kind: "ask" }>;

/** A question or a negation: read the list, answer, change nothing. */
function ask(intent: AskIntent, turn: Turn): Decision {
  const ref = intent.ref;
  if (!ref && (intent.mode === "keep" || intent.mode === "keep_open")) {
    return text("OK — I won't change anything.");
  }
  if (!ref) return text(say.askWhichAbout());
  const pages = listed(turn);
  if (pages.steps.length === 0) return call("list_tasks", { status: "all", limit: LIST_PAGE_SIZE });
  const failed = pages.steps.find((s) => s.error);
  if (failed?.error) return text(say.toolFailed("list", undefined, failed.error));
  if (pages.next && (ref.kind === "all" || ref.kind === "last"))
    return call("list_tasks", pages.next);
  const resolution = resolveRef(ref, pages.tasks, "delete");
  if (resolution.kind === "none" && pages.next) return call("list_tasks", pages.next);
  switch (resolution.kind) {
    case "found":
      return text(say.answered(intent.mode, resolution.tasks));
    case "ambiguous":
      return text(say.answered(intent.mode, resolution.candidates));
    case "none":
      if (resolution.missing) return text(say.missingNumbers(resolution.missing));
      return text(ref.kind === "words" ? say.notFound(ref.text) : "I couldn't find any tasks.");
  }
}

type RestoreIntent = Extract<Intent, { kind: "restore" }>;

function restore(intent: RestoreIntent, turn: Turn, needs: (name: string) => boolean): Decision {
  if (!needs(RESTORE_TOOL)) return text("Sorry, I can't restore deleted tasks here yet.");
  const done = turn.steps.filter((s) => s.toolName === RESTORE_TOOL);
  if (done.length > 0) {
    return text(
      done
        .map((s) => {
          if (s.error?.code === "not_found") {
            return `I couldn't find task ${String(s.input.task_id)} in the trash.`;
          }
          if (s.error)
            return `Sorry, I couldn't restore task ${String(s.input.task_id)}: ${s.error.message}`;
          const r = (s.result ?? {}) as { task_id?: unknown; title?: unknown };
          return say.restored({
            task_id: typeof r.task_id === "number" ? r.task_id : Number(s.input.task_id),
            title: typeof r.title === "string" ? r.title : "",
          });
        })
        .join(" "),
    );
  }
  const ref = intent.ref;
  if (!ref) return text(say.RESTORE_BY_NUMBER);
  if (ref.kind === "numbers") {
    if (ref.numbers.length > MAX_TASKS_PER_REQUEST) return text(say.RESTORE_BY_NUMBER);
    return {
      type: "tools",
      calls: ref.numbers.map((n) => ({ toolName: RESTORE_TOOL, input: { task_id: n } })),
    };
  }
  // A word reference is looked up among the deleted tasks.
  const pages = listed(turn);
  if (pages.steps.length === 0) {
    return call("list_tasks", { status: "deleted", limit: LIST_PAGE_SIZE });
  }
  if (pages.steps.some((s) => s.error)) return text(say.RESTORE_BY_NUMBER);
  if (pages.next && (ref.kind === "all" || ref.kind === "last"))
    return call("list_tasks", pages.next);
  const resolution = resolveRef(ref, pages.tasks, "delete");
  if (resolution.kind === "none" && pages.next) return call("list_tasks", pages.next);
  switch (resolution.kind) {
    case "found":
      if (resolution.tasks.length > MAX_TASKS_PER_REQUEST) return text(say.RESTORE_BY_NUMBER);
      return {
        type: "tools",
        calls: resolution.tasks.map((t) => ({ toolName: RESTORE_TOOL, input: { task_id: t.id } })),
      };
    case "ambiguous":
      return text(
        `More than one deleted task matches: ${resolution.candidates
          .slice(0, 10)
          .map(say.label)
          .join(", ")}. Which one should I restore? You can tell me its number.`,
      );
    case "none":
      return text(
        ref.kind === "words"
          ? `I couldn't find a deleted task matching "${ref.text}".`
          : "There are no deleted tasks to restore.",
      );
  }
}
