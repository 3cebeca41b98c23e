/**
 * The protocol floor (shared/BENCHMARKS.md B1, B3): the same chat turn as Tasktalk's with
 * nothing but `node:http`, the database driver and `fetch` — the fastest this turn can be
 * on this machine and runtime. Per turn it:
 *   1. reads the request body and the bearer token;
 *   2. issues Tasktalk's own SQL statements, the same texts in the same order, with the
 *      same transaction boundaries (copied from `bench/profile.ts`'s output of one turn):
 *      authenticate and, beside it, the turn preview (the conversation's owner, model, lease
 *      and window, one read: src/chat/chat.routes.ts); step A (lease + user message, one
 *      statement) once the first model request is out, as Tasktalk sends it
 *      (src/chat/speculate.ts); the
 *      tool's transaction (task insert, activity entry, webhook lookup, the turn's tool
 *      record); step B (reply + lease release, one statement);
 *   3. sends the model the same two requests with the same bodies Tasktalk sent (captured
 *      from a real turn at the same length), reading each streamed answer to its end;
 *   4. answers with the same response bytes Tasktalk answered that turn.
 * No validation, no logging, no framework, no ORM, no AI SDK: what is left is the work
 * the turn's protocol (HTTP in, SQL, HTTP to the model, HTTP out) cannot avoid.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type pg from "pg";
import type { Sql } from "../lib/sql.ts";

/** What a real Tasktalk turn at this length did, replayed by the floor. */
export interface CapturedTurn {
  /** The two request bodies the model received (tool call, then answer). */
  modelBodies: unknown[];
  /** The JSON body Tasktalk answered with. */
  response: string;
}

/** Where the floor's statements run: a pg pool (a client per transaction) or PGlite. */
export type FloorDb = { kind: "pg"; pool: pg.Pool } | { kind: "pglite"; sql: Sql };

const AUTHENTICATE = `select "user"."id", "user"."email", "user"."name", "user"."timezone", "session"."expires_at", "user"."role", "user"."banned", "user"."ban_expires", "role_features"."features", "user_features"."features" from "session" inner join "user" on "user"."id" = "session"."user_id" left join "role_features" on "role_features"."role" = "user"."role" left join "user_features" on "user_features"."user_id" = "user"."id" where "session"."token" = $1`;

const STEP_A = `with "lease" as (update "conversations" set "last_seq" = "conversations"."last_seq" + $1, "active_turn_id" = $2, "active_turn_expires_at" = now() + $3::interval, "updated_at" = now() where ("conversations"."user_id" = $4 and "conversations"."id" = $5 and ("conversations"."active_turn_id" is null or "conversations"."active_turn_expires_at" < now())) returning "last_seq") insert into "messages" ("id", "conversation_id", "user_id", "seq", "role", "content", "tool_calls", "reply_to", "status", "client_message_id", "usage", "created_at", "error_code", "model", "cost_micros", "context", "replaced_by") select $6::uuid as "id", $7::uuid as "conversation_id", $8 as "user_id", "last_seq", 'user' as "role", $9 as "content", null::jsonb as "tool_calls", null::uuid as "reply_to", 'complete' as "status", $10::uuid as "client_message_id", null::jsonb as "usage", now() as "created_at", null::text as "error_code", null::text as "model", null::bigint as "cost_micros", null::jsonb as "context", null::uuid as "replaced_by" from "lease" returning "id", "conversation_id", "seq", "role", left("content", 32000), case when pg_column_size("tool_calls") > 64000 then '[]'::jsonb else "tool_calls" end, "reply_to", "status", "client_message_id", "usage", "created_at", "error_code", "model", "cost_micros", "replaced_by", ( select coalesce(json_agg(w order by w.seq), '[]'::json) from ( select m.id, m.conversation_id, m.seq, m.role, left(m.content, 32000) as content, case when pg_column_size(m.tool_calls) > 64000 then '[]'::jsonb else m.tool_calls end as tool_calls, m.reply_to, m.status, m.client_message_id, m.usage, m.created_at, m.error_code, m.model, m.cost_micros, m.replaced_by from "messages" m where m.user_id = $11 and m.conversation_id = $12::uuid and m.seq < (select last_seq from lease) and m.seq >= (select last_seq from lease) - $13::int order by m.seq desc limit $14 ) w)`;

const PREVIEW = `select "user_id", "model", "last_seq", ("active_turn_id" is not null and "active_turn_expires_at" >= now()), ($1::uuid is not null and exists ( select 1 from "messages" c where c.user_id = "conversations"."user_id" and c.client_message_id = $2::uuid)), ( select coalesce(json_agg(w order by w.seq), '[]'::json) from ( select m.id, m.conversation_id, m.seq, m.role, left(m.content, 32000) as content, case when pg_column_size(m.tool_calls) > 64000 then '[]'::jsonb else m.tool_calls end as tool_calls, m.reply_to, m.status, m.client_message_id, m.usage, m.created_at, m.error_code, m.model, m.cost_micros, m.replaced_by from "messages" m where m.user_id = "conversations"."user_id" and m.conversation_id = $3::uuid and m.seq <= "conversations"."last_seq" and m.seq > "conversations"."last_seq" - $4::int order by m.seq desc limit $5 ) w) from "conversations" where "conversations"."id" = $6::uuid`;

const TASK_INSERT = `with "counter" as (insert into "task_counters" ("user_id", "last_number") values ($1, $2) on conflict ("user_id") do update set "last_number" = "task_counters"."last_number" + 1 returning "last_number") insert into "tasks" ("id", "user_id", "number", "title", "description", "completed", "completed_at", "version", "due_date", "due_time", "due_timezone", "due_at", "due_string", "due_recurrence", "completed_occurrences", "last_completed_at", "priority", "list_id", "labels", "parent_number", "created_at", "updated_at", "deleted_at", "change_seq") values (default, $3, (select last_number from counter), $4, $5, default, default, default, $6::date, $7, $8, $9::timestamptz, $10, $11::jsonb, default, default, $12::text, $13::uuid, $14::text[], $15::integer, default, default, default, default) returning "id", "user_id", "number", "title", "description", "completed", "completed_at", "version", "due_date", "due_time", "due_timezone", "due_at", "due_string", "due_recurrence", "completed_occurrences", "last_completed_at", "priority", "list_id", "labels", "parent_number", "created_at", "updated_at", "deleted_at", "change_seq", (select "name" from "lists" where "id" = "list_id")`;

const ACTIVITY_INSERT = `insert into "activity" ("id", "user_id", "door", "request_id", "conversation_id", "message_id", "kind", "subject_type", "subject", "summary", "before", "after", "undo_of", "created_at") values (default, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11::jsonb, $12, default) returning "id", "user_id", "door", "request_id", "conversation_id", "message_id", "kind", "subject_type", "subject", "summary", "before", "after", "undo_of", "created_at", to_char("created_at" at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), (select u.id from activity u where u.undo_of = "activity"."id" and u.user_id = "activity"."user_id")`;

const WEBHOOKS = `select "id", "user_id", "url", "secret", "events", "active", "created_at", "updated_at" from "webhooks" where ("webhooks"."user_id" = $1 and "webhooks"."active" = $2 and (cardinality("webhooks"."events") = 0 or $3 = any("webhooks"."events")))`;

const TOOL_RECORD = `insert into "turn_tool_calls" ("id", "user_id", "message_id", "tool_call_id", "name", "arguments", "result", "created_at") values (default, $1, $2, $3, $4, $5::jsonb, $6::jsonb, default)`;

const STEP_B = `with "next" as (update "conversations" set "last_seq" = "conversations"."last_seq" + 1, "active_turn_id" = case when "conversations"."active_turn_id" = $1 then null else "conversations"."active_turn_id" end, "active_turn_expires_at" = case when "conversations"."active_turn_id" = $2 then null else "conversations"."active_turn_expires_at" end, "updated_at" = now() where ("conversations"."user_id" = $3 and "conversations"."id" = $4) returning "last_seq") insert into "messages" ("id", "conversation_id", "user_id", "seq", "role", "content", "tool_calls", "reply_to", "status", "client_message_id", "usage", "created_at", "error_code", "model", "cost_micros", "context", "replaced_by") select $5::uuid as "id", $6::uuid as "conversation_id", $7 as "user_id", "last_seq", 'assistant' as "role", $8 as "content", $9::jsonb as "tool_calls", $10::uuid as "reply_to", $11 as "status", null::uuid as "client_message_id", $12::jsonb as "usage", now() as "created_at", $13::text as "error_code", $14::text as "model", $15::bigint as "cost_micros", $16::jsonb as "context", null::uuid as "replaced_by" from "next" returning "id", "conversation_id", "seq", "role", left("content", 32000), case when pg_column_size("tool_calls") > 64000 then '[]'::jsonb else "tool_calls" end, "reply_to", "status", "client_message_id", "usage", "created_at", "error_code", "model", "cost_micros", "replaced_by"`;

/** The preview's window: HISTORY_MAX_MESSAGES (40). */
const WINDOW = 40;
const TOOL_ARGUMENTS = JSON.stringify({ title: "bench task" });
const REPLY = "Done: I added it to your list, and it is waiting for you there.";
/** A reply's context manifest as Tasktalk stored it for this turn (chat/manifest.ts): the floor stores the same bytes. */
const MANIFEST =
  '{"version":1,"model":"fake-model","settings":{"max_steps":6,"max_output_tokens":1024,"history_max_messages":40,"history_max_chars":24000},"system_prompt":{"version":"2026-11-30.1","chars":1551,"tokens_estimate":388},"window":{"seqs":[[1,21]],"messages":21,"read":21,"chars":2953,"tokens_estimate":739},"parts":[{"id":"8e3e0f3c-f454-4090-84e3-a1becb8190ef","seq":1,"role":"user","tool_calls":0,"chars":113,"tokens_estimate":29},{"id":"9bddd7cf-2c94-4152-83b9-dd33f99f82a7","seq":2,"role":"assistant","tool_calls":0,"chars":104,"tokens_estimate":26},{"id":"ecf18fdf-237f-4426-8550-6bd5784af59d","seq":3,"role":"user","tool_calls":0,"chars":113,"tokens_estimate":29},{"id":"154c4cbe-8e9f-4e6d-8d79-e59bcea1289f","seq":4,"role":"assistant","tool_calls":1,"chars":227,"tokens_estimate":57},{"id":"1f98414a-510c-4d14-8cd3-4f6367eaf1ca","seq":5,"role":"user","tool_calls":0,"chars":113,"tokens_estimate":29},{"id":"2e76d1d7-db41-4830-8505-beb7692c4c7c","seq":6,"role":"assistant","tool_calls":0,"chars":104,"tokens_estimate":26},{"id":"5daa2d30-1082-4dde-8547-e372df4eff25","seq":7,"role":"user","tool_calls":0,"chars":113,"tokens_estimate":29},{"id":"88b79f7d-4e33-487f-888d-9fca17000bba","seq":8,"role":"assistant","tool_calls":1,"chars":227,"tokens_estimate":57},{"id":"7d9834b5-6529-4bce-8636-0967ef9caa1f","seq":9,"role":"user","tool_calls":0,"chars":113,"tokens_estimate":29},{"id":"913b30f5-6fba-4a66-8343-75a0d24ae25b","seq":10,"role":"assistant","tool_calls":0,"chars":105,"tokens_estimate":27},{"id":"389fdb58-ec90-46c8-b6d0-e278904e181e","seq":11,"role":"user","tool_calls":0,"chars":46,"tokens_estimate":12},{"id":"2d7b7f25-54cb-5f2b-8d1e-edc1566b2392","seq":12,"role":"assistant","tool_calls":1,"chars":269,"tokens_estimate":68},{"id":"e78d2daa-0898-4eac-b76f-6b278b975e2a","seq":13,"role":"user","tool_calls":0,"chars":46,"tokens_estimate":12},{"id":"f52c2d64-62ee-565f-a553-6fe3c903356b","seq":14,"role":"assistant","tool_calls":1,"chars":269,"tokens_estimate":68},{"id":"32637a84-6723-49b1-a6ce-b444bcc15f0b","seq":15,"role":"user","tool_calls":0,"chars":46,"tokens_estimate":12},{"id":"7c062632-409e-5a35-b94c-bccd38ba3cc3","seq":16,"role":"assistant","tool_calls":1,"chars":269,"tokens_estimate":68},{"id":"4c1db1a8-79d1-4c9a-9811-532dcc601a81","seq":17,"role":"user","tool_calls":0,"chars":46,"tokens_estimate":12},{"id":"d4ba8ac9-c388-55c9-a82e-e31b6c7f0001","seq":18,"role":"assistant","tool_calls":1,"chars":269,"tokens_estimate":68},{"id":"0383aa0f-aeb5-4919-a672-f82c1efd61bc","seq":19,"role":"user","tool_calls":0,"chars":46,"tokens_estimate":12},{"id":"55799e6e-14b9-55c4-a645-e8e636cc0d6c","seq":20,"role":"assistant","tool_calls":1,"chars":269,"tokens_estimate":68},{"id":"1d86454c-e967-43d7-8c61-a8545cd6a870","seq":21,"role":"user","tool_calls":0,"chars":46,"tokens_estimate":12}],"parts_omitted":0,"earlier_tool_calls":{"count":0,"chars":2,"tokens_estimate":1},"note":null,"tools":{"count":10,"names":["add_task","cancel_pending_action","complete_task","confirm_pending_action","delete_task","hold_for_confirmation","list_tasks","restore_task","undo_last_turn","update_task"],"description_chars":3003},"usage":{"input_tokens":3212,"output_tokens":22,"total_tokens":3234},"token_estimate":"characters / 4"}';

type Query = (text: string, params?: unknown[]) => Promise<Record<string, unknown>[]>;

/** Runs `fn` in one transaction on one connection (BEGIN … COMMIT, like Tasktalk's tool). */
async function inTransaction<T>(db: FloorDb, fn: (q: Query) => Promise<T>): Promise<T> {
  if (db.kind === "pglite") {
    const q: Query = (text, params) => db.sql.query(text, params);
    await q("begin");
    try {
      const out = await fn(q);
      await q("commit");
      return out;
    } catch (error) {
      await q("rollback");
      throw error;
    }
  }
  const client = await db.pool.connect();
  const q: Query = async (text, params) => (await client.query(text, params)).rows;
  try {
    await q("begin");
    const out = await fn(q);
    await q("commit");
    return out;
  } catch (error) {
    await q("rollback").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

function autocommit(db: FloorDb): Query {
  return db.kind === "pglite"
    ? (text, params) => db.sql.query(text, params)
    : async (text, params) => (await db.pool.query(text, params)).rows;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** One model request with the captured body, its streamed answer read to the end. */
async function callModel(modelUrl: string, body: unknown): Promise<string> {
  const res = await fetch(`${modelUrl}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`model: HTTP ${res.status}`);
  return text;
}

export interface ProtocolFloor {
  url: string;
  close(): Promise<void>;
}

/**
 * Starts the floor's HTTP server on 127.0.0.1. `captured` maps a conversation id to the
 * turn Tasktalk made on it (the model bodies and the response differ with the length);
 * `"*"` is the turn for any other conversation.
 */
export async function startProtocolFloor(opts: {
  db: FloorDb;
  modelUrl: string;
  captured: Map<string, CapturedTurn>;
}): Promise<ProtocolFloor> {
  const query = autocommit(opts.db);
  const server: Server = createServer(async (req, res) => {
    try {
      const input = JSON.parse(await readBody(req)) as {
        message: string;
        conversation_id: string;
      };
      const token = (req.headers.authorization ?? "").replace(/^Bearer /, "");
      const conversationId = input.conversation_id;
      // Authenticate and, beside it, the preview (the conversation's owner, model, lease
      // and window, in one read), as Tasktalk does while it checks the token.
      const [[user], [preview]] = await Promise.all([
        query(AUTHENTICATE, [token]),
        query(PREVIEW, [null, null, conversationId, WINDOW, WINDOW, conversationId]),
      ]);
      if (!user || new Date(user.expires_at as string).getTime() <= Date.now()) {
        res.writeHead(401).end();
        return;
      }
      const userId = user.id as string;
      if (preview?.user_id !== userId) {
        res.writeHead(404).end();
        return;
      }
      const turn = opts.captured.get(conversationId) ?? opts.captured.get("*");
      if (!turn) throw new Error(`protocol floor: no captured turn for ${conversationId}`);
      const turnId = randomUUID();
      const messageId = randomUUID();
      // The first model request, then step A (window skipped: the request holds it) while
      // it is out, as Tasktalk does; the answer is read once both are done.
      const model = callModel(opts.modelUrl, turn.modelBodies[0]);
      model.catch(() => {});
      for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
      const [userMessage] = await query(STEP_A, [
        1,
        turnId,
        "15000 milliseconds",
        userId,
        conversationId,
        messageId,
        conversationId,
        userId,
        input.message,
        null,
        userId,
        conversationId,
        0,
        0,
      ]);
      await model;
      if (!userMessage) {
        res.writeHead(409).end();
        return;
      }
      const toolResult = await inTransaction(opts.db, async (q) => {
        const [task] = await q(TASK_INSERT, [
          userId,
          1,
          userId,
          "bench task",
          "",
          null,
          null,
          null,
          null,
          null,
          null,
          "none",
          null,
          "{}",
          null,
        ]);
        const number = task?.number as number;
        const after = JSON.stringify({
          title: "bench task",
          description: "",
          completed: false,
          completed_at: null,
          due: null,
          priority: "none",
          list: "Inbox",
          labels: [],
          parent_id: null,
          version: 1,
        });
        await q(ACTIVITY_INSERT, [
          userId,
          "chat",
          turnId,
          conversationId,
          messageId,
          "task.created",
          "task",
          String(number),
          `Added task ${number} “bench task”`,
          null,
          after,
          null,
        ]);
        await q(WEBHOOKS, [userId, true, "task.created"]);
        const result = JSON.stringify({
          task_id: number,
          status: "created",
          title: "bench task",
          due: null,
          due_label: null,
          priority: "none",
          list: "Inbox",
          labels: [],
        });
        await q(TOOL_RECORD, [userId, messageId, "call_bench", "add_task", TOOL_ARGUMENTS, result]);
        return result;
      });
      await callModel(opts.modelUrl, turn.modelBodies[1]);
      await query(STEP_B, [
        turnId,
        turnId,
        userId,
        conversationId,
        randomUUID(),
        conversationId,
        userId,
        REPLY,
        `[{"id":"call_bench","name":"add_task","arguments":${TOOL_ARGUMENTS},"result":${toolResult}}]`,
        messageId,
        "complete",
        '{"inputTokens":0,"outputTokens":0,"totalTokens":0}',
        null,
        "fake-model",
        null,
        MANIFEST,
      ]);
      res.writeHead(200, {
        "content-type": "application/json; charset=utf-8",
        "content-length": Buffer.byteLength(turn.response),
      });
      res.end(turn.response);
    } catch (error) {
      res.writeHead(500).end(String(error));
    }
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * As a child process (B3, where the app is a process of its own too): `fork()` it, send
 * `{ pgUrl, modelUrl, captured, poolMax }`, and it answers `{ url }`; `{ stop: true }` ends it.
 */
if (process.argv[1] && import.meta.filename === process.argv[1] && process.send) {
  const { default: pgModule } = await import("pg");
  process.once(
    "message",
    async (m: { pgUrl: string; modelUrl: string; captured: CapturedTurn; poolMax: number }) => {
      const pool = new pgModule.Pool({ connectionString: m.pgUrl, max: m.poolMax });
      const floor = await startProtocolFloor({
        db: { kind: "pg", pool },
        modelUrl: m.modelUrl,
        captured: new Map([["*", m.captured]]),
      });
      process.on("message", async (next: { stop?: boolean }) => {
        if (!next.stop) return;
        await floor.close();
        await pool.end();
        process.exit(0);
      });
      process.send?.({ url: floor.url });
    },
  );
}
