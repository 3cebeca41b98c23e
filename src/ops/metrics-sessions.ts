import { sql } from "drizzle-orm";
import { Gauge, type Registry } from "prom-client";
import { type Database, rowsOf, withDeadline } from "../db/client.ts";

/** Counting stops here: the gauge reads "at least this many" beyond it. */
export const ACTIVE_SESSIONS_CAP = 100_000;
/** Scrapes (every 15 s or so, maybe from several servers) share one count for this long. */
const CACHE_MS = 30_000;

/**
 * `tasktalk_auth_sessions_active`: unexpired rows of `session`, counted at scrape time.
 * The count is bounded (it stops at ACTIVE_SESSIONS_CAP rows, and waits at most the
 * database's probe timeout) and cached, so scraping cannot load the database. A failed
 * count reads NaN rather than a stale number.
 */
export function activeSessionsGauge(database: Database, registers: Registry[]): void {
  let cached: { at: number; value: number } | undefined;
  new Gauge({
    name: "tasktalk_auth_sessions_active",
    help: `Unexpired sign-in sessions (all instances), counted at most every ${CACHE_MS / 1000} s and capped at ${ACTIVE_SESSIONS_CAP}.`,
    registers,
    async collect() {
      const now = Date.now();
      if (!cached || now - cached.at >= CACHE_MS) {
        cached = { at: now, value: await countActiveSessions(database) };
      }
      this.set(cached.value);
    },
  });
}

async function countActiveSessions(database: Database): Promise<number> {
  try {
    const result = await withDeadline(
      database.db.execute(
        sql`select count(*)::int as n from (select 1 from "session" where expires_at > now() limit ${ACTIVE_SESSIONS_CAP}) s`,
      ),
      database.probeTimeoutMs,
    );
    return rowsOf<{ n: number }>(result)[0]?.n ?? Number.NaN;
  } catch {
    return Number.NaN;
  }
}
