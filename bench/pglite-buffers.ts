/**
 * PGlite's shared_buffers, before/after in ONE run: the app as `npm start` runs it (the
 * bundle) on two copies of the seeded PGlite directory, one per PGLITE_SHARED_BUFFERS_MB
 * value, alternating rounds: B1's turn (1 client) at 10 and 10k messages with the app
 * process's CPU per turn (/proc/PID/stat), 8 clients on B3's conversations for 2 s, and
 * RSS at the end. It is how the 16 MB default was checked against PostgreSQL's 128 MB.
 *
 *   node bench/pglite-buffers.ts [--mb 128,16] [--rounds 7] [--turns 25]
 *   node bench/pglite-buffers.ts --reads [--mb 128,16]
 *
 * `--reads` counts instead of timing (timings on a shared machine are noisy; counts are
 * not): the app in this process on each copy in turn, 100 warm-up turns, then 100 turns at
 * 10 and at 10k messages, and the blocks PostgreSQL read from files (misses of
 * shared_buffers, served by the OS's file cache) and found in shared_buffers per turn,
 * from `pg_stat_database`.
 *
 * Needs the seeded directory (`npm run bench -- --quick --only B1` makes it); the copies
 * (`<dir>-sb<MB>`) are removed at the end.
 */
import { cpSync, readFileSync, rmSync } from "node:fs";
import { parseArgs } from "node:util";
import { loadConfig } from "../src/config.ts";
import { createServer } from "../src/server.ts";
import { tasktalkTurn } from "./b1.ts";
import { appEnv, type ChildApp, FULL, startChild } from "./lib/backends.ts";
import { makeAgent, post } from "./lib/http.ts";
import { benchToken, convKey, uuidOf } from "./lib/layout.ts";
import { startModel } from "./lib/model.ts";
import { median } from "./lib/stats.ts";
import { USER_TEXT } from "./peers/common.ts";

const { values } = parseArgs({
  options: {
    mb: { type: "string", default: "128,16" },
    rounds: { type: "string", default: "7" },
    turns: { type: "string", default: "25" },
    reads: { type: "boolean", default: false },
  },
});
const rounds = Number(values.rounds);
const turns = Number(values.turns);
const CLIENTS = 8;
const LOAD_MS = 2000;

/** User + system CPU of a process so far, ms (clock ticks of 10 ms). */
function cpuMs(pid: number | undefined): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** Blocks read from files and found in shared_buffers per turn, the app in this process. */
async function countReads(mb: string, dir: string, modelUrl: string): Promise<void> {
  const env = { ...appEnv({ ...FULL, pgliteDir: dir }, "pglite", modelUrl), LOG_LEVEL: "silent" };
  const server = await createServer(loadConfig({ ...env, PGLITE_SHARED_BUFFERS_MB: mb }));
  const readsAgent = makeAgent(1);
  try {
    const url = await server.app.listen({ port: 0, host: "127.0.0.1" });
    const pglite = server.database.pglite;
    if (!pglite) throw new Error("not PGlite");
    const blocks = async () => {
      const { rows } = await pglite.query<{ read: string; hit: string }>(
        "select sum(blks_read)::text as read, sum(blks_hit)::text as hit from pg_stat_database",
      );
      return { read: Number(rows[0]?.read), hit: Number(rows[0]?.hit) };
    };
    for (let i = 0; i < 100; i++)
      await tasktalkTurn(readsAgent, url, uuidOf(convKey.app(10)), benchToken(0));
    for (const length of [10, 10_000]) {
      const before = await blocks();
      for (let i = 0; i < 100; i++)
        await tasktalkTurn(readsAgent, url, uuidOf(convKey.app(length)), benchToken(0));
      const after = await blocks();
      console.log(
        `shared_buffers ${mb} MB, ${length} msgs: per turn ${((after.read - before.read) / 100).toFixed(2)} blocks read from files, ${((after.hit - before.hit) / 100).toFixed(1)} found in shared_buffers`,
      );
    }
  } finally {
    readsAgent.destroy();
    await server.close();
  }
}

const model = await startModel();
const variants = (values.mb ?? "").split(",").map((mb) => ({
  name: `shared_buffers ${mb} MB`,
  mb,
  dir: `${FULL.pgliteDir}-sb${mb}`,
}));
const apps: ChildApp[] = [];
const agent = makeAgent(1);
const loadAgent = makeAgent(CLIENTS);
const samples: Record<string, number[]> = {};
const record = (key: string, value: number) => {
  samples[key] ??= [];
  samples[key].push(value);
};
try {
  for (const v of variants) {
    cpSync(FULL.pgliteDir, v.dir, { recursive: true });
    if (values.reads) {
      await countReads(v.mb, v.dir, model.url);
      continue;
    }
    apps.push(
      await startChild({ ...FULL, pgliteDir: v.dir }, "pglite", model.url, "bundle", {
        PGLITE_SHARED_BUFFERS_MB: v.mb,
      }),
    );
  }
  // Warm each app's JIT before anything is timed.
  for (const app of apps) {
    for (let i = 0; i < 100; i++)
      await tasktalkTurn(agent, app.url, uuidOf(convKey.app(10)), benchToken(0));
  }
  for (let r = 0; r < (values.reads ? 0 : rounds); r++) {
    const order = variants.map((_, i) => (i + r) % variants.length);
    for (const i of order) {
      const [v, app] = [variants[i], apps[i]];
      if (!v || !app) continue;
      for (const length of [10, 10_000]) {
        const times: number[] = [];
        const cpu0 = cpuMs(app.child.pid);
        for (let t = 0; t < turns; t++)
          times.push(
            await tasktalkTurn(agent, app.url, uuidOf(convKey.app(length)), benchToken(0)),
          );
        record(`${v.name}: turn p50 at ${length} msgs, ms`, median(times));
        record(
          `${v.name}: CPU per turn at ${length} msgs, ms`,
          (cpuMs(app.child.pid) - cpu0) / turns,
        );
      }
      const done = { turns: 0 };
      const end = performance.now() + LOAD_MS;
      await Promise.all(
        Array.from({ length: CLIENTS }, async (_, c) => {
          while (performance.now() < end) {
            const res = await post(
              loadAgent,
              `${app.url}/api/chat`,
              { message: USER_TEXT, conversation_id: uuidOf(convKey.b3app(c + 1)) },
              { authorization: `Bearer ${benchToken(c + 1)}` },
            );
            if (res.status !== 200)
              throw new Error(`HTTP ${res.status}: ${res.body.slice(0, 200)}`);
            done.turns++;
          }
        }),
      );
      record(`${v.name}: turns/s at ${CLIENTS} clients`, done.turns / (LOAD_MS / 1000));
    }
    process.stderr.write(`round ${r + 1}/${rounds}\n`);
  }
  if (!values.reads) console.log("median of round values (each round's values)");
  for (const [key, xs] of Object.entries(samples).sort(([a], [b]) => a.localeCompare(b)))
    console.log(`${key}: ${median(xs).toFixed(2)}  (${xs.map((x) => x.toFixed(1)).join(" ")})`);
  variants.forEach((v, i) => {
    if (!values.reads)
      console.log(`${v.name}: RSS after the run ${apps[i]?.rssMb().toFixed(0)} MB`);
  });
} finally {
  agent.destroy();
  loadAgent.destroy();
  for (const app of apps) await app.stop();
  for (const v of variants) rmSync(v.dir, { recursive: true, force: true });
  await model.stop();
}
