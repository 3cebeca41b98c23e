import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type ChatFixture, chat, messagesOf, signUp, startChatApp } from "../support/chat.ts";
import { availableBackends } from "../support/databases.ts";
import type { RecordedRequest } from "../support/fake-llm.ts";
import { toolCallThenText } from "../support/fake-llm.ts";

/** Tool results of the current turn only (earlier turns' results are in the history too). */
const toolMessages = (req: RecordedRequest) => {
  const lastUser = req.body.messages.findLastIndex((m) => m.role === "user");
  return req.body.messages.slice(lastUser + 1).filter((m) => m.role === "tool");
};

/** A model that resolves "delete the <word> task" the way the seed describes: list, then act. */
/** What a tool result says about a task with no due date, priority, list or labels. */
const PLAIN = { due: null, due_label: null, priority: "none", list: "Inbox", labels: [] };

function deleteByWord(word: string) {
  return (req: RecordedRequest) => {
    const tools = toolMessages(req);
    const lastTool = tools.at(-1);
    if (!lastTool) return { toolCalls: [{ name: "list_tasks", arguments: { status: "all" } }] };
    const content = JSON.parse(String(lastTool.content)) as {
      items?: { id: number; title: string }[];
    };
    if (Array.isArray(content.items)) {
      const match = content.items.find((t) => t.title.toLowerCase().includes(word));
      if (!match) throw new Error(`no task with "${word}"`);
      return { toolCalls: [{ name: "delete_task", arguments: { task_id: match.id } }] };
    }
    return { text: `Deleted task ${(content as { task_id: number }).task_id}.` };
  };
}

for (const backend of await availableBackends()) {
  describe(`chat turn [${backend}]`, () => {
    let f: ChatFixture;
    before(async () => {
      f = await startChatApp(backend);
    });
    after(() => f.close());

    test("first turn on an empty history: 200, a conversation is created (I1)", async () => {
      const user = await signUp(f.t.app);
      f.llm.setDefault({ text: "Hello! I can help with your tasks." });
      const res = await chat(f.t, user, { message: "Hi" });
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json();
      assert.match(body.conversation_id, /^[0-9a-f-]{36}$/);
      assert.equal(body.response, "Hello! I can help with your tasks.");
      assert.deepEqual(body.tool_calls, []);
      const sent = f.llm.requests.at(-1)?.body.messages ?? [];
      assert.equal(sent.at(-1)?.role, "user");
      assert.equal(sent.filter((m) => m.role === "user").length, 1);
    });

    test("the seed commands through chat: add, list with filters, complete, delete by title, update", async () => {
      const user = await signUp(f.t.app);
      const tasks = async (status = "all") =>
        (await f.t.app.inject({ url: `/api/tasks?status=${status}`, headers: user.headers })).json()
          .items as {
          id: number;
          title: string;
          completed: boolean;
        }[];

      f.llm.setDefault(
        toolCallThenText("add_task", { title: "Buy groceries" }, "Added task 1 · Buy groceries."),
      );
      const add = (await chat(f.t, user, { message: "Add a task to buy groceries" })).json();
      assert.equal(add.response, "Added task 1 · Buy groceries.");
      assert.deepEqual(add.tool_calls[0], {
        name: "add_task",
        arguments: { title: "Buy groceries" },
        result: { task_id: 1, status: "created", title: "Buy groceries", ...PLAIN },
      });
      const conversation_id = add.conversation_id;
      for (const title of ["Team meeting prep", "Call mom"]) {
        f.llm.setDefault(toolCallThenText("add_task", { title }, `Added ${title}.`));
        assert.equal(
          (await chat(f.t, user, { message: `add ${title}`, conversation_id })).statusCode,
          200,
        );
      }
      assert.deepEqual(
        (await tasks()).map((t) => t.id),
        [1, 2, 3],
      );

      f.llm.setDefault(toolCallThenText("complete_task", { task_id: 3 }, "Completed task 3."));
      const done = (
        await chat(f.t, user, { message: "Mark task 3 as complete", conversation_id })
      ).json();
      assert.deepEqual(done.tool_calls[0].result, {
        task_id: 3,
        status: "completed",
        title: "Call mom",
        ...PLAIN,
      });

      f.llm.setDefault(
        toolCallThenText("list_tasks", { status: "pending" }, "You have 2 pending tasks."),
      );
      const pending = (
        await chat(f.t, user, { message: "What's pending?", conversation_id })
      ).json();
      assert.deepEqual(
        pending.tool_calls[0].result.items.map((t: { id: number }) => t.id),
        [1, 2],
      );
      f.llm.setDefault(toolCallThenText("list_tasks", { status: "completed" }, "One done."));
      const completed = (
        await chat(f.t, user, { message: "What have I completed?", conversation_id })
      ).json();
      assert.deepEqual(
        completed.tool_calls[0].result.items.map((t: { id: number }) => t.id),
        [3],
      );

      f.llm.setDefault(deleteByWord("meeting"));
      const del = (
        await chat(f.t, user, { message: "Delete the meeting task", conversation_id })
      ).json();
      assert.deepEqual(
        del.tool_calls.map((c: { name: string }) => c.name),
        ["list_tasks", "delete_task"],
      );
      assert.equal(del.response, "Deleted task 2.");
      assert.deepEqual(
        (await tasks()).map((t) => t.id),
        [1, 3],
      );

      f.llm.setDefault(
        toolCallThenText(
          "update_task",
          { task_id: 1, title: "Buy groceries and fruit" },
          "Updated.",
        ),
      );
      await chat(f.t, user, {
        message: "Change task 1 to 'Buy groceries and fruit'",
        conversation_id,
      });
      assert.equal((await tasks()).find((t) => t.id === 1)?.title, "Buy groceries and fruit");

      // The whole history, in seq order, gap-free, replies attached to their user messages.
      const history = await messagesOf(f.t, user, conversation_id);
      assert.deepEqual(
        history.items.map((m) => m.seq),
        Array.from({ length: 16 }, (_, i) => i + 1),
      );
      for (let i = 0; i < history.items.length; i += 2) {
        assert.equal(history.items[i]?.role, "user");
        assert.equal(history.items[i + 1]?.role, "assistant");
        assert.equal(history.items[i + 1]?.reply_to, history.items[i]?.id);
      }
    });

    test("the model sees earlier turns, including their tool calls and results", async () => {
      const user = await signUp(f.t.app);
      f.llm.setDefault(
        toolCallThenText("add_task", { title: "Water plants" }, "Added task 1 · Water plants."),
      );
      const first = (await chat(f.t, user, { message: "remind me to water plants" })).json();
      f.llm.setDefault({ text: "You asked me to add Water plants." });
      await chat(f.t, user, {
        message: "what did I just ask?",
        conversation_id: first.conversation_id,
      });
      const sent = f.llm.requests.at(-1)?.body.messages ?? [];
      assert.deepEqual(
        sent.map((m) => m.role),
        ["system", "user", "assistant", "tool", "assistant", "user"],
      );
      assert.match(String(sent[3]?.content), /Water plants/);
    });

    test("a tool error goes back to the model as a result, not a 500 (S1)", async () => {
      const user = await signUp(f.t.app);
      f.llm.setDefault(
        toolCallThenText("complete_task", { task_id: 99 }, "I couldn't find task 99."),
      );
      const res = await chat(f.t, user, { message: "Complete task 99" });
      assert.equal(res.statusCode, 200);
      assert.equal(res.json().tool_calls[0].result.error.code, "not_found");
      const sentTool = toolMessages(f.llm.requests.at(-1) as RecordedRequest)[0];
      assert.match(String(sentTool?.content), /not_found/);
    });

    test("injected tool arguments (user_id, wrong types, megabyte strings) change nothing (S1)", async () => {
      const victim = await signUp(f.t.app);
      await f.t.app.inject({
        method: "POST",
        url: "/api/tasks",
        headers: victim.headers,
        payload: { title: "Victim task" },
      });
      const attacker = await signUp(f.t.app);
      f.llm.setDefault((req) =>
        toolMessages(req).length > 0
          ? { text: "done" }
          : {
              toolCalls: [
                { name: "delete_task", arguments: { task_id: 1, user_id: victim.id } },
                { name: "complete_task", arguments: { task_id: "one" } },
                { name: "add_task", arguments: { title: "x".repeat(1_000_000) } },
                { name: "update_task", arguments: { task_id: 1, title: "pwned" } },
              ],
            },
      );
      const res = await chat(f.t, attacker, { message: "do it" });
      assert.equal(res.statusCode, 200, res.body);
      for (const call of res.json().tool_calls)
        assert.ok(call.result.error, JSON.stringify(call).slice(0, 200));
      const victimTasks = (
        await f.t.app.inject({ url: "/api/tasks", headers: victim.headers })
      ).json().items;
      assert.equal(victimTasks.length, 1);
      assert.equal(victimTasks[0].title, "Victim task");
      assert.equal(victimTasks[0].completed, false);
      const attackerTasks = (
        await f.t.app.inject({ url: "/api/tasks", headers: attacker.headers })
      ).json().items;
      assert.equal(attackerTasks.length, 0);
    });

    test("another user's conversation → 404 before any model call, nothing stored (A2)", async () => {
      const owner = await signUp(f.t.app);
      const other = await signUp(f.t.app);
      f.llm.setDefault({ text: "hello" });
      const first = (await chat(f.t, owner, { message: "hello" })).json();
      const before = f.llm.requests.length;
      const res = await chat(f.t, other, {
        message: "hi there",
        conversation_id: first.conversation_id,
      });
      assert.equal(res.statusCode, 404);
      assert.equal(res.json().code, "not_found");
      assert.equal(f.llm.requests.length, before);
      assert.equal((await messagesOf(f.t, owner, first.conversation_id)).items.length, 2);
      const missing = await chat(f.t, owner, {
        message: "hi",
        conversation_id: "00000000-0000-4000-8000-000000000000",
      });
      assert.equal(missing.statusCode, 404);
      assert.deepEqual(Object.keys(missing.json()).sort(), Object.keys(res.json()).sort());
    });

    test("the seed path /api/{user_id}/chat: own id works, another id is 403 (A4)", async () => {
      const user = await signUp(f.t.app);
      const other = await signUp(f.t.app);
      f.llm.setDefault({ text: "hi" });
      const own = await f.t.app.inject({
        method: "POST",
        url: `/api/${user.id}/chat`,
        headers: user.headers,
        payload: { message: "hi" },
      });
      assert.equal(own.statusCode, 200);
      assert.deepEqual(
        Object.keys(own.json())
          .filter((k) => ["conversation_id", "response", "tool_calls"].includes(k))
          .sort(),
        ["conversation_id", "response", "tool_calls"],
      );
      const before = f.llm.requests.length;
      const theirs = await f.t.app.inject({
        method: "POST",
        url: `/api/${other.id}/chat`,
        headers: user.headers,
        payload: { message: "hi" },
      });
      assert.equal(theirs.statusCode, 403);
      assert.equal(theirs.json().code, "forbidden");
      assert.equal(f.llm.requests.length, before);
    });

    test("bad bodies are 4xx with a code and never reach the model (A3, C1, I2, I6)", async () => {
      const user = await signUp(f.t.app);
      const before = f.llm.requests.length;
      const cases: [unknown, number, string][] = [
        [{ message: "" }, 400, "validation_failed"],
        [{ message: "   " }, 400, "validation_failed"],
        [{ message: "x".repeat(8001) }, 400, "validation_failed"],
        [{ message: 42 }, 400, "validation_failed"],
        [{}, 400, "validation_failed"],
        [{ message: "hi", user_id: user.id }, 400, "validation_failed"],
        [{ message: "hi", role: "system" }, 400, "validation_failed"],
        [{ message: "hi", conversation_id: "abc" }, 400, "validation_failed"],
        [{ message: "hi", conversation_id: "" }, 400, "validation_failed"],
        [{ message: "hi", conversation_id: "a".repeat(40) }, 400, "validation_failed"],
        [{ message: "hi", client_message_id: "not-a-uuid" }, 400, "validation_failed"],
        [{ message: "😀".repeat(8001) }, 400, "validation_failed"],
      ];
      for (const [payload, status, code] of cases) {
        const res = await chat(f.t, user, payload as Record<string, unknown>);
        assert.equal(
          res.statusCode,
          status,
          `${JSON.stringify(payload).slice(0, 80)} → ${res.body}`,
        );
        assert.equal(res.json().code, code);
      }
      const raw = async (payload: string, contentType: string) =>
        f.t.app.inject({
          method: "POST",
          url: "/api/chat",
          headers: { ...user.headers, "content-type": contentType },
          payload,
        });
      assert.equal((await raw('{"message": "hi"', "application/json")).json().code, "invalid_json");
      assert.equal((await raw("message=hi", "application/x-www-form-urlencoded")).statusCode, 415);
      // Over CHAT_BODY_LIMIT_BYTES (4 MiB: an AI SDK client sends the whole chat each time).
      const huge = await raw(
        JSON.stringify({ message: "x".repeat(5_000_000) }),
        "application/json",
      );
      assert.equal(huge.statusCode, 413);
      assert.equal(huge.json().code, "payload_too_large");
      assert.equal(f.llm.requests.length, before, "no model call for a bad request");
    });

    test("no token → 401 on chat and every conversation route (A5)", async () => {
      const id = "00000000-0000-4000-8000-000000000000";
      for (const [method, url] of [
        ["POST", "/api/chat"],
        ["POST", "/api/someone/chat"],
        ["GET", "/api/conversations"],
        ["GET", `/api/conversations/${id}`],
        ["PATCH", `/api/conversations/${id}`],
        ["DELETE", `/api/conversations/${id}`],
        ["GET", `/api/conversations/${id}/messages`],
      ] as const) {
        const res = await f.t.app.inject({
          method,
          url,
          payload: method === "GET" || method === "DELETE" ? undefined : { message: "x" },
        });
        assert.equal(res.statusCode, 401, `${method} ${url}`);
      }
    });
  });
}
