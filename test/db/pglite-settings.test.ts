import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { sql } from "drizzle-orm";
import { ConfigError, loadConfig } from "../../src/config.ts";
import { openDatabase, PGLITE_SHARED_BUFFERS_MB, rowsOf } from "../../src/db/client.ts";

// PostgreSQL's default shared_buffers (128 MB) is resident in PGlite's WebAssembly memory
// from the start; Tasktalk starts it smaller (README, Memory; node bench/rss.ts).
async function sharedBuffers(sharedBuffersMb?: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "tasktalk-pglite-settings-"));
  const database = await openDatabase({
    kind: "pglite",
    dataDir: join(dir, "data"),
    ...(sharedBuffersMb ? { sharedBuffersMb } : {}),
  });
  try {
    const rows = rowsOf<{ shared_buffers: string }>(
      await database.db.execute(sql`show shared_buffers`),
    );
    return rows[0]?.shared_buffers ?? "";
  } finally {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test("PGlite starts with Tasktalk's shared_buffers, not PostgreSQL's 128 MB", async () => {
  assert.equal(PGLITE_SHARED_BUFFERS_MB, 16);
  assert.equal(await sharedBuffers(), "16MB");
});

test("PGLITE_SHARED_BUFFERS_MB reaches PGlite, and bad values are refused at start", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tasktalk-cfg-"));
  try {
    const config = loadConfig({ DATA_DIR: dir, PGLITE_SHARED_BUFFERS_MB: "40" });
    assert.equal(config.database.kind === "pglite" && config.database.sharedBuffersMb, 40);
    assert.equal(await sharedBuffers(40), "40MB");
    for (const bad of ["0", "2048", "16MB", "-1"]) {
      assert.throws(
        () => loadConfig({ DATA_DIR: dir, PGLITE_SHARED_BUFFERS_MB: bad }),
        (error: unknown) =>
          error instanceof ConfigError && error.message.includes("PGLITE_SHARED_BUFFERS_MB"),
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
