import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { openDatabase } from "../../src/db/client.ts";
import { DataDirLockedError, lockDataDir, OWNER_FILE } from "../../src/db/lock.ts";

const LOCK_MODULE = new URL("../../src/db/lock.ts", import.meta.url).href;

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "tasktalk-lock-"));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Another process that takes the lock (or fails to) and reports on stdout. */
function lockInChild(dir: string): { proc: ChildProcess; said: Promise<string> } {
  const code = `
    import { lockDataDir } from ${JSON.stringify(LOCK_MODULE)};
    try {
      lockDataDir(${JSON.stringify(dir)});
      console.log("locked");
      setInterval(() => {}, 60_000);
    } catch (error) {
      console.log(error.name + ": " + error.message);
      process.exit(1);
    }`;
  const proc = spawn(process.execPath, ["--input-type=module", "-e", code], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const said = new Promise<string>((resolve, reject) => {
    let out = "";
    proc.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("\n")) resolve(out.trim());
    });
    // "close", not "exit": it comes after stdout has been read to the end.
    proc.on("close", (exitCode) => reject(new Error(`child exited (${exitCode}): ${out}`)));
  });
  return { proc, said };
}

async function killHard(proc: ChildProcess): Promise<void> {
  const exited = once(proc, "exit");
  proc.kill("SIGKILL");
  await exited;
}

describe("the data directory lock", () => {
  test("a second opener in the same process is refused with the clear error; free again after release", () => {
    const dir = tempDir();
    const lock = lockDataDir(dir);
    assert.throws(
      () => lockDataDir(dir),
      (error: unknown) =>
        error instanceof DataDirLockedError &&
        error.message.includes(`Another Tasktalk process (pid ${process.pid} on ${hostname()})`) &&
        error.message.includes(`is using the data directory ${dir}`),
    );
    lock.release();
    lock.release(); // harmless twice
    assert.equal(existsSync(join(dir, OWNER_FILE)), false, "the owner note goes with the lock");
    lockDataDir(dir).release();
  });

  test("a second process is refused while the first holds the lock", async () => {
    const dir = tempDir();
    const lock = lockDataDir(dir);
    try {
      const child = lockInChild(dir);
      const said = await child.said.catch((error: Error) => error.message);
      assert.match(said, /DataDirLockedError: Another Tasktalk process \(pid \d+ on /);
      assert.ok(said.includes(`pid ${process.pid}`), said);
    } finally {
      lock.release();
    }
  });

  test("a holder killed with kill -9 frees the lock at once", async () => {
    const dir = tempDir();
    const holder = lockInChild(dir);
    assert.equal(await holder.said, "locked");
    assert.throws(() => lockDataDir(dir), DataDirLockedError);
    await killHard(holder.proc);
    // No wait, no cleanup: the kernel dropped the dead process's lock.
    const lock = lockDataDir(dir);
    const note = JSON.parse(readFileSync(join(dir, OWNER_FILE), "utf8")) as { pid: number };
    assert.equal(note.pid, process.pid, "the new holder's note replaces the dead one's");
    lock.release();
  });

  test("a leftover lock file of the old format (own pid, pid 1, foreign host, garbage) does not block", () => {
    const leftovers = [
      // The container case: the old holder was PID 1, and so is this process.
      { pid: process.pid, host: hostname(), since: new Date() },
      { pid: 1, host: hostname(), since: new Date() },
      // A recreated pod on the same volume.
      { pid: 1, host: "tasktalk-7d9f8-old", since: new Date() },
    ].map((note) => JSON.stringify(note));
    for (const content of [...leftovers, '{"pid": 4', ""]) {
      const dir = tempDir();
      writeFileSync(join(dir, OWNER_FILE), content);
      const lock = lockDataDir(dir);
      lock.release();
    }
  });

  test("a killed holder's own note does not block the next one, and the refusal names the live holder", async () => {
    const dir = tempDir();
    const first = lockInChild(dir);
    assert.equal(await first.said, "locked");
    const firstPid = first.proc.pid;
    await killHard(first.proc);
    const second = lockInChild(dir);
    assert.equal(await second.said, "locked");
    try {
      assert.throws(
        () => lockDataDir(dir),
        (error: unknown) =>
          error instanceof DataDirLockedError &&
          error.message.includes(`(pid ${second.proc.pid} on`) &&
          !error.message.includes(`(pid ${firstPid} on`),
      );
    } finally {
      await killHard(second.proc);
    }
  });

  test("PGlite: a second openDatabase on the same directory is refused; closing frees it", async () => {
    const dir = tempDir();
    const first = await openDatabase({ kind: "pglite", dataDir: dir });
    try {
      await assert.rejects(openDatabase({ kind: "pglite", dataDir: dir }), DataDirLockedError);
      await first.ping(); // unharmed
    } finally {
      await first.close();
    }
    const again = await openDatabase({ kind: "pglite", dataDir: dir });
    await again.close();
  });
});
