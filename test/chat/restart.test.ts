import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { startTestApp } from "../support/app.ts";
import { chat, messagesOf, signUp } from "../support/chat.ts";
import { availableBackends, createTestDatabase } from "../support/databases.ts";
import { startFakeLlm } from "../support/fake-llm.ts";

for (const backend of await availableBackends()) {
  describe(`restart [${backend}]`, () => {
    test("history and tasks survive a restart; the conversation continues with its context", async () => {
      const llm = await startFakeLlm();
      const testDb = await createTestDatabase(backend, { onDisk: true });
      const env = {
        LLM_PROVIDER: "openai-compatible",
        LLM_BASE_URL: `${llm.url}/v1`,
        LLM_MODEL: "fake",
        LLM_MAX_RETRIES: "0",
        BETTER_AUTH_SECRET: "a-secret-that-is-at-least-32-characters-long",
      };
      try {
        const first = await startTestApp(backend, env, { testDb });
        const user = await signUp(first.app);
        llm.setDefault((req) =>
          req.body.messages.at(-1)?.role === "tool"
            ? { text: "Added task 1 · Buy groceries." }
            : { toolCalls: [{ name: "add_task", arguments: { title: "Buy groceries" } }] },
        );
        const turn = (await chat(first, user, { message: "Add a task to buy groceries" })).json();
        await first.server.close();

        // A new process-equivalent: fresh app, same database, same token.
        const second = await startTestApp(backend, env, { testDb });
        try {
          const tasks = (
            await second.app.inject({ url: "/api/tasks", headers: user.headers })
          ).json();
          assert.deepEqual(
            tasks.items.map((t: { id: number; title: string }) => [t.id, t.title]),
            [[1, "Buy groceries"]],
          );
          const history = await messagesOf(second, user, turn.conversation_id);
          assert.deepEqual(
            history.items.map((m) => m.role),
            ["user", "assistant"],
          );
          llm.setDefault({ text: "You have 1 task." });
          const next = await chat(second, user, {
            message: "what do I have?",
            conversation_id: turn.conversation_id,
          });
          assert.equal(next.statusCode, 200);
          const sent = llm.requests.at(-1)?.body.messages.map((m) => m.role);
          assert.deepEqual(sent, ["system", "user", "assistant", "tool", "assistant", "user"]);
          assert.deepEqual(
            (await messagesOf(second, user, turn.conversation_id)).items.map((m) => m.seq),
            [1, 2, 3, 4],
          );
        } finally {
          await second.server.close();
        }
      } finally {
        await testDb.drop();
        await llm.close();
      }
    });
  });
}
