/**
 * PGlite's shared_buffers, before/after in ONE run: the app as `npm start` runs it (the
 * bundle) on two copies of the seeded PGlite directory, one per PGLITE_SHARED_BUFFERS_MB
 * value, alternating rounds: B1's turn (1 client) at 10 and 10k messages with the app
 * process's CPU per turn (/proc/PID/stat), 8 clients on B3's conversations for 2 s, and
 * RSS at the end. It is how the 16 MB default was checked against PostgreSQL's 128 MB.
 *
 *   node bench/pglite-buffers.ts [--mb 128,16] [--rounds 7] [--turns 25]
 *
 * Needs the seeded directory (`npm run bench -- --quick --only B1` makes it); the copies
 * (`<dir>-sb<MB>`) are removed at the end.
 */
import { cpSync, readFileSync, rmSync } from "node:fs";
import { parseArgs } from "node:util";
import { tasktalkTurn } from "./b1.ts";
import { type ChildApp, FULL, startChild } from "./lib/backends.ts";
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
  for (let r = 0; r < rounds; r++) {
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
  console.log("median of round values (each round's values)");
  for (const [key, xs] of Object.entries(samples).sort(([a], [b]) => a.localeCompare(b)))
    console.log(`${key}: ${median(xs).toFixed(2)}  (${xs.map((x) => x.toFixed(1)).join(" ")})`);
  variants.forEach((v, i) => {
    console.log(`${v.name}: RSS after the run ${apps[i]?.rssMb().toFixed(0)} MB`);
  });
} finally {
  agent.destroy();
  loadAgent.destroy();
  for (const app of apps) await app.stop();
  for (const v of variants) rmSync(v.dir, { recursive: true, force: true });
  await model.stop();
}
