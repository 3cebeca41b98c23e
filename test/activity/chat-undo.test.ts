import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { TestUser } from "../support/app.ts";
import { type ChatFixture, chat, signUp, startChatApp } from "../support/chat.ts";
import { availableBackends } from "../support/databases.ts";

// undo_last_turn with a real-protocol model (the fake OpenAI server): it reverts the
// previous turn's changes in that conversation, skips what changed since, and says so.

interface Entry {
  id: string;
  kind: string;
  door: string;
  task_id: number | null;
  conversation_id: string | null;
  message_id: string | null;
  undo_of: string | null;
}

for (const backend of await availableBackends()) {
  describe(`undo_last_turn [${backend}]`, () => {
    let f: ChatFixture;
    before(async () => {
      f = await startChatApp(backend);
    });
    after(() => f.close());

    const add = async (user: TestUser, title: string) => {
      const res = await f.t.app.inject({
        method: "POST",
        url: "/api/tasks",
        headers: user.headers,
        payload: { title },
      });
      return (res.json() as { id: number }).id;
    };
    const get = (user: TestUser, n: number) =>
      f.t.app.inject({ method: "GET", url: `/api/tasks/${n}`, headers: user.headers });
    const activity = async (user: TestUser) =>
      (await f.t.app.inject({ method: "GET", url: "/api/activity", headers: user.headers })).json()
        .items as Entry[];

    test("undo brings back what the previous turn deleted, under its number; a later change is not clobbered", async () => {
      const user = await signUp(f.t.app);
      const rent = await add(user, "Pay rent");
      const plants = await add(user, "Water plants");
      f.llm.script(
        {
          toolCalls: [
            { name: "delete_task", arguments: { task_id: rent } },
            { name: "update_task", arguments: { task_id: plants, priority: "high" } },
          ],
        },
        { text: "Deleted one, changed the other." },
      );
      // One delete of a named task and an update: nothing a confirmation holds.
      const first = await chat(f.t, user, {
        message: "delete the rent task, and make plants high priority",
      });
      assert.equal(first.statusCode, 200, first.body);
      const { conversation_id, user_message_id } = first.json();
      assert.equal((await get(user, rent)).statusCode, 404);

      const turnEntries = (await activity(user)).filter((e) => e.door === "chat");
      assert.deepEqual(turnEntries.map((e) => e.kind).sort(), ["task.deleted", "task.updated"]);
      assert.ok(
        turnEntries.every(
          (e) => e.conversation_id === conversation_id && e.message_id === user_message_id,
        ),
      );

      // Meanwhile the page reopens the plants task: that change must survive the undo.
      const reopen = await f.t.app.inject({
        method: "PATCH",
        url: `/api/tasks/${plants}`,
        headers: user.headers,
        payload: { completed: false, title: "Water the plants" },
      });
      assert.equal(reopen.statusCode, 200);

      f.llm.script({ toolCalls: [{ name: "undo_last_turn", arguments: {} }] }, { text: "Undone." });
      const second = await chat(f.t, user, { message: "undo that", conversation_id });
      assert.equal(second.statusCode, 200, second.body);
      const result = second.json().tool_calls[0].result as {
        undone: { task_id: number; kind: string }[];
        skipped: { task_id: number; reason: string }[];
      };
      assert.deepEqual(
        result.undone.map((u) => [u.task_id, u.kind]),
        [[rent, "task.restored"]],
      );
      assert.equal(result.skipped.length, 1);
      assert.equal(result.skipped[0]?.task_id, plants);
      assert.match(result.skipped[0]?.reason ?? "", /changed since/);

      const restored = await get(user, rent);
      assert.equal(restored.statusCode, 200);
      assert.equal(restored.json().title, "Pay rent");
      assert.equal((await get(user, plants)).json().title, "Water the plants");

      const undo = (await activity(user)).find((e) => e.kind === "task.restored");
      assert.equal(undo?.door, "chat");
      assert.equal(undo?.message_id, second.json().user_message_id);
      assert.ok(undo?.undo_of);

      // The same again: the previous turn is now the undo itself, so undo redoes the delete
      // (an undo of the undo); the original entry stays undone once.
      f.llm.script({ toolCalls: [{ name: "undo_last_turn", arguments: {} }] }, { text: "Ok." });
      const third = await chat(f.t, user, { message: "undo", conversation_id });
      assert.equal(third.json().tool_calls[0].result.undone[0].kind, "task.deleted");
      assert.equal((await get(user, rent)).statusCode, 404);
    });

    test("nothing to undo in a new conversation is a tool error the model reads", async () => {
      const user = await signUp(f.t.app);
      f.llm.script(
        { toolCalls: [{ name: "undo_last_turn", arguments: {} }] },
        { text: "Nothing." },
      );
      const res = await chat(f.t, user, { message: "undo" });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().tool_calls[0].result.error.code, "nothing_to_undo");
    });
  });
}
