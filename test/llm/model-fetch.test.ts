import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { modelFetch } from "../../src/llm/model-fetch.ts";

// The model's HTTP client (src/llm/model-fetch.ts) keeps fetch's contract where the AI SDK
// relies on it: streamed bodies, status and headers, abort before and during the body,
// network failures reported as fetch reports them ("fetch failed" with a cause).

describe("modelFetch", () => {
  let server: Server;
  let base: string;
  before(async () => {
    server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks).toString();
      if (req.url === "/echo") {
        res.writeHead(201, { "content-type": "application/json", "x-thing": "a" });
        res.end(
          JSON.stringify({
            method: req.method,
            body,
            auth: req.headers.authorization ?? null,
            length: req.headers["content-length"] ?? null,
          }),
        );
      } else if (req.url === "/stream") {
        res.writeHead(200, { "content-type": "text/event-stream" });
        for (let i = 0; i < 3; i++) {
          res.write(`data: ${i}\n\n`);
          await sleep(20);
        }
        res.end();
      } else if (req.url === "/hang") {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write("data: first\n\n");
      } else if (req.url === "/empty") {
        res.writeHead(204);
        res.end();
      } else {
        res.writeHead(500, { "content-type": "application/json" });
        res.end('{"error":{"message":"boom"}}');
      }
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  test("a JSON body out, status, headers and body back", async () => {
    const body = JSON.stringify({ hello: "wörld" });
    const res = await modelFetch(`${base}/echo`, {
      method: "POST",
      headers: { authorization: "Bearer k", "content-type": "application/json" },
      body,
    });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get("x-thing"), "a");
    assert.deepEqual(await res.json(), {
      method: "POST",
      body,
      auth: "Bearer k",
      length: String(Buffer.byteLength(body)),
    });
  });

  test("a streamed body arrives in parts, as it is sent", async () => {
    const res = await modelFetch(`${base}/stream`, { method: "POST", body: "{}" });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = "";
    let reads = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      reads++;
      text += decoder.decode(value, { stream: true });
    }
    assert.equal(text, "data: 0\n\ndata: 1\n\ndata: 2\n\n");
    assert.ok(reads >= 2, `${reads} reads`);
  });

  test("an error status is a response, not a throw; 204 has no body", async () => {
    const res = await modelFetch(`${base}/nope`, { method: "POST", body: "{}" });
    assert.equal(res.status, 500);
    assert.match(await res.text(), /boom/);
    const empty = await modelFetch(`${base}/empty`, { method: "POST", body: "{}" });
    assert.equal(empty.status, 204);
    assert.equal(empty.body, null);
  });

  test("abort: before the request, while waiting, and during the body, with the signal's reason", async () => {
    const reason = new Error("model silent");
    await assert.rejects(modelFetch(`${base}/echo`, { signal: AbortSignal.abort(reason) }), reason);
    const waiting = new AbortController();
    const pending = modelFetch(`${base}/hang-forever-never`, {
      method: "POST",
      body: "{}",
      signal: waiting.signal,
    });
    waiting.abort(reason);
    await assert.rejects(pending, reason);
    const during = new AbortController();
    const res = await modelFetch(`${base}/hang`, {
      method: "POST",
      body: "{}",
      signal: during.signal,
    });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    assert.equal((await reader.read()).done, false);
    setTimeout(() => during.abort(reason), 20);
    await assert.rejects(reader.read(), reason);
  });

  test("nothing listening: TypeError 'fetch failed' with the network error as its cause", async () => {
    const probe = createServer();
    probe.listen(0, "127.0.0.1");
    await once(probe, "listening");
    const port = (probe.address() as AddressInfo).port;
    probe.close();
    await once(probe, "close");
    await assert.rejects(
      modelFetch(`http://127.0.0.1:${port}/v1/chat/completions`, { method: "POST", body: "{}" }),
      (error: unknown) => {
        assert.ok(error instanceof TypeError);
        assert.equal(error.message, "fetch failed");
        assert.equal((error.cause as { code?: string }).code, "ECONNREFUSED");
        return true;
      },
    );
  });

  test("a kept-alive socket the server closed as it was reused: sent again on a new one", async () => {
    // This server answers once per connection and drops the connection on a second request
    // (as a server does that closes an idle socket just as the client reuses it).
    const answered = new WeakSet<object>();
    let requests = 0;
    const dropping = createServer((req, res) => {
      requests++;
      if (answered.has(req.socket)) {
        req.socket.destroy();
        return;
      }
      answered.add(req.socket);
      req.resume();
      res.end("ok");
    });
    dropping.listen(0, "127.0.0.1");
    await once(dropping, "listening");
    const url = `http://127.0.0.1:${(dropping.address() as AddressInfo).port}/`;
    try {
      const first = await modelFetch(url, { method: "POST", body: "{}" });
      assert.equal(await first.text(), "ok");
      const second = await modelFetch(url, { method: "POST", body: "{}" });
      assert.equal(second.status, 200);
      assert.equal(await second.text(), "ok");
      assert.equal(requests, 3, "the dropped request, then once more on a new socket");
    } finally {
      dropping.closeAllConnections();
      dropping.close();
    }
  });

  test("every idle socket closed at once (a server's idle timeout): the retry is not another of them", async () => {
    // Two requests at once leave two kept-alive sockets in the pool. This server drops any
    // request that comes on a connection it has answered before, as a server does whose
    // idle timeout has closed all of them (and that announced no Keep-Alive timeout, so the
    // pool kept them). The retry must not take the other stale socket from the pool.
    const answered = new WeakSet<object>();
    let requests = 0;
    let dropped = 0;
    const dropping = createServer(async (req, res) => {
      requests++;
      if (answered.has(req.socket)) {
        dropped++;
        req.socket.destroy();
        return;
      }
      answered.add(req.socket);
      req.resume();
      await sleep(20);
      res.writeHead(200, { connection: "keep-alive" });
      res.end("ok");
    });
    dropping.listen(0, "127.0.0.1");
    await once(dropping, "listening");
    const url = `http://127.0.0.1:${(dropping.address() as AddressInfo).port}/`;
    try {
      const both = await Promise.all([
        modelFetch(url, { method: "POST", body: "{}" }),
        modelFetch(url, { method: "POST", body: "{}" }),
      ]);
      for (const r of both) assert.equal(await r.text(), "ok");
      const next = await modelFetch(url, { method: "POST", body: "{}" });
      assert.equal(next.status, 200);
      assert.equal(await next.text(), "ok");
      assert.equal(dropped, 1, "one stale socket met, then a new connection");
      assert.equal(requests, 4);
    } finally {
      dropping.closeAllConnections();
      dropping.close();
    }
  });
});
