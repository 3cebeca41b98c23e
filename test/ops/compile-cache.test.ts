/**
 * The bundle's entry (src/start.ts) turns on Node's compile cache before loading the
 * server, and writes it once the server's modules are loaded: a later start reads compiled
 * code instead of compiling the bundle again. NODE_DISABLE_COMPILE_CACHE=1 turns it off.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { startServerProcess } from "../support/process.ts";

/** Every file under `dir` (the cache keeps one folder per Node version and flags). */
function filesIn(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => e.name);
}

describe("the bundle's compile cache", () => {
  const root = mkdtempSync(join(tmpdir(), "tasktalk-compile-cache-"));
  after(() => rmSync(root, { recursive: true, force: true }));

  test("npm start's entry fills NODE_COMPILE_CACHE while it runs, and a second start uses it", async () => {
    const cache = join(root, "on");
    const env = { DATA_DIR: "memory://compile-cache", NODE_COMPILE_CACHE: cache };
    const first = await startServerProcess(env, 60_000);
    try {
      // Written right after the modules loaded, not only at exit: a killed server keeps it.
      assert.ok(filesIn(cache).length > 0, "the cache has entries while the server runs");
    } finally {
      first.kill("SIGKILL");
      await first.exited;
    }
    const entries = filesIn(cache).length;
    const second = await startServerProcess(env, 60_000);
    try {
      const health = await fetch(`${second.url}/health/ready`);
      assert.equal(health.status, 200);
      assert.ok(filesIn(cache).length >= entries);
    } finally {
      second.kill();
      await second.exited;
    }
  });

  test("NODE_DISABLE_COMPILE_CACHE=1 turns it off", async () => {
    const cache = join(root, "off");
    const env = {
      DATA_DIR: "memory://compile-cache-off",
      NODE_COMPILE_CACHE: cache,
      NODE_DISABLE_COMPILE_CACHE: "1",
    };
    const server = await startServerProcess(env, 60_000);
    try {
      assert.equal((await fetch(`${server.url}/health/ready`)).status, 200);
    } finally {
      server.kill();
      await server.exited;
    }
    let files: string[] = [];
    try {
      files = filesIn(cache);
    } catch {}
    assert.deepEqual(files, []);
  });
});
