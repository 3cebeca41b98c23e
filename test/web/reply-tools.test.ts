import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { buildWeb } from "../../web/build.ts";
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

// Issue 19 on the page: a reply's Context, Regenerate with the old answer still there
// ("Answer 1/2"), and the search box opening a conversation at the message found. Each
// screen also passes axe-core.

requireChromium();

const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

async function audit(page: Page, screen: string): Promise<void> {
  await page.addScriptTag({ path: AXE });
  const violations = (await page.evaluate(async () => {
    const axe = (
      globalThis as unknown as { axe: { run(...a: unknown[]): Promise<{ violations: unknown[] }> } }
    ).axe;
    const result = await axe.run(document, {
      runOnly: {
        type: "tag",
        values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
      },
    });
    return result.violations;
  })) as { id: string; help: string; nodes: { target: string[] }[] }[];
  const described = violations.map(
    (v) =>
      `${v.id}: ${v.help} — ${v.nodes
        .slice(0, 3)
        .map((n) => n.target.join(" "))
        .join(", ")}`,
  );
  assert.deepEqual(described, [], `axe on "${screen}":\n  ${described.join("\n  ")}`);
}

const backends = haveChromium ? (await availableBackends()).slice(0, 1) : [];

for (const backend of backends)
  describe(`context, regenerate and search on the page (${backend})`, () => {
    let server: ServerProcess;
    let browser: Browser;
    let db: TestDatabase;

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
      await browser?.close().catch(() => {});
      if (server) {
        server.kill();
        await server.exited;
      }
      await db?.drop();
    });

    test("Context shows the messages and tools; Regenerate keeps the old answer; search opens the message", async () => {
      const context = await browser.newContext({
        viewport: DESKTOP,
        colorScheme: "light",
        bypassCSP: true, // the injected axe script
      });
      context.setDefaultTimeout(TIMEOUT);
      const page = await context.newPage();
      const problems = watch(page);
      await page.goto(server.url);
      await signUp(page, "Cleo", `cleo-${Date.now()}@example.com`);
      await say(page, "add buy oat milk");
      for (let i = 0; i < 3; i++) await say(page, `add water plant number ${i + 1}`);
      await say(page, "add call the zookeeper");

      // Context of the last reply: the seqs given, the tools offered.
      const last = page.locator(".message.assistant").last();
      await last.getByRole("button", { name: "Context" }).click();
      const panel = last.getByRole("region", { name: "What the model was given" });
      await panel.waitFor();
      const text = await panel.innerText();
      assert.match(text, /seq 1–9/);
      assert.match(text, /add_task/);
      assert.match(text, /prompt \d{4}-\d\d-\d\d/);
      await audit(page, "a reply's context");
      await shot(page, "reply-context.png");

      // Regenerate: the new answer, the old one one click away, the task not added twice.
      await last.getByRole("button", { name: "Regenerate" }).click();
      await page.getByText("Answer 2/2").waitFor();
      await page.getByText(/previous answer had already done this/).waitFor();
      await page.getByRole("button", { name: "Previous answer" }).click();
      await page.getByText("Answer 1/2").waitFor();
      await audit(page, "an earlier answer");
      const zoo = page.locator(".task", { hasText: "call the zookeeper" });
      await zoo.first().waitFor();
      assert.equal(await zoo.count(), 1, "regenerating did not add the task again");

      // Search: the first message, many messages ago, opens at its place.
      await page.getByLabel("Search chats and tasks").fill("oat");
      await page.getByLabel("Search chats and tasks").press("Enter");
      const results = page.getByRole("region", { name: "Search results" });
      await results.getByText("oat", { exact: false }).first().waitFor();
      await audit(page, "search results");
      await shot(page, "search-results.png");
      await results
        .getByRole("button")
        .filter({ has: page.locator(".search-where", { hasText: /· you$/ }) })
        .first()
        .click();
      await page.locator(".message.search-focus", { hasText: "add buy oat milk" }).waitFor();
      assert.deepEqual(problems, []);
      await context.close();
    });
  });
