import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { OWNER_FILE } from "../../src/db/lock.ts";
import { runMain, type ServerProcess, startServerProcess } from "../support/process.ts";

/**
 * The container case (issue 17): the server is PID 1 in its own PID namespace every time,
 * and a recreated pod has another hostname. A server killed there must start again on the
 * same data directory, and a live one must still be seen from outside its namespace.
 * (The stdio MCP entry opens the database through the same lock: test/mcp/stdio.test.ts.)
 */
const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "tasktalk-lockproc-"));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Runs the server as PID 1 of a new PID namespace, under its own hostname if given. */
function asPid1(host?: string): string[] {
  const ns = ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child"];
  if (host === undefined) return ns;
  return [...ns, "--uts", "sh", "-c", 'hostname "$0" && exec "$@"', host];
}

const unshareProbe = spawnSync("unshare", [...asPid1("probe"), "true"], { stdio: "ignore" });
const noNamespaces =
  unshareProbe.status === 0 ? false : "unshare (util-linux, root) cannot make namespaces here";

/** The server's own pid: unshare forks it (via sh, which execs) as its only child. */
function serverPid(server: ServerProcess): number {
  const outer = server.proc.pid as number;
  const children = readFileSync(`/proc/${outer}/task/${outer}/children`, "utf8").trim();
  const pid = Number(children.split(" ")[0]);
  assert.ok(pid > 0, `no child of unshare (${outer})`);
  return pid;
}

async function killHard(server: ServerProcess): Promise<void> {
  process.kill(serverPid(server), "SIGKILL");
  await server.exited;
}

async function assertReady(server: ServerProcess): Promise<void> {
  assert.equal((await fetch(`${server.url}/health/ready`)).status, 200);
}

/** Pino's log lines carry the process's pid and hostname as the process itself sees them. */
function assertLoggedAs(server: ServerProcess, pid: number, host: string): void {
  assert.match(server.output(), new RegExp(`"pid":${pid},"hostname":"${host}"`));
}

async function stop(server: ServerProcess): Promise<void> {
  if (server.proc.exitCode !== null) return;
  process.kill(serverPid(server), "SIGTERM");
  await server.exited;
}

describe("the data directory lock across processes and containers", () => {
  test("PID 1 killed with kill -9, started again as PID 1 on the same directory: ready", {
    skip: noNamespaces,
  }, async () => {
    const dataDir = tempDir();
    const first = await startServerProcess({ DATA_DIR: dataDir }, 30_000, { wrap: asPid1() });
    try {
      assertLoggedAs(first, 1, hostname());
      await assertReady(first);
      // A live holder is seen from outside its PID namespace, where pid 1 is not it.
      const outsider = runMain({ DATA_DIR: dataDir, PORT: "0" });
      assert.equal(await outsider.exited, 1);
      assert.match(
        outsider.output(),
        new RegExp(
          `Another Tasktalk process \\(pid 1 on ${hostname()}\\) is using the data directory`,
        ),
      );
      await assertReady(first);
    } finally {
      await killHard(first);
    }
    // The old lock refused here: the note says pid 1, and the new process is pid 1 too.
    const second = await startServerProcess({ DATA_DIR: dataDir }, 30_000, { wrap: asPid1() });
    try {
      assertLoggedAs(second, 1, hostname());
      await assertReady(second);
    } finally {
      await stop(second);
    }
  });

  test("a recreated pod (another hostname, PID 1 again) takes over a killed one's directory", {
    skip: noNamespaces,
  }, async () => {
    const dataDir = tempDir();
    const old = await startServerProcess({ DATA_DIR: dataDir }, 30_000, {
      wrap: asPid1("tasktalk-pod-a"),
    });
    assertLoggedAs(old, 1, "tasktalk-pod-a");
    await killHard(old);
    const note = JSON.parse(readFileSync(join(dataDir, OWNER_FILE), "utf8")) as { host: string };
    assert.equal(note.host, "tasktalk-pod-a", "the dead pod's note is left behind");
    const pod = await startServerProcess({ DATA_DIR: dataDir }, 30_000, {
      wrap: asPid1("tasktalk-pod-b"),
    });
    try {
      assertLoggedAs(pod, 1, "tasktalk-pod-b");
      await assertReady(pod);
    } finally {
      await stop(pod);
    }
  });

  test("a lock file left by an earlier version (pid 1, this host) does not block a PID 1 start", {
    skip: noNamespaces,
  }, async () => {
    const dataDir = tempDir();
    writeFileSync(
      join(dataDir, OWNER_FILE),
      JSON.stringify({ pid: 1, host: hostname(), since: "2026-11-01T00:00:00.000Z" }),
    );
    const server = await startServerProcess({ DATA_DIR: dataDir }, 30_000, { wrap: asPid1() });
    try {
      await assertReady(server);
    } finally {
      await stop(server);
    }
  });

  test("a lock file left by an earlier version on another host does not block a start", async () => {
    const dataDir = tempDir();
    writeFileSync(
      join(dataDir, OWNER_FILE),
      JSON.stringify({ pid: 4242, host: "tasktalk-old-pod", since: "2026-11-01T00:00:00.000Z" }),
    );
    const server = await startServerProcess({ DATA_DIR: dataDir });
    try {
      await assertReady(server);
    } finally {
      server.kill();
      assert.equal(await server.exited, 0);
    }
  });
});
