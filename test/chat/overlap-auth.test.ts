import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type ChatFixture, chat, messagesOf, signUp, startChatApp } from "../support/chat.ts";
import { availableBackends } from "../support/databases.ts";

// A chat turn's bearer token is checked while its body is read, and the turn's first read
// (the preview: src/chat/chat.routes.ts) starts from the body meanwhile, before the caller
// is known (src/auth/request-user.ts overlapAuth). What must still hold: a refused token is
// a 401 before any validation error, a large body is not read for a refused token, and the
// early read never lets one user's conversation answer another's turn.

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
  });
}
