/**
 * B6 — footprint: cold start of the app as `npm start` runs it (`node dist/main.mjs`, the
 * bundle) to the first 200 from /health/ready on an existing (seeded) data directory /
 * database, alternating PGlite and PostgreSQL, and for comparison the unbundled sources
 * (`node src/main.ts`); RSS when idle after start. RSS under load is sampled during B3.
 * And a new user's first start: `npm start` itself (its build check included) on an empty
 * DATA_DIR with nothing configured, to the first 200 from /health/ready (goal ≤ 5 s).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Backend,
  type ChildApp,
  type Entry,
  freePort,
  ROOT,
  type Setup,
  startChild,
  untilReady,
} from "./lib/backends.ts";
import { makeAgent } from "./lib/http.ts";
import type { Model } from "./lib/model.ts";
import { median, percentile, progress } from "./lib/stats.ts";

export interface B6Result {
  coldStartMs: Record<string, { p50: number; max: number; n: number }>;
  /** `npm start` on an empty DATA_DIR, defaults otherwise (PGlite, the offline assistant). */
  firstStartMs?: { p50: number; max: number; n: number };
  rssIdleMb: Record<string, number>;
  rssLoadMb: Record<string, number>;
}

export async function runB6ColdStarts(opts: {
  setup: Setup;
  backends: Backend[];
  model: Model;
  rounds: number;
  entries: Entry[];
  /** Backends the "source" entry is started on (default: all of them). */
  sourceBackends?: Backend[];
}): Promise<B6Result["coldStartMs"]> {
  const runs: [Backend, Entry][] = opts.backends.flatMap((b) =>
    opts.entries
      .filter((e) => e !== "source" || (opts.sourceBackends ?? opts.backends).includes(b))
      .map((e): [Backend, Entry] => [b, e]),
  );
  const samples: Record<string, number[]> = {};
  for (let r = 0; r < opts.rounds; r++) {
    progress("B6", `cold start: round ${r + 1}/${opts.rounds}`);
    const order = r % 2 === 0 ? runs : [...runs].reverse();
    for (const [backend, entry] of order) {
      const app = await startChild(opts.setup, backend, opts.model.url, entry);
      const key = coldStartKey(backend, entry);
      samples[key] ??= [];
      samples[key].push(app.coldStartMs);
      progress("B6", `cold start ${key}: ${app.coldStartMs.toFixed(0)} ms`);
      await app.stop();
    }
  }
  return Object.fromEntries(
    Object.entries(samples).map(([b, s]) => [
      b,
      { p50: median(s), max: percentile(s, 100), n: s.length },
    ]),
  );
}

/** `pg` is `npm start` (the bundle); `pg, node src/main.ts` the sources without a build. */
export function coldStartKey(backend: Backend, entry: Entry): string {
  return entry === "bundle" ? backend : `${backend}, node src/main.ts`;
}

/** Idle RSS: after `restMs` (1 s) of rest following the start. */
export async function idleRss(app: ChildApp, restMs = 1000): Promise<number> {
  await new Promise((r) => setTimeout(r, restMs));
  return app.rssMb();
}

/**
 * A fresh clone's first start as the README gives it: `npm start` (npm, then `prestart`'s
 * build check, then the server) with an empty DATA_DIR and no other setting, timed from
 * the spawn to the first 200 from /health/ready. `npm ci` has built the bundle, the page
 * and the PGlite template (its `prepare` script) before, as on a fresh clone.
 */
export async function runB6FirstStarts(rounds: number): Promise<B6Result["firstStartMs"]> {
  const samples: number[] = [];
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^(DATABASE_URL|LLM_|BETTER_AUTH_|NODE_ENV$|npm_)/.test(k),
    ),
  );
  for (let r = 0; r < rounds; r++) {
    const dataDir = mkdtempSync(join(tmpdir(), "tasktalk-first-start-"));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const started = performance.now();
    const child = spawn("npm", ["start"], {
      cwd: ROOT,
      env: { ...env, HOST: "127.0.0.1", PORT: String(port), DATA_DIR: dataDir },
      stdio: ["ignore", "ignore", "pipe"],
      detached: true, // its own process group: npm, its shell and the server stop together
    });
    let stderr = "";
    child.stderr?.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const agent = makeAgent(1);
    try {
      const ms = await untilReady(agent, child, url, started, () => stderr);
      samples.push(ms);
      progress("B6", `first start (npm start, empty DATA_DIR): ${ms.toFixed(0)} ms`);
    } finally {
      agent.destroy();
      if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, "SIGTERM");
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  return { p50: median(samples), max: percentile(samples, 100), n: samples.length };
}
