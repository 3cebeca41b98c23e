import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "../support/process.ts";

/** Debian's haproxy package (`apt-get install haproxy`; .ci/run installs it). */
export const HAPROXY = "/usr/sbin/haproxy";

export function haproxyAvailable(): boolean {
  if (existsSync(HAPROXY)) return true;
  if (process.env.CI === "true") throw new Error(`${HAPROXY} is missing: CI requires haproxy`);
  console.warn(
    `\n!!! ${HAPROXY} is missing: the load-balancer test is SKIPPED. Install it with:\n!!!   apt-get install -y haproxy\n`,
  );
  return false;
}

/**
 * The balancer the README documents. Retries: a connection that failed never reached an
 * instance, so it is retried for every request (`conn-failure`, HAProxy's L4 retry). An
 * empty response or a 503 may come after an instance did some work, so those are retried
 * (on another instance: `option redispatch 1`) only for requests safe to repeat: the
 * idempotent methods, and a POST that carries a client_message_id (POST /api/chat, whose
 * repeat returns the stored turn instead of running it twice). Everything else is left to
 * the client. `option http-buffer-request` lets the rule read the body.
 */
export function haproxyConfig(ports: { front: number; stats: number; servers: number[] }): string {
  return `global
  maxconn 512

defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  timeout http-request 10s
  retries 3
  option redispatch 1
  option http-buffer-request
  retry-on conn-failure empty-response 503

frontend tasktalk
  bind 127.0.0.1:${ports.front}
  default_backend tasktalk

frontend stats
  bind 127.0.0.1:${ports.stats}
  stats enable
  stats uri /stats

backend tasktalk
  balance roundrobin
  option httpchk GET /health/ready
  http-check expect status 200
  acl idempotent method GET HEAD OPTIONS PUT DELETE
  acl keyed req.body -m sub "client_message_id"
  http-request disable-l7-retry if !idempotent !keyed
  default-server inter 500 fall 3 rise 2
${ports.servers.map((p, i) => `  server s${i} 127.0.0.1:${p} check`).join("\n")}
`;
}

export interface Balancer {
  url: string;
  /** HAProxy's view of a server: "UP", "DOWN", "DOWN 1/2", ... */
  status(server: string): Promise<string>;
  /** Requests the balancer had to send again: retries (wretr) and redispatches (wredis). */
  resent(): Promise<{ retries: number; redispatches: number }>;
  waitFor(server: string, status: string, timeoutMs?: number): Promise<void>;
  output(): string;
  close(): Promise<void>;
}

export async function startHaproxy(servers: number[]): Promise<Balancer> {
  const dir = mkdtempSync(join(tmpdir(), "tasktalk-haproxy-"));
  const ports = { front: await freePort(), stats: await freePort(), servers };
  const file = join(dir, "haproxy.cfg");
  writeFileSync(file, haproxyConfig(ports));
  const check = spawnSync(HAPROXY, ["-c", "-f", file], { encoding: "utf8" });
  if (check.status !== 0) throw new Error(`haproxy -c failed:\n${check.stdout}${check.stderr}`);
  const proc: ChildProcess = spawn(HAPROXY, ["-db", "-f", file], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  proc.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  proc.stderr?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<void>((resolve) => proc.on("exit", () => resolve()));

  /** One column of one row (server, or BACKEND) of the stats page's CSV. */
  async function stat(server: string, column: string): Promise<string> {
    const csv = await (await fetch(`http://127.0.0.1:${ports.stats}/stats;csv`)).text();
    const [header = "", ...rows] = csv.split("\n");
    const at = header.replace(/^# /, "").split(",").indexOf(column);
    for (const row of rows) {
      const cells = row.split(",");
      if (cells[0] === "tasktalk" && cells[1] === server) return cells[at] ?? "";
    }
    return "missing";
  }
  const status = (server: string) => stat(server, "status");
  const balancer: Balancer = {
    url: `http://127.0.0.1:${ports.front}`,
    status,
    async resent() {
      return {
        retries: Number(await stat("BACKEND", "wretr")),
        redispatches: Number(await stat("BACKEND", "wredis")),
      };
    },
    async waitFor(server, wanted, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      let last = "";
      while (Date.now() < deadline) {
        last = await status(server).catch((e: unknown) => String(e));
        if (last === wanted) return;
        await sleep(100);
      }
      throw new Error(`haproxy: ${server} is ${last}, not ${wanted}, after ${timeoutMs} ms`);
    },
    output: () => out,
    async close() {
      proc.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
  // Listening once the stats page answers.
  for (let i = 0; ; i++) {
    if (
      await status("s0").then(
        () => true,
        () => false,
      )
    )
      return balancer;
    if (i === 100) {
      await balancer.close();
      throw new Error(`haproxy did not start:\n${out}`);
    }
    await sleep(100);
  }
}
