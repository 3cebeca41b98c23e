/**
 * Where a turn's time goes: the SQL statements one Tasktalk turn issues (round trips) on
 * PostgreSQL, with their durations, and the wall time of N turns in a row.
 *
 *   node bench/profile.ts [--turns 200] [--length 10000] [--full]   (--full: whole SQL texts,
 *     what bench/peers/protocol-floor.ts copies)
 *   node bench/profile.ts --turns 1000 --cpu-prof turn.cpuprofile   (a CPU profile of the
 *     timed turns only: no start-up, seeding or warm-up in it; open it in Chrome DevTools)
 *   node bench/profile.ts --plain ...   (B2's turn instead: streamed (SSE), no tool call)
 */
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { parseArgs } from "node:util";
import pg from "pg";
import { tasktalkTurn } from "./b1.ts";
import { FULL, preparePg, startInProcess } from "./lib/backends.ts";
import { makeAgent, post } from "./lib/http.ts";
import { benchToken, convKey, uuidOf } from "./lib/layout.ts";
import { startModel } from "./lib/model.ts";
import { resetTasktalk } from "./lib/seed.ts";
import { median, percentile } from "./lib/stats.ts";

const { values } = parseArgs({
  options: {
    turns: { type: "string", default: "200" },
    length: { type: "string", default: "10000" },
    backend: { type: "string", default: "pg" },
    full: { type: "boolean", default: false },
    "cpu-prof": { type: "string" },
    plain: { type: "boolean", default: false },
  },
});
const turns = Number(values.turns);
const key = convKey.app(Number(values.length));
const backend = values.backend === "pglite" ? "pglite" : "pg";

type QueryFn = (this: pg.Client, ...args: unknown[]) => unknown;
/** The statements of the turn being recorded (a holder: no module-level `let`, see biome.json). */
const recording: { log?: { sql: string; ms: number }[] } = {};
const proto = pg.Client.prototype as unknown as { query: QueryFn };
const original = proto.query;
proto.query = function (this: pg.Client, ...args: unknown[]) {
  const first = args[0];
  const text = typeof first === "string" ? first : ((first as { text?: string })?.text ?? "?");
  const start = performance.now();
  const flat = text.replace(/\s+/g, " ");
  const entry = { sql: values.full ? flat : flat.slice(0, 150), ms: 0 };
  recording.log?.push(entry);
  const done = () => {
    entry.ms = performance.now() - start;
  };
  const last = args.at(-1);
  if (typeof last === "function") {
    args[args.length - 1] = (...cbArgs: unknown[]) => {
      done();
      return (last as (...a: unknown[]) => unknown)(...cbArgs);
    };
  }
  const out = original.apply(this, args);
  if (out instanceof Promise) void out.then(done, () => {});
  return out;
};

if (backend === "pg") await preparePg(FULL);
const model = await startModel();
if (values.plain) await model.setPace(2);
const app = await startInProcess(FULL, backend, model.url);
const agent = makeAgent(1);
const id = uuidOf(key);
/** One turn: B1's (JSON, one tool call) or, with --plain, B2's without a tool (SSE). */
async function turn(): Promise<number> {
  if (!values.plain) return tasktalkTurn(agent, app.url, id, benchToken(0));
  const r = await post(
    agent,
    `${app.url}/api/chat`,
    { message: "thanks, that is all", conversation_id: id },
    { authorization: `Bearer ${benchToken(0)}` },
    { sse: true },
  );
  if (r.status !== 200 || !r.body.includes("[DONE]")) throw new Error(`HTTP ${r.status}`);
  return r.totalMs;
}
await resetTasktalk(app.sql, [key]);
for (let i = 0; i < 5; i++) await turn();
const statements: { sql: string; ms: number }[] = [];
recording.log = statements;
const one = await turn();
recording.log = undefined;
console.log(`one turn: ${one.toFixed(2)} ms, ${statements.length} statements (round trips):`);
for (const s of statements) console.log(`  ${s.ms.toFixed(2).padStart(6)} ms  ${s.sql}`);
const samples: number[] = [];
const inspector = values["cpu-prof"] ? new Session() : undefined;
if (inspector) {
  inspector.connect();
  await inspector.post("Profiler.enable");
  await inspector.post("Profiler.start");
}
const cpu0 = process.cpuUsage();
const start = performance.now();
for (let i = 0; i < turns; i++) {
  samples.push(await turn());
  if (i % 200 === 199) await resetTasktalk(app.sql, [key]);
}
const cpu = process.cpuUsage(cpu0);
if (inspector) {
  const { profile } = await inspector.post("Profiler.stop");
  writeFileSync(values["cpu-prof"] as string, JSON.stringify(profile));
  inspector.disconnect();
}
console.log(
  `CPU of this process (app + client) per turn: ${((cpu.user + cpu.system) / 1000 / turns).toFixed(2)} ms (user ${(cpu.user / 1000 / turns).toFixed(2)}, system ${(cpu.system / 1000 / turns).toFixed(2)})`,
);
console.log(
  `${turns} turns: p50 ${median(samples).toFixed(2)} ms, p99 ${percentile(samples, 99).toFixed(2)} ms, ${((turns / (performance.now() - start)) * 1000).toFixed(0)} turns/s`,
);
await resetTasktalk(app.sql, [key]);
agent.destroy();
await app.close();
await model.stop();
