import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { signUp, startTestApp, type TestApp } from "../support/app.ts";
import { availableBackends } from "../support/databases.ts";
import { callTool, connectClient, textJson } from "./support.ts";

// The task model over MCP (real HTTP, the official SDK client, which itself checks each
// structuredContent against the tool's outputSchema): every tool declares one, and each
// result's structuredContent is exactly its text.

for (const backend of await availableBackends()) {
  describe(`MCP task model [${backend}]`, () => {
    let t: TestApp;
    let url: string;
    const clients: Client[] = [];
    before(async () => {
      t = await startTestApp(backend);
      url = await t.listen();
    });
    after(async () => {
      for (const client of clients) await client.close();
      await t.close();
    });
    const connect = async (headers: Record<string, string>) => {
      const client = await connectClient(url, headers);
      clients.push(client);
      return client;
    };
    const ok = (result: CallToolResult) => {
      assert.equal(result.isError, undefined, JSON.stringify(result));
      assert.deepEqual(textJson(result), result.structuredContent, "text = structuredContent");
      return result.structuredContent as Record<string, unknown>;
    };

    test("every tool has an object outputSchema", async () => {
      const a = await signUp(t.app);
      const { tools } = await (await connect(a.headers)).listTools();
      assert.equal(tools.length, 6);
      for (const tool of tools) {
        assert.equal(tool.outputSchema?.type, "object", tool.name);
        assert.ok(Object.keys(tool.outputSchema?.properties ?? {}).length > 0, tool.name);
      }
      const list = tools.find((x) => x.name === "list_tasks");
      assert.deepEqual(Object.keys(list?.outputSchema?.properties ?? {}).sort(), [
        "items",
        "next_cursor",
        "total",
      ]);
    });

    test("due, priority, list and labels over MCP are what REST shows; reopen over MCP", async () => {
      const a = await signUp(t.app);
      const zone = await t.app.inject({
        method: "PATCH",
        url: "/api/me",
        headers: a.headers,
        payload: { timezone: "America/New_York" },
      });
      assert.equal(zone.statusCode, 200);
      const client = await connect(a.headers);
      const added = ok(
        await callTool(client, "add_task", {
          title: "Dentist",
          due: { date: "2026-12-01", time: "09:00" },
          priority: "medium",
          list: "Health",
          labels: ["Appointments"],
        }),
      );
      assert.match(String(added.due_label), /^Tue 1 Dec( 2026)?, 09:00$/);
      const rest = await t.app.inject({ url: "/api/tasks/1", headers: a.headers });
      const task = rest.json();
      assert.deepEqual(task.due, {
        date: "2026-12-01",
        time: "09:00",
        timezone: "America/New_York",
        at: "2026-12-01T14:00:00.000Z",
        string: null,
        recurrence: null,
        repeat_from: null,
      });
      assert.deepEqual(added.due, task.due);
      assert.deepEqual(
        [task.priority, task.list, task.labels],
        ["medium", "Health", ["appointments"]],
      );

      ok(await callTool(client, "complete_task", { task_id: 1 }));
      const reopened = ok(await callTool(client, "update_task", { task_id: 1, completed: false }));
      assert.equal(reopened.status, "reopened");
      assert.equal(
        (await t.app.inject({ url: "/api/tasks/1", headers: a.headers })).json().completed,
        false,
      );

      const page = ok(await callTool(client, "list_tasks", { list: "health", limit: 1 }));
      assert.equal(page.total, 1);
      assert.equal(page.next_cursor, null);
      assert.deepEqual(page.items, [
        {
          id: 1,
          title: "Dentist",
          completed: false,
          completed_at: null,
          due: "2026-12-01 09:00",
          priority: "medium",
          list: "Health",
          labels: ["appointments"],
          parent_id: null,
        },
      ]);
      // After listTools the SDK client checks every structuredContent against the tool's
      // outputSchema, errors included: a failure is text only, and the client accepts it.
      await client.listTools();
      const failed = await callTool(client, "add_task", { title: "x", due: { string: "blorp" } });
      assert.equal(failed.isError, true);
      assert.equal(failed.structuredContent, undefined);
      assert.equal(
        (textJson(failed) as { error: { code: string } }).error.code,
        "validation_failed",
      );
      const missing = await callTool(client, "list_tasks", { cursor: "nope" });
      assert.equal(missing.isError, true);
    });
  });
}
