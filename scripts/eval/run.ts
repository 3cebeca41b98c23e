/**
 * Running one case through the public API: a fresh user, its zone (PATCH /api/me), its
 * tasks (POST /api/tasks with the task JSON), then each turn in one conversation, with the
 * task list read before and after every turn so each expectation sees only its own turn.
 */
import { randomBytes } from "node:crypto";
import { type Case, type Expect, isObject, isString, type SeedTask } from "./cases.ts";
import { dayFrom } from "./due-checks.ts";
import { type Clock, judge, type Observation, type ToolCall } from "./judge.ts";
import type { Api } from "./server.ts";

export interface TurnResult {
  say: string;
  expect: Expect;
  /** Why the turn failed; undefined when it held. */
  reason: string | undefined;
  observation: Observation | undefined;
}

const RUN = `${Date.now().toString(36)}${randomBytes(3).toString("hex")}`;

/** The task JSON of a seed task; "+N"/"-N" are days from today in the case's zone. */
export function seedBody(t: SeedTask, timezone: string, now: Date): Record<string, unknown> {
  const body: Record<string, unknown> = { title: t.title };
  if (t.description !== undefined) body.description = t.description;
  if (t.due !== undefined) {
    const date = dayFrom(t.due, timezone, now);
    body.due = t.time === undefined ? { date } : { date, time: t.time };
  }
  if (t.priority !== undefined) body.priority = t.priority;
  if (t.list !== undefined) body.list = t.list;
  if (t.labels !== undefined) body.labels = t.labels;
  if (t.recurrence !== undefined) body.recurrence = t.recurrence;
  return body;
}

async function setUp(api: Api, c: Case, index: number): Promise<void> {
  const signUp = await api.call("POST", "/api/auth/sign-up/email", {
    email: `eval-${RUN}-${index}@example.com`,
    password: `pw-${randomBytes(12).toString("hex")}`,
    name: `Eval ${c.id}`,
  });
  const token = signUp.headers.get("set-auth-token");
  if (signUp.status !== 200 || !token) {
    throw new Error(`sign-up → ${signUp.status} ${JSON.stringify(signUp.json).slice(0, 300)}`);
  }
  api.token = token;
  if (c.tz !== "UTC") await api.ok("PATCH", "/api/me", { timezone: c.tz });
  const now = new Date();
  for (const [i, t] of c.tasks.entries()) {
    const created = await api.ok("POST", "/api/tasks", seedBody(t, c.tz, now));
    if (!isObject(created) || created.id !== i + 1) {
      throw new Error(
        `task ${JSON.stringify(t.title)} got number ${String(isObject(created) && created.id)}, not ${i + 1}`,
      );
    }
  }
  for (const [i, t] of c.tasks.entries()) {
    if (t.completed) await api.ok("PATCH", `/api/tasks/${i + 1}`, { completed: true });
  }
}

class Conversation {
  id: string | undefined;
  readonly api: Api;
  constructor(api: Api) {
    this.api = api;
  }

  /** One message in this conversation, with the task list before and after it. */
  async send(message: string): Promise<Observation> {
    const before = await this.api.tasks();
    const body = this.id ? { message, conversation_id: this.id } : { message };
    const chat = await this.api.call("POST", "/api/chat", body);
    const after = await this.api.tasks();
    if (chat.status !== 200 || !isObject(chat.json)) {
      const reply = `(HTTP ${chat.status}) ${JSON.stringify(chat.json).slice(0, 300)}`;
      return { before, after, reply, toolCalls: [], status: "http-error" };
    }
    const j = chat.json;
    if (isString(j.conversation_id)) this.id = j.conversation_id;
    return {
      before,
      after,
      reply: isString(j.response) ? j.response : "",
      toolCalls: Array.isArray(j.tool_calls) ? (j.tool_calls as ToolCall[]) : [],
      status: isString(j.status) ? j.status : "?",
    };
  }
}

const sameList = (o: Observation) => JSON.stringify(o.before) === JSON.stringify(o.after);

/** Runs every turn of `c` (a fresh user each case); one result per turn. */
export async function runCase(api: Api, c: Case, index: number): Promise<TurnResult[]> {
  await setUp(api, c, index);
  const conversation = new Conversation(api);
  const results: TurnResult[] = [];
  // completed_at is in-process only: through the API every seed is completed just now.
  const backdated = c.tasks.some((t) => t.completed_at !== undefined);
  for (const turn of c.turns) {
    const clock: Clock = { timezone: c.tz, now: new Date() };
    let o = await conversation.send(turn.say);
    // confirm_ok: asking first is fine (nothing changed and the reply asks); "yes" is
    // then sent and the expectation is judged over both turns together.
    if (turn.expect.confirm_ok && sameList(o) && o.reply.includes("?")) {
      const yes = await conversation.send("yes");
      o = {
        before: o.before,
        after: yes.after,
        reply: `${o.reply}\n${yes.reply}`,
        toolCalls: [...o.toolCalls, ...yes.toolCalls],
        status: yes.status,
      };
    }
    const reason = judge(turn.expect, o, clock);
    results.push({
      say: turn.say,
      expect: turn.expect,
      reason:
        reason && backdated
          ? `${reason} (a seed task has completed_at, which the API cannot set: it was completed just now)`
          : reason,
      observation: o,
    });
  }
  return results;
}
