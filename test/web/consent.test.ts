import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { buildWeb } from "../../web/build.ts";
import { type ServerProcess, startServerProcess } from "../support/process.ts";
import {
  DESKTOP,
  haveChromium,
  launch,
  RESULTS,
  requireChromium,
  TIMEOUT,
  watch,
} from "./browser.ts";

// The OAuth consent screen in Chromium, as an MCP connector's user meets it: the app sends
// the browser to /api/auth/oauth2/authorize; not signed in, the page asks to sign in (here:
// create an account), then shows which app asks for what; "Allow read-only" sends the
// browser back to the app with a code worth a tasks:read token; "Deny" sends access_denied.
// The screen passes an axe-core audit.

requireChromium();

const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
const REDIRECT = "http://127.0.0.1:9/callback"; // answered by the test (page.route)

async function audit(page: Page): Promise<void> {
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
  })) as { id: string; help: string }[];
  assert.deepEqual(
    violations.map((v) => `${v.id}: ${v.help}`),
    [],
    "axe on the consent screen",
  );
}

describe("the OAuth consent screen", { skip: !haveChromium }, () => {
  let server: ServerProcess;
  let browser: Browser;
  let dataDir: string;

  before(async () => {
    mkdirSync(RESULTS, { recursive: true });
    await buildWeb();
    dataDir = mkdtempSync(join(tmpdir(), "tasktalk-consent-"));
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

  test("sign in, see the app and the scopes, allow read-only; deny", async () => {
    const registered = await fetch(`${server.url}/api/auth/oauth2/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        client_name: "Consent Test Connector",
        redirect_uris: [REDIRECT],
        token_endpoint_auth_method: "none",
        grant_types: ["authorization_code"],
        response_types: ["code"],
      }),
    });
    const client = (await registered.json()) as { client_id: string };
    assert.ok(client.client_id, JSON.stringify(client));
    const verifier = randomBytes(32).toString("base64url");
    const authorize = new URL(`${server.url}/api/auth/oauth2/authorize`);
    authorize.search = new URLSearchParams({
      response_type: "code",
      client_id: client.client_id,
      redirect_uri: REDIRECT,
      scope: "tasks:read tasks:write",
      state: "s1",
      code_challenge: createHash("sha256").update(verifier).digest("base64url"),
      code_challenge_method: "S256",
      resource: `${server.url}/mcp`,
    }).toString();

    const context = await browser.newContext({ viewport: DESKTOP, bypassCSP: true });
    context.setDefaultTimeout(TIMEOUT);
    const back: URL[] = [];
    await context.route(`${REDIRECT}**`, async (route) => {
      back.push(new URL(route.request().url()));
      await route.fulfill({ status: 200, contentType: "text/plain", body: "back at the app" });
    });
    const page = await context.newPage();
    const problems = watch(page);
    await page.goto(authorize.href);
    // Not signed in: the page asks first, on the consent path.
    await page.getByRole("button", { name: "Create an account" }).click();
    assert.equal(new URL(page.url()).pathname, "/oauth/consent");
    await page.getByLabel("Name").fill("Consent");
    await page.getByLabel("Email").fill(`consent-${Date.now()}@example.com`);
    await page.getByLabel("Password").fill("correct horse battery");
    await page.getByRole("button", { name: "Create account" }).click();

    await page.getByRole("heading", { name: "Connect Consent Test Connector?" }).waitFor();
    await page.getByText("See your tasks and lists").waitFor();
    await page.getByText("Add, change, complete and delete your tasks").waitFor();
    await page.getByText("You will be sent back to 127.0.0.1:9").waitFor();
    await page.screenshot({ path: join(RESULTS, "consent.png") });
    await audit(page);
    await page.getByRole("button", { name: "Allow read-only" }).click();
    await page.getByText("back at the app").waitFor();
    const allowed = back.at(-1);
    assert.equal(allowed?.searchParams.get("state"), "s1");
    const code = allowed?.searchParams.get("code");
    assert.ok(code, allowed?.href);

    const token = await fetch(`${server.url}/api/auth/oauth2/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code,
        client_id: client.client_id,
        redirect_uri: REDIRECT,
        code_verifier: verifier,
        resource: `${server.url}/mcp`,
      }),
    });
    const tokens = (await token.json()) as { scope?: string; access_token?: string };
    assert.equal(token.status, 200, JSON.stringify(tokens));
    assert.equal(tokens.scope, "tasks:read", "read-only was granted, not what was asked");

    // Asked again for writing (signed in now): Deny sends access_denied back.
    authorize.searchParams.set("state", "s2");
    authorize.searchParams.set("prompt", "consent");
    await page.goto(authorize.href);
    await page.getByRole("button", { name: "Deny" }).click();
    await page.getByText("back at the app").waitFor();
    const denied = back.at(-1);
    assert.equal(denied?.searchParams.get("error"), "access_denied", denied?.href);
    assert.equal(denied?.searchParams.get("state"), "s2");
    assert.equal(denied?.searchParams.get("code"), null);
    assert.deepEqual(problems, []);
    await context.close();
  });
});
