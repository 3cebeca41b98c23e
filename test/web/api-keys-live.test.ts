import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Browser } from "playwright-core";
import { buildWeb } from "../../web/build.ts";
import { type ServerProcess, startServerProcess } from "../support/process.ts";
import {
  DESKTOP,
  haveChromium,
  launch,
  RESULTS,
  requireChromium,
  shot,
  signUp,
  TIMEOUT,
  watch,
} from "./browser.ts";

// A person makes an API key in the page, a script uses it, and the tasks the script writes
// show in the open page without a reload; revoked, the key stops working.

requireChromium();

/** The page polls every 3 s (web/src/useLiveTasks.ts): a change shows well within this. */
const LIVE_WITHIN_MS = 10_000;

describe("API keys and live updates in the page", { skip: !haveChromium }, () => {
  let server: ServerProcess;
  let browser: Browser;
  let dataDir: string;

  before(async () => {
    mkdirSync(RESULTS, { recursive: true });
    await buildWeb();
    dataDir = mkdtempSync(join(tmpdir(), "tasktalk-web-"));
    server = await startServerProcess({ DATA_DIR: dataDir });
    browser = await launch();
  });
  after(async () => {
    await browser?.close().catch(() => {});
    if (server) {
      server.kill();
      await server.exited;
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  test("create a key, copy it, use it (tasks appear live), revoke it", async () => {
    const context = await browser.newContext({ viewport: DESKTOP });
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.url });
    context.setDefaultTimeout(TIMEOUT);
    const page = await context.newPage();
    const problems = watch(page);
    await page.goto(server.url);
    await signUp(page, "Scripter", `scripter-${Date.now()}@example.com`);

    // Create, with the keyboard: type a name, Enter.
    await page.getByRole("button", { name: "API keys" }).click();
    await page.getByRole("heading", { name: "API keys" }).waitFor();
    await page.getByLabel("Name of a new key").fill("laptop script");
    await page.getByLabel("Name of a new key").press("Enter");
    await page.getByText("you won't see it again").waitFor();
    const shown = await page.getByLabel("New API key").inputValue();
    assert.match(shown, /^tt_[A-Za-z0-9_-]{43}$/);
    await page.getByRole("button", { name: "Copy", exact: true }).click();
    await page.getByRole("button", { name: "Copied" }).waitFor();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    assert.equal(copied, shown);
    const row = page.locator("tr", { hasText: "laptop script" });
    await row.waitFor();
    assert.match((await row.textContent()) ?? "", /never/);
    await shot(page, "api-key-created.png");

    // Done hides the secret for good: the list shows only the prefix.
    await page.getByRole("button", { name: "Done" }).click();
    assert.equal(await page.getByLabel("New API key").count(), 0);
    assert.equal(await page.getByText(shown).count(), 0);

    // The key works against the API, and what it writes shows in the open page.
    const rest = (method: string, path: string, body?: unknown) =>
      fetch(`${server.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${copied}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    await page.getByRole("button", { name: "Back to chat" }).click();
    await page.locator(".panel.tasks").waitFor();
    const start = Date.now();
    const created = await rest("POST", "/api/tasks", { title: "Written by a script" });
    assert.equal(created.status, 201);
    const task = (await created.json()) as { id: number };
    await page
      .locator(".task", { hasText: "Written by a script" })
      .first()
      .waitFor({ timeout: LIVE_WITHIN_MS });
    const shownAfter = Date.now() - start;
    assert.ok(shownAfter < LIVE_WITHIN_MS, `shown after ${shownAfter} ms`);

    const deleted = await rest("DELETE", `/api/tasks/${task.id}`);
    assert.equal(deleted.status, 200);
    await page
      .locator(".task", { hasText: "Written by a script" })
      .first()
      .waitFor({ state: "detached", timeout: LIVE_WITHIN_MS });

    // The list shows it was used; revoking asks first, then the key is refused.
    await page.getByRole("button", { name: "API keys" }).click();
    const used = page.locator("tr", { hasText: "laptop script" });
    await used.waitFor();
    assert.doesNotMatch((await used.textContent()) ?? "", /never/);
    await page.getByRole("button", { name: "Revoke laptop script" }).click();
    await page.getByRole("button", { name: "Cancel" }).click();
    assert.equal((await rest("GET", "/api/tasks")).status, 200, "cancel keeps the key");
    await page.getByRole("button", { name: "Revoke laptop script" }).click();
    // The confirm button has the focus: Enter revokes.
    await page.keyboard.press("Enter");
    await page.getByText("Revoked “laptop script”").waitFor();
    await page.locator("tr", { hasText: "laptop script" }).waitFor({ state: "detached" });
    assert.equal((await rest("GET", "/api/tasks")).status, 401);
    assert.deepEqual(problems, []);
    await context.close();
  });
});
