import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";

/**
 * One PGlite directory, one process: two openers of the same data directory silently
 * lose writes, so the second one must fail at once.
 *
 * The lock is an OS lock that dies with its holder: an exclusive SQLite transaction kept
 * open on an empty SQLite file in the directory. SQLite's Unix VFS takes it with fcntl()
 * record locks, which the kernel drops when the process ends however it ends (kill -9,
 * OOM, power loss of a container), and which another process sees on the same file
 * whatever its PID, PID namespace or hostname. So there is no pid to trust (in a
 * container Node is PID 1 every time) and nothing stale to take over. SQLite also sees a
 * second connection of the same process, so a second opener in-process is refused too.
 * Node has no flock(); docs/decisions.md says why this beats the alternatives.
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

/** The file the OS lock is held on. Never unlinked: a second opener may hold it open. */
export const LOCK_FILE = "tasktalk-lock.sqlite";
/**
 * Who holds the lock, for the refusal message only: `{pid, host, since}`, written by the
 * holder after it has the lock. Same name and shape as the pid lock file of earlier
 * versions, which an earlier version started beside a running one reads as before; a
 * leftover one of theirs (any pid, any host) is simply overwritten.
 */
export const OWNER_FILE = "tasktalk.lock";

const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;

/**
 * Held locks, so the SQLite connection that holds one stays reachable even if a caller
 * drops its DirLock: a collected connection would be closed and the lock silently lost.
 */
const held = new Set<DatabaseSync>();

export function lockDataDir(dir: string): DirLock {
  mkdirSync(dir, { recursive: true });
  // timeout 0: a held lock answers SQLITE_BUSY at once instead of waiting for it.
  const conn = new DatabaseSync(join(dir, LOCK_FILE), { timeout: 0 });
  try {
    // The memory journal keeps the directory free of -journal files; the transaction
    // writes nothing, it exists to hold the exclusive lock until the process ends.
    conn.exec("PRAGMA journal_mode = MEMORY; BEGIN EXCLUSIVE");
  } catch (error) {
    conn.close();
    if (isBusy(error)) throw new DataDirLockedError(dir, describeOwner(dir));
    throw new Error(`cannot lock the data directory ${dir}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  held.add(conn);
  writeOwner(dir);
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      // The note goes first: once the lock is free the next holder writes its own.
      rmSync(join(dir, OWNER_FILE), { force: true });
      held.delete(conn);
      conn.close();
    },
  };
}

function isBusy(error: unknown): boolean {
  const code = (error as { errcode?: unknown }).errcode;
  // Extended result codes (SQLITE_BUSY_RECOVERY …) keep the primary code in the low byte.
  return typeof code === "number" && [SQLITE_BUSY, SQLITE_LOCKED].includes(code & 0xff);
}

function writeOwner(dir: string): void {
  const note = { pid: process.pid, host: hostname(), since: new Date() };
  const tmp = join(dir, `${OWNER_FILE}.tmp`);
  try {
    // Only the holder writes, and rename is atomic: a reader sees a whole note or none.
    writeFileSync(tmp, JSON.stringify(note), { mode: 0o600 });
    renameSync(tmp, join(dir, OWNER_FILE));
  } catch {
    // Informative only: the lock is held either way.
  }
}

function describeOwner(dir: string): string {
  try {
    const parsed = JSON.parse(readFileSync(join(dir, OWNER_FILE), "utf8")) as {
      pid?: unknown;
      host?: unknown;
    };
    if (typeof parsed.pid === "number" && typeof parsed.host === "string") {
      return `pid ${parsed.pid} on ${parsed.host}`;
    }
  } catch {
    // missing (the holder has not written it yet) or unreadable
  }
  return "owner unknown";
}
