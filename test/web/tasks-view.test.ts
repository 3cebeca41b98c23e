import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { buildWeb } from "../../web/build.ts";
import type { Me, Task } from "../../web/src/api.ts";
import { dayLabel, todayIn } from "../../web/src/due.ts";
import { availableBackends, createTestDatabase, type TestDatabase } from "../support/databases.ts";
import { type ServerProcess, startServerProcess } from "../support/process.ts";
import {
  DESKTOP,
  haveChromium,
  launch,
  PHONE,
  RESULTS,
  requireChromium,
  shot,
  signUp,
  TIMEOUT,
  watch,
} from "./browser.ts";

// The tasks panel of issue 12 in a real browser against the real server: due chips in the
// user's zone, the Today view, search, and the zone taken from the browser on sign-in.

requireChromium();

const ZONE = "Europe/Lisbon";

/** "YYYY-MM-DD" plus n days (calendar arithmetic, no zone). */
function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

// On both backends: the Today filter and the full-text search are the server's SQL.
const backends = haveChromium ? await availableBackends() : [];

for (const backend of backends)
  describe(`the tasks panel (${backend})`, () => {
    let server: ServerProcess;
    let browser: Browser;
    let db: TestDatabase;
    const contexts: BrowserContext[] = [];
    const email = `lin-${Date.now()}@example.com`;

    before(async () => {
      mkdirSync(RESULTS, { recursive: true });
      await buildWeb();
      db = await createTestDatabase(backend, { onDisk: true });
      server = await startServerProcess({
        DATA_DIR: db.dataDir,
        ...(db.url ? { DATABASE_URL: db.url } : {}),
        LLM_PROVIDER: "offline",
      });
      browser = await launch();
    });

    after(async () => {
      for (const context of contexts) await context.close().catch(() => {});
      await browser?.close().catch(() => {});
      if (server) {
        server.kill();
        await server.exited;
      }
      await db?.drop();
    });

    async function newPage(timezoneId: string, viewport = DESKTOP) {
      const context = await browser.newContext({ viewport, colorScheme: "light", timezoneId });
      context.setDefaultTimeout(TIMEOUT);
      contexts.push(context);
      const page = await context.newPage();
      return { page, problems: watch(page) };
    }

    /** The REST API with the page's session cookie (and its Origin, as the page sends). */
    async function rest<T>(page: Page, method: string, path: string, data?: unknown): Promise<T> {
      const response = await page.request.fetch(`${server.url}${path}`, {
        method,
        headers: { origin: server.url },
        ...(data === undefined ? {} : { data }),
      });
      assert.ok(response.ok(), `${method} ${path}: ${response.status()} ${await response.text()}`);
      return (await response.json()) as T;
    }

    const titles = async (page: Page) =>
      (await page.locator(".task-list .task .task-title").allTextContents()).sort();

    test("a new user's time zone comes from the browser; a chosen one is kept", async () => {
      const { page, problems } = await newPage(ZONE);
      await page.goto(server.url);
      const patched = page.waitForResponse(
        (r) => r.url().endsWith("/api/me") && r.request().method() === "PATCH",
      );
      await signUp(page, "Lin", email);
      assert.equal((await patched).status(), 200);
      const me = await rest<Me>(page, "GET", "/api/me");
      assert.equal(me.timezone, ZONE);
      assert.equal(me.timezone_set, true);

      // Signing in from a browser in Tokyo does not move a zone the user already has.
      const tokyo = await newPage("Asia/Tokyo");
      const calls: string[] = [];
      tokyo.page.on("request", (r) => {
        if (r.url().endsWith("/api/me")) calls.push(r.method());
      });
      await tokyo.page.goto(server.url);
      await tokyo.page.getByLabel("Email").fill(email);
      await tokyo.page.getByLabel("Password").fill("correct horse battery");
      await tokyo.page.getByRole("button", { name: "Sign in" }).click();
      await tokyo.page.getByText("No tasks yet").waitFor();
      assert.deepEqual(calls, ["GET"]);
      assert.equal((await rest<Me>(tokyo.page, "GET", "/api/me")).timezone, ZONE);
      assert.deepEqual(problems, [], "no console errors");
      assert.deepEqual(tokyo.problems, [], "no console errors");
    });

    test("due chips, Today, Upcoming, lists, search, subtasks and the edit form", async () => {
      const { page, problems } = await newPage(ZONE);
      await page.goto(server.url);
      await page.getByLabel("Email").fill(email);
      await page.getByLabel("Password").fill("correct horse battery");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByText("No tasks yet").waitFor();

      const today = todayIn(ZONE);
      const inThree = addDays(today, 3);
      const add = (body: Record<string, unknown>) => rest<Task>(page, "POST", "/api/tasks", body);
      const rent = await add({ title: "pay rent", due: { date: addDays(today, -1) } });
      const mom = await add({ title: "call mom", due: { date: today } });
      const dentist = await add({ title: "dentist", due: { date: inThree, time: "17:00" } });
      const stamps = await add({
        title: "buy stamps",
        description: "and bring the blue folder",
        due: { date: inThree },
        priority: "high",
        list: "Errands",
        labels: ["post"],
      });
      const bank = await add({ title: "call the bank", parent_id: rent.id });
      const plants = await add({ title: "water plants" });
      assert.equal(dentist.due?.time, "17:00");
      await page.reload();

      const list = page.locator(".task-list");
      const row = (task: Task) => list.locator(`.task[data-task-id="${task.id}"]`);
      await row(plants).waitFor();
      // Chips: the day (and time) in the user's zone; overdue ones red.
      const chip = (task: Task) => row(task).locator(".tag.due .due-text").innerText();
      assert.equal(await chip(dentist), `${dayLabel(inThree)}, 17:00`);
      assert.equal(await chip(mom), dayLabel(today));
      const late = row(rent).locator(".tag.due.overdue");
      assert.equal(await chip(rent), dayLabel(addDays(today, -1)));
      assert.equal(await late.textContent(), `Overdue, due ${dayLabel(addDays(today, -1))}`);
      assert.equal(await late.evaluate((el) => getComputedStyle(el).color), "rgb(185, 28, 28)");
      assert.equal(await row(mom).locator(".tag.due.overdue").count(), 0);
      assert.equal(await row(plants).locator(".tag.due").count(), 0);
      // Priority, list and labels; the subtask sits under its parent.
      await row(stamps).locator(".priority.p-high").waitFor();
      await row(stamps).locator(".tag.list", { hasText: "Errands" }).waitFor();
      await row(stamps).locator(".tag.label", { hasText: "#post" }).waitFor();
      await list
        .locator(
          `.task-item:has(> .task[data-task-id="${rent.id}"]) > .subtasks .task[data-task-id="${bank.id}"]`,
        )
        .waitFor();
      await shot(page, "tasks-desktop.png");

      // Today: due today and overdue, nothing else.
      await page.getByRole("button", { name: "Today", exact: true }).click();
      await row(dentist).waitFor({ state: "detached" });
      assert.deepEqual(await titles(page), ["call mom", "pay rent"]);
      // The Tasks tab (phones) counts them.
      assert.equal(await page.locator(".tabs .badge").textContent(), "2 due today or overdue");
      await shot(page, "tasks-today.png");
      // A task added in Today is due today.
      await page.getByLabel("New task").fill("buy bread");
      await page.getByLabel("New task").press("Enter");
      await list.locator(".task", { hasText: "buy bread" }).locator(".tag.due.today").waitFor();

      await page.getByRole("button", { name: "Upcoming", exact: true }).click();
      await row(mom).waitFor({ state: "detached" });
      assert.deepEqual(await titles(page), ["buy stamps", "dentist"]);

      // A list: only its tasks.
      await page.getByRole("button", { name: "All", exact: true }).click();
      await row(plants).waitFor();
      await page.getByLabel("List", { exact: true }).selectOption("Errands");
      await row(plants).waitFor({ state: "detached" });
      assert.deepEqual(await titles(page), ["buy stamps"]);
      await page.getByLabel("List", { exact: true }).selectOption("");
      await row(plants).waitFor();

      // Search finds a task by a word of its description.
      await page.getByLabel("Search tasks").fill("folder");
      await row(plants).waitFor({ state: "detached" });
      assert.deepEqual(await titles(page), ["buy stamps"]);
      // Escape clears the search: everything is back.
      await page.getByLabel("Search tasks").press("Escape");
      await row(plants).waitFor();

      // The edit form sets a due date and time, priority, list and labels.
      await row(plants)
        .getByRole("button", { name: `Edit task ${plants.id}` })
        .click();
      const form = page.getByRole("form", { name: `Edit task ${plants.id}` });
      await form.getByLabel("Due date").fill(addDays(today, 1));
      await form.getByLabel("Time (optional)").fill("09:30");
      await form.getByLabel("Priority").selectOption("medium");
      await form.getByLabel("List").fill("Home");
      await form.getByLabel("Labels (comma-separated)").fill("garden, #Weekly");
      await shot(page, "tasks-edit.png");
      await form.getByRole("button", { name: "Save" }).click();
      // Focus is back on the task's Edit button.
      await row(plants)
        .getByRole("button", { name: `Edit task ${plants.id}` })
        .waitFor();
      assert.equal(
        await page.evaluate(() => document.activeElement?.getAttribute("aria-label")),
        `Edit task ${plants.id}`,
      );
      await row(plants)
        .locator(".tag.due", { hasText: `${dayLabel(addDays(today, 1))}, 09:30` })
        .waitFor();
      await row(plants).locator(".priority.p-medium").waitFor();
      const saved = await rest<Task>(page, "GET", `/api/tasks/${plants.id}`);
      assert.deepEqual(
        [
          saved.due?.date,
          saved.due?.time,
          saved.due?.timezone,
          saved.priority,
          saved.list,
          saved.labels,
        ],
        [addDays(today, 1), "09:30", ZONE, "medium", "Home", ["garden", "weekly"]],
      );
      // The new list is offered in the switcher.
      await page
        .locator("#task-list-filter option", { hasText: "Home" })
        .waitFor({ state: "attached" });

      // Keyboard: from the search box, Tab reaches the views and Enter picks one.
      await page.getByLabel("Search tasks").focus();
      await page.keyboard.press("Tab");
      await page.keyboard.press("Enter");
      await page.getByRole("button", { name: "Today", exact: true, pressed: true }).waitFor();

      // Phone width: the Tasks tab shows the panel, with no sideways scrolling.
      await page.setViewportSize(PHONE);
      await page.getByRole("button", { name: /^Tasks/ }).click();
      await row(mom).waitFor();
      await shot(page, "tasks-phone.png");
      await page.getByRole("button", { name: "All", exact: true }).click();
      await row(plants).waitFor();
      await shot(page, "tasks-phone-all.png");
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= PHONE.width, `no sideways scrolling at phone width (${width}px)`);
      assert.deepEqual(problems, [], "no console errors");
    });

    test("a repeating task shows its pattern; the edit form sets and clears it", async () => {
      const { page, problems } = await newPage(ZONE);
      await page.goto(server.url);
      await signUp(page, "Rae", `rae-${Date.now()}@example.com`);
      await page.getByText("No tasks yet").waitFor();
      const today = todayIn(ZONE);
      const add = (body: Record<string, unknown>) => rest<Task>(page, "POST", "/api/tasks", body);
      const plants = await add({ title: "water plants", recurrence: "every monday at 8am" });
      const rent = await add({ title: "pay rent", due: { date: addDays(today, 2) } });
      await page.reload();
      const row = (task: Task) => page.locator(`.task-list .task[data-task-id="${task.id}"]`);
      await row(plants).locator(".tag.repeat", { hasText: "every monday at 8am" }).waitFor();
      assert.equal(await row(rent).locator(".tag.repeat").count(), 0);

      // Set a pattern on a dated task: it snaps to the first Friday on or after its date.
      await row(rent)
        .getByRole("button", { name: `Edit task ${rent.id}` })
        .click();
      const form = page.getByRole("form", { name: `Edit task ${rent.id}` });
      await form.getByLabel("Repeats (empty: does not repeat)").fill("every friday");
      await form.getByRole("button", { name: "Save" }).click();
      await row(rent).locator(".tag.repeat", { hasText: "every friday" }).waitFor();
      const repeating = await rest<Task>(page, "GET", `/api/tasks/${rent.id}`);
      assert.equal(repeating.due?.recurrence, "FREQ=WEEKLY;BYDAY=FR");
      assert.equal(new Date(`${repeating.due?.date}T00:00:00Z`).getUTCDay(), 5);

      // Clear it: the pattern goes, the date stays.
      await row(rent)
        .getByRole("button", { name: `Edit task ${rent.id}` })
        .click();
      await form.getByLabel("Repeats (empty: does not repeat)").fill("");
      await form.getByRole("button", { name: "Save" }).click();
      await row(rent).locator(".tag.repeat").waitFor({ state: "detached" });
      const stopped = await rest<Task>(page, "GET", `/api/tasks/${rent.id}`);
      assert.equal(stopped.due?.recurrence, null);
      assert.equal(stopped.due?.date, repeating.due?.date);
      assert.deepEqual(problems, [], "no console errors");
    });

    test("a long list comes a page at a time: Show more reads the next cursor", async () => {
      const { page, problems } = await newPage(ZONE);
      await page.goto(server.url);
      await signUp(page, "Many", `many-${Date.now()}@example.com`);
      await page.getByText("No tasks yet").waitFor();
      for (let batch = 0; batch < 7; batch++) {
        await Promise.all(
          Array.from({ length: 15 }, (_, i) =>
            rest<Task>(page, "POST", "/api/tasks", { title: `chore ${batch * 15 + i + 1}` }),
          ),
        );
      }
      await page.reload();
      const rows = page.locator(".task-list .task");
      await page.getByText("100+ shown").waitFor();
      assert.equal(await rows.count(), 100);
      await page.getByRole("button", { name: "Show more" }).click();
      await page.getByText("105 shown").waitFor();
      assert.equal(await rows.count(), 105);
      assert.equal(await page.getByRole("button", { name: "Show more" }).count(), 0);
      assert.deepEqual(problems, [], "no console errors");
    });
  });
