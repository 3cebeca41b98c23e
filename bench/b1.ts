/**
 * B1 — cost of one turn vs conversation length (10 / 1k / 10k messages, 200k background).
 * One Tasktalk turn = POST /api/chat over real HTTP: authenticate (bearer session), lease +
 * user insert, window read, model call → add_task (one task write) → model answer,
 * assistant insert. Same run, alternating rounds: the raw-SQL floor, the three peer storage
 * patterns (pg), and the model called directly with the server's own requests.
 */
import type pg from "pg";
import { type Backend, type Setup, startInProcess } from "./lib/backends.ts";
import { makeAgent, post } from "./lib/http.ts";
import { benchToken, convKey, uuidOf } from "./lib/layout.ts";
import { callModelDirect, type Model } from "./lib/model.ts";
import { alternate, type RoundPlan, type Variant } from "./lib/rounds.ts";
import { resetTasktalk } from "./lib/seed.ts";
import { pgSql, type Sql } from "./lib/sql.ts";
import { median, progress, type Series } from "./lib/stats.ts";
import { AiChatbotPattern } from "./peers/ai-chatbot.ts";
import { USER_TEXT } from "./peers/common.ts";
import { RawFloor } from "./peers/floor.ts";
import { LibreChatPattern } from "./peers/librechat.ts";
import { OpenWebUiPattern } from "./peers/open-webui.ts";
import { type CapturedTurn, type FloorDb, startProtocolFloor } from "./peers/protocol-floor.ts";
import { sdkTurn } from "./sdk-cost.ts";

export const TASKTALK = "Tasktalk turn (HTTP)";
export const TASKTALK_NET = "Tasktalk turn − model direct";
export const FLOOR = "raw SQL floor";
export const PROTOCOL_FLOOR = "protocol floor (node:http + driver + fetch)";
export const MODEL = "model directly (2 calls)";
export const SDK = "model layer alone: provider + our step loop (2 model calls)";
export const PEERS = [
  "load-all, no index (ai-chatbot)",
  "load-all, indexed (LibreChat)",
  "JSON blob rewrite (Open WebUI)",
];

export interface B1Cell {
  p50: number;
  p99: number;
  n: number;
  errors: number;
}
/** backend → length → variant → figures */
export type B1Result = Record<string, Record<string, Record<string, B1Cell>>>;

export async function tasktalkTurn(
  agent: ReturnType<typeof makeAgent>,
  url: string,
  conversationId: string,
  token: string,
): Promise<number> {
  return (await tasktalkTurnWithBody(agent, url, conversationId, token)).totalMs;
}

/** A turn and what it answered (the protocol floor replays the bytes). */
export async function tasktalkTurnWithBody(
  agent: ReturnType<typeof makeAgent>,
  url: string,
  conversationId: string,
  token: string,
): Promise<{ totalMs: number; body: string }> {
  const r = await post(
    agent,
    `${url}/api/chat`,
    { message: USER_TEXT, conversation_id: conversationId },
    { authorization: `Bearer ${token}` },
  );
  if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${r.body.slice(0, 200)}`);
  return { totalMs: r.totalMs, body: r.body };
}

function cell(s: Series): B1Cell {
  return { p50: s.medianOfMedians(), p99: s.p99(), n: s.all().length, errors: s.errors };
}

export async function runB1(opts: {
  setup: Setup;
  backends: Backend[];
  model: Model;
  pgPool: pg.Pool;
  /** Rounds, plus `appWarmup`: turns sent to the app before anything is timed. */
  plan: RoundPlan & { appWarmup: number };
}): Promise<B1Result> {
  const result: B1Result = {};
  await opts.model.setPace(0);
  for (const backend of opts.backends) {
    const app = await startInProcess(opts.setup, backend, opts.model.url);
    const agent = makeAgent(1);
    const modelAgent = makeAgent(1);
    const sdk = sdkTurn(opts.model.url);
    const captured = new Map<string, CapturedTurn>();
    const floorDb: FloorDb =
      backend === "pg" ? { kind: "pg", pool: opts.pgPool } : { kind: "pglite", sql: app.sql };
    const protocolFloor = await startProtocolFloor({
      db: floorDb,
      modelUrl: opts.model.url,
      captured,
    });
    const floorAgent = makeAgent(1);
    try {
      const storageSql: Sql = backend === "pg" ? pgSql(opts.pgPool) : app.sql;
      const floor = new RawFloor(storageSql);
      const peers =
        backend === "pg"
          ? [
              new AiChatbotPattern(storageSql),
              new LibreChatPattern(storageSql),
              new OpenWebUiPattern(storageSql),
            ]
          : [];
      if (backend === "pg") for (const p of peers) await p.reset();
      // Warm the app's JIT first, so the first length measured does not pay for it.
      const lengths = opts.setup.scale.lengths;
      const warmKey = convKey.app(lengths[0] ?? 10);
      await resetTasktalk(app.sql, [warmKey]);
      for (let i = 0; i < opts.plan.appWarmup; i++) {
        await tasktalkTurn(agent, app.url, uuidOf(warmKey), benchToken(0));
        if (i % 20 === 19) await resetTasktalk(app.sql, [warmKey]);
      }
      await resetTasktalk(app.sql, [warmKey]);
      result[backend] = {};
      for (const length of lengths) {
        const key = convKey.app(length);
        const conversationId = uuidOf(key);
        const resetApp = () => resetTasktalk(app.sql, [key]);
        // One turn to capture the exact requests the server sends the model at this length.
        await resetApp();
        const { body } = await tasktalkTurnWithBody(agent, app.url, conversationId, benchToken(0));
        const bodies = await opts.model.lastBodies();
        if (bodies.length !== 2) throw new Error("B1: expected a tool call and an answer");
        const pfloorKey = convKey.pfloor(length);
        captured.set(uuidOf(pfloorKey), { modelBodies: bodies, response: body });
        const resetProtocolFloor = () => resetTasktalk(app.sql, [pfloorKey]);
        const variants: Variant[] = [
          {
            name: TASKTALK,
            run: () => tasktalkTurn(agent, app.url, conversationId, benchToken(0)),
            reset: resetApp,
          },
          {
            name: MODEL,
            run: async () => (await callModelDirect(modelAgent, opts.model.url, bodies)).totalMs,
          },
          {
            name: PROTOCOL_FLOOR,
            run: () =>
              tasktalkTurn(floorAgent, protocolFloor.url, uuidOf(pfloorKey), benchToken(0)),
            reset: resetProtocolFloor,
          },
          { name: FLOOR, run: () => timed(() => floor.turn(length)), reset: () => floor.reset() },
          { name: SDK, run: () => timed(sdk) },
          ...peers.map((p) => ({
            name: p.name,
            run: () => timed(() => p.turn(length)),
            reset: () => p.reset(),
          })),
        ];
        const label = `${backend} ${length >= 1000 ? `${length / 1000}k` : length} msgs`;
        const series = await alternate("B1", label, variants, opts.plan);
        const cells: Record<string, B1Cell> = {};
        for (const [name, s] of series) cells[name] = cell(s);
        const t = series.get(TASKTALK) as Series;
        const m = series.get(MODEL) as Series;
        // Per round: the turn's median minus the model's median in the same round.
        const net = t.rounds.map((r, i) => median(r) - median(m.rounds[i] ?? []));
        cells[TASKTALK_NET] = { p50: median(net), p99: Number.NaN, n: net.length, errors: 0 };
        result[backend][String(length)] = cells;
        progress(
          "B1",
          `${label}: Tasktalk ${cells[TASKTALK]?.p50.toFixed(2)} ms, protocol floor ${cells[PROTOCOL_FLOOR]?.p50.toFixed(2)} ms, raw floor ${cells[FLOOR]?.p50.toFixed(2)} ms`,
        );
      }
    } finally {
      agent.destroy();
      modelAgent.destroy();
      floorAgent.destroy();
      await protocolFloor.close();
      await app.close();
    }
  }
  return result;
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}
