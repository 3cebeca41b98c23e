/**
 * The black-box check of B1's claim, through the public API only: a new user signs up on a
 * fresh database, their conversation is timed early, then grown by thousands of messages
 * through real turns (nothing seeded), then timed again. The late turns on the grown
 * conversation alternate round by round with turns on a second, young conversation of the
 * same user, so machine drift between "early" and "late" cannot pass for growth:
 * grown ÷ young is the figure, with late ÷ early beside it.
 *
 *   node bench/growth.ts [--grow 5000] [--backend pg|pglite|both] [--keep]   (also in npm run bench)
 */
import { cpSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { adminQuery } from "../test/support/databases.ts";
import { type Backend, FULL, pgUrl, type Setup, startChild } from "./lib/backends.ts";
import { makeAgent, post } from "./lib/http.ts";
import type { Model } from "./lib/model.ts";
import { median, percentile, progress } from "./lib/stats.ts";
import { USER_TEXT } from "./peers/common.ts";

/** 30 turns = 60 messages: past the model's 50-message window. */
const WINDOW_TURNS = 30;

export interface GrowthCell {
  /** Messages in the grown conversation when the late turns were timed. */
  messages: number;
  early: { p50: number; p99: number };
  grown: { p50: number; p99: number };
  young: { p50: number; p99: number };
  /** Median of round medians: grown ÷ young (same rounds), late ÷ early. */
  grownOverYoung: number;
  lateOverEarly: number;
  errors: number;
  growSeconds: number;
}
export type GrowthResult = Record<string, GrowthCell>;

export async function runGrowth(opts: {
  setup: Setup;
  /** The fresh PostgreSQL database it creates and drops (default tasktalk_growth). */
  db?: string;
  /**
   * PGlite: start from a copy of this closed, migrated data directory instead of an empty
   * one. Smoke only: creating an empty PGlite directory costs ~10 s on a busy machine.
   */
  pgliteTemplate?: string;
  backends: Backend[];
  model: Model;
  /** Messages added to the conversation between the early and the late timings. */
  grow: number;
  rounds: number;
  perRound: number;
  /** Leave the database (pg: tasktalk_growth) in place for a look afterwards. */
  keep?: boolean;
}): Promise<GrowthResult> {
  await opts.model.setPace(0);
  const out: GrowthResult = {};
  for (const backend of opts.backends) out[backend] = await growOne(backend, opts);
  return out;
}

async function growOne(
  backend: Backend,
  opts: {
    setup: Setup;
    db?: string;
    pgliteTemplate?: string;
    model: Model;
    grow: number;
    rounds: number;
    perRound: number;
    keep?: boolean;
  },
): Promise<GrowthCell> {
  const db = opts.db ?? "tasktalk_growth";
  const dataDir = join(tmpdir(), "tasktalk-bench", `growth-${process.pid}`);
  const env: Record<string, string> = { DATA_DIR: dataDir };
  if (backend === "pg") {
    await adminQuery(`drop database if exists ${db} with (force)`);
    await adminQuery(`create database ${db}`);
    env.DATABASE_URL = pgUrl(db);
  } else {
    rmSync(dataDir, { recursive: true, force: true });
    if (opts.pgliteTemplate) cpSync(opts.pgliteTemplate, dataDir, { recursive: true });
  }
  const app = await startChild(opts.setup, backend, opts.model.url, "bundle", env);
  progress("growth", `${backend}: app up in ${app.coldStartMs.toFixed(0)} ms`);
  const agent = makeAgent(1);
  let errors = 0;
  try {
    const token = await signUp(app.url);
    const headers = { authorization: `Bearer ${token}` };
    const turn = async (conversationId: string | undefined) => {
      const r = await post(
        agent,
        `${app.url}/api/chat`,
        { message: USER_TEXT, ...(conversationId ? { conversation_id: conversationId } : {}) },
        headers,
      );
      if (r.status !== 200) {
        errors++;
        throw new Error(`growth: HTTP ${r.status} ${r.body.slice(0, 200)}`);
      }
      return { ms: r.totalMs, conversationId: (JSON.parse(r.body) as Reply).conversation_id };
    };

    const grown = (await turn(undefined)).conversationId;
    const timed = async (id: string, n: number) => {
      const samples: number[] = [];
      for (let i = 0; i < n; i++) samples.push((await turn(id)).ms);
      return samples;
    };
    // Warm-up, and a full model window (HISTORY_MAX_MESSAGES, 50) before anything is timed:
    // what is compared is the conversation's length, not how much history the model gets.
    await timed(grown, WINDOW_TURNS);
    const earlyRounds: number[][] = [];
    for (let r = 0; r < opts.rounds; r++) earlyRounds.push(await timed(grown, opts.perRound));

    const started = performance.now();
    const turnsToGrow = Math.ceil(opts.grow / 2); // each turn stores 2 messages
    for (let i = 0; i < turnsToGrow; i++) {
      await turn(grown);
      if ((i + 1) % 500 === 0 || i + 1 === turnsToGrow) {
        progress("growth", `${backend}: grew by ${(i + 1) * 2} of ${turnsToGrow * 2} messages`);
      }
    }
    const growSeconds = (performance.now() - started) / 1000;

    const young = (await turn(undefined)).conversationId;
    await timed(young, WINDOW_TURNS);
    const grownRounds: number[][] = [];
    const youngRounds: number[][] = [];
    for (let r = 0; r < opts.rounds; r++) {
      const order = r % 2 === 0 ? ["grown", "young"] : ["young", "grown"];
      for (const which of order) {
        if (which === "grown") grownRounds.push(await timed(grown, opts.perRound));
        else youngRounds.push(await timed(young, opts.perRound));
      }
    }
    const messages = await messageCount(app.url, headers, grown);
    const stat = (rounds: number[][]) => ({
      p50: median(rounds.map(median)),
      p99: percentile(rounds.flat(), 99),
    });
    const early = stat(earlyRounds);
    const grownStat = stat(grownRounds);
    const cell: GrowthCell = {
      messages,
      early,
      grown: grownStat,
      young: stat(youngRounds),
      grownOverYoung: median(grownRounds.map((g, i) => median(g) / median(youngRounds[i] ?? []))),
      lateOverEarly: grownStat.p50 / early.p50,
      errors,
      growSeconds,
    };
    progress(
      "growth",
      `${backend}: ${messages} messages: grown ${cell.grown.p50.toFixed(2)} ms vs young ${cell.young.p50.toFixed(2)} ms (${cell.grownOverYoung.toFixed(2)}); early ${cell.early.p50.toFixed(2)} ms`,
    );
    return cell;
  } finally {
    agent.destroy();
    await app.stop();
    if (opts.keep) {
      progress("growth", `${backend}: kept ${backend === "pg" ? db : dataDir}`);
    } else if (backend === "pg") {
      await adminQuery(`drop database if exists ${db} with (force)`);
    } else {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
}

interface Reply {
  conversation_id: string;
}

async function signUp(url: string): Promise<string> {
  const res = await fetch(`${url}/api/auth/sign-up/email`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      email: `growth-${process.pid}-${Date.now()}@example.com`,
      password: "correct horse battery",
      name: "Growth",
    }),
  });
  const token = res.headers.get("set-auth-token");
  if (res.status !== 200 || !token) throw new Error(`growth: sign-up failed (${res.status})`);
  return token;
}

/** The conversation's size as the API reports it: the seq of its newest message. */
async function messageCount(
  url: string,
  headers: Record<string, string>,
  id: string,
): Promise<number> {
  // The newest message: one item, paging backwards from beyond the end.
  const res = await fetch(`${url}/api/conversations/${id}/messages?limit=1&before_seq=2000000000`, {
    headers,
  });
  if (res.status !== 200) throw new Error(`growth: messages HTTP ${res.status}`);
  const body = (await res.json()) as { items: { seq: number }[] };
  return body.items[0]?.seq ?? 0;
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      grow: { type: "string", default: "5000" },
      backend: { type: "string", default: "both" },
      rounds: { type: "string", default: "5" },
      "per-round": { type: "string", default: "20" },
      keep: { type: "boolean", default: false },
    },
  });
  const { buildServer } = await import("../scripts/build-server.ts");
  const { startModel } = await import("./lib/model.ts");
  await buildServer();
  const model = await startModel();
  const backends: Backend[] =
    values.backend === "both" ? ["pg", "pglite"] : [values.backend === "pglite" ? "pglite" : "pg"];
  try {
    const result = await runGrowth({
      setup: FULL,
      backends,
      model,
      grow: Number(values.grow),
      rounds: Number(values.rounds),
      perRound: Number(values["per-round"]),
      keep: values.keep ?? false,
    });
    console.log(JSON.stringify(result, null, 2));
  } finally {
    await model.stop();
  }
}
