/**
 * B3 — throughput under concurrency: closed-loop clients (each its own user, session and
 * conversation) sending tool turns with an instant model, at 1 / 8 / 32 / 128 clients, to
 * the app as a separate process as `npm start` runs it (`node dist/main.mjs`) on PostgreSQL and on PGlite, against
 * the raw-SQL floor at the same concurrency (pg Pool of the app's default size, 10).
 * The three alternate round by round. Also samples the app processes' RSS (B6).
 */
import { fork } from "node:child_process";
import { once } from "node:events";
import type pg from "pg";
import { type ChildApp, pgUrl } from "./lib/backends.ts";
import { makeAgent, post } from "./lib/http.ts";
import { B3_LENGTH, benchToken, convKey, uuidOf } from "./lib/layout.ts";
import type { Model } from "./lib/model.ts";
import { resetTasktalk } from "./lib/seed.ts";
import { pgSql } from "./lib/sql.ts";
import { median, percentile, progress } from "./lib/stats.ts";
import { USER_TEXT } from "./peers/common.ts";
import { RawFloor } from "./peers/floor.ts";
import type { CapturedTurn } from "./peers/protocol-floor.ts";

export const PROTOCOL_FLOOR_PG = "protocol floor pg";

export interface B3Cell {
  turnsPerSec: number;
  p50: number;
  p99: number;
  errors: number;
  turns: number;
  rssMaxMb?: number;
}
/** clients → variant → figures */
export type B3Result = Record<string, Record<string, B3Cell>>;

interface LoadRun {
  turns: number;
  errors: number;
  latencies: number[];
  elapsedMs: number;
  rssMax: number;
}

async function load(
  clients: number,
  durationMs: number,
  fn: (client: number) => Promise<void>,
  rss?: () => number,
): Promise<LoadRun> {
  const latencies: number[] = [];
  let errors = 0;
  let rssMax = rss ? rss() : Number.NaN;
  const sampler = rss ? setInterval(() => (rssMax = Math.max(rssMax, rss())), 100) : undefined;
  const start = performance.now();
  const deadline = start + durationMs;
  let firstError: unknown;
  await Promise.all(
    Array.from({ length: clients }, async (_, i) => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        try {
          await fn(i + 1);
          latencies.push(performance.now() - t0);
        } catch (error) {
          errors++;
          firstError ??= error;
        }
      }
    }),
  );
  const elapsedMs = performance.now() - start;
  clearInterval(sampler);
  if (firstError) progress("B3", `error: ${String(firstError).slice(0, 300)}`);
  return { turns: latencies.length, errors, latencies, elapsedMs, rssMax };
}

/** The protocol floor as a process of its own, on pg with the app's pool size (10). */
async function startFloorProcess(
  pgDb: string,
  model: Model,
  captured: CapturedTurn,
): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = fork(new URL("./peers/protocol-floor.ts", import.meta.url), [], {
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  const ready = once(child, "message") as Promise<[{ url: string }]>;
  child.send({ pgUrl: pgUrl(pgDb), modelUrl: model.url, captured, poolMax: 10 });
  const [{ url }] = await ready;
  return {
    url,
    async stop() {
      const exited = once(child, "exit");
      child.send({ stop: true });
      await exited;
    },
  };
}

export async function runB3(opts: {
  levels: number[];
  apps: Record<string, ChildApp>;
  pgPool: pg.Pool;
  pgDb: string;
  model: Model;
  rounds: number;
  roundMs: number;
}): Promise<B3Result> {
  const result: B3Result = {};
  const sql = pgSql(opts.pgPool);
  const floors = new Map<number, RawFloor>();
  const floorOf = (i: number) => {
    let f = floors.get(i);
    if (!f) {
      f = new RawFloor(sql, () => convKey.b3floor(i), i);
      floors.set(i, f);
    }
    return f;
  };
  const maxClients = Math.max(...opts.levels);
  const agents = Object.fromEntries(Object.keys(opts.apps).map((k) => [k, makeAgent(maxClients)]));
  const turnOn = (name: string, app: ChildApp) => async (i: number) => {
    const r = await post(
      agents[name] as ReturnType<typeof makeAgent>,
      `${app.url}/api/chat`,
      { message: USER_TEXT, conversation_id: uuidOf(convKey.b3app(i)) },
      { authorization: `Bearer ${benchToken(i)}` },
    );
    if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${r.body.slice(0, 200)}`);
  };
  // One real turn on pg at B3's length, replayed by the protocol floor: its model requests
  // and its answer.
  const pgApp = opts.apps.pg;
  if (!pgApp) throw new Error("B3: the protocol floor needs the pg app");
  const capture = await post(
    makeAgent(1),
    `${pgApp.url}/api/chat`,
    { message: USER_TEXT, conversation_id: uuidOf(convKey.b3app(1)) },
    { authorization: `Bearer ${benchToken(1)}` },
  );
  if (capture.status !== 200) throw new Error(`B3 capture: HTTP ${capture.status}`);
  const floorProcess = await startFloorProcess(opts.pgDb, opts.model, {
    modelBodies: await opts.model.lastBodies(),
    response: capture.body,
  });
  const floorAgent = makeAgent(maxClients);
  const protocolTurn = async (i: number) => {
    const r = await post(
      floorAgent,
      `${floorProcess.url}/api/chat`,
      { message: USER_TEXT, conversation_id: uuidOf(convKey.b3pfloor(i)) },
      { authorization: `Bearer ${benchToken(i)}` },
    );
    if (r.status !== 200)
      throw new Error(`protocol floor HTTP ${r.status}: ${r.body.slice(0, 200)}`);
  };
  const variants: { name: string; fn: (i: number) => Promise<void>; rss?: () => number }[] = [
    ...Object.entries(opts.apps).map(([name, app]) => ({
      name: `Tasktalk ${name}`,
      fn: turnOn(name, app),
      rss: () => app.rssMb(),
    })),
    { name: PROTOCOL_FLOOR_PG, fn: protocolTurn },
    { name: "raw SQL floor pg", fn: (i: number) => floorOf(i).turn(B3_LENGTH) },
  ];
  try {
    for (const clients of opts.levels) {
      const runs = new Map<string, LoadRun[]>(variants.map((v) => [v.name, []]));
      for (const v of variants) await load(clients, Math.min(300, opts.roundMs), v.fn); // warm-up
      for (let r = 0; r < opts.rounds; r++) {
        progress("B3", `${clients} clients: round ${r + 1}/${opts.rounds}`);
        for (let k = 0; k < variants.length; k++) {
          const v = variants[(k + r) % variants.length] as (typeof variants)[number];
          runs.get(v.name)?.push(await load(clients, opts.roundMs, v.fn, v.rss));
        }
      }
      const level: Record<string, B3Cell> = {};
      for (const [name, list] of runs) {
        const all = list.flatMap((l) => l.latencies);
        level[name] = {
          turnsPerSec: median(list.map((l) => (l.turns / l.elapsedMs) * 1000)),
          p50: median(list.map((l) => median(l.latencies))),
          p99: percentile(all, 99),
          errors: list.reduce((n, l) => n + l.errors, 0),
          turns: all.length,
          ...(list.some((l) => Number.isFinite(l.rssMax))
            ? { rssMaxMb: Math.max(...list.map((l) => l.rssMax)) }
            : {}),
        };
      }
      result[String(clients)] = level;
      progress(
        "B3",
        `${clients} clients: ${Object.entries(level)
          .map(([n, c]) => `${n} ${c.turnsPerSec.toFixed(0)}/s`)
          .join(", ")}`,
      );
      // The pg conversations back to their seeded length (PGlite's is held by its process).
      await resetTasktalk(
        sql,
        Array.from({ length: maxClients }, (_, i) => [
          convKey.b3app(i + 1),
          convKey.b3floor(i + 1),
          convKey.b3pfloor(i + 1),
        ]).flat(),
      );
      for (const f of floors.values()) await f.reset();
    }
  } finally {
    for (const a of Object.values(agents)) a.destroy();
    floorAgent.destroy();
    await floorProcess.stop();
  }
  return result;
}
