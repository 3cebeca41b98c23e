import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { signUp, startTestApp, type TestApp } from "../support/app.ts";
import { availableBackends, createTestDatabase } from "../support/databases.ts";
import { callTool, createApiKey, textJson } from "./support.ts";

// scripts/mcp-stdio.ts as a real child process, driven by the SDK's StdioClientTransport.

const SCRIPT = fileURLToPath(new URL("../../scripts/mcp-stdio.ts", import.meta.url));
const TOOL_NAMES = [
  "add_task",
  "complete_task",
  "delete_task",
  "list_tasks",
  "restore_task",
  "update_task",
];

function baseEnv(t: TestApp, key: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "",
    NODE_ENV: "test",
    LOG_LEVEL: "warn",
    DATA_DIR: t.testDb.dataDir,
    TASKTALK_API_KEY: key,
    ...(t.testDb.url ? { DATABASE_URL: t.testDb.url } : {}),
  };
}

async function connectStdio(
  env: Record<string, string>,
): Promise<{ client: Client; stderr: () => string }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [SCRIPT],
    env,
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const client = new Client({ name: "tasktalk-stdio-test", version: "1.0.0" });
  try {
    await client.connect(transport);
  } catch (error) {
    throw new Error(`stdio server did not start: ${stderr}`, { cause: error });
  }
  return { client, stderr: () => stderr };
}

/** Runs the script to its exit (for start-up failures): exit code and both outputs. */
function runToExit(env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const proc = spawn(process.execPath, [SCRIPT], { env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    proc.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    proc.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    proc.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

const backends = await availableBackends();

describe("MCP over stdio [pg]", { skip: !backends.includes("pg") && "no PostgreSQL" }, () => {
  test("lists and calls the tools as the key's owner, beside the running HTTP server", async () => {
    const t = await startTestApp("pg");
    try {
      const a = await signUp(t.app);
      const { id, key } = await createApiKey(t.app, a);
      const { client } = await connectStdio(baseEnv(t, key));
      try {
        const { tools } = await client.listTools();
        assert.deepEqual(tools.map((tool) => tool.name).sort(), TOOL_NAMES);
        // The key owner's zone reaches the stdio context too.
        const zone = await t.app.inject({
          method: "PATCH",
          url: "/api/me",
          headers: a.headers,
          payload: { timezone: "Asia/Tokyo" },
        });
        assert.equal(zone.statusCode, 200, zone.body);
        const added = await callTool(client, "add_task", {
          title: "from the desktop",
          due: { string: "today" },
        });
        assert.equal(added.isError, undefined, JSON.stringify(added));
        assert.equal((added.structuredContent as { task_id: number }).task_id, 1);
        assert.equal((added.structuredContent as { title: string }).title, "from the desktop");
        assert.equal(
          (added.structuredContent as { due: { timezone: string } }).due.timezone,
          "Asia/Tokyo",
        );
        const rest = await t.app.inject({ url: "/api/tasks", headers: a.headers });
        assert.deepEqual(
          rest.json().items.map((i: { title: string }) => i.title),
          ["from the desktop"],
        );

        // Revoking the key stops the running stdio server at its next call.
        await t.app.inject({ method: "DELETE", url: `/api/api-keys/${id}`, headers: a.headers });
        const refused = await callTool(client, "list_tasks", {});
        assert.equal(refused.isError, true);
        assert.equal((textJson(refused) as { error: { code: string } }).error.code, "unauthorized");
      } finally {
        await client.close();
      }
    } finally {
      await t.close();
    }
  });

  test("a missing, unknown or revoked key → exit 1 with a clear message, nothing on stdout", async () => {
    const t = await startTestApp("pg");
    try {
      for (const [key, message] of [
        ["", /TASKTALK_API_KEY is not set/],
        [`tt_${"A".repeat(43)}`, /not a valid API key, or it was revoked/],
      ] as const) {
        const run = await runToExit(baseEnv(t, key));
        assert.equal(run.code, 1, run.stderr);
        assert.match(run.stderr, message);
        assert.equal(run.stdout, "", "stdout is the protocol: nothing else is written there");
      }
    } finally {
      await t.close();
    }
  });
});

describe("MCP over stdio [pglite]", () => {
  test("refused while the HTTP server holds the directory (with advice); serves once it is free", async () => {
    const testDb = await createTestDatabase("pglite", { onDisk: true });
    try {
      const t = await startTestApp("pglite", {}, { testDb });
      let key: string;
      try {
        const a = await signUp(t.app);
        key = (await createApiKey(t.app, a)).key;
        const run = await runToExit(baseEnv(t, key));
        assert.equal(run.code, 1, run.stderr);
        assert.match(run.stderr, /one process per directory/);
        assert.match(run.stderr, /DATABASE_URL/);
        assert.match(run.stderr, /\/mcp/);
        assert.equal(run.stdout, "");
      } finally {
        await t.close(); // releases the directory
      }
      const { client } = await connectStdio(baseEnv(t, key));
      try {
        const { tools } = await client.listTools();
        assert.deepEqual(tools.map((tool) => tool.name).sort(), TOOL_NAMES);
        const added = await callTool(client, "add_task", { title: "offline" });
        assert.equal(added.isError, undefined, JSON.stringify(added));
      } finally {
        await client.close();
      }
    } finally {
      await testDb.drop();
    }
  });
});
