/**
 * src/llm/provider.ts empties the performance resource-timing buffer that fetch fills (one
 * entry per model request). Emptying it from inside the "buffer full" event makes Node's
 * own handler loop forever: this test runs past the buffer's size several times.
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { setImmediate as tick } from "node:timers/promises";
import "../../src/llm/provider.ts";

test("fetch keeps working past the resource-timing buffer, which is emptied when full", async () => {
  const server = createServer((_req, res) => res.end("ok"));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  try {
    for (let i = 0; i < 800; i++) {
      const response = await fetch(`http://127.0.0.1:${port}/`);
      assert.equal(await response.text(), "ok");
      // The buffer-full event and the emptying after it run on the next turns of the loop.
      await tick();
    }
    await tick();
    await tick();
    const kept = performance.getEntriesByType("resource").length;
    assert.ok(kept < 250, `${kept} resource timing entries kept`);
  } finally {
    server.close();
  }
});
