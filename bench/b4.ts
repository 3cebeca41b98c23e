/**
 * B4 — pooler compatibility: B1's turn (POST /api/chat, one add_task) on PostgreSQL
 * directly, through PgBouncer in transaction mode (Debian's /usr/sbin/pgbouncer), and over
 * a link that adds ≥ 1 ms to every round trip (bench/lib/delay-proxy.ts), at each
 * conversation length. Three in-process apps on the same database, alternating rounds.
 */
import { existsSync } from "node:fs";
import { PGBOUNCER, startPgBouncer } from "../test/support/pgbouncer.ts";
import { tasktalkTurn } from "./b1.ts";
import { type InProcessApp, pgUrl, type Setup, startInProcess } from "./lib/backends.ts";
import { type DelayProxy, startDelayProxy } from "./lib/delay-proxy.ts";
import { makeAgent } from "./lib/http.ts";
import { benchToken, convKey, uuidOf } from "./lib/layout.ts";
import type { Model } from "./lib/model.ts";
import { alternate, type RoundPlan, type Variant } from "./lib/rounds.ts";
import { resetTasktalk } from "./lib/seed.ts";
import { progress } from "./lib/stats.ts";

export const DIRECT = "direct";
export const POOLED = "PgBouncer (transaction mode)";
export const DELAYED = "+1 ms round trip";

export interface B4Cell {
  p50: number;
  p99: number;
  errors: number;
  n: number;
}
/** length → variant → figures */
export type B4Result = Record<string, Record<string, B4Cell>>;

export async function runB4(opts: {
  setup: Setup;
  model: Model;
  plan: RoundPlan;
}): Promise<B4Result> {
  const result: B4Result = {};
  await opts.model.setPace(0);
  if (!existsSync(PGBOUNCER)) {
    throw new Error(`${PGBOUNCER} is missing: apt-get install pgbouncer (.ci/run installs it)`);
  }
  const direct = new URL(pgUrl(opts.setup.pgDb));
  const bouncer = await startPgBouncer(opts.setup.pgDb, Number(direct.port || 5432), 10, 200);
  let proxy: DelayProxy | undefined;
  const apps: InProcessApp[] = [];
  const agents = [makeAgent(1), makeAgent(1), makeAgent(1)];
  try {
    proxy = await startDelayProxy(Number(direct.port || 5432), 1);
    const via = (port: number) => {
      const u = new URL(direct);
      u.port = String(port);
      return u.toString();
    };
    const urls = [undefined, via(bouncer.port), via(proxy.port)];
    for (const url of urls) apps.push(await startInProcess(opts.setup, "pg", opts.model.url, url));
    const [a, b, c] = apps as [InProcessApp, InProcessApp, InProcessApp];
    for (const length of opts.setup.scale.lengths) {
      const key = convKey.app(length);
      const id = uuidOf(key);
      const reset = () => resetTasktalk(a.sql, [key]);
      const turn = (app: InProcessApp, i: number) => () =>
        tasktalkTurn(agents[i] as ReturnType<typeof makeAgent>, app.url, id, benchToken(0));
      const variants: Variant[] = [
        { name: DIRECT, run: turn(a, 0), reset },
        { name: POOLED, run: turn(b, 1), reset },
        { name: DELAYED, run: turn(c, 2), reset },
      ];
      const label = `${length >= 1000 ? `${length / 1000}k` : length} msgs`;
      const series = await alternate("B4", label, variants, opts.plan);
      const cells: Record<string, B4Cell> = {};
      for (const [name, s] of series) {
        cells[name] = {
          p50: s.medianOfMedians(),
          p99: s.p99(),
          errors: s.errors,
          n: s.all().length,
        };
      }
      result[String(length)] = cells;
      progress(
        "B4",
        `${label}: direct ${cells[DIRECT]?.p50.toFixed(2)} ms, PgBouncer ${cells[POOLED]?.p50.toFixed(2)} ms, +1 ms link ${cells[DELAYED]?.p50.toFixed(2)} ms`,
      );
    }
  } finally {
    for (const agent of agents) agent.destroy();
    for (const app of apps) await app.close();
    await proxy?.close();
    await bouncer.stop();
  }
  return result;
}
