import assert from "node:assert/strict";
import { Agent, request as httpRequest } from "node:http";
import { after, before, describe, test } from "node:test";
import { sql } from "drizzle-orm";
import { rowsOf } from "../../src/db/client.ts";
import { signUp, startTestApp, type TestApp, type TestUser } from "../support/app.ts";
import { availableBackends } from "../support/databases.ts";

// The phases of a stop (issue 18): readiness fails while everything else is served, then
// every request still arriving is refused in our format, never Fastify's own 503 body.
for (const backend of await availableBackends()) {
  describe(`shutdown phases [${backend}]`, () => {
    let t: TestApp;
    let user: TestUser;
    before(async () => {
      t = await startTestApp(backend);
      user = await signUp(t.app);
    });
    after(() => t.close());

    test("grace: /health/ready is 503 shutting_down, other requests are served, all with Connection: close", async () => {
      const before = await t.app.inject({ method: "GET", url: "/health/ready" });
      assert.equal(before.statusCode, 200);
      assert.equal(before.headers.connection, "keep-alive");
      t.app.shutdown.enter("grace");
      const ready = await t.app.inject({ method: "GET", url: "/health/ready" });
      assert.equal(ready.statusCode, 503);
      assert.match(String(ready.headers["content-type"]), /^application\/problem\+json/);
      assert.equal(ready.json().code, "shutting_down");
      assert.equal(ready.headers["retry-after"], "1");
      assert.equal(ready.headers.connection, "close");
      const list = await t.app.inject({
        method: "GET",
        url: "/api/conversations",
        headers: user.headers,
      });
      assert.equal(list.statusCode, 200, list.body);
      assert.equal(list.headers.connection, "close");
    });

    test("closing: a request still arriving gets 503 shutting_down problem+json with Retry-After; nothing is stored", async () => {
      t.app.shutdown.enter("closing");
      // Forward only: asking for the grace period again does not reopen anything.
      t.app.shutdown.enter("grace");
      assert.equal(t.app.shutdown.phase, "closing");
      for (const request of [
        { method: "GET" as const, url: "/health/live" },
        { method: "GET" as const, url: "/no/such/route" },
        {
          method: "POST" as const,
          url: "/api/chat",
          headers: user.headers,
          payload: { message: "refused", client_message_id: crypto.randomUUID() },
        },
      ]) {
        const res = await t.app.inject(request);
        assert.equal(res.statusCode, 503, `${request.url}: ${res.body}`);
        assert.match(String(res.headers["content-type"]), /^application\/problem\+json/);
        assert.equal(res.json().code, "shutting_down");
        assert.equal(res.headers["retry-after"], "1");
        assert.equal(res.headers.connection, "close");
        assert.doesNotMatch(res.body, /"error":"Service Unavailable"/);
      }
      const stored = rowsOf<{ n: number }>(
        await t.server.database.db.execute(sql`select count(*)::int as n from messages`),
      );
      assert.equal(stored[0]?.n, 0);
    });
  });

  // Its own app: the test leaves it in its grace period.
  describe(`streams and keep-alive [${backend}]`, () => {
    test("a streamed turn keeps its connection alive while serving; in grace it says Connection: close", async () => {
      const t = await startTestApp(backend);
      const user = await signUp(t.app);
      const url = await t.listen();
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const turn = (message: string) =>
        new Promise<{ connection: string | undefined; reused: boolean; body: string }>(
          (resolve, reject) => {
            const req = httpRequest(
              `${url}/api/chat`,
              {
                agent,
                method: "POST",
                headers: {
                  ...user.headers,
                  "content-type": "application/json",
                  accept: "text/event-stream",
                },
              },
              (res) => {
                let body = "";
                res.on("data", (d: Buffer) => {
                  body += d.toString();
                });
                res.on("end", () =>
                  resolve({ connection: res.headers.connection, reused: req.reusedSocket, body }),
                );
              },
            );
            req.on("error", reject).end(JSON.stringify({ message }));
          },
        );
      try {
        const first = await turn("add a task to water the plants");
        const second = await turn("what is pending?");
        assert.match(first.body, /data: \[DONE\]/);
        assert.match(second.body, /data: \[DONE\]/);
        assert.notEqual(first.connection, "close");
        assert.equal(second.reused, true, "the second turn reused the first turn's connection");
        t.app.shutdown.enter("grace");
        const third = await turn("thanks");
        assert.match(third.body, /data: \[DONE\]/);
        assert.equal(third.connection, "close");
      } finally {
        agent.destroy();
        await t.close();
      }
    });
  });
}
