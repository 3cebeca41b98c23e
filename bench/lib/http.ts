/** A minimal keep-alive HTTP client on node:http (loopback only): JSON turns and SSE turns. */
import { Agent, request } from "node:http";

export interface HttpResult {
  status: number;
  body: string;
  /** ms from sending to the first SSE text delta (or the first body byte for JSON). */
  firstTokenMs: number;
  totalMs: number;
}

export function makeAgent(maxSockets: number): Agent {
  return new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
}

/** POSTs `payload`; with `sse`, times the first `text-delta` frame as the first token. */
export function post(
  agent: Agent,
  url: string,
  payload: unknown,
  headers: Record<string, string>,
  options: { sse?: boolean; marker?: string } = {},
): Promise<HttpResult> {
  const body = typeof payload === "string" ? payload : JSON.stringify(payload);
  const target = new URL(url);
  const marker = options.marker ?? (options.sse ? '"text-delta"' : undefined);
  return new Promise((resolve, reject) => {
    const start = performance.now();
    let first = Number.NaN;
    const req = request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: "POST",
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          ...(options.sse ? { accept: "text/event-stream" } : {}),
          ...headers,
        },
      },
      (res) => {
        const chunks: string[] = [];
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          if (Number.isNaN(first) && (marker === undefined || chunk.includes(marker))) {
            first = performance.now() - start;
          }
          chunks.push(chunk);
        });
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            body: chunks.join(""),
            firstTokenMs: first,
            totalMs: performance.now() - start,
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

export function get(agent: Agent, url: string): Promise<{ status: number; body: string }> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      { agent, host: target.hostname, port: target.port, path: target.pathname, method: "GET" },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          body += c;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end();
  });
}
