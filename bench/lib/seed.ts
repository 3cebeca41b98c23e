/**
 * Builds the benchmark data with generate_series (seconds, not minutes) and resets it
 * between rounds. The same SQL seeds PostgreSQL and PGlite; the peer tables are pg only.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { MIGRATIONS_FOLDER } from "../../src/db/migrate.ts";
import {
  B3_LENGTH,
  benchToken,
  benchUser,
  convKey,
  type Scale,
  SEED_ASSISTANT_SQL,
  SEED_TIME_SQL,
  SEED_USER_SQL,
  SEED_VERSION,
  uuidOf,
} from "./layout.ts";
import type { Sql } from "./sql.ts";

/** Changes when the migrations or the seed change: the reused database is then rebuilt. */
export function fingerprint(scale: Scale): string {
  const h = createHash("sha256").update(`${SEED_VERSION}:${JSON.stringify(scale)}`);
  for (const f of readdirSync(MIGRATIONS_FOLDER).sort()) {
    if (f.endsWith(".sql")) h.update(readFileSync(join(MIGRATIONS_FOLDER, f)));
  }
  return h.digest("hex").slice(0, 16);
}

export async function seededFingerprint(sql: Sql): Promise<string | undefined> {
  const [t] = await sql.query<{ t: string | null }>(`select to_regclass('bench_meta')::text as t`);
  if (!t?.t) return undefined;
  const [row] = await sql.query<{ fingerprint: string }>(`select fingerprint from bench_meta`);
  return row?.fingerprint;
}

/** Every measured conversation: [key, owner, messages]. */
function measuredConversations(scale: Scale): [string, string, number][] {
  const out: [string, string, number][] = [];
  for (const n of scale.lengths) {
    out.push(
      [convKey.app(n), benchUser(0), n],
      [convKey.floor(n), benchUser(0), n],
      [convKey.pfloor(n), benchUser(0), n],
    );
  }
  for (let i = 1; i <= scale.maxClients; i++) {
    out.push([convKey.b3app(i), benchUser(i), B3_LENGTH]);
    out.push([convKey.b3floor(i), benchUser(i), B3_LENGTH]);
    out.push([convKey.b3pfloor(i), benchUser(i), B3_LENGTH]);
  }
  return out;
}

/** Tasktalk's own tables: users, sessions, background and measured conversations. */
export async function seedTasktalk(sql: Sql, scale: Scale, withPeers: boolean): Promise<void> {
  const values = measuredConversations(scale)
    .map(([k, u, n]) => `('${k}', '${u}', ${n})`)
    .join(",\n");
  await sql.exec(`
    create function bench_uuid(k text) returns uuid language sql immutable as
      $$ select (substr(md5(k), 1, 12) || '4' || substr(md5(k), 14, 3) || '8' || substr(md5(k), 18))::uuid $$;
    create table bench_convs (key text primary key, user_id text not null, n int not null);
    insert into bench_convs values ${values};
    insert into bench_convs
      select 'bg-' || u || '-' || c, 'bench-bg' || u, ${scale.bgMsgs}
      from generate_series(1, ${scale.bgUsers}) u, generate_series(1, ${scale.bgConvs}) c;

    insert into "user" (id, name, email, email_verified)
      select distinct user_id, user_id, user_id || '@bench.example.com', true from bench_convs;
    insert into "user" (id, name, email, email_verified)
      values ('${benchUser(0)}', 'bench', '${benchUser(0)}@bench.example.com', true)
      on conflict do nothing;
    insert into session (id, token, user_id, expires_at)
      select 'bench-s' || i, 'bench-token-' || i, 'bench-u' || i, now() + interval '30 days'
      from generate_series(0, ${scale.maxClients}) i;

    insert into conversations (id, user_id, title, model, last_seq, created_at, updated_at)
      select bench_uuid(key), user_id, 'bench ' || key, 'fake-model', n,
             timestamp '2000-01-01', timestamp '2000-01-01'
      from bench_convs;

    insert into messages (id, conversation_id, user_id, seq, role, content, tool_calls,
                          reply_to, status, created_at)
      select bench_uuid(c.key || '-' || s), bench_uuid(c.key), c.user_id, s,
             case when s % 2 = 1 then 'user' else 'assistant' end,
             case when s % 2 = 1 then ${SEED_USER_SQL} else ${SEED_ASSISTANT_SQL} end,
             case when s % 4 = 0 then jsonb_build_array(jsonb_build_object(
               'id', 'call_' || s, 'name', 'add_task',
               'arguments', jsonb_build_object('title', 'task ' || s),
               'result', jsonb_build_object('task_id', s, 'status', 'created', 'title', 'task ' || s)))
             end,
             case when s % 2 = 0 then bench_uuid(c.key || '-' || (s - 1)) end,
             'complete', ${SEED_TIME_SQL}
      from bench_convs c, generate_series(1, c.n) s;
    ${withPeers ? "" : "drop table bench_convs;"}
    analyze;
  `);
}

/**
 * The three peer storage patterns' tables, holding the same background and measured
 * conversations (see bench/peers/*.ts for what each mirrors).
 */
export async function seedPeers(sql: Sql): Promise<void> {
  await sql.exec(`
    drop schema if exists peers cascade;
    create schema peers;

    -- vercel/ai-chatbot lib/db/schema.ts: Chat, Message_v2 (no index on chatId)
    create table peers.ai_chat (
      id uuid primary key, created_at timestamp not null, title text not null,
      user_id text not null, visibility varchar not null default 'private');
    create table peers.ai_message (
      id uuid primary key default gen_random_uuid(),
      chat_id uuid not null references peers.ai_chat (id),
      role varchar not null, parts json not null, attachments json not null,
      created_at timestamp not null);

    -- LibreChat api/models/schema/messageSchema: messageId unique, conversationId and user indexed
    create table peers.lc_message (
      message_id uuid primary key, conversation_id uuid not null, "user" text not null,
      parent_message_id uuid, model text, endpoint text, sender text, text text,
      is_created_by_user boolean not null, unfinished boolean not null default false,
      error boolean not null default false, token_count int,
      created_at timestamptz not null, updated_at timestamptz not null);
    create index on peers.lc_message (conversation_id);
    create index on peers.lc_message ("user");

    -- Open WebUI backend/open_webui/models/chats.py: Chat (the whole chat as JSON)
    create table peers.owui_chat (
      id text primary key, user_id text not null, title text not null, chat json,
      created_at bigint not null, updated_at bigint not null, share_id text unique,
      archived boolean not null default false, pinned boolean default false,
      meta json not null default '{}', folder_id text);
    create index on peers.owui_chat (user_id);
    create table peers.owui_seed (id text primary key, chat json);

    create temporary table peer_msgs as
      select c.key, c.user_id, s,
             bench_uuid(c.key || '-' || s) as id,
             case when s % 2 = 1 then 'user' else 'assistant' end as role,
             case when s % 2 = 1 then ${SEED_USER_SQL} else ${SEED_ASSISTANT_SQL} end as content,
             ${SEED_TIME_SQL} as at
      from bench_convs c, generate_series(1, c.n) s
      where c.key not like 'b3%' and c.key not like 'floor-%';

    insert into peers.ai_chat (id, created_at, title, user_id)
      select bench_uuid(key), timestamp '2000-01-01', key, user_id from bench_convs
      where key not like 'b3%' and key not like 'floor-%';
    insert into peers.ai_message (id, chat_id, role, parts, attachments, created_at)
      select id, bench_uuid(key), role,
             json_build_array(json_build_object('type', 'text', 'text', content)), '[]', at
      from peer_msgs;

    insert into peers.lc_message (message_id, conversation_id, "user", parent_message_id,
        model, endpoint, sender, text, is_created_by_user, token_count, created_at, updated_at)
      select id, bench_uuid(key), user_id,
             case when s > 1 then bench_uuid(key || '-' || (s - 1)) end,
             'fake-model', 'openAI', case when role = 'user' then 'User' else 'Assistant' end,
             content, role = 'user', length(content) / 4, at, at
      from peer_msgs;

    insert into peers.owui_chat (id, user_id, title, chat, created_at, updated_at)
      select key, min(user_id), key,
             json_build_object(
               'id', '', 'title', key, 'models', json_build_array('fake-model'), 'params', '{}'::json,
               'history', json_build_object(
                 'messages', json_object_agg(id, msg),
                 'currentId', bench_uuid(key || '-' || max(s))),
               'messages', json_agg(msg order by s), 'tags', '[]'::json,
               'timestamp', 946684800000, 'files', '[]'::json),
             946684800, 946684800
      from (
        select key, user_id, s, id, json_build_object(
                 'id', id,
                 'parentId', case when s > 1 then bench_uuid(key || '-' || (s - 1)) end,
                 'childrenIds', case when s < n then json_build_array(bench_uuid(key || '-' || (s + 1)))
                                else '[]'::json end,
                 'role', role, 'content', content, 'timestamp', 946684800 + s,
                 'models', json_build_array('fake-model')) as msg
        from peer_msgs join bench_convs using (key, user_id)
      ) m
      group by key;
    insert into peers.owui_seed select id, chat from peers.owui_chat where id like 'app-%';
    drop table peer_msgs;
    drop table bench_convs;
    analyze;
  `);
}

export async function markSeeded(sql: Sql, print: string): Promise<void> {
  await sql.exec(
    `create table bench_meta (fingerprint text not null); insert into bench_meta values ('${print}');`,
  );
}

/** Back to the seeded state: measured conversations lose what benchmarks added; leases free. */
export async function resetTasktalk(sql: Sql, keys: string[]): Promise<void> {
  for (const key of keys) {
    const n = seededLength(key);
    const id = uuidOf(key);
    await sql.query(`delete from messages where conversation_id = $1 and seq > $2`, [id, n]);
    await sql.query(
      `update conversations set last_seq = $2, active_turn_id = null, active_turn_expires_at = null where id = $1`,
      [id, n],
    );
  }
}

/** A measured conversation's seeded length, from its key (see convKey and measuredConversations). */
function seededLength(key: string): number {
  if (/^b3(app|floor|pfloor)-\d+$/.test(key)) return B3_LENGTH;
  const n = /^(app|floor|pfloor)-(\d+)$/.exec(key)?.[2];
  if (n === undefined) throw new Error(`unknown conversation ${key}`);
  return Number(n);
}

/**
 * What autovacuum would have done by now: every benchmark on PostgreSQL starts on vacuumed,
 * analyzed tables. The database is reused from run to run and each turn leaves dead rows
 * (conversation updates, the messages reset deletes); with autovacuum off (as on these
 * machines' server: `show autovacuum`) they pile up run after run, which no production
 * database reaches. pgbench vacuums before a run for the same reason. Untimed.
 */
export async function vacuumPg(pool: { query(text: string): Promise<unknown> }): Promise<void> {
  await pool.query("vacuum (analyze)");
}

/** Fresh sessions (the bench tokens) valid for a week, on every run. */
export async function refreshSessions(sql: Sql): Promise<void> {
  await sql.query(
    `update session set expires_at = now() + interval '7 days', updated_at = now() where token like 'bench-token-%'`,
  );
  // Keep the per-user task tables small enough not to matter between runs.
  await sql.query(`delete from tasks where user_id like 'bench-u%'`);
}

export { benchToken };
