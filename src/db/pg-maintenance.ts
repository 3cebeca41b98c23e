// What autovacuum would do, done by the app on a PostgreSQL server whose autovacuum is off.
//
// A connection plans a statement it runs again and again once (a generic plan): our named
// statements (pg-statements.ts) and PostgreSQL's own foreign-key checks alike. The plan
// follows the table's statistics of that moment, and is made again only when they change
// (ANALYZE invalidates it). With autovacuum off nothing ever analyzes, so plans made while
// the tables were nearly empty stay for the life of the connection. bench/growth.ts found
// one on the CI machines' server (`autovacuum = off`): turn_tool_calls' foreign-key check
// on messages(user_id, id), planned when the user had a handful of messages, ran as a scan
// of the user's messages by user_id — a tool call on a conversation grown to 10k messages
// read all of them (1.4× the whole turn of a young conversation).
//
// So every few seconds the app reads which of its tables crossed autovacuum's default
// thresholds (rows changed since the last ANALYZE > 50 + 10%, dead rows > 50 + 20%) and
// analyzes, or vacuums and analyzes, them. Where autovacuum is on (any managed PostgreSQL,
// PostgreSQL's default) a pass reads that setting and does nothing more. SKIP_LOCKED:
// instances never queue behind each other or behind a migration.

import type pg from "pg";

/** First pass soon after start (a fresh database fills quickly), then on this period. */
export const PG_MAINTENANCE_FIRST_MS = 5_000;
export const PG_MAINTENANCE_EVERY_MS = 10_000;

/** The app's tables past autovacuum's default thresholds. */
const DUE_SQL = `
  select format('%I.%I', s.schemaname, s.relname) as name,
         s.n_dead_tup > 50 + 0.2 * greatest(c.reltuples, 0) as vacuum
  from pg_stat_user_tables s
  join pg_class c on c.oid = s.relid
  where s.schemaname not like 'pg\\_temp%'
    and pg_has_role(c.relowner, 'USAGE')
    and (s.n_dead_tup > 50 + 0.2 * greatest(c.reltuples, 0)
      or s.n_mod_since_analyze > 50 + 0.1 * greatest(c.reltuples, 0))
  order by s.n_mod_since_analyze + s.n_dead_tup desc`;

export interface PgMaintenanceRun {
  /** The server's autovacuum is on: it does this work, the app does none. */
  autovacuum: boolean;
  analyzed: string[];
  vacuumed: string[];
}

/** One pass: read what is due, then vacuum/analyze it on one pooled connection. */
export async function maintainPg(pool: pg.Pool): Promise<PgMaintenanceRun> {
  const client = await pool.connect();
  let failed: unknown;
  try {
    const setting = await client.query<{ autovacuum: string }>(
      "select current_setting('autovacuum') as autovacuum",
    );
    const run: PgMaintenanceRun = {
      autovacuum: setting.rows[0]?.autovacuum !== "off",
      analyzed: [],
      vacuumed: [],
    };
    if (run.autovacuum) return run;
    const due = await client.query<{ name: string; vacuum: boolean }>(DUE_SQL);
    for (const table of due.rows) {
      // Each on its own: VACUUM cannot run inside a transaction block.
      if (table.vacuum) {
        await client.query(`vacuum (analyze, skip_locked) ${table.name}`);
        run.vacuumed.push(table.name);
      } else {
        await client.query(`analyze (skip_locked) ${table.name}`);
      }
      run.analyzed.push(table.name);
    }
    return run;
  } catch (error) {
    failed = error;
    throw error;
  } finally {
    // A connection that failed mid-pass is not handed to a request.
    client.release(failed instanceof Error ? failed : undefined);
  }
}

/**
 * Runs maintainPg on a timer (never two passes at once) until stopped; `stop` waits for a
 * pass in flight, so the pool can be ended after it.
 */
export function startPgMaintenance(
  pool: pg.Pool,
  onError: (error: unknown) => void,
): { run(): Promise<PgMaintenanceRun | undefined>; stop(): Promise<void> } {
  let inFlight: Promise<PgMaintenanceRun | undefined> | undefined;
  let stopped = false;
  const run = () => {
    if (stopped) return Promise.resolve(undefined);
    inFlight ??= maintainPg(pool)
      .catch((error: unknown) => {
        if (!stopped) onError(error);
        return undefined;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
  const first = setTimeout(() => void run(), PG_MAINTENANCE_FIRST_MS).unref();
  const every = setInterval(() => void run(), PG_MAINTENANCE_EVERY_MS).unref();
  return {
    run,
    async stop() {
      stopped = true;
      clearTimeout(first);
      clearInterval(every);
      await inFlight;
    },
  };
}
