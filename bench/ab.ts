/**
 * Before/after in ONE run: the app built from another checkout of the tree (`--before
 * DIR`, e.g. a copy with the hot-path changes reverted) against this tree, both on the
 * seeded PostgreSQL database (or with `--backend pglite`, each on its own copy of the
 * seeded PGlite directory), alternating rounds of B1 turns at 10 and 10k messages. Both
 * apps run in this process and turns are sent one at a time, so the process's CPU time
 * during a turn is that app's (plus the client's, the same for both): "cpu ms/turn".
 *
 *   node bench/ab.ts --before /tmp/before [--rounds 5] [--turns 20] [--ttft] [--backend pglite]
 *
 * --ttft: B2's measure instead, time to the first text token of a streamed turn without a
 * tool, the model paced at 2 ms per chunk.
 */
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import pino from "pino";
import { tasktalkTurn } from "./b1.ts";
import { PACE_MS as B2_PACE_MS } from "./b2.ts";
import { appEnv, FULL, pgUrl, preparePg, ROOT, startInProcess } from "./lib/backends.ts";
import { makeAgent, post } from "./lib/http.ts";
import { benchToken, convKey, uuidOf } from "./lib/layout.ts";
import { startModel } from "./lib/model.ts";
import { alternate } from "./lib/rounds.ts";
import { refreshSessions, resetTasktalk } from "./lib/seed.ts";
import { pgliteSql, pgSql, type Sql } from "./lib/sql.ts";

const { values } = parseArgs({
  options: {
    before: { type: "string" },
    rounds: { type: "string", default: "5" },
    turns: { type: "string", default: "20" },
    ttft: { type: "boolean", default: false },
    backend: { type: "string", default: "pg" },
  },
});
const backend = values.backend === "pglite" ? "pglite" : "pg";
if (!values.before) throw new Error("--before DIR is required");

interface AppModule {
  createServer(
    config: unknown,
    options: unknown,
  ): Promise<{
    app: { listen(o: { port: number; host: string }): Promise<string> };
    database: { db: unknown };
    close(): Promise<void>;
  }>;
}
interface ConfigModule {
  loadConfig(env: Record<string, string>): unknown;
}

const model = await startModel();
const pool =
  backend === "pg" ? new pg.Pool({ connectionString: pgUrl(FULL.pgDb), max: 2 }) : undefined;
const copies: string[] = [];
if (pool) {
  await preparePg(FULL);
  await refreshSessions(pgSql(pool));
} else {
  // Seeds (or checks) the bench's PGlite directory; each app then opens a copy of it.
  await (await startInProcess(FULL, "pglite", model.url)).close();
}
const logger = { level: "info", stream: pino.destination({ dest: "/dev/null", sync: false }) };
const apps: { name: string; url: string; sql: Sql; close(): Promise<void> }[] = [];
for (const [name, root] of [
  ["before", values.before],
  ["after", ROOT],
] as const) {
  const { createServer } = (await import(`${root}/src/server.ts`)) as AppModule;
  const { loadConfig } = (await import(`${root}/src/config.ts`)) as ConfigModule;
  const copy = pool ? undefined : join(mkdtempSync(join(tmpdir(), "tasktalk-ab-")), "pglite");
  if (copy) {
    cpSync(FULL.pgliteDir, copy, { recursive: true });
    copies.push(copy);
  }
  const setup = copy ? { ...FULL, pgliteDir: copy } : FULL;
  const server = await createServer(loadConfig(appEnv(setup, backend, model.url)), { logger });
  const url = await server.app.listen({ port: 0, host: "127.0.0.1" });
  const sql = pool ? pgSql(pool) : pgliteSql((server.database.db as { $client: PGlite }).$client);
  if (!pool) await refreshSessions(sql);
  apps.push({ name, url, sql, close: () => server.close() });
}
/** Both apps' databases: one for pg, each its own for PGlite. */
const reset = async (keys: string[]) => {
  for (const a of pool ? apps.slice(0, 1) : apps) await resetTasktalk(a.sql, keys);
};
const agent = makeAgent(1);
// Warm both apps' JIT first, so the first length measured does not pay for it.
{
  const key = convKey.app(10);
  for (const a of apps) {
    await reset([key]);
    for (let i = 0; i < 100; i++) await tasktalkTurn(agent, a.url, uuidOf(key), benchToken(0));
  }
  await reset([key]);
}
/** B2's streamed turn without a tool: ms to its first text token. */
const firstToken = async (url: string, conversationId: string) => {
  const r = await post(
    agent,
    `${url}/api/chat`,
    { message: "thanks, that is all", conversation_id: conversationId },
    { authorization: `Bearer ${benchToken(0)}` },
    { sse: true },
  );
  if (r.status !== 200 || !r.body.includes("[DONE]")) throw new Error(`HTTP ${r.status}`);
  return r.firstTokenMs;
};
if (values.ttft) await model.setPace(B2_PACE_MS);
const results: Record<string, Record<string, number>> = {};
for (const length of [10, 10_000]) {
  const key = convKey.app(length);
  const id = uuidOf(key);
  const cpu = new Map(apps.map((a) => [a.name, { ms: 0, turns: 0 }]));
  const series = await alternate(
    "ab",
    `${length} msgs`,
    apps.map((a) => ({
      name: a.name,
      run: async () => {
        const used = cpu.get(a.name) as { ms: number; turns: number };
        const start = process.cpuUsage();
        const ms = values.ttft
          ? await firstToken(a.url, id)
          : await tasktalkTurn(agent, a.url, id, benchToken(0));
        const { user, system } = process.cpuUsage(start);
        used.ms += (user + system) / 1000;
        used.turns++;
        return ms;
      },
      reset: () => reset([key]),
    })),
    {
      rounds: Number(values.rounds),
      perRound: Number(values.turns),
      maxRoundMs: 60_000,
      warmup: 3,
    },
  );
  results[length] = Object.fromEntries(
    [...series].flatMap(([n, s]) => {
      const used = cpu.get(n) as { ms: number; turns: number };
      return [
        [`${n} p50`, s.medianOfMedians()],
        [`${n} p99`, s.p99()],
        [`${n} cpu ms/turn`, used.ms / used.turns],
      ];
    }),
  );
}
console.log(JSON.stringify({ backend, ...results }, null, 2));
agent.destroy();
for (const a of apps) await a.close();
await pool?.end();
for (const copy of copies) rmSync(join(copy, ".."), { recursive: true, force: true });
await model.stop();
