import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { sql } from "drizzle-orm";
import { type Model, startModel } from "../../bench/lib/model.ts";
import { rowsOf } from "../../src/db/client.ts";
import { startTestApp, type TestApp } from "../support/app.ts";
import { type ChatFixture, chat, signUp, startChatApp } from "../support/chat.ts";
import { availableBackends } from "../support/databases.ts";
import type { FakeStep, RecordedRequest } from "../support/fake-llm.ts";

// Issue 16, B2: the model's request for a turn in an existing conversation goes out while
// step A commits the user message (src/chat/speculate.ts), but nothing of its answer — no
// token, no tool — may come before that commit. The database here delays COMMIT: a
// deferred constraint trigger on messages sleeps (or fails) at commit time, only for
// messages that carry a marker, so the first turn of each conversation is unaffected.

const SLOW_MS = 400;

const TRIGGER = [
  sql.raw(`
  create or replace function test_commit_gate() returns trigger language plpgsql as $$
  begin
    if new.content like '%[slow-commit]%' then perform pg_sleep(${SLOW_MS / 1000}); end if;
    if new.content like '%[fail-commit]%' then
      raise exception 'could not write to the WAL (simulated at commit)' using errcode = '58030';
    end if;
    return null;
  end $$`),
  sql.raw(`
  create constraint trigger messages_test_commit_gate after insert on messages
    deferrable initially deferred for each row execute function test_commit_gate()`),
];

interface Timed {
  status: number;
  body: string;
  /** ms from sending the request to its first body byte (fetch resolves at the headers) */
  firstByteMs: number;
  /** ms from sending the request to the first text-delta part */
  firstTokenMs: number;
}

/** A streamed turn on the app at `base`, with the times its first byte and token arrived. */
async function streamed(base: string, token: string, body: unknown): Promise<Timed> {
  const sent = performance.now();
  const res = await fetch(`${base}/api/chat`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
      accept: "text/event-stream",
    },
    body: JSON.stringify(body),
  });
  const reader = res.body?.getReader();
  assert.ok(reader);
  let firstByteMs = -1;
  let firstTokenMs = -1;
  let text = "";
  const decoder = new TextDecoder();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (firstByteMs < 0) firstByteMs = performance.now() - sent;
    text += decoder.decode(value, { stream: true });
    if (firstTokenMs < 0 && text.includes('"text-delta"')) firstTokenMs = performance.now() - sent;
  }
  return { status: res.status, body: text, firstByteMs, firstTokenMs };
}

for (const backend of await availableBackends()) {
  describe(`the model's request starts while step A commits [${backend}]`, () => {
    let f: ChatFixture;
    let base: string;
    before(async () => {
      f = await startChatApp(backend);
      base = await f.t.listen();
      for (const statement of TRIGGER) await f.t.server.database.db.execute(statement);
    });
    after(() => f.close());

    /** The fake model notes when each request arrived (ms since `t0`). */
    function timedModel(step: (req: RecordedRequest) => FakeStep) {
      const arrivals: number[] = [];
      let t0 = 0;
      f.llm.setDefault((req) => {
        arrivals.push(performance.now() - t0);
        return step(req);
      });
      return {
        arrivals,
        start() {
          t0 = performance.now();
          arrivals.length = 0;
        },
      };
    }

    /** The app's tasktalk_chat_early_requests_total, by outcome. */
    async function earlyRequests() {
      const metrics = (await f.t.app.inject({ url: "/metrics" })).body;
      const count = (outcome: string) =>
        Number(
          new RegExp(`tasktalk_chat_early_requests_total\\{outcome="${outcome}"\\} (\\d+)`).exec(
            metrics,
          )?.[1] ?? 0,
        );
      return { used: count("used"), dropped: count("dropped") };
    }

    async function conversationOf(user: { id: string }, token: string): Promise<string> {
      f.llm.setDefault({ text: "hello" });
      const first = await streamed(base, token, { message: "first message" });
      assert.equal(first.status, 200, first.body);
      const [row] = rowsOf<{ id: string }>(
        await f.t.server.database.db.execute(
          sql`select id from conversations where user_id = ${user.id}`,
        ),
      );
      assert.ok(row);
      return row.id;
    }

    test("nothing reaches the client before the user message is committed; the model was asked earlier", async () => {
      const user = await signUp(f.t.app);
      const conversationId = await conversationOf(user, user.token);
      const model = timedModel(() => ({ text: "the answer, after the commit" }));
      model.start();
      const sent = performance.now();
      const turn = await streamed(base, user.token, {
        message: "what is pending? [slow-commit]",
        conversation_id: conversationId,
      });
      const total = performance.now() - sent;
      assert.equal(turn.status, 200, turn.body);
      assert.match(turn.body, /the answer, after the commit/);
      // The commit took SLOW_MS: the response's first byte (its status line and headers
      // included) cannot come sooner.
      assert.ok(
        turn.firstByteMs >= SLOW_MS,
        `first byte after ${turn.firstByteMs.toFixed(0)} ms, before the ${SLOW_MS} ms commit ended`,
      );
      assert.ok(total >= SLOW_MS);
      assert.equal(model.arrivals.length, 1);
      if (backend === "pg") {
        // PostgreSQL commits in its own process: the request went out while it did. (PGlite
        // runs in this thread, so a sleeping commit stops everything here, the model too.)
        const arrival = model.arrivals[0] ?? Number.POSITIVE_INFINITY;
        assert.ok(
          arrival < SLOW_MS / 2,
          `the model was asked ${arrival.toFixed(0)} ms in, not while step A committed`,
        );
      }
      const stored = rowsOf<{ role: string; content: string }>(
        await f.t.server.database.db.execute(
          sql`select role, content from messages where conversation_id = ${conversationId} order by seq`,
        ),
      );
      assert.deepEqual(
        stored.map((m) => m.role),
        ["user", "assistant", "user", "assistant"],
      );
    });

    test("a commit that fails: the early answer is never read — no token, no tool, nothing stored", async () => {
      const user = await signUp(f.t.app);
      const conversationId = await conversationOf(user, user.token);
      const model = timedModel(() => ({
        toolCalls: [{ name: "add_task", arguments: { title: "must never exist" } }],
      }));
      model.start();
      const turn = await streamed(base, user.token, {
        message: "add a task [fail-commit]",
        conversation_id: conversationId,
      });
      assert.ok(turn.status >= 500, `${turn.status} ${turn.body}`);
      assert.doesNotMatch(turn.body, /text-delta|tool-input|tool-output/);
      const tasks = rowsOf<{ n: number }>(
        await f.t.server.database.db.execute(
          sql`select count(*)::int as n from tasks where user_id = ${user.id}`,
        ),
      );
      assert.equal(tasks[0]?.n, 0, "the tool never ran");
      const stored = rowsOf<{ role: string }>(
        await f.t.server.database.db.execute(
          sql`select role from messages where conversation_id = ${conversationId} order by seq`,
        ),
      );
      assert.deepEqual(
        stored.map((m) => m.role),
        ["user", "assistant"],
        "the failed turn stored nothing",
      );
      // The conversation is free and works: the next turn runs normally.
      f.llm.setDefault({ text: "fine again" });
      const next = await chat(f.t, user, { message: "hello?", conversation_id: conversationId });
      assert.equal(next.statusCode, 200, next.body);
      assert.equal(next.json().response, "fine again");
    });

    test("a conversation that changed between the early read and step A: the turn runs on what step A stored", async () => {
      const user = await signUp(f.t.app);
      const conversationId = await conversationOf(user, user.token);
      // Two sends at once to one conversation: both may start early from the same read;
      // one wins step A, the other waits its turn, and its request must be built again
      // from a window that holds the first turn's messages.
      const seen: string[][] = [];
      f.llm.setDefault((req) => {
        seen.push(req.body.messages.filter((m) => m.role === "user").map((m) => String(m.content)));
        return { text: `reply ${seen.length}` };
      });
      const before = await earlyRequests();
      // "alpha" commits slowly: its lease is invisible until then, so "beta" (sent while
      // it commits) finds the conversation free, starts early, then waits for the lease.
      const [a, b] = await Promise.all([
        chat(f.t, user, { message: "alpha [slow-commit]", conversation_id: conversationId }),
        sleep(SLOW_MS / 4).then(() =>
          chat(f.t, user, { message: "beta", conversation_id: conversationId }),
        ),
      ]);
      assert.equal(a.statusCode, 200, a.body);
      assert.equal(b.statusCode, 200, b.body);
      const stored = rowsOf<{ role: string; content: string }>(
        await f.t.server.database.db.execute(
          sql`select role, content from messages where conversation_id = ${conversationId} order by seq`,
        ),
      );
      assert.equal(stored.length, 6);
      const after = await earlyRequests();
      assert.ok(after.used > before.used);
      if (backend === "pg") {
        // (PGlite runs the slow commit in this thread: "beta" only starts after it.)
        assert.equal(
          after.dropped - before.dropped,
          1,
          "beta's early request, built before alpha committed, was dropped",
        );
      }
      const lastUsers = seen.at(-1) ?? [];
      // The turn answered last was given the other turn's message too.
      assert.ok(
        lastUsers.includes("alpha [slow-commit]") && lastUsers.includes("beta"),
        `the later turn's request held ${JSON.stringify(lastUsers)}`,
      );
    });
  });
}

// The same overlap with the model in a process of its own, as a real provider is: even on
// PGlite, whose commit holds this thread, the model works while step A commits.
for (const backend of await availableBackends()) {
  describe(`the model's time overlaps a slow commit, model out of process [${backend}]`, () => {
    let model: Model;
    let t: TestApp;
    let base: string;
    before(async () => {
      model = await startModel();
      t = await startTestApp(backend, {
        LLM_PROVIDER: "openai-compatible",
        LLM_BASE_URL: `${model.url}/v1`,
        LLM_MODEL: "fake-model",
        LLM_MAX_RETRIES: "0",
      });
      base = await t.listen();
      for (const statement of TRIGGER) await t.server.database.db.execute(statement);
    });
    after(async () => {
      await t.close();
      await model.stop();
    });

    test("first token after max(commit, model), not their sum", async () => {
      const user = await signUp(t.app);
      const send = (body: Record<string, unknown>) => streamed(base, user.token, body);
      const first = await send({ message: "hello" });
      assert.equal(first.status, 200, first.body);
      const conversationId = /"conversation_id":"([^"]+)"/.exec(first.body)?.[1];
      assert.ok(conversationId);
      // The model's first token comes MODEL_MS after its request; the commit takes SLOW_MS.
      const MODEL_MS = 300;
      await model.setPace(MODEL_MS);
      const times: number[] = [];
      for (let i = 0; i < 3; i++) {
        const turn = await send({
          message: "thanks [slow-commit]",
          conversation_id: conversationId,
        });
        assert.equal(turn.status, 200, turn.body);
        times.push(turn.firstTokenMs);
      }
      const median = [...times].sort((a, b) => a - b)[1] ?? Number.NaN;
      assert.ok(
        median >= SLOW_MS,
        `first token at ${median.toFixed(0)} ms, before the commit ended`,
      );
      assert.ok(
        median < SLOW_MS + MODEL_MS - 100,
        `first token at ${times.map((x) => x.toFixed(0)).join(", ")} ms: the model waited for the commit (${SLOW_MS} + ${MODEL_MS} ms)`,
      );
    });
  });
}
