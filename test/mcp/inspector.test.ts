import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { signUp, startTestApp, type TestApp } from "../support/app.ts";
import { availableBackends } from "../support/databases.ts";

// The MCP Inspector's CLI (@modelcontextprotocol/inspector, a devDependency) against the
// real server over HTTP with a personal API key: what the README tells a user to type.

const run = promisify(execFile);
const INSPECTOR = join(
  dirname(createRequire(import.meta.url).resolve("@modelcontextprotocol/inspector/package.json")),
  "clients/launcher/build/index.js",
);

for (const backend of await availableBackends()) {
  describe(`MCP Inspector CLI [${backend}]`, () => {
    let t: TestApp;
    let url: string;
    let catalog: string;
    before(async () => {
      t = await startTestApp(backend);
      url = await t.listen();
      catalog = mkdtempSync(join(tmpdir(), "tasktalk-inspector-"));
    });
    after(async () => {
      await t.close();
      rmSync(catalog, { recursive: true, force: true });
    });

    /** `mcp-inspector --cli URL/mcp --transport http --header "Authorization: Bearer KEY" …` */
    const inspector = async (key: string, ...args: string[]) => {
      // It exits 5 when the tool answered isError (stdout still has the result).
      const { stdout } = await run(
        process.execPath,
        [
          INSPECTOR,
          "--cli",
          `${url}/mcp`,
          "--transport",
          "http",
          "--header",
          `Authorization: Bearer ${key}`,
          ...args,
        ],
        {
          env: { ...process.env, MCP_CATALOG_PATH: join(catalog, "mcp.json") },
          timeout: 60_000,
        },
      ).catch((error: { code?: unknown; stdout?: string }) => {
        if (error.code === 5 && error.stdout) return { stdout: error.stdout };
        throw error;
      });
      return JSON.parse(stdout) as Record<string, unknown>;
    };
    const createKey = async (headers: { authorization: string }, scopes?: string[]) => {
      const res = await t.app.inject({
        method: "POST",
        url: "/api/api-keys",
        headers,
        payload: { name: "inspector", ...(scopes ? { scopes } : {}) },
      });
      assert.equal(res.statusCode, 201, res.body);
      return (res.json() as { key: string }).key;
    };

    test("tools/list and tools/call with an API key; a read-only key cannot write", async () => {
      const user = await signUp(t.app);
      const key = await createKey(user.headers);
      const listed = await inspector(key, "--method", "tools/list");
      const tools = listed.tools as { name: string; outputSchema?: unknown }[];
      assert.deepEqual(tools.map((tool) => tool.name).sort(), [
        "add_task",
        "complete_task",
        "delete_task",
        "list_tasks",
        "restore_task",
        "update_task",
      ]);
      for (const tool of tools) assert.ok(tool.outputSchema, `${tool.name} has an outputSchema`);

      const added = await inspector(
        key,
        "--method",
        "tools/call",
        "--tool-name",
        "add_task",
        "--tool-arg",
        "title=From the Inspector",
      );
      assert.equal(added.isError, undefined, JSON.stringify(added));
      const structured = added.structuredContent as { task_id: number; title: string };
      assert.equal(structured.title, "From the Inspector");
      const text = (added.content as { type: string; text: string }[])[0]?.text ?? "";
      assert.deepEqual(JSON.parse(text), structured, "structuredContent equals the text");

      const reader = await createKey(user.headers, ["tasks:read"]);
      const listedTasks = await inspector(
        reader,
        "--method",
        "tools/call",
        "--tool-name",
        "list_tasks",
      );
      assert.equal(listedTasks.isError, undefined, JSON.stringify(listedTasks));
      assert.match(JSON.stringify(listedTasks.structuredContent), /From the Inspector/);
      const refused = await inspector(
        reader,
        "--method",
        "tools/call",
        "--tool-name",
        "add_task",
        "--tool-arg",
        "title=Not allowed",
      );
      assert.equal(refused.isError, true, JSON.stringify(refused));
      assert.match(JSON.stringify(refused.content), /insufficient_scope/);
    });
  });
}
