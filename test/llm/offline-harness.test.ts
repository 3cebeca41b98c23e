/**
 * Shared harness for the offline-model tests (no tests of its own): an in-memory task
 * list behind real AI SDK tools, and a runner that drives createOfflineModel() through
 * streamText's agent loop, for one message or a whole conversation.
 */
import assert from "node:assert/strict";
import { type ModelMessage, stepCountIs, streamText, tool, wrapLanguageModel } from "ai";
import { z } from "zod";
import { confirmationMiddleware } from "../../src/chat/confirmation.ts";
import { questionFor } from "../../src/chat/pending-tools.ts";
import { createOfflineModel } from "../../src/llm/offline/index.ts";
import { addDays, type Due, resolveDue, todayIn } from "../../src/tasks/due.ts";
import { repeatingLabel } from "../../src/tasks/recurrence-phrases.ts";
import { planSchedule } from "../../src/tasks/schedule.ts";

export interface SeedTask {
  title: string;
  completed?: boolean;
  description?: string;
  /** "+N" / "-N" days from today in the user's zone, or "YYYY-MM-DD". */
  due?: string;
  time?: string;
  priority?: Priority;
  list?: string;
  labels?: string[];
  /** A repeat pattern (words or an RRULE). */
  recurrence?: string;
  /** In-process only: when it was completed, "-N" days from now (default: now). */
  completed_at?: string;
}

type Priority = "none" | "low" | "medium" | "high";

export interface Row {
  id: number;
  title: string;
  description: string | null;
  completed: boolean;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
  due: Due | null;
  priority: Priority;
  list: string;
  labels: string[];
  parent_id: number | null;
}

/** The user's clock in a test: a fixed instant (a Wednesday) and a zone. */
export interface Clock {
  timezone: string;
  now: Date;
}
export const NOW = new Date("2026-12-02T10:30:00.000Z");
export const UTC_CLOCK: Clock = { timezone: "UTC", now: NOW };

const STAMP = "2025-01-01T00:00:00.000Z";
const notFound = (id: number) => ({
  error: { code: "not_found", message: `Task ${id} not found` },
});
const invalid = (message: string) => ({ error: { code: "validation_failed", message } });

const priority = z.enum(["none", "low", "medium", "high"]);
const dueInput = z
  .union([
    z.object({ date: z.string(), time: z.string().nullable().optional() }),
    z.object({ string: z.string() }),
  ])
  .nullable();

/** The "Current date and time for the user" line of the contract, for `clock`. */
export function clockLine(clock: Clock): string {
  const f = new Intl.DateTimeFormat("en-CA", {
    timeZone: clock.timezone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    weekday: "long",
    hourCycle: "h23",
  });
  const p = Object.fromEntries(f.formatToParts(clock.now).map((x) => [x.type, x.value]));
  return `Current date and time for the user: ${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute} (${p.weekday}), time zone ${clock.timezone}.`;
}

function compact(r: Row) {
  return {
    id: r.id,
    title: r.title,
    completed: r.completed,
    due: r.due ? (r.due.time ? `${r.due.date} ${r.due.time}` : r.due.date) : null,
    priority: r.priority,
    list: r.list,
    labels: r.labels,
    parent_id: r.parent_id,
    completed_at: r.completed_at,
  };
}

function oneTask(r: Row, status: string) {
  return {
    task_id: r.id,
    status,
    title: r.title,
    due: r.due,
    due_label: r.due ? repeatingLabel(r.due) : null,
    priority: r.priority,
    list: r.list,
    labels: r.labels,
  };
}

const labelsOf = (labels: string[]) =>
  [...new Set(labels.map((l) => l.replace(/^#/u, "").toLowerCase()))].sort();

/**
 * What the server keeps beside the tasks in a conversation, simulated (issue 13): the
 * trash, the pending confirmation (chat/pending-tools.ts) and, for undo_last_turn, the
 * tasks as they were before each turn.
 */
export interface ChatState {
  turn: number;
  trash: Row[];
  pending?: { turn: number; calls: Array<{ name: string; input: Record<string, unknown> }> };
  before: Array<{ rows: Row[]; trash: Row[] }>;
}

export const newState = (): ChatState => ({ turn: 0, trash: [], before: [] });

const copy = (rs: Row[]) => rs.map((r) => ({ ...r, labels: [...r.labels] }));

/** Tools over a plain array, shaped like Tasktalk's real ones (the task-model contract). */
export function makeTools(
  rows: Row[],
  calls: Array<{ name: string; input: unknown }>,
  clock: Clock = UTC_CLOCK,
  state: ChatState = newState(),
) {
  const find = (id: number) => rows.find((r) => r.id === id);
  const listName = (name: string) =>
    rows.find((r) => r.list.toLowerCase() === name.toLowerCase())?.list ?? name;
  const due = (input: z.infer<typeof dueInput> | undefined): Due | null | undefined | Error => {
    if (input === undefined) return undefined;
    try {
      return resolveDue(input, clock.timezone, clock.now);
    } catch (error) {
      return error as Error;
    }
  };
  return {
    add_task: tool({
      description: "Add a task",
      inputSchema: z.object({
        title: z.string(),
        description: z.string().optional(),
        due: dueInput.optional(),
        priority: priority.optional(),
        list: z.string().optional(),
        labels: z.array(z.string()).optional(),
        parent_id: z.number().optional(),
      }),
      execute: async (input) => {
        calls.push({ name: "add_task", input });
        const d = due(input.due);
        if (d instanceof Error) return invalid(`I could not read "${JSON.stringify(input.due)}"`);
        const id = rows.reduce((m, r) => Math.max(m, r.id), 0) + 1;
        const row: Row = {
          id,
          title: input.title,
          description: input.description ?? null,
          completed: false,
          created_at: STAMP,
          updated_at: STAMP,
          completed_at: null,
          due: d ?? null,
          priority: input.priority ?? "none",
          list: input.list ? listName(input.list) : "Inbox",
          labels: labelsOf(input.labels ?? []),
          parent_id: input.parent_id ?? null,
        };
        rows.push(row);
        return oneTask(row, "created");
      },
    }),
    list_tasks: tool({
      description: "List tasks",
      inputSchema: z.object({
        status: z.enum(["all", "pending", "completed", "deleted"]).optional(),
        due: z.enum(["today", "overdue", "upcoming", "none"]).optional(),
        list: z.string().optional(),
        label: z.string().optional(),
        priority: priority.optional(),
        q: z.string().optional(),
        limit: z.number().int().min(1).max(100).optional(),
        cursor: z.string().optional(),
      }),
      execute: async (input) => {
        calls.push({ name: "list_tasks", input });
        const status = input.status ?? "all";
        const today = todayIn(clock.timezone, clock.now);
        const source = status === "deleted" ? state.trash : rows;
        const matches = source.filter((r) => {
          if (status !== "all" && status !== "deleted" && r.completed !== (status === "completed"))
            return false;
          if (input.list && r.list.toLowerCase() !== input.list.toLowerCase()) return false;
          if (input.label && !r.labels.includes(input.label.toLowerCase())) return false;
          if (input.priority && r.priority !== input.priority) return false;
          if (input.q) {
            const words = `${r.title} ${r.description ?? ""}`.toLowerCase().split(/\W+/u);
            if (
              !input.q
                .toLowerCase()
                .split(/\s+/u)
                .every((w) => words.includes(w))
            )
              return false;
          }
          if (input.due === "none") return r.due === null;
          if (!input.due) return true;
          if (!r.due) return false;
          if (input.due === "today") return r.due.date === today;
          if (input.due === "upcoming") return r.due.date > today;
          const late = r.due.at ? Date.parse(r.due.at) < clock.now.getTime() : r.due.date < today;
          return !r.completed && r.due.date <= today && late;
        });
        const start = Number(input.cursor ?? 0);
        const limit = input.limit ?? 50;
        const page = matches.slice(start, start + limit);
        const next = start + limit < matches.length ? String(start + limit) : null;
        return { items: page.map(compact), total: matches.length, next_cursor: next };
      },
    }),
    complete_task: tool({
      description: "Complete a task",
      inputSchema: z.object({ task_id: z.number() }),
      execute: async ({ task_id }) => {
        calls.push({ name: "complete_task", input: { task_id } });
        const row = find(task_id);
        if (!row) return notFound(task_id);
        row.completed = true;
        row.completed_at = clock.now.toISOString();
        return oneTask(row, "completed");
      },
    }),
    delete_task: tool({
      description: "Delete a task",
      inputSchema: z.object({ task_id: z.number() }),
      execute: async ({ task_id }) => {
        calls.push({ name: "delete_task", input: { task_id } });
        const row = find(task_id);
        if (!row) return notFound(task_id);
        rows.splice(rows.indexOf(row), 1);
        state.trash.push(row);
        return oneTask(row, "deleted");
      },
    }),
    ...chatTools(rows, calls, state),
    update_task: tool({
      description: "Update a task",
      inputSchema: z.object({
        task_id: z.number(),
        title: z.string().optional(),
        description: z.string().optional(),
        completed: z.boolean().optional(),
        due: dueInput.optional(),
        priority: priority.optional(),
        list: z.string().optional(),
        labels: z.array(z.string()).optional(),
        parent_id: z.number().nullable().optional(),
        recurrence: z.string().nullable().optional(),
      }),
      execute: async (input) => {
        calls.push({ name: "update_task", input });
        const row = find(input.task_id);
        if (!row) return notFound(input.task_id);
        const d =
          input.recurrence === undefined && !row.due?.recurrence
            ? due(input.due)
            : reschedule(row, input, clock);
        if (d instanceof Error) return invalid(`I could not read "${JSON.stringify(input.due)}"`);
        if (input.title !== undefined) row.title = input.title;
        if (input.description !== undefined) row.description = input.description;
        if (d !== undefined) row.due = d;
        if (input.priority !== undefined) row.priority = input.priority;
        if (input.list !== undefined) row.list = listName(input.list);
        if (input.labels !== undefined) row.labels = labelsOf(input.labels);
        if (input.parent_id !== undefined) row.parent_id = input.parent_id;
        let status = "updated";
        if (input.completed === false && row.completed) {
          row.completed = false;
          row.completed_at = null;
          status = "reopened";
        } else if (input.completed === true && !row.completed) {
          row.completed = true;
          row.completed_at = clock.now.toISOString();
          status = "completed";
        }
        return oneTask(row, status);
      },
    }),
  };
}

/** The chat-only tools, simulated: hold/confirm/cancel (this branch), undo/restore ("activity"). */
function chatTools(rows: Row[], calls: Array<{ name: string; input: unknown }>, state: ChatState) {
  const run = async (name: string, input: Record<string, unknown>) => {
    const id = Number(input.task_id);
    const row = rows.find((r) => r.id === id);
    if (!row) return notFound(id);
    if (name === "delete_task") {
      rows.splice(rows.indexOf(row), 1);
      state.trash.push(row);
      return oneTask(row, "deleted");
    }
    row.completed = true;
    return oneTask(row, "completed");
  };
  const nothingPending = { error: { code: "nothing_pending", message: "Nothing is pending" } };
  return {
    hold_for_confirmation: tool({
      description: "hidden",
      inputSchema: z.object({
        reason: z.enum(["bulk", "fuzzy"]),
        calls: z.array(z.object({ name: z.string(), input: z.record(z.string(), z.unknown()) })),
      }),
      execute: async (input) => {
        calls.push({ name: "hold_for_confirmation", input });
        const items = input.calls.flatMap((c) => {
          const r = rows.find((x) => x.id === c.input.task_id);
          return r ? [{ ...c, title: r.title }] : [];
        });
        state.pending = { turn: state.turn, calls: items };
        // The server's own wording (chat/pending-tools.ts).
        const question = questionFor(
          input.reason,
          items.map((c) => ({
            task_id: Number(c.input.task_id),
            title: c.title,
            verb: c.name === "delete_task" ? "delete" : "complete",
          })),
        );
        return { status: "confirmation_needed", question };
      },
    }),
    confirm_pending_action: tool({
      description: "confirm",
      inputSchema: z.object({}),
      execute: async () => {
        calls.push({ name: "confirm_pending_action", input: {} });
        const p = state.pending;
        state.pending = undefined;
        if (!p || p.turn !== state.turn - 1) return nothingPending;
        const done = [];
        for (const c of p.calls) done.push(await run(c.name, c.input));
        return { status: "confirmed", done, skipped: [] };
      },
    }),
    cancel_pending_action: tool({
      description: "cancel",
      inputSchema: z.object({}),
      execute: async () => {
        calls.push({ name: "cancel_pending_action", input: {} });
        const p = state.pending;
        state.pending = undefined;
        if (!p || p.turn !== state.turn - 1) return nothingPending;
        return { status: "cancelled", task_ids: p.calls.map((c) => c.input.task_id) };
      },
    }),
    undo_last_turn: tool({
      description: "undo",
      inputSchema: z.object({}),
      execute: async () => {
        calls.push({ name: "undo_last_turn", input: {} });
        const before = state.before[state.turn - 1];
        const now = state.before[state.turn];
        if (!before || !now || JSON.stringify(before) === JSON.stringify(now)) {
          return { error: { code: "nothing_to_undo", message: "Nothing to undo" } };
        }
        const undone = [
          ...before.rows
            .filter((b) => !now.rows.some((r) => r.id === b.id))
            .map((b) => `restored task ${b.id} · ${b.title}`),
          ...now.rows
            .filter((r) => !before.rows.some((b) => b.id === r.id))
            .map((r) => `removed task ${r.id} · ${r.title}`),
          ...now.rows
            .filter((r) => {
              const b = before.rows.find((x) => x.id === r.id);
              return b && JSON.stringify(b) !== JSON.stringify(r);
            })
            .map((r) => `reverted task ${r.id} · ${r.title}`),
        ];
        rows.splice(0, rows.length, ...copy(before.rows));
        state.trash = copy(before.trash);
        return { undone, skipped: [] };
      },
    }),
    restore_task: tool({
      description: "restore",
      inputSchema: z.object({ task_id: z.number() }),
      execute: async ({ task_id }) => {
        calls.push({ name: "restore_task", input: { task_id } });
        const row = state.trash.find((r) => r.id === task_id);
        if (!row) return notFound(task_id);
        state.trash.splice(state.trash.indexOf(row), 1);
        rows.push(row);
        rows.sort((a, b) => a.id - b.id);
        return oneTask(row, "restored");
      },
    }),
  };
}

/** A change of a row's repeat pattern, as the server's schedule rules make it. */
function reschedule(
  row: Row,
  input: { due?: z.infer<typeof dueInput> | undefined; recurrence?: string | null },
  clock: Clock = UTC_CLOCK,
): Due | null | undefined | Error {
  const repeat = row.due?.recurrence
    ? { rule: row.due.recurrence, from: row.due.repeat_from ?? "due", time: row.due.time }
    : null;
  try {
    return planSchedule({ due: row.due, repeat }, input, clock.timezone, clock.now)?.due;
  } catch (error) {
    return error as Error;
  }
}

/** "+N" / "-N" days from today in the zone, or a date as is. */
export function dayFrom(spec: string, clock: Clock): string {
  const rel = /^([+-]\d+)$/u.exec(spec);
  return rel ? addDays(todayIn(clock.timezone, clock.now), Number(rel[1])) : spec;
}

export function seed(tasks: SeedTask[], clock: Clock = UTC_CLOCK): Row[] {
  return tasks.map((t, i) => {
    const doneAt = t.completed
      ? t.completed_at
        ? new Date(clock.now.getTime() + Number(t.completed_at) * 86_400_000).toISOString()
        : clock.now.toISOString()
      : null;
    return {
      id: i + 1,
      title: t.title,
      description: t.description ?? null,
      completed: t.completed === true,
      created_at: STAMP,
      updated_at: STAMP,
      completed_at: doneAt,
      due: t.due
        ? t.recurrence
          ? (planSchedule(
              null,
              {
                due: { date: dayFrom(t.due, clock), time: t.time ?? null },
                recurrence: t.recurrence,
              },
              clock.timezone,
              clock.now,
            )?.due ?? null)
          : resolveDue({ date: dayFrom(t.due, clock), time: t.time ?? null }, clock.timezone)
        : null,
      priority: t.priority ?? "none",
      list: t.list ?? "Inbox",
      labels: labelsOf(t.labels ?? []),
      parent_id: null,
    };
  });
}

export interface Outcome {
  before: Row[];
  rows: Row[];
  text: string;
  calls: Array<{ name: string; input: unknown }>;
  /** Text deltas seen on the stream. */
  chunks: number;
  /** The messages this turn added (assistant and tool), for continuing the conversation. */
  messages: ModelMessage[];
}

/** One user message through streamText's tool loop, against `rows` (changed in place). */
export async function turn(
  rows: Row[],
  say: string,
  history: ModelMessage[] = [],
  clock: Clock = UTC_CLOCK,
  state: ChatState = newState(),
): Promise<Outcome> {
  const before = rows.map((r) => ({ ...r }));
  const calls: Outcome["calls"] = [];
  state.before[state.turn] = { rows: copy(rows), trash: copy(state.trash) };
  const result = streamText({
    // As the chat turn runs it: the confirmation middleware around the model.
    model: wrapLanguageModel({ model: createOfflineModel(), middleware: confirmationMiddleware() }),
    system: `You are Tasktalk, a task assistant.\n${clockLine(clock)}`,
    messages: [...history, { role: "user", content: say }],
    tools: makeTools(rows, calls, clock, state),
    stopWhen: stepCountIs(5),
  });
  let chunks = 0;
  for await (const _ of result.textStream) chunks++;
  const messages = await result.responseMessages;
  state.turn++;
  return {
    before,
    rows: rows.map((r) => ({ ...r })),
    text: await result.text,
    calls,
    chunks,
    messages,
  };
}

/**
 * A fresh conversation about `tasks`: one message. A bulk change (more than one task) asks
 * first (issue 13): then nothing may have changed, the reply must be the question, and the
 * user's "yes" follows in the same conversation; the outcome spans both turns, its `asked`
 * the question. (A fuzzy pick's question is returned as is: a one-message case fails on it.)
 */
export async function converse(
  tasks: SeedTask[],
  say: string,
  timezone = "UTC",
): Promise<Outcome & { asked?: string }> {
  const clock = { timezone, now: NOW };
  const rows = seed(tasks, clock);
  const state = newState();
  const first = await turn(rows, say, [], clock, state);
  const hold = first.calls.find((c) => c.name === "hold_for_confirmation");
  if ((hold?.input as { reason?: string } | undefined)?.reason !== "bulk") return first;
  assert.deepEqual(first.rows, first.before, `nothing changes before the yes: ${first.text}`);
  assert.match(first.text, /\? \(yes \/ no\)$/u);
  const history: ModelMessage[] = [{ role: "user", content: say }, ...first.messages];
  const second = await turn(rows, "yes", history, clock, state);
  return {
    ...second,
    before: first.before,
    calls: [...first.calls, ...second.calls],
    text: `${first.text}\n${second.text}`,
    asked: first.text,
  };
}

/** A multi-turn conversation: each say() sees the history and the changed tasks. */
export function session(tasks: SeedTask[], clock: Clock = UTC_CLOCK) {
  const rows = seed(tasks, clock);
  const history: ModelMessage[] = [];
  const state = newState();
  return {
    rows,
    state,
    async say(text: string): Promise<Outcome> {
      const outcome = await turn(rows, text, history, clock, state);
      history.push({ role: "user", content: text }, ...outcome.messages);
      return outcome;
    },
  };
}
