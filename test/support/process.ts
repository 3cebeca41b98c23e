import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { buildServer, SERVER_ENTRY } from "../../scripts/build-server.ts";

/**
 * Process tests run what `npm start` runs: the bundle in dist/, rebuilt here when a source
 * changed (about a second), so a bundling mistake fails the suite.
 */
await buildServer();
const MAIN = SERVER_ENTRY;

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  if (!address || typeof address !== "object") throw new Error("no port");
  return address.port;
}

export interface ServerProcess {
  proc: ChildProcess;
  url: string;
  output(): string;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): void;
}

/** How to start the process; `wrap` runs it under a command (e.g. `unshare --pid --fork`). */
export interface RunOptions {
  wrap?: string[];
}

/** Starts `node dist/main.mjs` as a real process (the same Node that runs the tests). */
export function runMain(
  env: Record<string, string>,
  options: RunOptions = {},
): {
  proc: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
} {
  const [command, ...args] = [...(options.wrap ?? []), process.execPath, MAIN];
  const proc = spawn(command as string, args, {
    // No shutdown grace unless a test asks for it: without a balancer it only slows stops.
    env: {
      PATH: process.env.PATH ?? "",
      LOG_LEVEL: "info",
      NODE_ENV: "test",
      SHUTDOWN_GRACE_MS: "0",
      // Per-user quotas only where a test asks for them (load tests send many turns).
      RATE_LIMITS: "false",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  proc.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  proc.stderr?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  return { proc, output: () => out, exited };
}

/** Starts the server process and waits until it says it is ready (or fails). */
export async function startServerProcess(
  env: Record<string, string>,
  timeoutMs = 30_000,
  options: RunOptions = {},
): Promise<ServerProcess> {
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const run = runMain({ HOST: "127.0.0.1", ...env, PORT: String(port) }, options);
  const deadline = Date.now() + timeoutMs;
  while (!run.output().includes("Tasktalk ready")) {
    const code = await Promise.race([
      run.exited,
      new Promise<"wait">((r) => setTimeout(() => r("wait"), 50)),
    ]);
    if (code !== "wait") throw new Error(`server exited (${code}) before ready:\n${run.output()}`);
    if (Date.now() > deadline) {
      run.proc.kill("SIGKILL");
      throw new Error(`server not ready in ${timeoutMs} ms:\n${run.output()}`);
    }
  }
  return {
    ...run,
    url: `http://127.0.0.1:${port}`,
    kill: (signal = "SIGTERM") => {
      run.proc.kill(signal);
    },
  };
}
