import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";

/**
 * One PGlite directory, one process: two openers of the same data directory silently
 * lose writes, so the second one must fail at once. The lock file holds the owner's pid;
 * a lock whose process is gone (kill -9, power loss) is stale and taken over.
 */
export class DataDirLockedError extends Error {
  constructor(dir: string, owner: string) {
    super(
      `Another Tasktalk process (${owner}) is using the data directory ${dir}. ` +
        "PGlite allows one process per directory: stop the other one, or set DATA_DIR to another directory, or use DATABASE_URL for a shared PostgreSQL server.",
    );
    this.name = "DataDirLockedError";
  }
}

export interface DirLock {
  release(): void;
}

export function lockDataDir(dir: string): DirLock {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "tasktalk.lock");
  const me = `pid ${process.pid} on ${hostname()}`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, "wx", 0o600);
      writeSync(fd, JSON.stringify({ pid: process.pid, host: hostname(), since: new Date() }));
      closeSync(fd);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          rmSync(file, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const owner = readOwner(file);
      if (owner && owner.host === hostname() && !isAlive(owner.pid)) {
        rmSync(file, { force: true }); // stale: its process is gone
        continue;
      }
      throw new DataDirLockedError(dir, owner ? `pid ${owner.pid} on ${owner.host}` : me);
    }
  }
  throw new DataDirLockedError(dir, "unknown");
}

function readOwner(file: string): { pid: number; host: string } | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as { pid?: unknown; host?: unknown };
    if (typeof parsed.pid === "number" && typeof parsed.host === "string") {
      return { pid: parsed.pid, host: parsed.host };
    }
  } catch {
    // unreadable or half-written: treat as held (safe side)
  }
  return undefined;
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
