import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
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

// A person brings their Todoist project in through the page, and takes everything out.

requireChromium();

const TODOIST = fileURLToPath(new URL("../fixtures/import/todoist.csv", import.meta.url));

describe("import and export in the page", { skip: !haveChromium }, () => {
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

  test("a Todoist CSV imports once; Export downloads everything", async () => {
    const context = await browser.newContext({ viewport: DESKTOP, acceptDownloads: true });
    context.setDefaultTimeout(TIMEOUT);
    const page = await context.newPage();
    const problems = watch(page);
    await page.goto(server.url);
    await signUp(page, "Importer", `importer-${Date.now()}@example.com`);

    await page.getByText("Import / export").click();
    await page.getByLabel("Import from").selectOption("todoist");
    await page.getByLabel("File").setInputFiles(TODOIST);
    await page.getByRole("status").filter({ hasText: "Imported: 6 tasks added" }).waitFor();
    await page.locator(".task", { hasText: "Pay the rent" }).first().waitFor();
    await shot(page, "import-todoist.png");

    await page.getByLabel("File").setInputFiles(TODOIST);
    await page
      .getByRole("status")
      .filter({ hasText: "Imported: 0 tasks added, 6 already here" })
      .waitFor();

    const downloading = page.waitForEvent("download");
    await page.getByRole("link", { name: "Export everything" }).click();
    const download = await downloading;
    assert.match(download.suggestedFilename(), /^tasktalk-export-\d{4}-\d{2}-\d{2}\.json$/);
    const file = await download.path();
    const data = JSON.parse(readFileSync(file, "utf8")) as { tasks: { title: string }[] };
    assert.equal(data.tasks.length, 6);
    assert.deepEqual(problems, []);
    await context.close();
  });

  test("a large file imports as a job, with a progress bar", async () => {
    const rows = ["TYPE,CONTENT,DESCRIPTION,PRIORITY,INDENT,AUTHOR,RESPONSIBLE,DATE,DATE_LANG"];
    for (let i = 1; i <= 600; i++) rows.push(`task,Big row ${i},,1,1,Ada (1),,,en`);
    const big = join(dataDir, "big.csv");
    writeFileSync(big, `${rows.join("\n")}\n`);
    const context = await browser.newContext({ viewport: DESKTOP });
    context.setDefaultTimeout(TIMEOUT);
    const page = await context.newPage();
    const problems = watch(page);
    await page.goto(server.url);
    await signUp(page, "Big importer", `big-${Date.now()}@example.com`);

    await page.getByText("Import / export").click();
    await page.getByLabel("Import from").selectOption("todoist");
    const accepted = page.waitForResponse((r) => r.url().includes("/api/import?"));
    await page.getByLabel("File").setInputFiles(big);
    assert.equal((await accepted).status(), 202);
    const bar = page.getByRole("progressbar", { name: "Import progress" });
    await bar.waitFor();
    assert.equal(await bar.getAttribute("max"), "600");
    const values: number[] = [];
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline && (await bar.count()) > 0) {
      const value = await bar.getAttribute("value").catch(() => null);
      if (value !== null) values.push(Number(value));
      await page.waitForTimeout(200);
    }
    await page
      .getByRole("status")
      .filter({ hasText: "Imported: 600 tasks added" })
      .waitFor({ timeout: 120_000 });
    for (let i = 1; i < values.length; i++) {
      assert.ok((values[i] ?? 0) >= (values[i - 1] ?? 0), `progress went back: ${values}`);
    }
    await page.locator(".task", { hasText: "Big row 1" }).first().waitFor();
    assert.deepEqual(problems, []);
    await context.close();
  });
});
