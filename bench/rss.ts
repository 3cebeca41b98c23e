/**
 * Where an idle Tasktalk process's memory goes (issue 16: PGlite's idle RSS). Starts the
 * app as `npm start` runs it (`node dist/main.mjs`, the bundle) with a small probe
 * preloaded (bench/lib/rss-probe.ts), waits for /health/ready and a rest, then prints the
 * resident set by kind of mapping (/proc/PID/smaps), the process's own view
 * (`process.memoryUsage()`, V8 heap statistics, PGlite's WebAssembly memory) and, for
 * PGlite, the memory settings its PostgreSQL runs with.
 *
 *   node bench/rss.ts                 # PGlite: a first start on an empty directory, a
 *                                     #   restart on it, the bench's seeded directory if it
 *                                     #   exists; PostgreSQL: a fresh database
 *   node bench/rss.ts --dir DIR       # PGlite on DIR only (kept)
 *   node bench/rss.ts --rest 5000     # idle this long after ready (default 1000 ms, as B6)
 *   node bench/rss.ts --turns 200     # also send this many turns first (instant model)
 *   node bench/rss.ts --backend pglite   # or pg; default both
 *   node bench/rss.ts --gc            # a full garbage collection before measuring
 *   node bench/rss.ts --node-args="--liftoff-only"   # node/V8 flags for the app
 *
 * PGLITE_SHARED_BUFFERS_MB in the environment reaches the app (and the settings shown).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { PGlite } from "@electric-sql/pglite";
import { pgliteOptions } from "../src/db/client.ts";
import { adminQuery } from "../test/support/databases.ts";
import { appEnv, dropDatabase, ENTRIES, FULL, freePort, ROOT, untilReady } from "./lib/backends.ts";
import { makeAgent, post } from "./lib/http.ts";
import { startModel } from "./lib/model.ts";

const { values: args } = parseArgs({
  options: {
    dir: { type: "string" },
    rest: { type: "string", default: "1000" },
    turns: { type: "string", default: "0" },
    backend: { type: "string", default: "both" },
    gc: { type: "boolean", default: false },
    "node-args": { type: "string", default: "" },
  },
});
const restMs = Number(args.rest);
const turns = Number(args.turns);
const sharedBuffersMb = process.env.PGLITE_SHARED_BUFFERS_MB
  ? Number(process.env.PGLITE_SHARED_BUFFERS_MB)
  : undefined;

interface Probe {
  memoryUsage: NodeJS.MemoryUsage;
  wasmMemoryBytes: number[];
  mallocedBytes: number;
  externalMemoryBytes: number;
  codeAndMetadataBytes: number;
}

/** Resident kB of the process, summed by kind of mapping. */
function smapsByKind(pid: number): { kinds: Record<string, number>; rollup: string } {
  interface Vma {
    from: number;
    to: number;
    perms: string;
    name: string;
    rssKb: number;
  }
  const vmas: Vma[] = [];
  for (const line of readFileSync(`/proc/${pid}/smaps`, "utf8").split("\n")) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    const last = vmas.at(-1);
    if (head) {
      const [, from = "0", to = "0", perms = "", name = ""] = head;
      vmas.push({
        from: Number.parseInt(from, 16),
        to: Number.parseInt(to, 16),
        perms,
        name,
        rssKb: 0,
      });
    } else if (line.startsWith("Rss:") && last) {
      last.rssKb = Number(line.split(/\s+/)[1]);
    }
  }
  const kinds: Record<string, number> = {};
  vmas.forEach((vma, i) => {
    const next = vmas[i + 1];
    let kind: string;
    if (vma.name.startsWith("/")) kind = vma.name.includes("/node") ? "node binary" : "other files";
    else if (vma.name)
      kind = vma.name; // [heap] (malloc's brk area), [stack], …
    // A 32-bit WebAssembly memory: its accessible part, then the rest of the ≥ 8 GiB V8
    // reserves for it (bounds checks by guard pages) as one inaccessible mapping.
    else if (
      vma.perms.startsWith("rw") &&
      next?.from === vma.to &&
      next.perms.startsWith("---") &&
      !next.name &&
      next.to - vma.from >= 8 * 2 ** 30
    )
      kind = "WebAssembly memory (PGlite's PostgreSQL)";
    else if (vma.perms.includes("x")) kind = "JIT code (JS and WebAssembly)";
    else kind = "other anonymous (V8 heap, ArrayBuffers, malloc arenas)";
    kinds[kind] = (kinds[kind] ?? 0) + vma.rssKb;
  });
  return { kinds, rollup: readFileSync(`/proc/${pid}/smaps_rollup`, "utf8") };
}

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;

async function measure(label: string, env: Record<string, string>) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...(args.gc ? ["--expose-gc"] : []),
      ...(args["node-args"] ?? "").split(" ").filter(Boolean),
      "--import",
      "./bench/lib/rss-probe.ts",
      ENTRIES.bundle,
    ],
    {
      cwd: ROOT,
      env: { ...process.env, ...env, PORT: String(port), LOG_LEVEL: "warn" },
      stdio: ["ignore", "ignore", "pipe", "ipc"],
    },
  );
  let stderr = "";
  child.stderr?.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const agent = makeAgent(1);
  try {
    const readyMs = await untilReady(agent, child, url, started, () => stderr, 20);
    if (turns > 0) await sendTurns(agent, url);
    await new Promise((r) => setTimeout(r, restMs));
    const probe = await new Promise<Probe>((resolve) => {
      child.once("message", (m) => resolve(m as Probe));
      child.send(args.gc ? "rss-probe-gc" : "rss-probe");
    });
    const pid = child.pid ?? 0;
    const { kinds, rollup } = smapsByKind(pid);
    const rssKb = Number(/^Rss:\s+(\d+)/m.exec(rollup)?.[1]);
    const anonKb = Number(/^Anonymous:\s+(\d+)/m.exec(rollup)?.[1]);
    const m = probe.memoryUsage;
    console.log(`\n## ${label} (ready in ${readyMs.toFixed(0)} ms, then ${restMs} ms idle)`);
    console.log(`RSS ${mb(rssKb * 1024)} (anonymous ${mb(anonKb * 1024)})`);
    console.log("by mapping (/proc/PID/smaps):");
    for (const [kind, kb] of Object.entries(kinds).sort((a, b) => b[1] - a[1])) {
      if (kb >= 1024) console.log(`  ${mb(kb * 1024).padStart(9)}  ${kind}`);
    }
    console.log("the process's own view:");
    console.log(`  ${mb(m.heapUsed).padStart(9)}  JS heap used (of ${mb(m.heapTotal)} total)`);
    console.log(
      `  ${mb(m.external).padStart(9)}  external (of it ArrayBuffers ${mb(m.arrayBuffers)})`,
    );
    console.log(`  ${mb(probe.mallocedBytes).padStart(9)}  V8 malloced`);
    console.log(`  ${mb(probe.codeAndMetadataBytes).padStart(9)}  JS code and bytecode`);
    for (const bytes of probe.wasmMemoryBytes)
      console.log(`  ${mb(bytes).padStart(9)}  WebAssembly.Memory size (grown, never shrinks)`);
    return { rssMb: rssKb / 1024, wasmMb: probe.wasmMemoryBytes.map((b) => b / 2 ** 20) };
  } finally {
    agent.destroy();
    child.kill("SIGTERM");
    await exited;
  }
}

/** A few JSON turns of one new user (sign-up, then `turns` turns), to see RSS after use. */
async function sendTurns(agent: ReturnType<typeof makeAgent>, url: string) {
  const email = `rss-${Date.now()}@example.com`;
  const signUp = await post(
    agent,
    `${url}/api/auth/sign-up/email`,
    { email, password: "rss-password-123", name: "rss" },
    {},
  );
  const token = (JSON.parse(signUp.body) as { token?: string }).token;
  if (!token) throw new Error(`sign-up failed: ${signUp.status} ${signUp.body}`);
  let conversation: string | undefined;
  for (let i = 0; i < turns; i++) {
    const r = await post(
      agent,
      `${url}/api/chat`,
      { message: `turn ${i} #tool`, ...(conversation ? { conversation_id: conversation } : {}) },
      { authorization: `Bearer ${token}` },
    );
    if (r.status !== 200) throw new Error(`turn failed: ${r.status} ${r.body}`);
    conversation ??= (JSON.parse(r.body) as { conversation_id: string }).conversation_id;
  }
}

/** The memory settings PGlite's PostgreSQL runs with, opened as the app opens it. */
async function pgliteSettings(dir: string, sharedBuffersMb?: number) {
  const client = await PGlite.create(dir, pgliteOptions(sharedBuffersMb));
  try {
    const names = [
      "shared_buffers",
      "wal_buffers",
      "work_mem",
      "maintenance_work_mem",
      "temp_buffers",
      "max_connections",
    ];
    const { rows } = await client.query<{ name: string; setting: string; unit: string | null }>(
      "select name, setting, unit from pg_settings where name = any($1) order by name",
      [names],
    );
    console.log("PGlite's PostgreSQL settings:");
    for (const r of rows) console.log(`  ${r.name} = ${r.setting}${r.unit ? ` × ${r.unit}` : ""}`);
  } finally {
    await client.close();
  }
}

const model = await startModel();
try {
  const setup = (pgliteDir: string, pgDb = FULL.pgDb) => ({ ...FULL, pgliteDir, pgDb });
  const backends = args.backend === "both" ? ["pglite", "pg"] : [args.backend];
  if (backends.includes("pglite")) {
    if (args.dir) {
      await measure(`PGlite, ${args.dir}`, appEnv(setup(args.dir), "pglite", model.url));
      await pgliteSettings(args.dir, sharedBuffersMb);
    } else {
      const empty = mkdtempSync(join(tmpdir(), "tasktalk-rss-"));
      try {
        const env = appEnv(setup(empty), "pglite", model.url);
        await measure("PGlite, first start on an empty directory", env);
        await measure("PGlite, restart on that directory", env);
        await measure("PGlite, restart with PGLITE_SHARED_BUFFERS_MB=128 (PostgreSQL's default)", {
          ...env,
          PGLITE_SHARED_BUFFERS_MB: "128",
        });
        await pgliteSettings(empty, sharedBuffersMb);
      } finally {
        rmSync(empty, { recursive: true, force: true });
      }
      if (existsSync(join(FULL.pgliteDir, "PG_VERSION")))
        await measure(
          `PGlite, the bench's seeded directory (${FULL.pgliteDir})`,
          appEnv(FULL, "pglite", model.url),
        );
    }
  }
  if (backends.includes("pg")) {
    const db = `tasktalk_rss_${process.pid}`;
    await adminQuery(`create database ${db}`);
    try {
      await measure(
        "PostgreSQL, a new database",
        appEnv(setup(join(tmpdir(), "tasktalk-rss-unused"), db), "pg", model.url),
      );
    } finally {
      await dropDatabase(db);
    }
  }
} finally {
  await model.stop();
}
