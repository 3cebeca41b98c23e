import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Browser } from "playwright-core";
import { buildWeb } from "../../web/build.ts";
import { type FakeLlm, startFakeLlm } from "../support/fake-llm.ts";
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
  shot,
  signUp,
  TIMEOUT,
  watch,
} from "./browser.ts";

// Issue 19 as a new user meets it: two conversations on two configured models, each reply's
// tokens and cost under it, the day's total, and switching a conversation's model.

requireChromium();

describe("the page picks a model per conversation and shows usage", { skip: !haveChromium }, () => {
  let a: FakeLlm;
  let b: FakeLlm;
  let server: ServerProcess;
  let browser: Browser;
  let dataDir: string;

  before(async () => {
    mkdirSync(RESULTS, { recursive: true });
    await buildWeb();
    a = await startFakeLlm();
    b = await startFakeLlm();
    dataDir = mkdtempSync(join(tmpdir(), "tasktalk-web-"));
    server = await startServerProcess(
      {
        DATA_DIR: dataDir,
        LLM_MODELS: JSON.stringify([
          {
            id: "alpha",
            label: "Alpha",
            base_url: `${a.url}/v1`,
            prices: { input: 2.5, output: 10 },
          },
          {
            id: "beta",
            label: "Beta",
            base_url: `${b.url}/v1`,
            prices: { input: 0.15, output: 0.6 },
          },
        ]),
        LLM_MAX_RETRIES: "0",
      },
      120_000,
    );
    browser = await launch();
  });

  after(async () => {
    await browser?.close().catch(() => {});
    if (server) {
      server.kill();
      await server.exited;
    }
    await a?.close();
    await b?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  test("two conversations on Alpha and Beta: tokens and cost per reply, today's total", async () => {
    const context = await browser.newContext({ viewport: DESKTOP, bypassCSP: true });
    context.setDefaultTimeout(TIMEOUT);
    const page = await context.newPage();
    const problems = watch(page);
    await page.goto(server.url);
    await signUp(page, "Mo", `mo-${Date.now()}@example.com`);
    const picker = page.getByLabel("Model");
    await picker.waitFor();
    assert.equal(await picker.inputValue(), "alpha", "the server's default is preselected");

    a.setDefault({ text: "Alpha answers.", usage: { input: 1000, output: 200 } });
    b.setDefault({ text: "Beta answers.", usage: { input: 1000, output: 500 } });
    await say(page, "hello alpha");
    const log = page.getByRole("log");
    await log
      .locator(".usage", { hasText: "Alpha · 1,200 tokens (1,000 in, 200 out) · cost 0.0045" })
      .waitFor();

    await page.getByRole("button", { name: "New", exact: true }).click();
    await page.getByRole("heading", { name: "New conversation" }).waitFor();
    await picker.selectOption("beta");
    await say(page, "hello beta");
    await log
      .locator(".usage", { hasText: "Beta · 1,500 tokens (1,000 in, 500 out) · cost 0.00045" })
      .waitFor();
    assert.equal(b.requests.at(-1)?.body.model, "beta");
    const summary = page.locator(".usage-summary");
    await summary
      .filter({ hasText: "Today: 2,700 tokens (2,000 in, 700 out) · cost 0.00495" })
      .waitFor();
    await audit(page, "models and usage");
    await shot(page, "models-usage.png");
    await page.setViewportSize(PHONE);
    await page.getByRole("button", { name: "Chat", exact: true }).click();
    await picker.waitFor();
    await audit(page, "models and usage (phone)");
    await shot(page, "models-usage-phone.png");
    await page.setViewportSize(DESKTOP);

    // Switch this conversation to Alpha: the next reply comes from it.
    await picker.selectOption("alpha");
    await page.getByText("Replies now come from Alpha.").waitFor();
    const before = a.requests.length;
    await say(page, "and now?");
    assert.equal(a.requests.length, before + 1);
    await log.locator(".usage", { hasText: "Alpha · 1,200 tokens" }).nth(0).waitFor();
    // A reload shows the same: the conversation's model and each stored reply's usage.
    await page.reload();
    await page.getByLabel("Model").waitFor();
    await page.getByRole("log").locator(".usage", { hasText: "Beta · 1,500 tokens" }).waitFor();
    assert.equal(await page.getByLabel("Model").inputValue(), "alpha");
    assert.deepEqual(problems, [], "no console errors");
    await context.close();
  });
});
