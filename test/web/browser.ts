import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";

// What the browser tests share: Debian's Chromium through playwright-core, the viewports,
// where screenshots go, and the steps a person takes on the page.

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const RESULTS = fileURLToPath(new URL("../../test-results/", import.meta.url));
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };
export const TIMEOUT = 15_000;

export const haveChromium = existsSync(CHROMIUM);

/** Without Chromium the browser tests skip loudly, and fail on CI. */
export function requireChromium(): void {
  if (haveChromium) return;
  const notice = `${CHROMIUM} is missing: install it with \`apt-get install -y chromium\``;
  if (process.env.CI === "true") {
    test("the browser tests need Chromium", () => assert.fail(`${notice} (CI=true)`));
  } else {
    console.warn(
      `\n${"!".repeat(78)}\n!! SKIPPING the web page's browser tests: ${notice}.\n${"!".repeat(78)}\n`,
    );
  }
}

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // playwright-core gives every launch a fresh, empty profile directory of its own.
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** Console errors and uncaught exceptions of a page: a clean page has none. */
export function watch(page: Page): string[] {
  const problems: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
  return problems;
}

export async function signUp(page: Page, name: string, email: string): Promise<void> {
  await page.getByRole("button", { name: "Create an account" }).click();
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByRole("heading", { name: "Conversations" }).waitFor();
}

/** Types a message and sends it with Enter; answers once the streamed turn has ended. */
export async function say(page: Page, text: string): Promise<void> {
  const composer = page.getByLabel("Message the assistant");
  await composer.fill(text);
  const streamed = page.waitForResponse(
    (r) => r.url().endsWith("/api/chat") && r.request().method() === "POST",
  );
  await composer.press("Enter");
  const response = await streamed;
  assert.equal(response.status(), 200);
  assert.match(response.headers()["content-type"] ?? "", /text\/event-stream/);
  await response.finished();
  // The send button comes back once the page has read the whole stream.
  await page.locator(".composer .spinner").waitFor({ state: "detached" });
}

export const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(RESULTS, name), fullPage: false });

const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

/** axe-core's WCAG 2.x A/AA and best-practice rules on the page as it is: no violations. */
export async function audit(page: Page, screen: string): Promise<void> {
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
  })) as Violation[];
  const described = violations.map(
    (v) =>
      `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes
        .slice(0, 3)
        .map((n) => `${n.target.join(" ")} — ${n.failureSummary?.split("\n").slice(1, 2).join("")}`)
        .join("\n    ")}`,
  );
  assert.deepEqual(described, [], `axe on "${screen}":\n  ${described.join("\n  ")}`);
}
