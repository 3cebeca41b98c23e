/**
 * Scores the assistant against a JSONL file of judged cases, end to end, through the public
 * HTTP API of a real server (the format is described in /work/shared/examples/README.md and
 * eval/README.md).
 *
 *   npm run eval:assistant [file] [-- --url http://127.0.0.1:3000] [--min 0.95] [--json]
 *
 * Without --url it starts `node src/main.ts` itself (fresh temp DATA_DIR, a free port,
 * LLM_PROVIDER=offline, AUTH_RATE_LIMIT=false) and stops it with SIGTERM at the end.
 * Per case: a fresh user, the case's tasks, one chat message in a new conversation, and the
 * task list before and after. Exit 0 when accuracy ≥ --min, 1 when below, 2 on a usage or
 * setup error.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const SHARED_EXAMPLES = resolve(ROOT, "../shared/examples/assistant-commands.jsonl");
const OWN_EXAMPLES = resolve(ROOT, "eval/held-out.jsonl");
const REQUEST_TIMEOUT_MS = 30_000;
const STARTUP_TIMEOUT_MS = 60_000;

// ---------------------------------------------------------------------------------------
// Case files

type Status = "all" | "pending" | "completed";

interface SeedTask {
  title: string;
  completed?: boolean;
}

type Expect =
  | { added: { title?: string; title_contains?: string; description_contains?: string } }
  | { completed: number[] }
  | { deleted: number[] }
  | { updated: { task: number; title?: string; description_contains?: string } }
  | { listed: Status }
  | { unchanged: true; reply_matches: string };

interface Case {
  id: string;
  tasks: SeedTask[];
  say: string;
  expect: Expect;
}

class UsageError extends Error {}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === "string";
const optString = (v: unknown) => v === undefined || isString(v);
const isNumbers = (v: unknown): v is number[] =>
  Array.isArray(v) && v.every((n) => Number.isInteger(n) && n > 0);

/** Checks one parsed line; returns what is wrong with it, or undefined. */
function problemWith(c: Record<string, unknown>): string | undefined {
  if (!isString(c.id) || c.id === "") return "`id` must be a non-empty string";
  if (!isString(c.say) || c.say.trim() === "") return "`say` must be a non-empty string";
  if (
    !Array.isArray(c.tasks) ||
    !c.tasks.every(
      (t) =>
        isObject(t) &&
        isString(t.title) &&
        (t.completed === undefined || typeof t.completed === "boolean"),
    )
  ) {
    return "`tasks` must be a list of {title, completed?}";
  }
  const e = c.expect;
  if (!isObject(e)) return "`expect` must be an object";
  const kinds = ["added", "completed", "deleted", "updated", "listed", "unchanged"].filter(
    (k) => k in e,
  );
  if (kinds.length !== 1) return "`expect` must have exactly one of added, completed, …";
  const kind = kinds[0];
  if (kind === "added") {
    const a = e.added;
    if (!isObject(a) || !optString(a.title) || !optString(a.title_contains)) {
      return "`added` must be {title | title_contains, description_contains?}";
    }
    if (!isString(a.title) && !isString(a.title_contains)) {
      return "`added` needs `title` or `title_contains`";
    }
    if (!optString(a.description_contains)) return "`description_contains` must be a string";
  } else if (kind === "completed" || kind === "deleted") {
    if (!isNumbers(e[kind]) || (e[kind] as number[]).length === 0) {
      return `\`${kind}\` must be a non-empty list of task numbers`;
    }
  } else if (kind === "updated") {
    const u = e.updated;
    if (!isObject(u) || !Number.isInteger(u.task) || !optString(u.title)) {
      return "`updated` must be {task, title?, description_contains?}";
    }
    if (!optString(u.description_contains)) return "`description_contains` must be a string";
    if (u.title === undefined && u.description_contains === undefined) {
      return "`updated` needs `title` or `description_contains`";
    }
  } else if (kind === "listed") {
    if (e.listed !== "all" && e.listed !== "pending" && e.listed !== "completed") {
      return "`listed` must be all, pending or completed";
    }
  } else if (e.unchanged !== true || !isString(e.reply_matches)) {
    return "`unchanged` must be true, with a `reply_matches` regular expression";
  } else {
    try {
      toRegExp(e.reply_matches);
    } catch (error) {
      return `bad reply_matches: ${(error as Error).message}`;
    }
  }
  return undefined;
}

function loadCases(file: string): Case[] {
  const cases: Case[] = [];
  const ids = new Set<string>();
  const lines = readFileSync(file, "utf8").split(/\r?\n/);
  lines.forEach((line, index) => {
    if (line.trim() === "" || line.trimStart().startsWith("//")) return;
    const where = `${relative(process.cwd(), file) || file}:${index + 1}`;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (error) {
      throw new UsageError(`${where}: not JSON (${(error as Error).message})`);
    }
    if (!isObject(parsed)) throw new UsageError(`${where}: a case must be a JSON object`);
    const problem = problemWith(parsed);
    if (problem) throw new UsageError(`${where}: ${problem}`);
    const c = parsed as unknown as Case;
    if (ids.has(c.id)) throw new UsageError(`${where}: duplicate id ${c.id}`);
    ids.add(c.id);
    cases.push(c);
  });
  if (cases.length === 0) throw new UsageError(`${file}: no cases`);
  return cases;
}

// ---------------------------------------------------------------------------------------
// Judging

interface TaskJson {
  id: number;
  title: string;
  description: string;
  completed: boolean;
}

interface ToolCall {
  name: string;
  arguments: unknown;
  result: unknown;
}

interface Observation {
  before: TaskJson[];
  after: TaskJson[];
  reply: string;
  toolCalls: ToolCall[];
  status: string;
}

/** `(?i)` and friends at the start of a pattern become JavaScript flags. */
function toRegExp(pattern: string): RegExp {
  let flags = "";
  const source = pattern.replace(/^\(\?([imsu]+)\)/, (_, f: string) => {
    flags = [...new Set(f)].join("");
    return "";
  });
  return new RegExp(source, flags);
}

const EDGE = /^[\s"'`“”‘’«».,!?;:()[\]{}*_-]+|[\s"'`“”‘’«».,!?;:()[\]{}*_-]+$/gu;

/** Case-insensitive, surrounding punctuation and quotes ignored, spaces collapsed. */
function normTitle(s: string): string {
  return plain(s).replace(EDGE, "");
}

function plain(s: string): string {
  return s.normalize("NFKC").replace(/[‘’]/g, "'").replace(/\s+/g, " ").trim().toLowerCase();
}

/** What changed between two snapshots, in words, for failure reports. */
function describeChanges(before: TaskJson[], after: TaskJson[]): string[] {
  const out: string[] = [];
  const old = new Map(before.map((t) => [t.id, t]));
  const now = new Map(after.map((t) => [t.id, t]));
  for (const t of after) {
    const b = old.get(t.id);
    if (!b) {
      out.push(
        `added #${t.id} ${JSON.stringify(t.title)}${t.description ? ` (description ${JSON.stringify(t.description)})` : ""}${t.completed ? " completed" : ""}`,
      );
      continue;
    }
    if (b.completed !== t.completed) {
      out.push(`${t.completed ? "completed" : "reopened"} #${t.id} ${JSON.stringify(t.title)}`);
    }
    if (b.title !== t.title) {
      out.push(`renamed #${t.id} ${JSON.stringify(b.title)} → ${JSON.stringify(t.title)}`);
    }
    if (b.description !== t.description) {
      out.push(
        `description of #${t.id} ${JSON.stringify(b.description)} → ${JSON.stringify(t.description)}`,
      );
    }
  }
  for (const b of before) {
    if (!now.has(b.id)) out.push(`deleted #${b.id} ${JSON.stringify(b.title)}`);
  }
  return out;
}

/** The fields of a task that differ from what they should be, as "completed true (was false)". */
function fieldDiffs(want: TaskJson, got: TaskJson): string[] {
  const out: string[] = [];
  for (const key of ["title", "description", "completed"] as const) {
    if (want[key] !== got[key]) {
      out.push(`${key} ${JSON.stringify(want[key])} (is ${JSON.stringify(got[key])})`);
    }
  }
  return out;
}

/** Compares the whole list with what it should be; returns the differences, if any. */
function compareState(expected: TaskJson[], after: TaskJson[]): string | undefined {
  const now = new Map(after.map((t) => [t.id, t]));
  const problems: string[] = [];
  for (const e of expected) {
    const a = now.get(e.id);
    now.delete(e.id);
    if (!a) {
      problems.push(`task ${e.id} should still exist`);
      continue;
    }
    const diffs = fieldDiffs(e, a);
    if (diffs.length > 0) problems.push(`task ${e.id} should have ${diffs.join(", ")}`);
  }
  if (now.size > 0) {
    problems.push(`task(s) ${[...now.keys()].map((n) => `#${n}`).join(", ")} should not exist`);
  }
  return problems.length > 0 ? problems.join("; ") : undefined;
}

/** Returns why the case failed, or undefined when it passed. */
function judge(c: Case, o: Observation): string | undefined {
  const { before, after } = o;
  const e = c.expect;
  if ("added" in e) {
    const old = new Set(before.map((t) => t.id));
    const added = after.filter((t) => !old.has(t.id));
    if (added.length !== 1) return `expected one new task, got ${added.length}`;
    const rest = compareState(
      before,
      after.filter((t) => old.has(t.id)),
    );
    if (rest) return rest;
    const t = added[0] as TaskJson;
    const want = e.added;
    if (want.title !== undefined && normTitle(t.title) !== normTitle(want.title)) {
      return `title should be ${JSON.stringify(want.title)}`;
    }
    if (
      want.title_contains !== undefined &&
      !normTitle(t.title).includes(normTitle(want.title_contains))
    ) {
      return `title should contain ${JSON.stringify(want.title_contains)}`;
    }
    if (
      want.description_contains !== undefined &&
      !plain(t.description).includes(plain(want.description_contains))
    ) {
      return `description should contain ${JSON.stringify(want.description_contains)}`;
    }
    return undefined;
  }
  if ("completed" in e) {
    const expected = before.map((t) =>
      e.completed.includes(t.id) ? { ...t, completed: true } : t,
    );
    return compareState(expected, after);
  }
  if ("deleted" in e) {
    return compareState(
      before.filter((t) => !e.deleted.includes(t.id)),
      after,
    );
  }
  if ("updated" in e) {
    const want = e.updated;
    const target = after.find((t) => t.id === want.task);
    const was = before.find((t) => t.id === want.task);
    if (!target || !was) return `task ${want.task} should exist`;
    const others = compareState(
      before.filter((t) => t.id !== want.task),
      after.filter((t) => t.id !== want.task),
    );
    if (others) return others;
    if (target.completed !== was.completed) return `task ${want.task} changed its completion`;
    const title = want.title ?? was.title;
    if (normTitle(target.title) !== normTitle(title)) {
      return `task ${want.task} should be titled ${JSON.stringify(title)}`;
    }
    if (want.description_contains === undefined) {
      if (target.description !== was.description) {
        return `description of task ${want.task} should not change`;
      }
    } else if (!plain(target.description).includes(plain(want.description_contains))) {
      return `description of task ${want.task} should contain ${JSON.stringify(want.description_contains)}`;
    }
    if (target.title === was.title && target.description === was.description) {
      return `task ${want.task} did not change`;
    }
    return undefined;
  }
  const unchanged = compareState(before, after);
  if (unchanged) return `nothing should change: ${unchanged}`;
  if ("listed" in e) {
    const status = e.listed;
    const call = o.toolCalls.find(
      (t) =>
        t.name === "list_tasks" &&
        ((isObject(t.arguments) ? t.arguments.status : undefined) ?? "all") === status,
    );
    if (!call) {
      const lists = o.toolCalls.filter((t) => t.name === "list_tasks");
      return lists.length === 0
        ? "list_tasks was not called"
        : `list_tasks was called with ${lists.map((t) => JSON.stringify(t.arguments)).join(", ")}, not status ${status}`;
    }
    const reply = plain(o.reply);
    const wanted = (t: TaskJson) =>
      status === "all" || (status === "completed" ? t.completed : !t.completed);
    const missing = before.filter((t) => wanted(t) && !reply.includes(normTitle(t.title)));
    if (missing.length > 0) {
      return `reply does not name ${missing.map((t) => JSON.stringify(t.title)).join(", ")}`;
    }
    // "Call mom" is not named just because the reply names "Call mom tonight".
    const inWanted = (t: TaskJson) =>
      before.some((w) => wanted(w) && normTitle(w.title).includes(normTitle(t.title)));
    const extra = before.filter(
      (t) => !wanted(t) && reply.includes(normTitle(t.title)) && !inWanted(t),
    );
    if (extra.length > 0) {
      return `reply names ${extra.map((t) => JSON.stringify(t.title)).join(", ")}, which is not ${status}`;
    }
    return undefined;
  }
  if (!toRegExp(e.reply_matches).test(o.reply)) {
    return `reply does not match /${e.reply_matches}/`;
  }
  return undefined;
}

const intentOf = (e: Expect): string =>
  "added" in e
    ? "added"
    : "completed" in e
      ? "completed"
      : "deleted" in e
        ? "deleted"
        : "updated" in e
          ? "updated"
          : "listed" in e
            ? `listed ${e.listed}`
            : "unchanged";

// ---------------------------------------------------------------------------------------
// HTTP

class Api {
  readonly base: string;
  token: string | undefined;
  constructor(base: string) {
    this.base = base.replace(/\/+$/, "");
  }

  async call(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; headers: Headers; json: unknown }> {
    // Node's fetch sends Sec-Fetch-* headers, so Better Auth wants a trusted Origin: the
    // server's own, as a same-origin web client would send.
    const headers: Record<string, string> = { accept: "application/json", origin: this.base };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await res.text();
    let json: unknown = text;
    try {
      json = text === "" ? null : JSON.parse(text);
    } catch {
      // keep the text for the error message
    }
    return { status: res.status, headers: res.headers, json };
  }

  async ok(method: string, path: string, body?: unknown): Promise<unknown> {
    const r = await this.call(method, path, body);
    if (r.status < 200 || r.status >= 300) {
      throw new Error(`${method} ${path} → ${r.status} ${JSON.stringify(r.json).slice(0, 300)}`);
    }
    return r.json;
  }

  async tasks(): Promise<TaskJson[]> {
    const json = await this.ok("GET", "/api/tasks");
    if (!isObject(json) || !Array.isArray(json.items)) throw new Error("GET /api/tasks: no items");
    return (json.items as TaskJson[]).toSorted((a, b) => a.id - b.id);
  }
}

const RUN = `${Date.now().toString(36)}${randomBytes(3).toString("hex")}`;

async function runCase(base: string, c: Case, index: number): Promise<Observation> {
  const api = new Api(base);
  const signUp = await api.call("POST", "/api/auth/sign-up/email", {
    email: `eval-${RUN}-${index}@example.com`,
    password: `pw-${randomBytes(12).toString("hex")}`,
    name: `Eval ${c.id}`,
  });
  const token = signUp.headers.get("set-auth-token");
  if (signUp.status !== 200 || !token) {
    throw new Error(`sign-up → ${signUp.status} ${JSON.stringify(signUp.json).slice(0, 300)}`);
  }
  api.token = token;
  for (const [i, t] of c.tasks.entries()) {
    const created = await api.ok("POST", "/api/tasks", { title: t.title });
    if (!isObject(created) || created.id !== i + 1) {
      throw new Error(
        `task ${JSON.stringify(t.title)} got number ${String(isObject(created) && created.id)}, not ${i + 1}`,
      );
    }
  }
  for (const [i, t] of c.tasks.entries()) {
    if (t.completed) await api.ok("PATCH", `/api/tasks/${i + 1}`, { completed: true });
  }
  const before = await api.tasks();
  const chat = await api.call("POST", "/api/chat", { message: c.say });
  const after = await api.tasks();
  if (chat.status !== 200 || !isObject(chat.json)) {
    return {
      before,
      after,
      reply: `(HTTP ${chat.status}) ${JSON.stringify(chat.json).slice(0, 300)}`,
      toolCalls: [],
      status: "http-error",
    };
  }
  const j = chat.json;
  return {
    before,
    after,
    reply: isString(j.response) ? j.response : "",
    toolCalls: Array.isArray(j.tool_calls) ? (j.tool_calls as ToolCall[]) : [],
    status: isString(j.status) ? j.status : "?",
  };
}

// ---------------------------------------------------------------------------------------
// Server

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      const port = typeof address === "object" && address ? address.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

/** Polls /health/ready until it answers 200; false after `ms` or once `gaveUp()` says so. */
async function waitReady(url: string, ms: number, gaveUp = () => false): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && !gaveUp()) {
    try {
      const res = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

interface Started {
  url: string;
  stop: () => Promise<void>;
}

async function startServer(log: (s: string) => void): Promise<Started> {
  const dataDir = mkdtempSync(join(tmpdir(), "tasktalk-eval-"));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const output: string[] = [];
  const child: ChildProcess = spawn(process.execPath, ["src/main.ts"], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: "development",
      HOST: "127.0.0.1",
      PORT: String(port),
      DATA_DIR: dataDir,
      DATABASE_URL: "",
      BETTER_AUTH_URL: url,
      BETTER_AUTH_SECRET: randomBytes(32).toString("hex"),
      LLM_PROVIDER: "offline",
      AUTH_RATE_LIMIT: "false",
      LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const keep = (chunk: Buffer) => {
    output.push(chunk.toString());
    if (output.length > 200) output.shift();
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const cleanup = () => rmSync(dataDir, { recursive: true, force: true });
  const stop = async () => {
    if (!gone) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    }
    cleanup();
  };
  process.once("SIGINT", () => {
    void stop().then(() => process.exit(130));
  });

  log(`starting server: node src/main.ts on ${url} (DATA_DIR ${dataDir})`);
  if (await waitReady(url, STARTUP_TIMEOUT_MS, () => gone)) return { url, stop };
  await stop();
  throw new Error(
    `the server did not become ready${gone ? " (it exited)" : ` within ${STARTUP_TIMEOUT_MS / 1000}s`}:\n${output.join("").trim().slice(-3000)}`,
  );
}

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
  const byIntent = new Map<string, { total: number; passed: number }>();
  const started = Date.now();
  try {
    for (const [i, c] of cases.entries()) {
      const intent = intentOf(c.expect);
      let reason: string | undefined;
      let o: Observation | undefined;
      try {
        o = await runCase(url, c, i);
        reason = judge(c, o);
      } catch (error) {
        reason = `error: ${(error as Error).message}`;
      }
      const tally = byIntent.get(intent) ?? { total: 0, passed: 0 };
      tally.total++;
      if (!reason) tally.passed++;
      byIntent.set(intent, tally);
      log(`[${i + 1}/${cases.length}] ${c.id} ${reason ? "✗" : "✓"}`);
      if (reason) {
        failures.push({
          id: c.id,
          say: c.say,
          intent,
          expect: c.expect,
          reason,
          observed: {
            changes: o ? describeChanges(o.before, o.after) : [],
            reply: o?.reply ?? "",
            tool_calls: o?.toolCalls ?? [],
            status: o?.status ?? "error",
          },
        });
      }
    }
  } finally {
    await server?.stop();
  }

  const passed = cases.length - failures.length;
  const accuracy = passed / cases.length;
  const ok = accuracy >= min;
  if (json) {
    const summary = {
      file,
      url,
      started_server: server !== undefined,
      total: cases.length,
      passed,
      failed: failures.length,
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
    console.log(`\nFailures (${failures.length}):`);
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
    console.log(`  ${intent.padEnd(18)} ${t.passed}/${t.total}`);
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
