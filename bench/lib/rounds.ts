/** Alternating rounds (A B C A B C …, the order rotated each round) over one process run. */
import { progress, Series } from "./stats.ts";

export interface Variant {
  name: string;
  /** One sample in ms (a turn's duration, or its time to first token). */
  run(): Promise<number>;
  /** Between rounds, untimed: back to the seeded state. */
  reset?(): Promise<void>;
}

export interface RoundPlan {
  rounds: number;
  perRound: number;
  /** A round stops early past this many ms (at least 3 samples): slow peers stay bounded. */
  maxRoundMs: number;
  warmup: number;
}

export async function alternate(
  tag: string,
  label: string,
  variants: Variant[],
  plan: RoundPlan,
): Promise<Map<string, Series>> {
  const out = new Map<string, Series>(variants.map((v) => [v.name, new Series()]));
  for (const v of variants) {
    await v.reset?.();
    for (let i = 0; i < plan.warmup; i++) await v.run().catch(() => {});
  }
  for (let r = 0; r < plan.rounds; r++) {
    progress(tag, `${label}: round ${r + 1}/${plan.rounds}`);
    const order = variants.map((_, i) => variants[(i + r) % variants.length] as Variant);
    for (const v of order) {
      await v.reset?.();
      const series = out.get(v.name) as Series;
      const samples = series.startRound();
      const roundStart = performance.now();
      for (let i = 0; i < plan.perRound; i++) {
        try {
          samples.push(await v.run());
        } catch (error) {
          series.errors++;
          if (series.errors <= 3) progress(tag, `${label}: ${v.name} error: ${String(error)}`);
        }
        if (samples.length >= 3 && performance.now() - roundStart > plan.maxRoundMs) break;
      }
    }
  }
  for (const v of variants) await v.reset?.();
  return out;
}
