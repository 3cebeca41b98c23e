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
  PHONE,
  RESULTS,
  requireChromium,
  say,
  shot,
  signUp,
  TIMEOUT,
  watch,
} from "./browser.ts";

// The web page, end to end: the real server (`node src/main.ts`, PGlite, the offline
// assistant) and Debian's Chromium driven by playwright-core, as a person would use it.

requireChromium();

describe("the web page", { skip: !haveChromium }, () => {
  let server: ServerProcess;
  let browser: Browser;
  let dataDir: string;
  const contexts: BrowserContext[] = [];
  const email = `ada-${Date.now()}@example.com`;

  before(async () => {
    mkdirSync(RESULTS, { recursive: true });
    await buildWeb();
    dataDir = mkdtempSync(join(tmpdir(), "tasktalk-web-"));
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

  async function newPage(viewport = DESKTOP): Promise<{ page: Page; problems: string[] }> {
    const context = await browser.newContext({ viewport, colorScheme: "light" });
    context.setDefaultTimeout(TIMEOUT);
    contexts.push(context);
    const page = await context.newPage();
    return { page, problems: watch(page) };
  }

  test("the page is served publicly; unknown /api paths stay problem+json", async () => {
    const page = await fetch(`${server.url}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /text\/html/);
    assert.match(page.headers.get("content-security-policy") ?? "", /default-src 'self'/);
    const html = await page.text();
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    assert.ok(asset, "the page loads its script from /assets/");
    const script = await fetch(`${server.url}${asset}`);
    assert.equal(script.status, 200);
    assert.match(script.headers.get("cache-control") ?? "", /immutable/);
    const missing = await fetch(`${server.url}/api/no-such-thing`);
    assert.equal(missing.status, 404);
    assert.match(missing.headers.get("content-type") ?? "", /application\/problem\+json/);
    const missingAsset = await fetch(`${server.url}/assets/nope.js`);
    assert.equal(missingAsset.status, 404);
  });

  test("sign up, chat with streamed replies, tick a task, reload: it is all still there", async () => {
    const { page, problems } = await newPage();
    await page.goto(server.url);
    await page.getByRole("heading", { name: "Welcome back" }).waitFor();
    await shot(page, "web-sign-in.png");
    await signUp(page, "Ada Lovelace", email);
    await page.getByText("No conversations yet").waitFor();
    await page.getByText("No tasks yet").waitFor();

    // The assistant adds a task: its confirmation streams in and the task panel follows.
    await say(page, "Add a task to buy groceries");
    const log = page.getByRole("log");
    const tool = (text: string) => log.locator(".tool", { hasText: text }).first().waitFor();
    await tool("✓ added task 1 · buy groceries");
    await log.getByText("Added task 1 · buy groceries to your list.").waitFor();
    const tasks = page.locator(".task-list");
    await tasks.locator(".task", { hasText: "buy groceries" }).waitFor();
    // The new conversation is listed (newest first) and in the address.
    await page
      .locator(".conversation.active", { hasText: "Add a task to buy groceries" })
      .waitFor();
    assert.match(page.url(), /#\/c\/[0-9a-f-]{36}$/);

    await say(page, "Remind me to call mom");
    await tool("✓ added task 2 · call mom");
    await tasks.locator(".task", { hasText: "call mom" }).waitFor();
    await say(page, "I finished calling mom");
    await tool("✓ completed task 2 · call mom");
    await tasks.locator(".task.done", { hasText: "call mom" }).waitFor();

    // Ticking a task in the panel completes it.
    const groceries = tasks.locator(".task", { hasText: "buy groceries" });
    await groceries.getByRole("checkbox").check();
    await tasks.locator(".task.done", { hasText: "buy groceries" }).waitFor();
    await say(page, "What's still pending?");
    await tool("✓ listed 0 pending tasks");

    // Shift+Enter is a new line, not a send.
    const composer = page.getByLabel("Message the assistant");
    await composer.fill("first line");
    await composer.press("Shift+Enter");
    await composer.pressSequentially("second line");
    assert.equal(await composer.inputValue(), "first line\nsecond line");
    await composer.fill("");

    // The status filter shows completed tasks only, then pending ones (none).
    const status = page.getByLabel("Status", { exact: true });
    await status.selectOption("completed");
    await tasks.locator(".task", { hasText: "call mom" }).waitFor();
    assert.equal(await tasks.locator(".task").count(), 2);
    await status.selectOption("pending");
    await page.getByText("Nothing pending").waitFor();
    await status.selectOption("all");
    await tasks.locator(".task", { hasText: "call mom" }).waitFor();
    await shot(page, "web-desktop.png");

    // Reload: the conversation, its messages and the tasks come back from the server.
    await page.reload();
    await page
      .locator(".conversation.active", { hasText: "Add a task to buy groceries" })
      .waitFor();
    await log.getByText("Added task 1 · buy groceries to your list.").waitFor();
    await tool("✓ completed task 2 · call mom");
    assert.equal(await log.locator(".message.user").count(), 4);
    assert.equal(await log.locator(".message.assistant").count(), 4);
    await tasks.locator(".task.done", { hasText: "buy groceries" }).waitFor();
    await tasks.locator(".task.done", { hasText: "call mom" }).waitFor();
    assert.ok(await groceries.getByRole("checkbox").isChecked());

    // Phone width: one panel at a time, switched with the tabs.
    await page.setViewportSize(PHONE);
    await log.getByText("Added task 1 · buy groceries to your list.").waitFor();
    assert.equal(await page.locator(".panel.tasks").isVisible(), false);
    await shot(page, "web-phone-chat.png");
    await page.getByRole("button", { name: /^Tasks/ }).click();
    await tasks.locator(".task", { hasText: "buy groceries" }).waitFor();
    await shot(page, "web-phone-tasks.png");
    await page.getByRole("button", { name: /^Chats/ }).click();
    await page.locator(".conversation", { hasText: "Add a task to buy groceries" }).waitFor();
    await shot(page, "web-phone.png");
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= PHONE.width, `no sideways scrolling at phone width (${width}px)`);
    await page.getByRole("button", { name: /^Chat$/ }).click();
    await page.setViewportSize(DESKTOP);

    // Sign out, then in again.
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Welcome back" }).waitFor();
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill("correct horse battery");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.locator(".conversation", { hasText: "Add a task to buy groceries" }).waitFor();

    assert.deepEqual(problems, [], "no console errors");
  });

  test("conversations: rename, new, delete", async () => {
    const { page, problems } = await newPage();
    await page.goto(server.url);
    await signUp(page, "Grace", `grace-${Date.now()}@example.com`);
    await say(page, "Add a task to water the plants");
    const item = page.locator(".conversation", { hasText: "water the plants" });
    await item.waitFor();

    await item.getByRole("button", { name: /^Rename/ }).click();
    const title = page.getByLabel("Conversation title");
    await title.fill("Garden");
    await title.press("Enter");
    await page.locator(".conversation.active", { hasText: "Garden" }).waitFor();
    await page.getByRole("heading", { name: "Garden" }).waitFor();

    await page.getByRole("button", { name: "New", exact: true }).click();
    await page.getByRole("heading", { name: "What needs doing?" }).waitFor();
    await shot(page, "web-new-conversation.png");
    await say(page, "hello");
    await page.locator(".conversation.active", { hasText: "hello" }).waitFor();
    assert.equal(await page.locator(".conversation").count(), 2);
    // Newest activity first.
    assert.match((await page.locator(".conversation").first().textContent()) ?? "", /hello/);

    const garden = page.locator(".conversation", { hasText: "Garden" });
    await garden.getByRole("button", { name: /^Delete/ }).click();
    await page.getByRole("button", { name: "Delete", exact: true }).click();
    await garden.waitFor({ state: "detached" });
    assert.equal(await page.locator(".conversation").count(), 1);
    // Its task stays: deleting a conversation keeps the tasks.
    await page.locator(".task", { hasText: "water the plants" }).waitFor();
    assert.deepEqual(problems, [], "no console errors");
  });

  test("a second user sees none of the first user's data", async () => {
    const first = await newPage();
    await first.page.goto(server.url);
    await first.page.getByLabel("Email").fill(email);
    await first.page.getByLabel("Password").fill("correct horse battery");
    await first.page.getByRole("button", { name: "Sign in" }).click();
    const conversation = first.page.locator(".conversation", {
      hasText: "Add a task to buy groceries",
    });
    await conversation.waitFor();
    await conversation.getByRole("button").first().click();
    await first.page.waitForURL(/#\/c\//);
    const theirs = new URL(first.page.url()).hash;

    const { page, problems } = await newPage();
    await page.goto(server.url);
    await signUp(page, "Bob", `bob-${Date.now()}@example.com`);
    await page.getByText("No conversations yet").waitFor();
    await page.getByText("No tasks yet").waitFor();
    assert.equal(await page.locator(".conversation, .task, .message").count(), 0);
    await shot(page, "web-empty.png");

    // Even with the first user's conversation address, the second user gets nothing.
    await page.goto(`${server.url}/${theirs}`);
    await page.getByText("That conversation doesn't exist any more.").waitFor();
    assert.equal(await page.locator(".conversation, .task, .message").count(), 0);
    assert.equal(new URL(page.url()).hash, "");
    // The one expected error: the browser logs the 404 of that address.
    assert.deepEqual(
      problems.filter((p) => !/status of 404/.test(p)),
      [],
      "no console errors but the expected 404",
    );
    assert.deepEqual(first.problems, [], "no console errors");
  });
});

describe("the web page when the model fails", { skip: !haveChromium }, () => {
  let server: ServerProcess;
  let browser: Browser;
  let dataDir: string;

  before(async () => {
    await buildWeb();
    dataDir = mkdtempSync(join(tmpdir(), "tasktalk-web-"));
    // A model endpoint on a closed local port: every turn fails as model_error.
    server = await startServerProcess({
      DATA_DIR: dataDir,
      LLM_PROVIDER: "openai-compatible",
      LLM_BASE_URL: "http://127.0.0.1:9/v1",
      LLM_MODEL: "nothing-listens-here",
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
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  test("the problem's detail is shown, the message is kept, and Retry is offered", async () => {
    const context = await browser.newContext({ viewport: DESKTOP, colorScheme: "light" });
    context.setDefaultTimeout(TIMEOUT);
    const page = await context.newPage();
    const problems = watch(page);
    await page.goto(server.url);
    await signUp(page, "Ada", `ada-${Date.now()}@example.com`);
    await say(page, "Add a task to buy groceries");
    const note = page.locator(".message.assistant .note.error");
    await note.waitFor();
    assert.match((await note.textContent()) ?? "", /model|language/i);
    await note.getByRole("button", { name: "Retry" }).waitFor();
    // The user's message was stored: it is there after a reload, with the failed reply.
    await page.locator(".conversation", { hasText: "Add a task to buy groceries" }).waitFor();
    await shot(page, "web-model-error.png");
    await page.reload();
    // No reply was stored: the message says so and can be sent again (same client id).
    const unanswered = page.locator(".message.user", { hasText: "Add a task to buy groceries" });
    await unanswered.locator(".note.error", { hasText: "No reply" }).waitFor();
    await unanswered.getByRole("button", { name: "Retry" }).click();
    await page.locator(".message.assistant .note.error", { hasText: /model/ }).waitFor();
    assert.equal(await page.locator(".message.user").count(), 1, "a retry is not a new message");
    assert.deepEqual(problems, [], "no console errors");
    await context.close();
  });
});
