import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { type RequestContext, systemContext } from "../../src/context.ts";
import { openDatabase } from "../../src/db/client.ts";
import { AppError } from "../../src/errors.ts";
import { createMcpServer } from "../../src/mcp/mcp-server.ts";
import { inputJsonSchema } from "../../src/tools/ai-sdk.ts";
import { TASK_TOOLS } from "../../src/tools/task-tools.ts";
import { callTool, textJson } from "./support.ts";

// The MCP adapter (src/tools/mcp.ts) on its own, through the SDK's in-memory transport:
// what the protocol layer adds to the shared tool definitions.

async function connected(context: () => Promise<RequestContext>, errors: unknown[] = []) {
  const server = createMcpServer({ context, onError: (error) => errors.push(error) });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: "adapter-test", version: "1.0.0" });
  await client.connect(clientSide);
  return { client, server };
}

describe("MCP tool adapter", () => {
  test("advertises the same input schema the model is shown (one definition, two doors)", async () => {
    const { client, server } = await connected(async () => assert.fail("no call expected"));
    try {
      const { tools } = await client.listTools();
      // undo_last_turn needs a chat turn: it is the chat's only.
      const offered = TASK_TOOLS.filter((t) => !t.chatOnly);
      assert.equal(tools.length, offered.length);
      assert.ok(!tools.some((t) => t.name === "undo_last_turn"));
      for (const definition of offered) {
        const tool = tools.find((t) => t.name === definition.name);
        assert.ok(tool, definition.name);
        assert.equal(tool.description, definition.description);
        assert.deepEqual(tool.inputSchema, inputJsonSchema(definition), definition.name);
      }
    } finally {
      await client.close();
      await server.close();
    }
  });

  test("a database failure is an isError result with its code, never the internal message", async () => {
    const database = await openDatabase({ kind: "pglite", dataDir: "memory://" });
    await database.close(); // every query now fails as a lost connection
    const errors: unknown[] = [];
    const { client, server } = await connected(
      async () => systemContext(database.db, "someone"),
      errors,
    );
    try {
      const result = await callTool(client, "list_tasks", {});
      assert.equal(result.isError, true);
      assert.deepEqual(textJson(result), {
        error: { code: "database_unavailable", message: "The database is unavailable" },
      });
      assert.doesNotMatch(JSON.stringify(result), /closed|pglite/i);
      assert.equal(errors.length, 1, "the failure is reported to the server's log");
    } finally {
      await client.close();
      await server.close();
    }
  });

  test("a context that refuses (a revoked key) is an isError result, not a crash", async () => {
    const errors: unknown[] = [];
    const { client, server } = await connected(async () => {
      throw new AppError("unauthorized", "TASKTALK_API_KEY was revoked");
    }, errors);
    try {
      const result = await callTool(client, "add_task", { title: "x" });
      assert.equal(result.isError, true);
      assert.deepEqual(textJson(result), {
        error: { code: "unauthorized", message: "TASKTALK_API_KEY was revoked" },
      });
      assert.equal(errors.length, 0, "an expected refusal is not logged as a failure");
    } finally {
      await client.close();
      await server.close();
    }
  });
});
