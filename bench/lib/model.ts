/** The fake model in its own process (bench/lib/fake-model.ts), driven over IPC. */
import { type ChildProcess, fork } from "node:child_process";
import type { Agent } from "node:http";
import { post } from "./http.ts";

export interface Model {
  url: string;
  setPace(ms: number): Promise<void>;
  /** The last request bodies the model received (at most 2), oldest first. */
  lastBodies(): Promise<unknown[]>;
  stop(): Promise<void>;
}

export async function startModel(): Promise<Model> {
  const child: ChildProcess = fork(new URL("./fake-model.ts", import.meta.url), [], {
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  const next = <T>(pick: (m: Record<string, unknown>) => T | undefined) =>
    new Promise<T>((resolve) => {
      const on = (m: Record<string, unknown>) => {
        const v = pick(m);
        if (v !== undefined) {
          child.off("message", on);
          resolve(v);
        }
      };
      child.on("message", on);
    });
  const url = await next((m) => (typeof m.url === "string" ? m.url : undefined));
  return {
    url,
    async setPace(ms) {
      const done = next((m) => (m.ok ? true : undefined));
      child.send({ pace: ms });
      await done;
    },
    async lastBodies() {
      const got = next((m) => (Array.isArray(m.bodies) ? (m.bodies as unknown[]) : undefined));
      child.send({ last: true });
      return got;
    },
    async stop() {
      const exited = new Promise((r) => child.once("exit", r));
      child.send({ stop: true });
      await exited;
    },
  };
}

/** The model called directly with exactly what the server sent: returns [ttft, total] ms. */
export async function callModelDirect(
  agent: Agent,
  url: string,
  bodies: unknown[],
): Promise<{ firstTokenMs: number; totalMs: number }> {
  const start = performance.now();
  let first = Number.NaN;
  for (const [i, body] of bodies.entries()) {
    const last = i === bodies.length - 1;
    const r = await post(
      agent,
      `${url}/v1/chat/completions`,
      body,
      {},
      {
        marker: last ? '"content":"Done' : "\u0000never",
      },
    );
    if (r.status !== 200) throw new Error(`model: HTTP ${r.status}`);
    if (last) first = performance.now() - start - (r.totalMs - r.firstTokenMs);
  }
  return { firstTokenMs: first, totalMs: performance.now() - start };
}
