/**
 * Tasktalk benchmarks (shared/BENCHMARKS.md): B1, B2, B3, B6, with their baselines in the
 * same run, alternating rounds; median of round medians and p99.
 *
 *   npm run bench              full (minutes)
 *   npm run bench -- --quick   small rounds (< 2 minutes once the databases are seeded)
 *   npm run bench -- --only B1,B3
 *
 * Writes docs/benchmarks.md (between its generated markers) and bench/results/latest.json.
 * Needs PostgreSQL at 127.0.0.1:5432 (TEST_PG_URL overrides); seeds `tasktalk_bench` and a
 * PGlite directory under the OS temp dir once, and reuses them while the migrations and the
 * seed are unchanged.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { buildServer } from "../scripts/build-server.ts";
import { runB1 } from "./b1.ts";
import { runB2 } from "./b2.ts";
import { runB3 } from "./b3.ts";
import { idleRss, runB6ColdStarts } from "./b6.ts";
import { runGrowth } from "./growth.ts";
import {
  type Backend,
  type ChildApp,
  type Entry,
  PGLITE_DIR,
  pgUrl,
  preparePg,
  ROOT,
  startChild,
  startInProcess,
} from "./lib/backends.ts";
import { startModel } from "./lib/model.ts";
import { progress } from "./lib/stats.ts";
import { type Report, writeReport } from "./report.ts";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    "no-write": { type: "boolean", default: false },
  },
});
const quick = values.quick ?? false;
const only = new Set((values.only ?? "B1,B2,B3,B6").toUpperCase().split(","));
const backends: Backend[] = ["pg", "pglite"];

// Quick mode must finish in under 2 minutes on 2 busy vCPUs, seeding included.
const plan = quick
  ? {
      b1: { rounds: 3, perRound: 8, maxRoundMs: 500, warmup: 2, appWarmup: 50 },
      growth: { backends: ["pg"] as Backend[], grow: 2000, rounds: 2, perRound: 10 },
      b2: { rounds: 2, perRound: 5, maxRoundMs: 500, warmup: 1 },
      b3: { levels: [1, 8, 32, 128], rounds: 2, roundMs: 400 },
      b6: { rounds: 2, entries: ["bundle"] as Entry[] },
    }
  : {
      b1: { rounds: 7, perRound: 25, maxRoundMs: 10_000, warmup: 3, appWarmup: 100 },
      growth: { backends: ["pg", "pglite"] as Backend[], grow: 10_000, rounds: 5, perRound: 20 },
      b2: { rounds: 7, perRound: 25, maxRoundMs: 10_000, warmup: 3 },
      b3: { levels: [1, 8, 32, 128], rounds: 5, roundMs: 3000 },
      b6: { rounds: 7, entries: ["bundle", "source"] as Entry[] },
    };

const started = Date.now();
const command = `npm run bench${quick ? " -- --quick" : ""}${values.only ? ` ${quick ? "" : "-- "}--only ${values.only}` : ""}`;
progress("bench", `${quick ? "quick" : "full"} mode: ${[...only].join(", ")}`);

// Both seeded databases at once (each is reused while its fingerprint holds).
await Promise.all([preparePg(), preparePgliteInChild()]);
const pgPool = new pg.Pool({ connectionString: pgUrl(), max: 10 });
const model = await startModel();
const report: Report = {
  date: new Date().toISOString(),
  mode: quick ? "quick" : "full",
  command,
  machine: machine(),
  versions: await versions(pgPool),
  plan,
  results: {},
};

try {
  if (only.has("B1")) report.results.B1 = await runB1({ backends, model, pgPool, plan: plan.b1 });
  if (only.has("B1") || only.has("GROWTH")) {
    // B1's black-box check: the public API on a fresh database, the app as npm start runs it.
    await ensureBundle();
    report.results.growth = await runGrowth({ model, ...plan.growth });
  }
  if (only.has("B2")) report.results.B2 = await runB2({ backends, model, plan: plan.b2 });
  if (only.has("B6") || only.has("B3")) {
    // B3 and B6 run the app as `npm start` does: the bundle in dist/, rebuilt when stale.
    await ensureBundle();
    // Make sure the PGlite directory exists and is seeded before timing cold starts on it.
    const seeded = await startInProcess("pglite", model.url);
    report.versions.pglitePostgres =
      String((await seeded.sql.query<{ v: string }>("select version() as v"))[0]?.v).split(
        " ",
      )[1] ?? "?";
    await seeded.close();
  }
  if (only.has("B6")) {
    const cold = await runB6ColdStarts({ backends, model, ...plan.b6 });
    report.results.B6 = { coldStartMs: cold, rssIdleMb: {}, rssLoadMb: {} };
  }
  if (only.has("B3") || only.has("B6")) {
    const apps: Record<string, ChildApp> = {};
    try {
      for (const b of backends) apps[b] = await startChild(b, model.url);
      const idle: Record<string, number> = {};
      for (const [b, app] of Object.entries(apps)) idle[b] = await idleRss(app);
      if (report.results.B6) report.results.B6.rssIdleMb = idle;
      if (only.has("B3")) {
        report.results.B3 = await runB3({
          levels: plan.b3.levels,
          apps,
          pgPool,
          rounds: plan.b3.rounds,
          roundMs: plan.b3.roundMs,
        });
        if (report.results.B6) {
          for (const b of backends) {
            const peaks = Object.values(report.results.B3).map(
              (level) => level[`Tasktalk ${b}`]?.rssMaxMb ?? Number.NaN,
            );
            report.results.B6.rssLoadMb[b] = Math.max(...peaks);
          }
        }
      }
    } finally {
      for (const app of Object.values(apps)) await app.stop();
    }
  }
} finally {
  await model.stop();
  await pgPool.end();
}

report.durationSec = Math.round((Date.now() - started) / 1000);
if (!values["no-write"]) writeReport(report);
progress("bench", `done in ${report.durationSec} s`);

/** dist/ current with the sources, checked (hashed) once per run. */
let bundled: Promise<void> | undefined;
function ensureBundle(): Promise<void> {
  bundled ??= buildServer().then((result) => {
    if (result === "built") progress("bench", "built the server bundle (dist/)");
  });
  return bundled;
}

async function preparePgliteInChild(): Promise<void> {
  const child = spawn(process.execPath, [join(ROOT, "bench/lib/prepare-pglite.ts")], {
    stdio: ["ignore", "inherit", "inherit"],
  });
  const [code] = (await once(child, "exit")) as [number | null];
  if (code !== 0) throw new Error(`seeding PGlite failed (exit ${code})`);
}

function machine() {
  const cpus = os.cpus();
  return {
    nproc: os.availableParallelism(),
    memoryGb: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    cpu: cpus[0]?.model ?? "unknown",
    os: `${os.type()} ${os.release()}`,
  };
}

async function versions(pool: pg.Pool) {
  const pkg = (name: string) =>
    (
      JSON.parse(readFileSync(`${ROOT}/node_modules/${name}/package.json`, "utf8")) as {
        version: string;
      }
    ).version;
  const { rows } = await pool.query<{ v: string }>("select current_setting('server_version') as v");
  return {
    node: process.version,
    postgresql: rows[0]?.v ?? "unknown",
    pglite: pkg("@electric-sql/pglite"),
    pglitePostgres: "",
    fastify: pkg("fastify"),
    ai: pkg("ai"),
    betterAuth: pkg("better-auth"),
    drizzle: pkg("drizzle-orm"),
    pglitePath: PGLITE_DIR,
  };
}
