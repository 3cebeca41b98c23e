import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { type ChatFixture, chat, messagesOf, signUp, startChatApp } from "../support/chat.ts";
import { availableBackends } from "../support/databases.ts";

// A chat turn's bearer token is checked once its small body is read, and the turn's first
// read (the preview: src/chat/chat.routes.ts) goes with it: joined to the session lookup in
// one statement for a session token, beside the token check for an API key
// (src/auth/request-user.ts overlapAuth). What must still hold: a refused token is a 401
// before any validation error, a large body is not read for a refused token, and the early
// read never lets one user's conversation answer another's turn.

/** The SQL texts node-postgres sends while `run` runs (PostgreSQL only: the driver's own). */
async function statementsDuring(run: () => Promise<unknown>): Promise<string[]> {
  const texts: string[] = [];
  recorder.texts = texts;
  try {
    await run();
  } finally {
    recorder.texts = undefined;
  }
  return texts;
}

// Installed before any app connects: a pooled client binds its query function on connect.
const recorder: { texts?: string[] } = {};
{
  type Query = (this: pg.Client, ...args: unknown[]) => unknown;
  const proto = pg.Client.prototype as unknown as { query: Query };
  const original = proto.query;
  proto.query = function (this: pg.Client, ...args: unknown[]) {
    const first = args[0] as string | { text?: string };
    recorder.texts?.push(typeof first === "string" ? first : String(first?.text));
    return original.apply(this, args);
  };
}

for (const backend of await availableBackends()) {
  describe(`token check beside the body [${backend}]`, () => {
    let f: ChatFixture;
    before(async () => {
      f = await startChatApp(backend);
    });
    after(() => f.close());

    test("a refused token is 401 before a body that would not validate", async () => {
      const calls = f.llm.requests.length;
      for (const payload of [{ message: "" }, { message: "hi", extra: 1 }, { nope: true }]) {
        const res = await f.t.app.inject({
          method: "POST",
          url: "/api/chat",
          headers: { authorization: "Bearer not-a-session" },
          payload,
        });
        assert.equal(res.statusCode, 401, JSON.stringify(payload));
        assert.equal(res.json().code, "unauthorized");
      }
      assert.equal(f.llm.requests.length, calls, "no model call");
    });

    test("a refused token with a large body is refused before the body is read", async () => {
      const res = await f.t.app.inject({
        method: "POST",
        url: "/api/chat",
        headers: { authorization: "Bearer not-a-session", "content-type": "application/json" },
        // Over OVERLAP_BODY_MAX and not JSON at all: only a check before parsing says 401.
        payload: `{${"x".repeat(70 * 1024)}`,
      });
      assert.equal(res.statusCode, 401);
    });

    test("another user's conversation id: 404, and nothing of it is used or changed", async () => {
      const alice = await signUp(f.t.app, "Alice");
      const mallory = await signUp(f.t.app, "Mallory");
      f.llm.setDefault({ text: "noted" });
      const first = await chat(f.t, alice, { message: "my secret plan is ready" });
      assert.equal(first.statusCode, 200);
      const conversationId = first.json().conversation_id as string;
      const before = await messagesOf(f.t, alice, conversationId);
      const calls = f.llm.requests.length;

      for (const payload of [
        { message: "what is the plan?", conversation_id: conversationId },
        {
          message: "what is the plan?",
          conversation_id: conversationId,
          client_message_id: "7d0f1b2e-3c4d-4e5f-8a9b-0c1d2e3f4a5b",
        },
      ]) {
        const stolen = await chat(f.t, mallory, payload);
        assert.equal(stolen.statusCode, 404, stolen.body);
        assert.equal(stolen.json().code, "not_found");
        assert.doesNotMatch(stolen.body, /secret plan/);
      }
      // Also through the seed's path, and with a refused token.
      const seed = await f.t.app.inject({
        method: "POST",
        url: `/api/${mallory.id}/chat`,
        headers: mallory.headers,
        payload: { message: "and now?", conversation_id: conversationId },
      });
      assert.equal(seed.statusCode, 404);
      const anonymous = await f.t.app.inject({
        method: "POST",
        url: "/api/chat",
        headers: { authorization: "Bearer not-a-session" },
        payload: { message: "and now?", conversation_id: conversationId },
      });
      assert.equal(anonymous.statusCode, 401);

      assert.equal(f.llm.requests.length, calls, "the model was never asked");
      assert.deepEqual(await messagesOf(f.t, alice, conversationId), before);

      // The owner's next turn still sees the whole conversation.
      const next = await chat(f.t, alice, {
        message: "and the next step?",
        conversation_id: conversationId,
      });
      assert.equal(next.statusCode, 200, next.body);
      const sent = JSON.stringify(f.llm.requests.at(-1)?.body);
      assert.match(sent, /my secret plan is ready/);
      assert.match(sent, /and the next step\?/);
    });

    test("a session's turn: its token check and the conversation's read are one statement", async () => {
      const alice = await signUp(f.t.app, "Alice");
      f.llm.setDefault({ text: "noted" });
      const first = await chat(f.t, alice, { message: "remember the blue folder" });
      assert.equal(first.statusCode, 200, first.body);
      const conversationId = first.json().conversation_id as string;
      let next: Awaited<ReturnType<typeof chat>> | undefined;
      const texts = await statementsDuring(async () => {
        next = await chat(f.t, alice, {
          message: "which folder?",
          conversation_id: conversationId,
        });
      });
      assert.equal(next?.statusCode, 200, next?.body);
      assert.match(JSON.stringify(f.llm.requests.at(-1)?.body), /remember the blue folder/);
      if (backend === "pg") {
        const lookups = texts.filter((t) => /from "session"/.test(t));
        assert.equal(lookups.length, 1, texts.join("\n"));
        assert.match(lookups[0] ?? "", /left join "conversations"/);
        // No other read of the conversation before step A (the preview by id alone).
        assert.ok(
          !texts.some((t) => /^select "user_id", "model", "last_seq"/.test(t)),
          texts.join("\n"),
        );
      }
    });

    test("an API key's turn reads the conversation beside the token check, and only its own", async () => {
      const alice = await signUp(f.t.app, "Alice");
      const mallory = await signUp(f.t.app, "Mallory");
      const keyOf = async (who: typeof alice) => {
        const res = await f.t.app.inject({
          method: "POST",
          url: "/api/api-keys",
          headers: who.headers,
          payload: { name: "turns" },
        });
        assert.equal(res.statusCode, 201, res.body);
        return { authorization: `Bearer ${res.json().key as string}` };
      };
      f.llm.setDefault({ text: "noted" });
      const first = await chat(f.t, alice, { message: "the code word is heron" });
      const conversationId = first.json().conversation_id as string;
      const ask = async (who: typeof alice) =>
        f.t.app.inject({
          method: "POST",
          url: "/api/chat",
          headers: await keyOf(who),
          payload: { message: "what is the code word?", conversation_id: conversationId },
        });
      const mine = await ask(alice);
      assert.equal(mine.statusCode, 200, mine.body);
      assert.match(JSON.stringify(f.llm.requests.at(-1)?.body), /the code word is heron/);
      const calls = f.llm.requests.length;
      const stolen = await ask(mallory);
      assert.equal(stolen.statusCode, 404, stolen.body);
      assert.doesNotMatch(stolen.body, /heron/);
      assert.equal(f.llm.requests.length, calls, "the model was never asked");
    });
  });
}
