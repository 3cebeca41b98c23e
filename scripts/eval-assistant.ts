/**
 * Scores the assistant against a JSONL file of judged cases, end to end, through the public
 * HTTP API of a real server. Both formats of /work/shared/examples/README.md are read: the
 * single-turn one (with the task-model fields of eval/task-model*.jsonl) and the multi-turn
 * one (assistant-conversations.jsonl); see eval/README.md.
 *
 *   npm run eval:assistant [file] [-- --url http://127.0.0.1:3000] [--min 0.95] [--json]
 *
 * Without --url it starts `node src/main.ts` itself (fresh temp DATA_DIR, a free port,
 * LLM_PROVIDER=offline, AUTH_RATE_LIMIT=false) and stops it with SIGTERM at the end.
 * Per case: a fresh user, its zone and tasks, then its turns in one conversation, each
 * judged on what changed during that turn. Exit 0 when accuracy ≥ --min, 1 when below, 2
 * on a usage or setup error.
 */
import { existsSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type Expect, loadCases, UsageError } from "./eval/cases.ts";
import { describeChanges, intentOf, type ToolCall } from "./eval/judge.ts";
import { runCase, type TurnResult } from "./eval/run.ts";
import { Api, type Started, startServer, waitReady } from "./eval/server.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const SHARED_EXAMPLES = resolve(ROOT, "../shared/examples/assistant-commands.jsonl");
const OWN_EXAMPLES = resolve(ROOT, "eval/held-out.jsonl");

// ---------------------------------------------------------------------------------------
// Main

interface Failure {
  id: string;
  say: string;
  intent: string;
  expect: Expect;
  reason: string;
  observed: { changes: string[]; reply: string; tool_calls: ToolCall[]; status: string };
}

const USAGE = `usage: npm run eval:assistant -- [file.jsonl] [--url URL] [--min 0.95] [--json]

  file       cases to run (default ../shared/examples/assistant-commands.jsonl)
  --url      use an already running server instead of starting one
  --min      accuracy needed for exit code 0 (default 0.95)
  --json     print a machine-readable summary on stdout (progress goes to stderr)`;

function pickFile(positional: string | undefined, log: (s: string) => void): string {
  if (positional) {
    const file = resolve(process.cwd(), positional);
    if (!existsSync(file)) throw new UsageError(`no such file: ${positional}`);
    return file;
  }
  if (existsSync(SHARED_EXAMPLES)) return SHARED_EXAMPLES;
  if (existsSync(OWN_EXAMPLES)) {
    log(
      `note: the shared examples are not at ${SHARED_EXAMPLES}; using ${relative(process.cwd(), OWN_EXAMPLES)} instead`,
    );
    return OWN_EXAMPLES;
  }
  throw new UsageError(
    `no case file given, and neither ${SHARED_EXAMPLES} nor ${OWN_EXAMPLES} exists`,
  );
}

const oneLine = (s: string, max = 400) => {
  const flat = s.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
};

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      url: { type: "string" },
      min: { type: "string", default: "0.95" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length > 1) throw new UsageError(`one case file at most\n${USAGE}`);
  const min = Number(values.min);
  if (!Number.isFinite(min) || min < 0 || min > 1) {
    throw new UsageError("--min must be a number from 0 to 1");
  }
  const json = values.json;
  // With --json, stdout carries only the summary.
  const log = (s: string) => (json ? process.stderr.write(`${s}\n`) : console.log(s));

  const file = pickFile(positionals[0], log);
  const cases = loadCases(file);
  const server = values.url ? undefined : await startServer(log);
  const url = (values.url ?? (server as Started).url).replace(/\/+$/, "");
  if (values.url && !(await waitReady(url, 10_000))) {
    throw new UsageError(`no ready server at ${url} (GET ${url}/health/ready did not answer 200)`);
  }
  log(`${cases.length} cases from ${relative(process.cwd(), file) || file} against ${url}`);

  const failures: Failure[] = [];
  const failedCases = new Set<string>();
  // Accuracy counts cases (every turn must hold); the per-intent counts count turns.
  const byIntent = new Map<string, { total: number; passed: number }>();
  const started = Date.now();
  try {
    for (const [i, c] of cases.entries()) {
      let results: TurnResult[];
      try {
        results = await runCase(new Api(url), c, i);
      } catch (error) {
        const turn = c.turns[0] as { say: string; expect: Expect };
        const reason = `error: ${(error as Error).message}`;
        results = [{ ...turn, reason, observation: undefined }];
      }
      for (const [t, r] of results.entries()) {
        const intent = intentOf(r.expect);
        const tally = byIntent.get(intent) ?? { total: 0, passed: 0 };
        tally.total++;
        if (!r.reason) tally.passed++;
        byIntent.set(intent, tally);
        if (!r.reason) continue;
        failedCases.add(c.id);
        const o = r.observation;
        failures.push({
          id: c.turns.length > 1 ? `${c.id} turn ${t + 1}` : c.id,
          say: r.say,
          intent,
          expect: r.expect,
          reason: r.reason,
          observed: {
            changes: o ? describeChanges(o.before, o.after) : [],
            reply: o?.reply ?? "",
            tool_calls: o?.toolCalls ?? [],
            status: o?.status ?? "error",
          },
        });
      }
      log(`[${i + 1}/${cases.length}] ${c.id} ${failedCases.has(c.id) ? "✗" : "✓"}`);
    }
  } finally {
    await server?.stop();
  }

  const passed = cases.length - failedCases.size;
  const accuracy = passed / cases.length;
  const ok = accuracy >= min;
  if (json) {
    const summary = {
      file,
      url,
      started_server: server !== undefined,
      total: cases.length,
      passed,
      failed: failedCases.size,
      accuracy,
      min,
      ok,
      seconds: (Date.now() - started) / 1000,
      by_intent: Object.fromEntries(byIntent),
      failures,
    };
    console.log(JSON.stringify(summary, null, 2));
    return ok ? 0 : 1;
  }

  if (failures.length > 0) {
    console.log(`\nFailures (${failures.length} turns in ${failedCases.size} cases):`);
    for (const f of failures) {
      console.log(`\n✗ ${f.id}  [${f.intent}]  "${f.say}"`);
      console.log(`  expected: ${JSON.stringify(f.expect)}`);
      console.log(`  why:      ${f.reason}`);
      console.log(
        `  changes:  ${f.observed.changes.length > 0 ? f.observed.changes.join("; ") : "(none)"}`,
      );
      const calls = f.observed.tool_calls.map((t) => `${t.name}(${JSON.stringify(t.arguments)})`);
      console.log(`  tools:    ${calls.length > 0 ? calls.join(", ") : "(none)"}`);
      console.log(`  reply:    ${oneLine(f.observed.reply)}`);
    }
  }
  console.log("\nBy intent:");
  for (const [intent, t] of [...byIntent].toSorted(([a], [b]) => a.localeCompare(b))) {
    console.log(`  ${intent.padEnd(24)} ${t.passed}/${t.total}`);
  }
  const pct = (accuracy * 100).toFixed(1);
  console.log(
    `\nAccuracy: ${passed}/${cases.length} = ${pct}% (min ${(min * 100).toFixed(1)}%) ${ok ? "PASS" : "FAIL"}`,
  );
  return ok ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(
      `eval-assistant: ${error instanceof UsageError ? error.message : ((error as Error).stack ?? String(error))}`,
    );
    process.exitCode = 2;
  },
);
