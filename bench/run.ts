/**
 * Tasktalk benchmarks (shared/BENCHMARKS.md): B1 (and its black-box growth check), B2, B3,
 * B4, B5, B6, with their baselines in the same run, alternating rounds; median of round medians
 * and p99.
 *
 *   npm run bench              full (minutes)
 *   npm run bench -- --quick   small rounds (< 2 minutes once the databases are seeded)
 *   npm run bench -- --smoke   every benchmark, a few turns on tiny data, from nothing (CI)
 *   npm run bench -- --only B1,B3
 *
 * Full and quick write docs/benchmarks.md (between its generated markers) and
 * bench/results/latest.json; they need PostgreSQL at 127.0.0.1:5432 (TEST_PG_URL
 * overrides) and seed `tasktalk_bench` and a PGlite directory under the OS temp dir once,
 * reusing them while the migrations and the seed are unchanged. Smoke seeds a database and
 * a directory of its own, writes its report into a scratch directory, and removes all of
 * it. Every mode exits non-zero when a benchmark throws or counts errors.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { buildServer } from "../scripts/build-server.ts";
import { runB1 } from "./b1.ts";
import { runB2 } from "./b2.ts";
import { runB3 } from "./b3.ts";
import { runB4 } from "./b4.ts";
import { runB5 } from "./b5.ts";
import { idleRss, runB6ColdStarts, runB6FirstStarts } from "./b6.ts";
import { runGrowth } from "./growth.ts";
import {
  type Backend,
  type ChildApp,
  dropDatabase,
  type Entry,
  FULL,
  pgUrl,
  preparePg,
  ROOT,
  type Setup,
  startChild,
} from "./lib/backends.ts";
import { SMOKE_SCALE } from "./lib/layout.ts";
import { type Model, startModel } from "./lib/model.ts";
import { vacuumPg } from "./lib/seed.ts";
import { progress } from "./lib/stats.ts";
import { type Report, writeReport } from "./report.ts";

type Mode = Report["mode"];
const BACKENDS: Backend[] = ["pg", "pglite"];

const PLANS = {
  // Smoke: every code path of the full run (both backends, both entries), a few turns each,
  // under 60 s from nothing on 2 busy vCPUs. Its figures mean nothing.
  smoke: {
    b1: { rounds: 1, perRound: 2, maxRoundMs: 200, warmup: 0, appWarmup: 2 },
    growth: { backends: ["pg", "pglite"] as Backend[], grow: 20, rounds: 1, perRound: 2 },
    b2: { rounds: 1, perRound: 2, maxRoundMs: 200, warmup: 0, appWarmup: 2 },
    b3: { levels: [1, 4], rounds: 1, roundMs: 150 },
    b4: { rounds: 1, perRound: 2, maxRoundMs: 200, warmup: 0 },
    b5: { turns: 3, warmup: 1 },
    // The sources (`node src/main.ts`) start in seconds on a busy machine: on pg only.
    b6: {
      rounds: 1,
      entries: ["bundle", "source"] as Entry[],
      sourceBackends: ["pg"] as Backend[],
      idleRestMs: 100,
      firstStarts: 1,
    },
  },
  // Quick mode must finish in under 2 minutes on 2 busy vCPUs, seeding included.
  quick: {
    b1: { rounds: 3, perRound: 8, maxRoundMs: 500, warmup: 2, appWarmup: 50 },
    growth: { backends: ["pg"] as Backend[], grow: 2000, rounds: 2, perRound: 10 },
    b2: { rounds: 2, perRound: 5, maxRoundMs: 500, warmup: 1, appWarmup: 50 },
    b3: { levels: [1, 8, 32, 128], rounds: 2, roundMs: 400 },
    b4: { rounds: 3, perRound: 8, maxRoundMs: 500, warmup: 2 },
    b5: { turns: 40, warmup: 5 },
    b6: {
      rounds: 2,
      entries: ["bundle"] as Entry[],
      sourceBackends: BACKENDS,
      idleRestMs: 1000,
      firstStarts: 1,
    },
  },
  full: {
    b1: { rounds: 7, perRound: 25, maxRoundMs: 10_000, warmup: 3, appWarmup: 1000 },
    growth: { backends: ["pg", "pglite"] as Backend[], grow: 10_000, rounds: 5, perRound: 20 },
    b2: { rounds: 7, perRound: 25, maxRoundMs: 10_000, warmup: 3, appWarmup: 1500 },
    b3: { levels: [1, 8, 32, 128], rounds: 5, roundMs: 3000 },
    b4: { rounds: 7, perRound: 25, maxRoundMs: 10_000, warmup: 3 },
    b5: { turns: 300, warmup: 20 },
    b6: {
      rounds: 7,
      entries: ["bundle", "source"] as Entry[],
      sourceBackends: BACKENDS,
      idleRestMs: 1000,
      firstStarts: 3,
    },
  },
};
type Plan = (typeof PLANS)[Mode];

async function main(): Promise<void> {
  const started = Date.now();
  const { values } = parseArgs({
    options: {
      smoke: { type: "boolean", default: false },
      quick: { type: "boolean", default: false },
      only: { type: "string" },
      "no-write": { type: "boolean", default: false },
    },
  });
  const mode: Mode = values.smoke ? "smoke" : values.quick ? "quick" : "full";
  const only = new Set((values.only ?? "B1,B2,B3,B4,B5,B6").toUpperCase().split(","));
  const command = `npm run bench${mode === "full" && !values.only ? "" : " --"}${mode === "full" ? "" : ` --${mode}`}${values.only ? ` --only ${values.only}` : ""}`;
  progress("bench", `${mode} mode: ${[...only].join(", ")}`);

  // Smoke runs from nothing and leaves nothing: its own database and directory, removed.
  const scratch = mode === "smoke" ? mkdtempSync(join(os.tmpdir(), "tasktalk-smoke-")) : "";
  const setup: Setup = scratch
    ? {
        scale: SMOKE_SCALE,
        pgDb: `tasktalk_bench_smoke_${process.pid}`,
        pgliteDir: join(scratch, "pglite"),
      }
    : FULL;
  try {
    const report = await runAll({ setup, mode, plan: PLANS[mode], only, command });
    report.durationSec = Math.round((Date.now() - started) / 1000);
    if (scratch) {
      // The report is rendered too (it is code that can break), but not published.
      writeReport(report, {
        json: join(scratch, "latest.json"),
        doc: join(scratch, "benchmarks.md"),
      });
    } else if (!values["no-write"]) {
      writeReport(report);
    }
    const errors = countErrors(report.results);
    progress("bench", `done in ${report.durationSec} s, ${errors} errors`);
    if (errors > 0) process.exitCode = 1;
  } finally {
    if (scratch) {
      await dropDatabase(setup.pgDb);
      rmSync(scratch, { recursive: true, force: true });
    }
  }
}

async function runAll(opts: {
  setup: Setup;
  mode: Mode;
  plan: Plan;
  only: Set<string>;
  command: string;
}): Promise<Report> {
  const { setup, plan, only } = opts;
  const backends = BACKENDS;
  // dist/ current with the sources, checked (hashed) once per run; declared before use.
  let bundled: Promise<void> | undefined;
  const ensureBundle = () =>
    (bundled ??= buildServer().then((result) => {
      if (result === "built") progress("bench", "built the server bundle (dist/)");
    }));

  // Both seeded databases at once (each is reused while its fingerprint holds), and the
  // bundle if a benchmark will need it: esbuild runs on the core the seeding leaves idle.
  const needsBundle = ["B1", "GROWTH", "B3", "B6"].some((b) => only.has(b));
  const [, pglitePostgres] = await Promise.all([
    preparePg(setup),
    preparePgliteInChild(setup),
    needsBundle ? ensureBundle() : undefined,
  ]);
  const pgPool = new pg.Pool({ connectionString: pgUrl(setup.pgDb), max: 10 });
  // An idle connection dropped by the server: say so (the next query fails and is counted).
  pgPool.on("error", (error) => progress("bench", `pg pool: ${String(error)}`));
  let model: Model | undefined;
  try {
    model = await startModel();
    const report: Report = {
      date: new Date().toISOString(),
      mode: opts.mode,
      command: opts.command,
      machine: machine(),
      versions: { ...(await versions(pgPool, setup)), pglitePostgres },
      plan,
      results: {},
    };
    const r = report.results;
    // Each benchmark on PostgreSQL starts on vacuumed tables (seed.ts vacuumPg).
    const settled = async (b: string) => {
      if (!only.has(b)) return false;
      await vacuumPg(pgPool);
      return true;
    };
    if (await settled("B1")) r.B1 = await runB1({ setup, backends, model, pgPool, plan: plan.b1 });
    if (only.has("B1") || only.has("GROWTH")) {
      // B1's black-box check: the public API on a fresh database, the app as npm start runs it.
      await ensureBundle();
      r.growth = await runGrowth({
        setup,
        model,
        ...plan.growth,
        // Smoke: a database of its own (a full run may be using tasktalk_growth), and PGlite
        // from a copy of the smoke's directory (fresh would be ~10 s of initdb).
        ...(opts.mode === "smoke"
          ? { db: `tasktalk_growth_smoke_${process.pid}`, pgliteTemplate: setup.pgliteDir }
          : {}),
      });
    }
    if (await settled("B2")) r.B2 = await runB2({ setup, backends, model, plan: plan.b2 });
    if (await settled("B4")) r.B4 = await runB4({ setup, model, plan: plan.b4 });
    if (await settled("B5")) r.B5 = await runB5({ setup, backends, model, ...plan.b5 });
    // B3 and B6 run the app as `npm start` does: the bundle in dist/, rebuilt when stale.
    // (The PGlite directory they start on was seeded above.)
    if (only.has("B6") || only.has("B3")) await ensureBundle();
    if (only.has("B6")) {
      const { rounds, entries, sourceBackends, firstStarts } = plan.b6;
      const cold = await runB6ColdStarts({
        setup,
        backends,
        model,
        rounds,
        entries,
        sourceBackends,
      });
      r.B6 = { coldStartMs: cold, rssIdleMb: {}, rssLoadMb: {} };
      if (backends.includes("pglite")) r.B6.firstStartMs = await runB6FirstStarts(firstStarts);
    }
    if (only.has("B3") || only.has("B6")) {
      const apps: Record<string, ChildApp> = {};
      try {
        for (const b of backends) apps[b] = await startChild(setup, b, model.url);
        const idle: Record<string, number> = {};
        for (const [b, app] of Object.entries(apps))
          idle[b] = await idleRss(app, plan.b6.idleRestMs);
        if (r.B6) r.B6.rssIdleMb = idle;
        if (await settled("B3")) {
          r.B3 = await runB3({ apps, pgPool, pgDb: setup.pgDb, model, ...plan.b3 });
          if (r.B6) {
            for (const b of backends) {
              const peaks = Object.values(r.B3).map(
                (level) => level[`Tasktalk ${b}`]?.rssMaxMb ?? Number.NaN,
              );
              r.B6.rssLoadMb[b] = Math.max(...peaks);
            }
          }
        }
      } finally {
        for (const app of Object.values(apps)) await app.stop();
      }
    }
    return report;
  } finally {
    await model?.stop();
    await pgPool.end();
  }
}

/** Every `errors` count anywhere in the results (B1, B2, B3 cells, the growth check). */
function countErrors(value: unknown): number {
  if (typeof value !== "object" || value === null) return 0;
  let n = 0;
  for (const [key, v] of Object.entries(value)) {
    n += key === "errors" && typeof v === "number" ? v : countErrors(v);
  }
  return n;
}

/** Seeds (or checks) the PGlite directory in a child; returns PGlite's PostgreSQL version. */
async function preparePgliteInChild(setup: Setup): Promise<string> {
  const child = spawn(
    process.execPath,
    [join(ROOT, "bench/lib/prepare-pglite.ts"), JSON.stringify(setup)],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  let out = "";
  child.stdout.on("data", (c: Buffer) => {
    out += c.toString();
  });
  const [code] = (await once(child, "exit")) as [number | null];
  if (code !== 0) throw new Error(`seeding PGlite failed (exit ${code})`);
  return out.trim() || "?";
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

async function versions(pool: pg.Pool, setup: Setup) {
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
    fastify: pkg("fastify"),
    ai: pkg("ai"),
    betterAuth: pkg("better-auth"),
    drizzle: pkg("drizzle-orm"),
    pglitePath: setup.pgliteDir,
  };
}

// Last statement on purpose: every module-level declaration above has run before main()
// does, so nothing it calls can meet a binding in its temporal dead zone.
await main();
