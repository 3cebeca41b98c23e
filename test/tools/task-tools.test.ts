import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { PGlite } from "@electric-sql/pglite";
import { generateText, stepCountIs } from "ai";
import { asc, eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/pglite";
import { type RequestContext, systemContext } from "../../src/context.ts";
import type { Db } from "../../src/db/client.ts";
import * as schema from "../../src/db/schema.ts";
import { tasks } from "../../src/db/schema.ts";
import { toAiSdkTools } from "../../src/tools/ai-sdk.ts";
import { runTool, TASK_TOOLS } from "../../src/tools/task-tools.ts";
import { isToolError } from "../../src/tools/tool.ts";
import { signUp, startTestApp, type TestApp } from "../support/app.ts";
import { availableBackends } from "../support/databases.ts";
import { type FakeLlm, startFakeLlm } from "../support/fake-llm.ts";

// runTool against the real service and real databases; only the LLM is a fake (a real
// OpenAI-compatible HTTP server on 127.0.0.1) in the AI SDK test.

interface ListResult {
  items: { id: number; completed: boolean; [key: string]: unknown }[];
  total: number;
  next_cursor: string | null;
}

const TOOL_NAMES = [
  "add_task",
  "list_tasks",
  "complete_task",
  "delete_task",
  "update_task",
  "restore_task",
  "undo_last_turn",
];

for (const backend of await availableBackends()) {
  describe(`task tools [${backend}]`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(backend);
    });
    after(() => t.close());

    const newUser = async (): Promise<RequestContext> =>
      systemContext(t.server.database.db, (await signUp(t.app)).id);
    const rowsOf = async (ctx: RequestContext) =>
      JSON.stringify(
        await ctx.db
          .select()
          .from(tasks)
          .where(eq(tasks.userId, ctx.userId))
          .orderBy(asc(tasks.number)),
      );
    const errorCode = (result: unknown) => (isToolError(result) ? result.error.code : undefined);

    test("each tool's result shape", async () => {
      const ctx = await newUser();
      const plain = { due: null, due_label: null, priority: "none", list: "Inbox", labels: [] };
      assert.deepEqual(
        await runTool(ctx, "add_task", { title: "Buy milk", description: "2 litres" }),
        { task_id: 1, status: "created", title: "Buy milk", ...plain },
      );
      assert.deepEqual(await runTool(ctx, "add_task", { title: "  Call mum " }), {
        task_id: 2,
        status: "created",
        title: "Call mum",
        ...plain,
      });

      const all = (await runTool(ctx, "list_tasks", {})) as ListResult;
      assert.equal(all.total, 2);
      assert.equal(all.next_cursor, null);
      assert.deepEqual(all.items[0], {
        id: 1,
        title: "Buy milk",
        completed: false,
        completed_at: null,
        due: null,
        priority: "none",
        list: "Inbox",
        labels: [],
        parent_id: null,
      });
      assert.equal(all.items[1]?.completed, false);

      assert.deepEqual(await runTool(ctx, "complete_task", { task_id: 1 }), {
        task_id: 1,
        status: "completed",
        title: "Buy milk",
        ...plain,
      });
      const ids = async (input: object) =>
        ((await runTool(ctx, "list_tasks", input)) as ListResult).items.map((task) => task.id);
      assert.deepEqual(await ids({ status: "pending" }), [2]);
      assert.deepEqual(await ids({ status: "completed" }), [1]);

      assert.deepEqual(await runTool(ctx, "update_task", { task_id: 2, title: "Call dad" }), {
        task_id: 2,
        status: "updated",
        title: "Call dad",
        ...plain,
      });
      assert.deepEqual(
        await runTool(ctx, "update_task", { task_id: 2, description: "about Sunday" }),
        { task_id: 2, status: "updated", title: "Call dad", ...plain },
      );
      assert.deepEqual(await runTool(ctx, "delete_task", { task_id: 2 }), {
        task_id: 2,
        status: "deleted",
        title: "Call dad",
        ...plain,
        subtasks_deleted: 0,
      });
      assert.deepEqual(await runTool(ctx, "list_tasks", { status: "pending" }), {
        items: [],
        total: 0,
        next_cursor: null,
      });
    });

    test("a missing task and another user's task are not_found, and nothing changes (S1)", async () => {
      const a = await newUser();
      const b = await newUser();
      await runTool(a, "add_task", { title: "A's secret" });
      await runTool(a, "add_task", { title: "A's other" });
      const before = await rowsOf(a);
      const calls: [string, Record<string, unknown>][] = [
        ["complete_task", { task_id: 1 }],
        ["delete_task", { task_id: 2 }],
        ["update_task", { task_id: 1, title: "pwned" }],
        ["complete_task", { task_id: 99 }],
      ];
      for (const [name, input] of calls) {
        const result = await runTool(b, name, input);
        assert.equal(errorCode(result), "not_found", JSON.stringify(result));
        assert.doesNotMatch(JSON.stringify(result), /secret|other/, "nothing about A's task leaks");
      }
      assert.deepEqual(await runTool(b, "list_tasks", {}), {
        items: [],
        total: 0,
        next_cursor: null,
      });
      assert.equal(await rowsOf(a), before);
    });

    test("extra user_id, wrong types and megabyte strings → validation_failed, nothing written (S1)", async () => {
      const a = await newUser();
      const b = await newUser();
      await runTool(a, "add_task", { title: "A's task" });
      const beforeA = await rowsOf(a);
      const huge = "x".repeat(1024 * 1024);
      const calls: [string, unknown][] = [
        ["add_task", { title: "planted", user_id: a.userId }],
        ["list_tasks", { user_id: a.userId }],
        ["complete_task", { task_id: 1, user_id: a.userId }],
        ["delete_task", { task_id: 1, userId: a.userId }],
        ["update_task", { task_id: 1, title: "x", user_id: a.userId }],
        ["complete_task", { task_id: "three" }],
        ["complete_task", { task_id: "1" }],
        ["complete_task", { task_id: 1.5 }],
        ["complete_task", { task_id: 0 }],
        ["delete_task", { task_id: -1 }],
        ["delete_task", { task_id: 99999999999 }],
        ["delete_task", {}],
        ["add_task", { title: 123 }],
        ["add_task", { title: "" }],
        ["add_task", { title: huge }],
        ["add_task", { title: "ok", description: huge }],
        ["add_task", { title: "ok\u0000" }],
        ["update_task", { task_id: 1, title: huge }],
        ["update_task", { task_id: 1 }],
        ["update_task", { task_id: 1, completed: "yes" }],
        ["update_task", { task_id: 1, priority: "urgent" }],
        ["add_task", { title: "x", due: "tomorrow" }],
        ["add_task", { title: "x", due: { string: "whenever the cows come home" } }],
        ["add_task", { title: "x", due: { date: "2026-02-30" } }],
        ["add_task", { title: "x", labels: ["two words"] }],
        ["add_task", { title: "x", list: "" }],
        ["list_tasks", { limit: 101 }],
        ["list_tasks", { cursor: "not-a-cursor" }],
        ["list_tasks", { status: "done" }],
        ["add_task", null],
        ["add_task", "add a task called x"],
        ["add_task", [{ title: "x" }]],
      ];
      for (const [name, input] of calls) {
        const result = await runTool(b, name, input);
        assert.equal(
          errorCode(result),
          "validation_failed",
          `${name} ${JSON.stringify(input)?.slice(0, 80)}`,
        );
        assert.ok(JSON.stringify(result).length < 1000, "the error never echoes a huge input");
      }
      assert.equal(await rowsOf(b), "[]");
      assert.equal(await rowsOf(a), beforeA);
    });

    test("an unknown tool is an error result, not an exception", async () => {
      const ctx = await newUser();
      assert.equal(errorCode(await runTool(ctx, "drop_tables", {})), "not_found");
    });

    test("toAiSdkTools offers the same tools, each with a description, schema and execute", async () => {
      const ctx = await newUser();
      const tools = toAiSdkTools(ctx);
      assert.deepEqual(Object.keys(tools), TOOL_NAMES);
      assert.deepEqual(
        TASK_TOOLS.map((tool) => tool.name),
        TOOL_NAMES,
      );
      for (const definition of TASK_TOOLS) {
        const tool = tools[definition.name];
        assert.equal(tool?.description, definition.description);
        assert.equal(typeof tool?.execute, "function");
      }
    });

    describe("through the AI SDK with a scripted model", () => {
      let fake: FakeLlm;
      before(async () => {
        fake = await startFakeLlm();
      });
      after(() => fake.close());
      const model = () =>
        createOpenAICompatible({ name: "fake", baseURL: `${fake.url}/v1`, apiKey: "k" }).chatModel(
          "fake",
        );

      test("the model sees the JSON schemas, and bad or foreign calls come back as tool results", async () => {
        const a = await newUser();
        const b = await newUser();
        await runTool(a, "add_task", { title: "A's task" });
        const beforeA = await rowsOf(a);
        fake.script(
          {
            toolCalls: [
              { name: "add_task", arguments: { title: "mine" } },
              { name: "complete_task", arguments: { task_id: 1, user_id: a.userId } },
              { name: "delete_task", arguments: { task_id: "three" } },
              { name: "update_task", arguments: { task_id: 7, title: "nope" } },
            ],
          },
          { text: "Done." },
        );
        const result = await generateText({
          model: model(),
          prompt: "add a task",
          tools: toAiSdkTools(b),
          stopWhen: stepCountIs(3),
          maxRetries: 0,
        });
        assert.equal(result.text, "Done.");

        const offered = fake.requests[0]?.body.tools?.map((tool) => tool.function.name);
        assert.deepEqual(offered, TOOL_NAMES);
        const addSchema = fake.requests[0]?.body.tools?.[0]?.function.parameters as {
          additionalProperties?: boolean;
          properties?: Record<string, { maxLength?: number; description?: string }>;
        };
        assert.equal(addSchema.additionalProperties, false);
        assert.equal(addSchema.properties?.title?.maxLength, 200);
        assert.ok(addSchema.properties?.title?.description);

        const outputs = result.steps[0]?.toolResults.map((r) => [r.toolName, r.output]);
        assert.deepEqual(outputs, [
          [
            "add_task",
            {
              task_id: 1,
              status: "created",
              title: "mine",
              due: null,
              due_label: null,
              priority: "none",
              list: "Inbox",
              labels: [],
            },
          ],
          [
            "complete_task",
            { error: { code: "validation_failed", message: 'Unrecognized key: "user_id"' } },
          ],
          [
            "delete_task",
            {
              error: {
                code: "validation_failed",
                message: "task_id: Invalid input: expected number, received string",
              },
            },
          ],
          ["update_task", { error: { code: "not_found", message: "Task 7 was not found" } }],
        ]);
        // The second request carried the tool results back to the model.
        const toolMessages = fake.requests[1]?.body.messages.filter((m) => m.role === "tool") ?? [];
        assert.equal(toolMessages.length, 4);
        assert.equal(await rowsOf(a), beforeA);
        assert.deepEqual(
          ((await runTool(b, "list_tasks", {})) as ListResult).items.map((task) => task.title),
          ["mine"],
        );
      });
    });
  });
}

describe("task tools on a closed database", () => {
  test("database failures (5xx) are thrown, not dressed up as tool results", async () => {
    const client = new PGlite();
    await client.close();
    const ctx = systemContext(drizzle({ client, schema }) as unknown as Db, "nobody");
    await assert.rejects(
      runTool(ctx, "list_tasks", {}),
      (error: { code?: string; status?: number }) => {
        assert.equal(error.code, "database_unavailable");
        assert.equal(error.status, 503);
        return true;
      },
    );
  });
});
