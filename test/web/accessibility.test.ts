import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Browser } from "playwright-core";
import { buildWeb } from "../../web/build.ts";
import { type ServerProcess, startServerProcess } from "../support/process.ts";
import {
  audit,
  DESKTOP,
  haveChromium,
  launch,
  PHONE,
  RESULTS,
  requireChromium,
  say,
  TIMEOUT,
} from "./browser.ts";

// axe-core (Deque's accessibility engine, the one browser devtools use) audits every screen
// of the page in Chromium: WCAG 2.x A and AA rules and best practices. No violations.

requireChromium();

describe("every screen passes an axe-core audit", { skip: !haveChromium }, () => {
  let server: ServerProcess;
  let browser: Browser;
  let dataDir: string;

  before(async () => {
    mkdirSync(RESULTS, { recursive: true });
    await buildWeb();
    dataDir = mkdtempSync(join(tmpdir(), "tasktalk-web-"));
    server = await startServerProcess({ DATA_DIR: dataDir }, 120_000);
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

  for (const [name, viewport] of [
    ["desktop", DESKTOP],
    ["phone", PHONE],
  ] as const) {
    for (const scheme of ["light", "dark"] as const) {
      test(`sign-in, sign-up and the workspace (${name}, ${scheme})`, async () => {
        // bypassCSP: the page's CSP (script-src 'self') would refuse the injected axe script.
        const context = await browser.newContext({
          viewport,
          colorScheme: scheme,
          bypassCSP: true,
        });
        context.setDefaultTimeout(TIMEOUT);
        const page = await context.newPage();
        await page.goto(server.url);
        await page.getByRole("button", { name: "Create an account" }).waitFor();
        await audit(page, "sign-in");
        await page.getByRole("button", { name: "Create an account" }).click();
        await audit(page, "sign-up");
        await page
          .getByRole("button", { name: "Sign in instead" })
          .or(page.getByRole("button", { name: /sign in/i }))
          .first()
          .waitFor();
        await page.goto(server.url);
        await page.getByRole("button", { name: "Create an account" }).click();
        await page.getByLabel("Name").fill("Axe");
        await page.getByLabel("Email").fill(`axe-${name}-${scheme}-${Date.now()}@example.com`);
        await page.getByLabel("Password").fill("correct horse battery");
        await page.getByRole("button", { name: "Create account" }).click();
        await page.getByRole("heading", { level: 1, name: "Tasktalk" }).waitFor();
        await audit(page, "empty workspace");
        if (name === "phone") await page.getByRole("button", { name: "Chat", exact: true }).click();
        await say(page, "add buy milk tomorrow with high priority");
        await say(page, "what's pending?");
        await audit(page, "a conversation");
        if (name === "phone") await page.getByRole("button", { name: /^Tasks/ }).click();
        await page.locator(".task", { hasText: "buy milk" }).first().waitFor();
        await audit(page, "tasks");
        await page.getByText("Import / export").click();
        await audit(page, "import / export");
        await page.getByRole("button", { name: "API keys" }).click();
        await page.getByLabel("Name of a new key").fill("axe key");
        await page.getByRole("button", { name: "Create key" }).click();
        await page.getByLabel("New API key").waitFor();
        await page.getByRole("button", { name: "Revoke axe key" }).click();
        await audit(page, "API keys");
        await context.close();
      });
    }
  }
});
