import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { Agent, request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { availableBackends, createTestDatabase } from "../support/databases.ts";
import { runMain, startServerProcess } from "../support/process.ts";

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "tasktalk-proc-"));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("the server process", () => {
  test("starts on PGlite with nothing configured, data lands in DATA_DIR, ready within seconds", async () => {
    const dataDir = tempDir();
    const started = Date.now();
    const server = await startServerProcess({ DATA_DIR: dataDir });
    try {
      const res = await fetch(`${server.url}/health/ready`);
      assert.equal(res.status, 200);
      assert.ok(Date.now() - started < 20_000);
    } finally {
      server.kill();
      assert.equal(await server.exited, 0);
    }
  });

  test("a second process on the same data directory exits at once with a clear reason", async () => {
    const dataDir = tempDir();
    const first = await startServerProcess({ DATA_DIR: dataDir });
    try {
      const second = runMain({ DATA_DIR: dataDir, PORT: "0" });
      const code = await second.exited;
      assert.equal(code, 1);
      assert.match(second.output(), /Another Tasktalk process \(pid \d+/);
      assert.match(second.output(), /one process per directory/);
      // The first one is unharmed.
      assert.equal((await fetch(`${first.url}/health/ready`)).status, 200);
    } finally {
      first.kill();
      await first.exited;
    }
    // After a clean stop the directory can be opened again.
    const third = await startServerProcess({ DATA_DIR: dataDir });
    third.kill();
    assert.equal(await third.exited, 0);
  });

  test("every bad variable is listed in one error at start", async () => {
    const run = runMain({
      PORT: "http",
      LOG_LEVEL: "loud",
      LLM_PROVIDER: "magic",
      DATA_DIR: tempDir(),
    });
    assert.equal(await run.exited, 1);
    const out = run.output();
    assert.match(out, /Invalid configuration/);
    for (const name of ["PORT", "LOG_LEVEL", "LLM_PROVIDER"])
      assert.match(out, new RegExp(`${name}:`));
    assert.doesNotMatch(out, /at .*\.ts:\d+/, "no stack trace for a config error");
  });

  test("SIGTERM with an open keep-alive connection exits 0 in seconds, not the 72 s keep-alive (T3)", async () => {
    const server = await startServerProcess({ DATA_DIR: tempDir() });
    const agent = new Agent({ keepAlive: true });
    const status = await new Promise<number | undefined>((resolve, reject) => {
      httpRequest(`${server.url}/health/live`, { agent }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode));
      })
        .on("error", reject)
        .end();
    });
    assert.equal(status, 200);
    const t0 = Date.now();
    server.kill("SIGTERM");
    const code = await server.exited;
    const elapsed = Date.now() - t0;
    agent.destroy();
    assert.equal(code, 0);
    assert.ok(elapsed < 5000, `shutdown took ${elapsed} ms`);
    assert.match(server.output(), /shutdown complete/);
  });

  test("SIGTERM with a grace period: readiness fails at once, requests are still served with Connection: close, then the port closes (issue 18)", async () => {
    const server = await startServerProcess({ DATA_DIR: tempDir(), SHUTDOWN_GRACE_MS: "1500" });
    const get = (path: string) =>
      new Promise<{ status: number; connection: string; type: string; body: string }>(
        (resolve, reject) => {
          httpRequest(`${server.url}${path}`, { agent: new Agent({ keepAlive: true }) }, (res) => {
            let body = "";
            res.on("data", (d: Buffer) => {
              body += d.toString();
            });
            res.on("end", () =>
              resolve({
                status: res.statusCode ?? 0,
                connection: String(res.headers.connection),
                type: String(res.headers["content-type"]),
                body,
              }),
            );
          })
            .on("error", reject)
            .end();
        },
      );
    const before = await get("/health/ready");
    assert.equal(before.status, 200);
    assert.equal(before.connection, "keep-alive");
    const t0 = Date.now();
    server.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 300));
    const ready = await get("/health/ready");
    assert.equal(ready.status, 503);
    assert.match(ready.type, /^application\/problem\+json/);
    assert.equal((JSON.parse(ready.body) as { code: string }).code, "shutting_down");
    assert.equal(ready.connection, "close");
    // Everything else is still served during the grace period, on a closing connection.
    const live = await get("/health/live");
    assert.equal(live.status, 200);
    assert.equal(live.connection, "close");
    const code = await server.exited;
    const elapsed = Date.now() - t0;
    assert.equal(code, 0, server.output());
    assert.ok(elapsed >= 1400 && elapsed < 6000, `shutdown took ${elapsed} ms`);
    const late = await fetch(`${server.url}/health/live`).then(
      (r) => r.status,
      () => "refused",
    );
    assert.equal(late, "refused");
  });

  test("DATABASE_URL points the same server at PostgreSQL", async (t) => {
    if (!(await availableBackends()).includes("pg")) return t.skip("PostgreSQL not reachable");
    const db = await createTestDatabase("pg");
    try {
      const server = await startServerProcess({ DATA_DIR: db.dataDir, DATABASE_URL: db.url ?? "" });
      const health = (await (await fetch(`${server.url}/health`)).json()) as {
        database: { kind: string };
      };
      assert.equal(health.database.kind, "pg");
      server.kill();
      assert.equal(await server.exited, 0);
    } finally {
      await db.drop();
    }
  });
});
