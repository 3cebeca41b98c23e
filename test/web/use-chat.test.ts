import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import type { Browser } from "playwright-core";
import { signUp, startTestApp, type TestApp } from "../support/app.ts";
import { haveChromium, launch, requireChromium, TIMEOUT, watch } from "./browser.ts";

// A React page using the AI SDK's useChat, unmodified (test/web/use-chat/page.tsx), served
// from the app's own origin (Playwright answers the page's URL; the API is the real
// server) and driven in Chromium: it holds a conversation that adds and lists tasks with
// the built-in assistant.

requireChromium();

const PAGE = fileURLToPath(new URL("./use-chat/page.tsx", import.meta.url));

describe("an unmodified useChat page holds a conversation", { skip: !haveChromium }, () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;
  let script: string;

  before(async () => {
    const bundled = await build({
      entryPoints: [PAGE],
      bundle: true,
      write: false,
      format: "esm",
      platform: "browser",
      jsx: "automatic",
      define: { "process.env.NODE_ENV": '"production"' },
      logLevel: "silent",
    });
    script = bundled.outputFiles[0]?.text ?? "";
    t = await startTestApp("pglite");
    base = await t.listen();
    browser = await launch();
  });
  after(async () => {
    await browser?.close().catch(() => {});
    await t?.close();
  });

  test("add a task, list it, and the server has it", async () => {
    const user = await signUp(t.app, "useChat");
    const context = await browser.newContext();
    context.setDefaultTimeout(TIMEOUT);
    const page = await context.newPage();
    const problems = watch(page);
    await page.route(`${base}/use-chat/**`, (route) => {
      const url = route.request().url();
      if (url.endsWith(".js")) {
        return route.fulfill({ contentType: "text/javascript", body: script });
      }
      return route.fulfill({
        contentType: "text/html",
        body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>useChat</title>
<script>window.TASKTALK_TOKEN = ${JSON.stringify(user.token)};</script></head>
<body><div id="root"></div><script type="module" src="/use-chat/page.js"></script></body></html>`,
      });
    });
    await page.goto(`${base}/use-chat/`);

    const say = async (text: string, nth: number) => {
      await page.getByRole("textbox", { name: "message" }).fill(text);
      await page.getByRole("button", { name: "Send" }).click();
      const reply = page.locator('li[data-role="assistant"]').nth(nth);
      await reply.waitFor();
      await page.getByTestId("status").filter({ hasText: "ready" }).waitFor();
      return reply.innerText();
    };
    const added = await say("add a task to buy oat milk", 0);
    assert.match(added, /oat milk/i);
    const listed = await say("what's pending?", 1);
    assert.match(listed, /oat milk/i);
    assert.equal(await page.getByRole("alert").count(), 0);
    assert.deepEqual(problems, []);

    const tasks = await t.app.inject({ url: "/api/tasks", headers: user.headers });
    const items = (tasks.json() as { items: { title: string }[] }).items;
    assert.equal(items.length, 1);
    assert.match(items[0]?.title ?? "", /oat milk/i);

    // One conversation, four stored messages; the page's reply ids are the stored ones.
    const list = await t.app.inject({ url: "/api/conversations", headers: user.headers });
    const conversations = (list.json() as { items: { id: string }[] }).items;
    assert.equal(conversations.length, 1);
    const stored = await t.app.inject({
      url: `/api/conversations/${conversations[0]?.id}/messages`,
      headers: user.headers,
    });
    const messages = (stored.json() as { items: { id: string; role: string }[] }).items;
    assert.equal(messages.length, 4);
    const pageIds = await page
      .locator('li[data-role="assistant"]')
      .evaluateAll((els) => els.map((el) => el.getAttribute("data-id")));
    assert.deepEqual(
      pageIds,
      messages.filter((m) => m.role === "assistant").map((m) => m.id),
    );
    await context.close();
  });
});
