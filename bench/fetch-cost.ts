/**
 * What the model's HTTP client costs before the first streamed chunk (docs/decisions.md,
 * src/llm/model-fetch.ts): the global fetch, node:http, and node:http wrapped as a web
 * Response (what modelFetch does), alternating, against the bench's fake model on loopback.
 *
 *   node bench/fetch-cost.ts      (three rounds of 300 requests each; median ms to first chunk)
 */
import { Agent, request } from "node:http";
import { Readable } from "node:stream";
import { startModel } from "./lib/model.ts";

const model = await startModel();
await model.setPace(0);
const url = `${model.url}/chat/completions`;
const body = JSON.stringify({
  model: "x",
  stream: true,
  messages: [{ role: "user", content: "thanks, that is all" }],
});
const agent = new Agent({ keepAlive: true, maxSockets: 4 });
async function viaFetch() {
  const t = performance.now();
  const r = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
  const reader = (r.body as ReadableStream<Uint8Array>).getReader();
  await reader.read();
  const first = performance.now() - t;
  while (!(await reader.read()).done);
  return first;
}
function viaHttp(web: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const req = request(
      url,
      {
        method: "POST",
        agent,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      async (res) => {
        if (web) {
          const resp = new Response(Readable.toWeb(res) as ReadableStream, {
            status: res.statusCode,
            headers: res.headers as Record<string, string>,
          });
          const reader = (resp.body as ReadableStream<Uint8Array>).getReader();
          await reader.read();
          const first = performance.now() - t;
          while (!(await reader.read()).done);
          resolve(first);
        } else {
          let first = NaN;
          res.on("data", () => {
            if (Number.isNaN(first)) first = performance.now() - t;
          });
          res.on("end", () => resolve(first));
        }
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}
const med = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
for (let round = 0; round < 3; round++) {
  const a: number[] = [],
    b: number[] = [],
    c: number[] = [];
  for (let i = 0; i < 300; i++) {
    a.push(await viaFetch());
    b.push(await viaHttp(false));
    c.push(await viaHttp(true));
  }
  console.log("fetch", med(a).toFixed(3), "http", med(b).toFixed(3), "http+web", med(c).toFixed(3));
}
await model.stop();
process.exit(0);
