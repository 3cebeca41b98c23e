/**
 * Live updates of the page's tasks panel (web/src/useLiveTasks.ts), measured:
 *
 *   node bench/live-updates.ts [--writes 20] [--idle-seconds 60]
 *
 * Two server processes on one fresh PostgreSQL database (TEST_PG_URL, default
 * 127.0.0.1:5432): the page is open on instance A, a script writes tasks through instance
 * B's REST API with an API key. Reports (1) the time from the REST answer to the task on
 * the page, and (2) what one idle open page costs: its requests per minute and the
 * database transactions per minute above the servers' own baseline (pg_stat_database).
 */
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";
import { adminQuery, createTestDatabase } from "../test/support/databases.ts";
import { startServerProcess } from "../test/support/process.ts";
import { buildWeb } from "../web/build.ts";

const { values } = parseArgs({
  options: {
    writes: { type: "string", default: "20" },
    "idle-seconds": { type: "string", default: "60" },
  },
});
const WRITES = Number(values.writes);
const IDLE_MS = Number(values["idle-seconds"]) * 1000;

await buildWeb();
const db = await createTestDatabase("pg");
const dbName = new URL(db.url as string).pathname.slice(1);
const env = { DATABASE_URL: db.url as string, DATA_DIR: db.dataDir, LOG_LEVEL: "info" };
const a = await startServerProcess(env, 60_000);
const b = await startServerProcess(env, 60_000);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu"],
});

const xacts = async () =>
  Number(
    (
      await adminQuery(
        `select xact_commit + xact_rollback as n from pg_stat_database where datname = '${dbName}'`,
      )
    ).rows[0].n,
  );
const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
};

try {
  const page = await (await browser.newContext()).newPage();
  await page.goto(a.url);
  await page.getByRole("button", { name: "Create an account" }).click();
  await page.getByLabel("Name").fill("Bench");
  await page.getByLabel("Email").fill(`bench-${Date.now()}@example.com`);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.locator(".panel.tasks").waitFor();
  const key = await page.evaluate(async () => {
    const res = await fetch("/api/api-keys", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "bench" }),
    });
    return ((await res.json()) as { key: string }).key;
  });

  // (1) Latency: a REST write on instance B until the page on instance A shows it.
  const latencies: number[] = [];
  for (let i = 1; i <= WRITES; i++) {
    const title = `Live ${i} ${Date.now()}`;
    const res = await fetch(`${b.url}/api/tasks`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ title }),
    });
    if (res.status !== 201) throw new Error(`POST /api/tasks: ${res.status}`);
    const written = performance.now();
    await page.locator(".task", { hasText: title }).first().waitFor({ timeout: 30_000 });
    latencies.push(performance.now() - written);
    // Out of phase with the poll: each write lands at a different point of its period.
    await new Promise((r) => setTimeout(r, 700 + Math.random() * 1300));
  }

  // (2) Idle cost: the servers alone, then the same with the page open and idle.
  await page.goto("about:blank");
  const before = await xacts();
  await new Promise((r) => setTimeout(r, IDLE_MS));
  const baseline = (await xacts()) - before - 1;
  const seen = { requests: 0 };
  page.on("request", (r) => {
    if (r.url().includes("/api/")) seen.requests += 1;
  });
  await page.goto(a.url);
  await page.locator(".panel.tasks").waitFor();
  await new Promise((r) => setTimeout(r, 2000)); // the page's first loads are not idle
  seen.requests = 0;
  const start = await xacts();
  await new Promise((r) => setTimeout(r, IDLE_MS));
  const withPage = (await xacts()) - start - 1;
  const minutes = IDLE_MS / 60_000;
  const ms = (x: number) => `${Math.round(x)} ms`;
  console.log(
    JSON.stringify(
      {
        writes: WRITES,
        latency: {
          p50: ms(quantile(latencies, 0.5)),
          p90: ms(quantile(latencies, 0.9)),
          max: ms(Math.max(...latencies)),
        },
        idle_page: {
          api_requests_per_minute: +(seen.requests / minutes).toFixed(1),
          db_transactions_per_minute: +((withPage - baseline) / minutes).toFixed(1),
          servers_baseline_db_transactions_per_minute: +(baseline / minutes).toFixed(1),
        },
      },
      null,
      2,
    ),
  );
} finally {
  await browser.close();
  a.kill();
  b.kill();
  await Promise.all([a.exited, b.exited]);
  await db.drop();
}
