import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { buildWeb } from "../../web/build.ts";
import type { Task } from "../../web/src/api.ts";
import { rpcHeaders, toolCallBody } from "../mcp/support.ts";
import { availableBackends, createTestDatabase, type TestDatabase } from "../support/databases.ts";
import { type ServerProcess, startServerProcess } from "../support/process.ts";
import {
  DESKTOP,
  haveChromium,
  launch,
  RESULTS,
  requireChromium,
  say,
  shot,
  signUp,
  TIMEOUT,
  watch,
} from "./browser.ts";

// Issue 13 on the page: a delete from the panel offers Undo, the Trash view restores, the
// assistant's change offers Undo too, and a task deleted through MCP comes back from the
// page.

requireChromium();

const backends = haveChromium ? (await availableBackends()).slice(0, 1) : [];

for (const backend of backends)
  describe(`undo and the trash on the page (${backend})`, () => {
    let server: ServerProcess;
    let browser: Browser;
    let db: TestDatabase;
    const contexts: BrowserContext[] = [];

    before(async () => {
      mkdirSync(RESULTS, { recursive: true });
      await buildWeb();
      db = await createTestDatabase(backend, { onDisk: true });
      server = await startServerProcess({
        DATA_DIR: db.dataDir,
        ...(db.url ? { DATABASE_URL: db.url } : {}),
        LLM_PROVIDER: "offline",
      });
      browser = await launch();
    });

    after(async () => {
      for (const context of contexts) await context.close().catch(() => {});
      await browser?.close().catch(() => {});
      if (server) {
        server.kill();
        await server.exited;
      }
      await db?.drop();
    });

    async function rest<T>(page: Page, method: string, path: string, data?: unknown): Promise<T> {
      const response = await page.request.fetch(`${server.url}${path}`, {
        method,
        headers: { origin: server.url },
        ...(data === undefined ? {} : { data }),
      });
      assert.ok(response.ok(), `${method} ${path}: ${response.status()} ${await response.text()}`);
      return (await response.json()) as T;
    }

    test("panel delete → Undo; Trash → Restore; an assistant's change → Undo; an MCP delete → Restore", async () => {
      const context = await browser.newContext({ viewport: DESKTOP, colorScheme: "light" });
      context.setDefaultTimeout(TIMEOUT);
      contexts.push(context);
      const page = await context.newPage();
      const problems = watch(page);
      await page.goto(server.url);
      await signUp(page, "Ana", `ana-${Date.now()}@example.com`);
      await page.getByText("No tasks yet").waitFor();
      await page.getByLabel("New task").fill("pay rent");
      await page.getByLabel("New task").press("Enter");
      const task = { id: 1 };
      // Desktop: the chat and the tasks panel side by side (no tabs to switch).
      const row = page.locator(`.task-list .task[data-task-id="${task.id}"]`);
      await row.waitFor();

      // Delete from the panel: gone, and the toast offers Undo.
      await page.getByRole("button", { name: `Delete task ${task.id}` }).click();
      await row.waitFor({ state: "detached" });
      const toast = page.locator(".toast");
      await toast.getByText(/Deleted task 1 “pay rent”/).waitFor();
      // (Adding it offered Undo too; the newest change is what the toast offers.)
      await shot(page, "undo-toast.png");
      await toast.getByRole("button", { name: "Undo" }).click();
      await toast.getByText("Undone").waitFor();
      await row.waitFor();
      // The page's changes are logged with door "web" (its session cookie).
      const mine = await rest<{ items: { kind: string; door: string; undo_of: string | null }[] }>(
        page,
        "GET",
        `/api/activity?task=${task.id}&limit=3`,
      );
      assert.deepEqual(
        mine.items.map((e) => [e.kind, e.door, e.undo_of !== null]),
        [
          ["task.restored", "web", true],
          ["task.deleted", "web", false],
          ["task.created", "web", false],
        ],
      );

      // Delete again (the row leaves at once; wait for the server too), then restore from
      // the Trash view.
      const deleted = page.waitForResponse(
        (r) => r.url().endsWith(`/api/tasks/${task.id}`) && r.request().method() === "DELETE",
      );
      await page.getByRole("button", { name: `Delete task ${task.id}` }).click();
      assert.equal((await deleted).status(), 200);
      await page.getByLabel("Status").selectOption("deleted");
      const back1 = page.waitForResponse((r) => r.url().endsWith(`/api/tasks/${task.id}/restore`));
      await page.getByRole("button", { name: `Restore task ${task.id}` }).click();
      assert.equal((await back1).status(), 200);
      await page.getByText("The trash is empty").waitFor();
      await page.getByLabel("Status").selectOption("all");
      await row.waitFor();

      // The assistant completes it; the toast offers to undo the assistant's turn.
      await say(page, "complete task 1");
      await toast.getByText(/Assistant: Completed task 1/).waitFor();
      await toast.getByRole("button", { name: "Undo" }).click();
      await toast.getByText("Undone").waitFor();
      const back = await rest<Task>(page, "GET", `/api/tasks/${task.id}`);
      assert.equal(back.completed, false);

      // Deleted through MCP with an API key: it shows in the Trash and comes back.
      const key = await rest<{ key: string }>(page, "POST", "/api/api-keys", { name: "mcp" });
      const mcp = await fetch(`${server.url}/mcp`, {
        method: "POST",
        headers: rpcHeaders({ authorization: `Bearer ${key.key}` }),
        body: toolCallBody(1, "delete_task", { task_id: task.id }),
      });
      assert.equal(mcp.status, 200);
      await mcp.text();
      const log = await rest<{ items: { kind: string; door: string }[] }>(
        page,
        "GET",
        `/api/activity?task=${task.id}&limit=1`,
      );
      assert.deepEqual(log.items[0], { ...log.items[0], kind: "task.deleted", door: "mcp" });
      await page.getByLabel("Status").selectOption("deleted");
      const restored = page.waitForResponse((r) =>
        r.url().endsWith(`/api/tasks/${task.id}/restore`),
      );
      await page.getByRole("button", { name: `Restore task ${task.id}` }).click();
      assert.equal((await restored).status(), 200);
      await page.getByText("The trash is empty").waitFor();
      assert.equal((await rest<Task>(page, "GET", `/api/tasks/${task.id}`)).title, "pay rent");
      assert.deepEqual(problems, [], "no console errors");
    });
  });
