/**
 * B6 — footprint: cold start of the app as `npm start` runs it (`node dist/main.mjs`, the
 * bundle) to the first 200 from /health/ready on an existing (seeded) data directory /
 * database, alternating PGlite and PostgreSQL, and for comparison the unbundled sources
 * (`node src/main.ts`); RSS when idle after start. RSS under load is sampled during B3.
 */
import { type Backend, type ChildApp, type Entry, type Setup, startChild } from "./lib/backends.ts";
import type { Model } from "./lib/model.ts";
import { median, percentile, progress } from "./lib/stats.ts";

export interface B6Result {
  coldStartMs: Record<string, { p50: number; max: number; n: number }>;
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
