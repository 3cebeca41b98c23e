/**
 * The eval's HTTP side: a small client of the public API (Bearer token, JSON), and a
 * server of our own (`node src/main.ts`, temp DATA_DIR, free port, offline model).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { isObject, type TaskJson } from "./cases.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const REQUEST_TIMEOUT_MS = 30_000;
const STARTUP_TIMEOUT_MS = 60_000;

export class Api {
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
export async function waitReady(url: string, ms: number, gaveUp = () => false): Promise<boolean> {
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

export interface Started {
  url: string;
  stop: () => Promise<void>;
}

export async function startServer(log: (s: string) => void): Promise<Started> {
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
      RATE_LIMITS: "false",
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
