import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import type { TestUser } from "../support/app.ts";
import { type ChatFixture, chat, signUp, startChatApp } from "../support/chat.ts";
import { availableBackends } from "../support/databases.ts";
import type { RecordedRequest } from "../support/fake-llm.ts";

// Issue 13 item 4 with a real-model turn: the fake OpenAI-protocol model asks for three
// deletes in one step; nothing is deleted until the user's "yes" in the next turn.

const backends = await availableBackends();

const threeDeletes = {
  toolCalls: [1, 2, 3].map((n) => ({ name: "delete_task", arguments: { task_id: n } })),
};

/** The model's answer to "yes": confirm, then say so once the result is back. */
const confirmThenText = (req: RecordedRequest) =>
  req.body.messages.at(-1)?.role === "tool"
    ? { text: "Done." }
    : { toolCalls: [{ name: "confirm_pending_action", arguments: {} }] };

for (const backend of backends) {
  describe(`confirmation of bulk actions, real model [${backend}]`, () => {
    let f: ChatFixture;
    before(async () => {
      f = await startChatApp(backend);
    });
    after(() => f.close());

    async function seeded(): Promise<TestUser> {
      f.llm.reset();
      const user = await signUp(f.t.app);
      for (const title of ["buy milk", "email Sarah", "call mom"]) {
        const res = await f.t.app.inject({
          method: "POST",
          url: "/api/tasks",
          headers: user.headers,
          payload: { title },
        });
        assert.equal(res.statusCode, 201, res.body);
      }
      return user;
    }

    const titles = async (user: TestUser): Promise<string[]> => {
      const res = await f.t.app.inject({ url: "/api/tasks", headers: user.headers });
      return (res.json().items as Array<{ title: string }>).map((t) => t.title);
    };

    /** Turn 1: three deletes in one step → nothing deleted, the reply asks. */
    async function askedToDeleteAll(user: TestUser): Promise<string> {
      f.llm.script(threeDeletes, { text: "the model is not asked after a hold" });
      const before = f.llm.requests.length;
      const res = await chat(f.t, user, { message: "delete all my tasks" });
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json();
      assert.match(
        body.response,
        /^Delete these 3 tasks: task 1 · buy milk, task 2 · email Sarah, task 3 · call mom\? \(yes \/ no\)$/u,
      );
      assert.deepEqual(await titles(user), ["buy milk", "email Sarah", "call mom"]);
      assert.deepEqual(
        body.tool_calls.map((c: { name: string }) => c.name),
        ["hold_for_confirmation"],
      );
      assert.equal(f.llm.requests.length, before + 1, "the question is not the model's to word");
      const offered = (f.llm.requests.at(-1)?.body.tools ?? []).map((t) => t.function.name);
      assert.ok(offered.includes("confirm_pending_action"));
      assert.ok(!offered.includes("hold_for_confirmation"), "the hold tool is hidden");
      f.llm.reset();
      return body.conversation_id as string;
    }

    test('"yes" in the next turn deletes them; a retry of that turn does not run it twice', async () => {
      const user = await seeded();
      const conversationId = await askedToDeleteAll(user);
      f.llm.script(confirmThenText, confirmThenText);
      const id = randomUUID();
      const yes = await chat(f.t, user, {
        message: "yes",
        conversation_id: conversationId,
        client_message_id: id,
      });
      assert.equal(yes.statusCode, 200, yes.body);
      assert.deepEqual(await titles(user), []);
      const call = yes.json().tool_calls[0];
      assert.equal(call.name, "confirm_pending_action");
      assert.equal(call.result.status, "confirmed");
      assert.deepEqual(
        call.result.done.map((d: { task_id: number }) => d.task_id),
        [1, 2, 3],
      );
      const again = await chat(f.t, user, {
        message: "yes",
        conversation_id: conversationId,
        client_message_id: id,
      });
      assert.deepEqual(again.json(), yes.json());
      // And a second "yes" finds nothing pending any more.
      f.llm.script(confirmThenText, confirmThenText);
      const twice = await chat(f.t, user, { message: "yes", conversation_id: conversationId });
      assert.equal(twice.json().tool_calls[0].result.error.code, "nothing_pending");
    });

    test("a model that answers yes by asking for the same deletes again gets them confirmed", async () => {
      const user = await seeded();
      const conversationId = await askedToDeleteAll(user);
      f.llm.script(threeDeletes, { text: "Deleted." });
      const yes = await chat(f.t, user, { message: "yes please", conversation_id: conversationId });
      assert.equal(yes.statusCode, 200, yes.body);
      assert.deepEqual(await titles(user), []);
      assert.equal(yes.json().tool_calls[0].name, "confirm_pending_action");
    });

    test("an unrelated request instead: nothing is pending any more", async () => {
      const user = await seeded();
      const conversationId = await askedToDeleteAll(user);
      f.llm.script(
        { toolCalls: [{ name: "add_task", arguments: { title: "buy bread" } }] },
        { text: "Added." },
      );
      const other = await chat(f.t, user, {
        message: "add buy bread",
        conversation_id: conversationId,
      });
      assert.equal(other.statusCode, 200, other.body);
      f.llm.script(confirmThenText, confirmThenText);
      const late = await chat(f.t, user, { message: "yes", conversation_id: conversationId });
      assert.equal(late.statusCode, 200, late.body);
      assert.equal(late.json().tool_calls[0].result.error.code, "nothing_pending");
      assert.deepEqual(await titles(user), ["buy milk", "email Sarah", "call mom", "buy bread"]);
    });

    test("a yes in another conversation confirms nothing; no cancels", async () => {
      const user = await seeded();
      const conversationId = await askedToDeleteAll(user);
      f.llm.script(confirmThenText, confirmThenText);
      const elsewhere = await chat(f.t, user, { message: "yes" });
      assert.equal(elsewhere.json().tool_calls[0].result.error.code, "nothing_pending");
      assert.equal((await titles(user)).length, 3);

      // Another user's "yes" cannot reach it either (the record is per user).
      const stranger = await signUp(f.t.app);
      f.llm.script(confirmThenText, confirmThenText);
      const theirs = await chat(f.t, stranger, { message: "yes", conversation_id: conversationId });
      assert.equal(theirs.statusCode, 404);
      f.llm.reset();

      const cancel = (req: RecordedRequest) =>
        req.body.messages.at(-1)?.role === "tool"
          ? { text: "OK, kept." }
          : { toolCalls: [{ name: "cancel_pending_action", arguments: {} }] };
      f.llm.script(cancel, cancel);
      const no = await chat(f.t, user, { message: "no", conversation_id: conversationId });
      assert.equal(no.json().tool_calls[0].result.status, "cancelled");
      assert.equal((await titles(user)).length, 3);
    });

    test("one delete of a task the user named runs at once; two completions ask", async () => {
      const user = await seeded();
      f.llm.script(
        { toolCalls: [{ name: "list_tasks", arguments: { q: "milk" } }] },
        { toolCalls: [{ name: "delete_task", arguments: { task_id: 1 } }] },
        { text: "Deleted." },
      );
      const one = await chat(f.t, user, { message: "delete the milk task" });
      assert.equal(one.statusCode, 200, one.body);
      assert.deepEqual(await titles(user), ["email Sarah", "call mom"]);

      f.llm.script(
        {
          toolCalls: [
            { name: "complete_task", arguments: { task_id: 2 } },
            { name: "update_task", arguments: { task_id: 3, completed: true } },
          ],
        },
        { text: "unused" },
      );
      const two = await chat(f.t, user, { message: "I did everything" });
      assert.match(two.json().response, /^Mark these 2 tasks as done: .*\? \(yes \/ no\)$/u);
      const list = await f.t.app.inject({ url: "/api/tasks", headers: user.headers });
      assert.ok(list.json().items.every((t: { completed: boolean }) => !t.completed));
      f.llm.reset();
    });

    test("a delete of a task whose title the user never said asks first", async () => {
      const user = await seeded();
      f.llm.script(
        { toolCalls: [{ name: "list_tasks", arguments: {} }] },
        { toolCalls: [{ name: "delete_task", arguments: { task_id: 3 } }] },
        { text: "unused" },
      );
      const res = await chat(f.t, user, { message: "delete the phone thing" });
      assert.equal(res.json().response, "Did you mean task 3 · call mom? Delete it? (yes / no)");
      assert.equal((await titles(user)).length, 3);
      f.llm.reset();
    });
  });
}
