import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { sql } from "drizzle-orm";
import { rowsOf } from "../../src/db/client.ts";
import { type ChatFixture, chat, messagesOf, signUp, startChatApp } from "../support/chat.ts";
import { availableBackends } from "../support/databases.ts";
import { lastUserText } from "../support/fake-llm.ts";

for (const backend of await availableBackends()) {
  describe(`concurrent turns [${backend}]`, () => {
    let f: ChatFixture;
    before(async () => {
      f = await startChatApp(backend);
    });
    after(() => f.close());

    test("a second send while a turn runs waits for it, then runs in seq order (queued)", async () => {
      const user = await signUp(f.t.app);
      f.llm.setDefault({ text: "ok" });
      const { conversation_id } = (await chat(f.t, user, { message: "start" })).json();
      f.llm.setPace(30);
      f.llm.setDefault({ text: "a slow reply in many small pieces", chunkSize: 2 });
      const first = chat(f.t, user, { message: "slow one", conversation_id });
      await sleep(150);
      const second = await chat(f.t, user, { message: "impatient", conversation_id });
      f.llm.setPace(0);
      assert.equal(second.statusCode, 200, second.body);
      assert.equal((await first).statusCode, 200);
      const items = (await messagesOf(f.t, user, conversation_id)).items;
      assert.deepEqual(items.map((m) => m.content).slice(2), [
        "slow one",
        "a slow reply in many small pieces",
        "impatient",
        "a slow reply in many small pieces",
      ]);
    });

    test("past TURN_QUEUE_MS a second send → 409 with Retry-After, nothing stored; a long turn keeps its lease", async () => {
      // A 3 s lease and a turn of about 4.5 s: only the heartbeat keeps the lease alive.
      const g = await startChatApp(backend, { TURN_QUEUE_MS: "0", TURN_LEASE_MS: "3000" });
      try {
        const user = await signUp(g.t.app);
        g.llm.setDefault({ text: "ok" });
        const { conversation_id } = (await chat(g.t, user, { message: "start" })).json();
        g.llm.setPace(150);
        g.llm.setDefault({ text: "a slow reply in many small pieces", chunkSize: 1 });
        const first = chat(g.t, user, { message: "slow one", conversation_id });
        await sleep(150);
        const second = await chat(g.t, user, { message: "impatient", conversation_id });
        assert.equal(second.statusCode, 409, second.body);
        assert.equal(second.json().code, "turn_in_progress");
        assert.equal(second.headers["retry-after"], "1");
        await sleep(3600);
        const third = await chat(g.t, user, { message: "still impatient", conversation_id });
        assert.equal(third.statusCode, 409, "the lease outlived its 3 s because it was renewed");
        assert.equal((await first).statusCode, 200);
        g.llm.setPace(0);
        const items = (await messagesOf(g.t, user, conversation_id)).items;
        assert.deepEqual(items.map((m) => m.content).slice(2), [
          "slow one",
          "a slow reply in many small pieces",
        ]);
      } finally {
        await g.close();
      }
    });

    test("8 clients × 50 turns on one conversation: every acknowledged message exactly once, seq gap-free, replies attached (R1)", async () => {
      const user = await signUp(f.t.app);
      // The model echoes the user's payload, so each reply proves which message it answered.
      f.llm.setDefault((req) => ({ text: `echo:${lastUserText(req)}` }));
      const { conversation_id } = (await chat(f.t, user, { message: "begin" })).json();
      const acknowledged = new Map<string, string>(); // payload → user message id
      const clients = Array.from({ length: 8 }, (_, c) =>
        (async () => {
          for (let i = 0; i < 50; i++) {
            const payload = `client ${c} turn ${i} ${randomUUID()}`;
            const client_message_id = randomUUID();
            for (let attempt = 0; attempt < 400; attempt++) {
              const res = await chat(f.t, user, {
                message: payload,
                conversation_id,
                client_message_id,
              });
              if (res.statusCode === 200) {
                const body = res.json();
                assert.equal(body.response, `echo:${payload}`);
                acknowledged.set(payload, body.user_message_id);
                break;
              }
              assert.equal(res.statusCode, 409, res.body);
              await sleep(2 + Math.random() * 10);
            }
          }
        })(),
      );
      await Promise.all(clients);
      assert.equal(acknowledged.size, 400);

      const items = (
        await Promise.all(
          Array.from({ length: 5 }, (_, p) =>
            messagesOf(f.t, user, conversation_id, `limit=200&after_seq=${p * 200}`),
          ),
        )
      ).flatMap((page) => page.items);
      assert.equal(items.length, 802);
      assert.deepEqual(
        items.map((m) => m.seq),
        Array.from({ length: 802 }, (_, i) => i + 1),
        "seq unique and gap-free",
      );
      const byId = new Map(items.map((m) => [m.id, m]));
      const userMessages = items.filter((m) => m.role === "user");
      const seen = new Set<string>();
      for (const m of userMessages) {
        assert.ok(!seen.has(m.content), `stored twice: ${m.content}`);
        seen.add(m.content);
      }
      for (const [payload, userMessageId] of acknowledged) {
        assert.equal(byId.get(userMessageId)?.content, payload);
        const reply = items.find((m) => m.reply_to === userMessageId);
        assert.equal(reply?.content, `echo:${payload}`, "reply attached to the right user message");
        assert.equal(reply?.seq, (byId.get(userMessageId)?.seq ?? 0) + 1);
      }
      const dup = rowsOf<{ n: number }>(
        await f.t.server.database.db.execute(
          sql`select count(*)::int as n from messages where conversation_id = ${conversation_id}::uuid`,
        ),
      );
      assert.equal(dup[0]?.n, 802);
    });

    test("while one user waits 5 s on a slow model, another user's task list answers fast (D6)", async () => {
      const slow = await signUp(f.t.app);
      const other = await signUp(f.t.app);
      await f.t.app.inject({
        method: "POST",
        url: "/api/tasks",
        headers: other.headers,
        payload: { title: "Mine" },
      });
      f.llm.setPace(250);
      f.llm.setDefault({
        text: "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty",
        chunkSize: 6,
      });
      const started = Date.now();
      const pending = chat(f.t, slow, { message: "take your time" });
      await sleep(300);
      const timings: number[] = [];
      for (let i = 0; i < 10; i++) {
        const t0 = performance.now();
        const res = await f.t.app.inject({ url: "/api/tasks", headers: other.headers });
        timings.push(performance.now() - t0);
        assert.equal(res.statusCode, 200);
        await sleep(100);
      }
      const res = await pending;
      f.llm.setPace(0);
      assert.equal(res.statusCode, 200);
      assert.ok(Date.now() - started >= 4000, "the model really was slow");
      const worst = Math.max(...timings);
      assert.ok(
        worst < 500,
        `task list took up to ${worst.toFixed(0)} ms while a turn was waiting`,
      );
    });
  });
}
