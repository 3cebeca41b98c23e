/**
 * Shared harness for the offline-model tests (no tests of its own): an in-memory task
 * list behind real AI SDK tools, and a runner that drives createOfflineModel() through
 * streamText's agent loop, for one message or a whole conversation.
 */
import { type ModelMessage, stepCountIs, streamText, tool } from "ai";
import { z } from "zod";
import { createOfflineModel } from "../../src/llm/offline/index.ts";

export interface SeedTask {
  title: string;
  completed?: boolean;
  description?: string;
}

export interface Row {
  id: number;
  title: string;
  description: string | null;
  completed: boolean;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
}

const STAMP = "2025-01-01T00:00:00.000Z";
const notFound = (id: number) => ({
  error: { code: "not_found", message: `Task ${id} not found` },
});

/** Tools over a plain array, shaped like Tasktalk's real ones; `calls` records every call. */
export function makeTools(rows: Row[], calls: Array<{ name: string; input: unknown }>) {
  const find = (id: number) => rows.find((r) => r.id === id);
  return {
    add_task: tool({
      description: "Add a task",
      inputSchema: z.object({ title: z.string(), description: z.string().optional() }),
      execute: async (input) => {
        calls.push({ name: "add_task", input });
        const id = rows.reduce((m, r) => Math.max(m, r.id), 0) + 1;
        const row: Row = {
          id,
          title: input.title,
          description: input.description ?? null,
          completed: false,
          created_at: STAMP,
          updated_at: STAMP,
          completed_at: null,
        };
        rows.push(row);
        return { task_id: id, status: "created", title: row.title };
      },
    }),
    list_tasks: tool({
      description: "List tasks",
      inputSchema: z.object({ status: z.enum(["all", "pending", "completed"]).optional() }),
      execute: async (input) => {
        calls.push({ name: "list_tasks", input });
        const status = input.status ?? "all";
        return rows
          .filter((r) => status === "all" || r.completed === (status === "completed"))
          .map((r) => ({ ...r }));
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
        row.completed_at = STAMP;
        return { task_id, status: "completed", title: row.title };
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
        return { task_id, status: "deleted", title: row.title };
      },
    }),
    update_task: tool({
      description: "Update a task",
      inputSchema: z.object({
        task_id: z.number(),
        title: z.string().optional(),
        description: z.string().optional(),
      }),
      execute: async (input) => {
        calls.push({ name: "update_task", input });
        const row = find(input.task_id);
        if (!row) return notFound(input.task_id);
        if (input.title !== undefined) row.title = input.title;
        if (input.description !== undefined) row.description = input.description;
        return { task_id: row.id, status: "updated", title: row.title };
      },
    }),
  };
}

export function seed(tasks: SeedTask[]): Row[] {
  return tasks.map((t, i) => ({
    id: i + 1,
    title: t.title,
    description: t.description ?? null,
    completed: t.completed === true,
    created_at: STAMP,
    updated_at: STAMP,
    completed_at: t.completed ? STAMP : null,
  }));
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
): Promise<Outcome> {
  const before = rows.map((r) => ({ ...r }));
  const calls: Outcome["calls"] = [];
  const result = streamText({
    model: createOfflineModel(),
    system: "You are Tasktalk, a task assistant.",
    messages: [...history, { role: "user", content: say }],
    tools: makeTools(rows, calls),
    stopWhen: stepCountIs(5),
  });
  let chunks = 0;
  for await (const _ of result.textStream) chunks++;
  const messages = await result.responseMessages;
  return {
    before,
    rows: rows.map((r) => ({ ...r })),
    text: await result.text,
    calls,
    chunks,
    messages,
  };
}

/** A fresh conversation about `tasks`: one message. */
export function converse(tasks: SeedTask[], say: string): Promise<Outcome> {
  return turn(seed(tasks), say);
}

/** A multi-turn conversation: each say() sees the history and the changed tasks. */
export function session(tasks: SeedTask[]) {
  const rows = seed(tasks);
  const history: ModelMessage[] = [];
  return {
    rows,
    async say(text: string): Promise<Outcome> {
      const outcome = await turn(rows, text, history);
      history.push({ role: "user", content: text }, ...outcome.messages);
      return outcome;
    },
  };
}
