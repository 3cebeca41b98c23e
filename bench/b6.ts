/**
 * B6 — footprint: cold start of `node src/main.ts` to the first 200 from /health/ready on
 * an existing (seeded) data directory / database, alternating PGlite and PostgreSQL; RSS
 * when idle after start. RSS under load is sampled during B3.
 */
import { type Backend, type ChildApp, startChild } from "./lib/backends.ts";
import type { Model } from "./lib/model.ts";
import { median, percentile, progress } from "./lib/stats.ts";

export interface B6Result {
  coldStartMs: Record<string, { p50: number; max: number; n: number }>;
  rssIdleMb: Record<string, number>;
  rssLoadMb: Record<string, number>;
}

export async function runB6ColdStarts(opts: {
  backends: Backend[];
  model: Model;
  rounds: number;
}): Promise<B6Result["coldStartMs"]> {
  const samples: Record<string, number[]> = Object.fromEntries(opts.backends.map((b) => [b, []]));
  for (let r = 0; r < opts.rounds; r++) {
    progress("B6", `cold start: round ${r + 1}/${opts.rounds}`);
    const order = r % 2 === 0 ? opts.backends : [...opts.backends].reverse();
    for (const backend of order) {
      const app = await startChild(backend, opts.model.url);
      samples[backend]?.push(app.coldStartMs);
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

/** Idle RSS: one light request (so the routes and the pool are warm), then 1 s of rest. */
export async function idleRss(app: ChildApp): Promise<number> {
  await new Promise((r) => setTimeout(r, 1000));
  return app.rssMb();
}
