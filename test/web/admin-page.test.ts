import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { buildWeb } from "../../web/build.ts";
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

// The admin page, as an admin uses it: the first account sees "Admin", the list of users
// with their usage, and disables, re-enables and deletes another account.

requireChromium();

describe("the admin page", { skip: !haveChromium }, () => {
  let server: ServerProcess;
  let browser: Browser;
  let dataDir: string;
  const contexts: BrowserContext[] = [];
  const stamp = Date.now();
  const adminEmail = `admin-${stamp}@example.com`;
  const bobEmail = `bob-${stamp}@example.com`;

  before(async () => {
    mkdirSync(RESULTS, { recursive: true });
    await buildWeb();
    dataDir = mkdtempSync(join(tmpdir(), "tasktalk-admin-web-"));
    server = await startServerProcess({ DATA_DIR: dataDir, LLM_PROVIDER: "offline" });
    browser = await launch();
  });

  after(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close().catch(() => {});
    if (server) {
      server.kill();
      await server.exited;
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  async function newPage(): Promise<{ page: Page; problems: string[] }> {
    const context = await browser.newContext({ viewport: DESKTOP, colorScheme: "light" });
    context.setDefaultTimeout(TIMEOUT);
    contexts.push(context);
    const page = await context.newPage();
    return { page, problems: watch(page) };
  }

  test("first account is admin: list with usage, disable, enable, delete", async () => {
    const { page: adminPage } = await newPage();
    await adminPage.goto(server.url);
    await signUp(adminPage, "Ada Admin", adminEmail);
    const { page: bobPage } = await newPage();
    await bobPage.goto(server.url);
    await signUp(bobPage, "Bob", bobEmail);
    await say(bobPage, "add a task to water the plants");
    // Bob is a user: no Admin button.
    await bobPage.getByRole("button", { name: "Sign out" }).waitFor();
    assert.equal(await bobPage.getByRole("button", { name: "Admin" }).count(), 0);

    await adminPage.reload();
    await adminPage.getByRole("button", { name: "Admin" }).click();
    const row = adminPage.locator(`tr[data-user="${bobEmail}"]`);
    await row.waitFor();
    const cells = await row.locator("td").allInnerTexts();
    assert.deepEqual(cells.slice(1, 6), ["user", "active", "1", "1", "1"]);
    await shot(adminPage, "admin-users.png");

    await row.getByRole("button", { name: "Disable" }).click();
    await row.getByText("disabled").waitFor();
    // Bob's session ended: his next request is refused and the page asks him to sign in.
    await bobPage.reload();
    await bobPage.getByRole("button", { name: "Create an account" }).waitFor();

    await row.getByRole("button", { name: "Enable" }).click();
    await row.getByText("active").waitFor();

    adminPage.once("dialog", (dialog) => void dialog.accept());
    await row.getByRole("button", { name: "Delete" }).click();
    await row.waitFor({ state: "detached" });
    // The admin's own row has no self-destructive actions.
    const own = adminPage.locator(`tr[data-user="${adminEmail}"]`);
    assert.equal(await own.getByRole("button", { name: "Delete" }).isDisabled(), true);
  });
});
