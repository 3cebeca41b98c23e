/**
 * B5 — write amplification: WAL bytes and table/index growth per turn, at each conversation
 * length, against the payload the turn stores (the user's text, the reply, the tool call
 * and its result, the task's title). One Tasktalk turn is B1's (POST /api/chat, one
 * add_task). WAL comes from `pg_current_wal_lsn()` before and after N turns in a row; on
 * PostgreSQL it is the whole server's WAL, so anything else writing to the server in those
 * seconds is counted too (the run says so when the machine is busy); PGlite's WAL is its
 * own. Growth is `pg_total_relation_size` (heap, indexes, TOAST) of the tables a turn
 * writes, so it moves in 8 kB pages: the turns are many enough to fill several.
 */

import { tasktalkTurn } from "./b1.ts";
import { type Backend, type Setup, startInProcess } from "./lib/backends.ts";
import { makeAgent } from "./lib/http.ts";
import { benchToken, benchUser, convKey, uuidOf } from "./lib/layout.ts";
import type { Model } from "./lib/model.ts";
import { resetTasktalk } from "./lib/seed.ts";
import type { Sql } from "./lib/sql.ts";
import { progress } from "./lib/stats.ts";

/** The tables a turn writes (their indexes and TOAST are counted with them). */
export const TURN_TABLES = [
  "messages",
  "tasks",
  "task_counters",
  "turn_tool_calls",
  "activity",
  "conversations",
  "task_reminders",
] as const;

export interface B5Cell {
  turns: number;
  /** Bytes the turn stores as data: message texts, tool call JSON, the task title. */
  payloadPerTurn: number;
  walPerTurn: number;
  walOverPayload: number;
  /** Growth of every table a turn writes (heap + indexes + TOAST), per turn. */
  growthPerTurn: number;
  growthByTable: Record<string, number>;
}
/** backend → length → figures */
export type B5Result = Record<string, Record<string, B5Cell>>;

async function lsn(sql: Sql): Promise<string> {
  const [row] = await sql.query<{ l: string }>("select pg_current_wal_lsn()::text as l");
  return row?.l ?? "0/0";
}

async function walSince(sql: Sql, from: string): Promise<number> {
  const [row] = await sql.query<{ d: string }>(
    "select pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::text as d",
    [from],
  );
  return Number(row?.d ?? Number.NaN);
}

async function sizes(sql: Sql): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of TURN_TABLES) {
    const [row] = await sql.query<{ s: string | null }>(
      "select pg_total_relation_size(to_regclass($1))::text as s",
      [table],
    );
    out[table] = Number(row?.s ?? 0);
  }
  return out;
}

/** What the measured turns stored as data, read back from the rows they wrote. */
async function payload(
  sql: Sql,
  conversationId: string,
  after: { seq: number; task: number },
): Promise<number> {
  const [row] = await sql.query<{ b: string }>(
    `select ((select coalesce(sum(octet_length(content) + coalesce(octet_length(tool_calls::text), 0)), 0)
                from messages where conversation_id = $1 and seq > $2)
           + (select coalesce(sum(octet_length(title) + octet_length(description)), 0)
                from tasks where user_id = $3 and number > $4))::text as b`,
    [conversationId, after.seq, benchUser(0), after.task],
  );
  return Number(row?.b ?? Number.NaN);
}

/** Where the measured turns start: the conversation's last seq, the user's last task number. */
async function marks(sql: Sql, conversationId: string): Promise<{ seq: number; task: number }> {
  const [row] = await sql.query<{ s: string; t: string }>(
    `select (select coalesce(max(seq), 0) from messages where conversation_id = $1)::text as s,
            (select coalesce(max(number), 0) from tasks where user_id = $2)::text as t`,
    [conversationId, benchUser(0)],
  );
  return { seq: Number(row?.s ?? 0), task: Number(row?.t ?? 0) };
}

export async function runB5(opts: {
  setup: Setup;
  backends: Backend[];
  model: Model;
  /** Turns measured in a row at each length (after `warmup` unmeasured ones). */
  turns: number;
  warmup: number;
}): Promise<B5Result> {
  const result: B5Result = {};
  await opts.model.setPace(0);
  for (const backend of opts.backends) {
    const app = await startInProcess(opts.setup, backend, opts.model.url);
    const agent = makeAgent(1);
    try {
      result[backend] = {};
      for (const length of opts.setup.scale.lengths) {
        const key = convKey.app(length);
        const conversationId = uuidOf(key);
        await resetTasktalk(app.sql, [key]);
        for (let i = 0; i < opts.warmup; i++) {
          await tasktalkTurn(agent, app.url, conversationId, benchToken(0));
        }
        const after = await marks(app.sql, conversationId);
        const before = await sizes(app.sql);
        const startLsn = await lsn(app.sql);
        for (let i = 0; i < opts.turns; i++) {
          await tasktalkTurn(agent, app.url, conversationId, benchToken(0));
        }
        const wal = await walSince(app.sql, startLsn);
        const grown = await sizes(app.sql);
        const stored = await payload(app.sql, conversationId, after);
        const growthByTable: Record<string, number> = {};
        let growth = 0;
        for (const table of TURN_TABLES) {
          const grew = ((grown[table] ?? 0) - (before[table] ?? 0)) / opts.turns;
          growthByTable[table] = grew;
          growth += grew;
        }
        const cell: B5Cell = {
          turns: opts.turns,
          payloadPerTurn: stored / opts.turns,
          walPerTurn: wal / opts.turns,
          walOverPayload: wal / stored,
          growthPerTurn: growth,
          growthByTable,
        };
        result[backend][String(length)] = cell;
        progress(
          "B5",
          `${backend} ${length} msgs: WAL ${Math.round(cell.walPerTurn)} B/turn, payload ${Math.round(cell.payloadPerTurn)} B, growth ${Math.round(growth)} B/turn`,
        );
        await resetTasktalk(app.sql, [key]);
      }
    } finally {
      agent.destroy();
      await app.close();
    }
  }
  return result;
}
