import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import { startTestApp, type TestApp } from "../support/app.ts";
import { availableBackends } from "../support/databases.ts";

/**
 * Issue 17 item 8 (a sign-in body trickled for 130 s stayed open; one client could open
 * any number of connections) and the 431 that was not problem+json. Real sockets only:
 * inject() has no connection to hold open.
 */
const REQUEST_TIMEOUT_MS = 1000;
const MAX_PER_IP = 4;

interface Outcome {
  data: string;
  closedAfterMs: number;
}

/** Opens a raw connection; resolves with what the server sent once it closes. */
function rawConnection(port: number) {
  const socket: Socket = connect(port, "127.0.0.1");
  const start = performance.now();
  let data = "";
  socket.on("data", (chunk) => {
    data += String(chunk);
  });
  const closed = new Promise<Outcome>((resolve) => {
    socket.on("close", () => resolve({ data, closedAfterMs: performance.now() - start }));
    socket.on("error", () => {});
  });
  const connected = new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  return { socket, closed, connected };
}

function problemOf(raw: string): { status: number; contentType: string; body: { code?: string } } {
  const [head = "", body = ""] = raw.split("\r\n\r\n");
  const status = Number(head.split(" ")[1]);
  const contentType = /content-type: ([^\r\n]+)/i.exec(head)?.[1] ?? "";
  return { status, contentType, body: body ? JSON.parse(body) : {} };
}

for (const backend of await availableBackends()) {
  describe(`slow and piled-up connections [${backend}]`, () => {
    let t: TestApp;
    let port: number;
    before(async () => {
      t = await startTestApp(backend, {
        HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
        HTTP_MAX_CONNECTIONS_PER_IP: String(MAX_PER_IP),
      });
      port = Number(new URL(await t.listen()).port);
    });
    after(() => t.close());

    test("a sign-in body trickled a byte at a time is cut within the request timeout, 408 problem+json", {
      timeout: 15_000,
    }, async () => {
      const c = rawConnection(port);
      await c.connected;
      const body = JSON.stringify({ email: "a@example.com", password: "x".repeat(100) });
      c.socket.write(
        "POST /api/auth/sign-in/email HTTP/1.1\r\nHost: localhost\r\n" +
          `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
      );
      let i = 0;
      const trickle = setInterval(() => {
        if (!c.socket.destroyed && i < body.length) c.socket.write(body[i++] ?? "");
      }, 100);
      const outcome = await c.closed;
      clearInterval(trickle);
      assert.ok(i < body.length, "cut before the body was complete");
      // Bound: the timeout plus Node's check interval (a quarter of a second here).
      assert.ok(outcome.closedAfterMs < REQUEST_TIMEOUT_MS + 1500, `${outcome.closedAfterMs} ms`);
      const p = problemOf(outcome.data);
      assert.equal(p.status, 408, outcome.data);
      assert.match(p.contentType, /^application\/problem\+json/);
      assert.equal(p.body.code, "request_timeout");
    });

    test(`a client address holds at most ${MAX_PER_IP} connections; the rest are closed`, async () => {
      const held = Array.from({ length: MAX_PER_IP }, () => rawConnection(port));
      await Promise.all(held.map((c) => c.connected));
      const extra = rawConnection(port);
      const outcome = await extra.closed;
      assert.equal(outcome.data, "", "closed without an answer");
      assert.ok(outcome.closedAfterMs < 1000);
      // The held connections still work, and a freed slot is reusable.
      const first = held[0];
      assert.ok(first);
      first.socket.write(
        "GET /health/live HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
      );
      assert.match((await first.closed).data, /^HTTP\/1\.1 200/);
      await new Promise((r) => setTimeout(r, 50));
      const again = rawConnection(port);
      again.socket.write(
        "GET /health/live HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
      );
      assert.match((await again.closed).data, /^HTTP\/1\.1 200/);
      for (const c of held) c.socket.destroy();
    });

    test("headers over Node's size limit: 431 as problem+json", async () => {
      const c = rawConnection(port);
      await c.connected;
      c.socket.write(
        `GET /health/live HTTP/1.1\r\nHost: localhost\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`,
      );
      const outcome = await c.closed;
      const p = problemOf(outcome.data);
      assert.equal(p.status, 431, outcome.data.slice(0, 200));
      assert.match(p.contentType, /^application\/problem\+json/);
      assert.equal(p.body.code, "headers_too_large");
    });

    test("bytes that are not HTTP: 400 as problem+json", async () => {
      const c = rawConnection(port);
      await c.connected;
      c.socket.write("NOT HTTP AT ALL\r\n\r\n");
      const p = problemOf((await c.closed).data);
      assert.equal(p.status, 400);
      assert.match(p.contentType, /^application\/problem\+json/);
      assert.equal(p.body.code, "validation_failed");
    });
  });
}
