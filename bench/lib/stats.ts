/** Small statistics for benchmark rounds: medians of round medians and tail percentiles. */

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

export const median = (values: readonly number[]) => percentile(values, 50);

/** One variant's samples, kept per round so the median of round medians can be taken. */
export class Series {
  readonly rounds: number[][] = [];
  errors = 0;
  /** Extra per-round scalar (e.g. turns per second). */
  readonly roundRates: number[] = [];

  startRound(): number[] {
    const samples: number[] = [];
    this.rounds.push(samples);
    return samples;
  }

  all(): number[] {
    return this.rounds.flat();
  }

  /** Median of the per-round medians: robust to one noisy round on a shared machine. */
  medianOfMedians(): number {
    return median(this.rounds.filter((r) => r.length > 0).map((r) => median(r)));
  }

  p99(): number {
    return percentile(this.all(), 99);
  }

  rate(): number {
    return median(this.roundRates);
  }
}

export const round2 = (n: number) => (Number.isFinite(n) ? Math.round(n * 100) / 100 : null);
export const round3 = (n: number) => (Number.isFinite(n) ? Math.round(n * 1000) / 1000 : null);

const startedAt = performance.now();

/** One progress line on stderr, with the seconds since the run started. */
export function progress(tag: string, text: string): void {
  const t = ((performance.now() - startedAt) / 1000).toFixed(0).padStart(4);
  process.stderr.write(`${t}s [${tag}] ${text}\n`);
}

export const now = () => performance.now();
