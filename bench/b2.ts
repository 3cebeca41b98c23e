/**
 * B2 — latency the server adds to a turn: time to first token and total time through
 * Tasktalk (SSE over real HTTP) minus calling the model directly with exactly the requests
 * the server sent, at 10 / 1k / 10k messages, with and without one tool call. The model
 * streams at a fixed pace between chunks.
 */
import { type Backend, type Setup, startInProcess } from "./lib/backends.ts";
import { makeAgent, post } from "./lib/http.ts";
import { benchToken, convKey, uuidOf } from "./lib/layout.ts";
import { callModelDirect, type Model } from "./lib/model.ts";
import { alternate, type RoundPlan } from "./lib/rounds.ts";
import { resetTasktalk } from "./lib/seed.ts";
import { median, percentile, progress, type Series } from "./lib/stats.ts";

export const PACE_MS = 2;

export interface B2Cell {
  ttft: { tasktalk: number; direct: number; added: number; p99: number; p99OverP50: number };
  total: { tasktalk: number; direct: number; added: number };
  addedP99: number;
  n: number;
  errors: number;
}
/** backend → "10" | "1000" | "10000" → "tool" | "no tool" → figures */
export type B2Result = Record<string, Record<string, Record<string, B2Cell>>>;

const TEXT = { tool: "add a task to buy milk on the way home #tool", plain: "thanks, that is all" };

export async function runB2(opts: {
  setup: Setup;
  backends: Backend[];
  model: Model;
  /** Rounds, plus `appWarmup`: turns sent to the app before anything is timed (as B1). */
  plan: RoundPlan & { appWarmup: number };
}): Promise<B2Result> {
  const result: B2Result = {};
  await opts.model.setPace(PACE_MS);
  try {
    for (const backend of opts.backends) {
      const app = await startInProcess(opts.setup, backend, opts.model.url);
      const agent = makeAgent(1);
      const modelAgent = makeAgent(1);
      result[backend] = {};
      try {
        // Warm the app's JIT first (both kinds of turn, streamed), so the first length
        // measured does not pay for it: B1 does the same.
        const warmKey = convKey.app(opts.setup.scale.lengths[0] ?? 10);
        await resetTasktalk(app.sql, [warmKey]);
        for (let i = 0; i < opts.plan.appWarmup; i++) {
          const r = await post(
            agent,
            `${app.url}/api/chat`,
            { message: i % 2 ? TEXT.tool : TEXT.plain, conversation_id: uuidOf(warmKey) },
            { authorization: `Bearer ${benchToken(0)}` },
            { sse: true },
          );
          if (r.status !== 200)
            throw new Error(`B2 warmup: HTTP ${r.status}: ${r.body.slice(0, 300)}`);
          if (i % 20 === 19) await resetTasktalk(app.sql, [warmKey]);
        }
        await resetTasktalk(app.sql, [warmKey]);
        for (const length of opts.setup.scale.lengths) {
          const key = convKey.app(length);
          const conversationId = uuidOf(key);
          const byTool: Record<string, B2Cell> = {};
          for (const tool of [false, true]) {
            const message = tool ? TEXT.tool : TEXT.plain;
            const totals = { t: [] as number[], d: [] as number[] };
            const turn = async () => {
              const r = await post(
                agent,
                `${app.url}/api/chat`,
                { message, conversation_id: conversationId },
                { authorization: `Bearer ${benchToken(0)}` },
                { sse: true },
              );
              if (r.status !== 200 || !r.body.includes("[DONE]") || r.body.includes('"error"')) {
                throw new Error(`HTTP ${r.status}: ${r.body.slice(0, 300)}`);
              }
              totals.t.push(r.totalMs);
              return r.firstTokenMs;
            };
            // The baseline replays, call for call, the requests the server sent in a round.
            // Every round starts from the seeded conversation, so its i-th turn sends the
            // same requests each round; at 10 messages the window grows turn by turn (a
            // round's last turns send ~40), so one turn's bodies would not stand for them.
            await resetTasktalk(app.sql, [key]);
            const sent: unknown[][] = [];
            for (let i = 0; i < opts.plan.perRound; i++) {
              await turn();
              sent.push((await opts.model.lastBodies()).slice(tool ? -2 : -1));
            }
            totals.t.length = 0;
            const replay = { next: 0 };
            const label = `${backend} ${length >= 1000 ? `${length / 1000}k` : length} msgs ${tool ? "tool" : "no tool"}`;
            const series = await alternate(
              "B2",
              label,
              [
                { name: "tasktalk", run: turn, reset: () => resetTasktalk(app.sql, [key]) },
                {
                  name: "direct",
                  reset: async () => {
                    replay.next = 0;
                  },
                  run: async () => {
                    const bodies = sent[replay.next++ % sent.length] ?? [];
                    const r = await callModelDirect(modelAgent, opts.model.url, bodies);
                    totals.d.push(r.totalMs);
                    return r.firstTokenMs;
                  },
                },
              ],
              opts.plan,
            );
            const t = series.get("tasktalk") as Series;
            const d = series.get("direct") as Series;
            const addedByRound = t.rounds.map((r, i) => median(r) - median(d.rounds[i] ?? []));
            const tP50 = t.medianOfMedians();
            byTool[tool ? "tool" : "no tool"] = {
              ttft: {
                tasktalk: tP50,
                direct: d.medianOfMedians(),
                added: median(addedByRound),
                p99: t.p99(),
                p99OverP50: t.p99() / tP50,
              },
              total: {
                tasktalk: median(totals.t),
                direct: median(totals.d),
                added: median(totals.t) - median(totals.d),
              },
              addedP99: t.p99() - d.p99(),
              n: t.all().length,
              errors: t.errors + d.errors,
            };
            progress(
              "B2",
              `${label}: TTFT +${median(addedByRound).toFixed(2)} ms (p99 ${percentile(t.all(), 99).toFixed(2)} ms)`,
            );
          }
          result[backend][String(length)] = byTool;
        }
      } finally {
        agent.destroy();
        modelAgent.destroy();
        await app.close();
      }
    }
  } finally {
    await opts.model.setPace(0);
  }
  return result;
}
