import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Browser } from "playwright-core";
import { buildWeb } from "../../web/build.ts";
import type { Me } from "../../web/src/api.ts";
import { dayLabel, todayIn } from "../../web/src/due.ts";
import { type FakeLlm, startFakeLlm, toolCallThenText } from "../support/fake-llm.ts";
import { type ServerProcess, startServerProcess } from "../support/process.ts";
import {
  DESKTOP,
  haveChromium,
  launch,
  PHONE,
  RESULTS,
  requireChromium,
  say,
  shot,
  signUp,
  TIMEOUT,
  watch,
} from "./browser.ts";

// "Remind me to call mom tomorrow at 5pm" through a model that calls add_task with the words
// as said: the real server reads them in the user's zone (set from the browser), and the
// page shows what was understood, in the tool line and on the task's chip.

requireChromium();

const ZONE = "America/New_York";

describe("the page shows the due date a model's tool call set", { skip: !haveChromium }, () => {
  let llm: FakeLlm;
  let server: ServerProcess;
  let browser: Browser;
  let dataDir: string;

  before(async () => {
    mkdirSync(RESULTS, { recursive: true });
    await buildWeb();
    llm = await startFakeLlm();
    dataDir = mkdtempSync(join(tmpdir(), "tasktalk-web-"));
    server = await startServerProcess({
      DATA_DIR: dataDir,
      LLM_PROVIDER: "openai-compatible",
      LLM_BASE_URL: `${llm.url}/v1`,
      LLM_MODEL: "fake",
      LLM_MAX_RETRIES: "0",
    });
    browser = await launch();
  });

  after(async () => {
    await browser?.close().catch(() => {});
    if (server) {
      server.kill();
      await server.exited;
    }
    await llm?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  test("✓ added task 1 · call mom — due <tomorrow>, 17:00, in the tool line and the chip", async () => {
    const context = await browser.newContext({
      viewport: DESKTOP,
      colorScheme: "light",
      timezoneId: ZONE,
    });
    context.setDefaultTimeout(TIMEOUT);
    const page = await context.newPage();
    const problems = watch(page);
    await page.goto(server.url);
    const zoneSet = page.waitForResponse(
      (r) => r.url().endsWith("/api/me") && r.request().method() === "PATCH",
    );
    await signUp(page, "Ada", `ada-${Date.now()}@example.com`);
    assert.equal(((await (await zoneSet).json()) as Me).timezone, ZONE);

    llm.setDefault(
      toolCallThenText(
        "add_task",
        { title: "call mom", due: { string: "tomorrow at 5pm" } },
        "Added “call mom”.",
      ),
    );
    await say(page, "Remind me to call mom tomorrow at 5pm");
    const tomorrow = new Date(`${todayIn(ZONE)}T12:00:00Z`);
    tomorrow.setUTCDate(tomorrow.getUTCDate() + 1);
    const label = `${dayLabel(tomorrow.toISOString().slice(0, 10))}, 17:00`;
    await page
      .getByRole("log")
      .locator(".tool.ok", { hasText: `✓ added task 1 · call mom — due ${label}` })
      .waitFor();
    const chip = page.locator('.task[data-task-id="1"] .tag.due .due-text');
    await chip.waitFor();
    assert.equal(await chip.innerText(), label);
    await shot(page, "tasks-chat-due.png");

    await page.setViewportSize(PHONE);
    await page.getByRole("log").locator(".tool.ok", { hasText: "— due" }).waitFor();
    await shot(page, "tasks-chat-due-phone.png");
    assert.deepEqual(problems, [], "no console errors");
    await context.close();
  });
});
