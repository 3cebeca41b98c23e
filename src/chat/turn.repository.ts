import { and, eq, isNotNull, isNull, type SQL, sql } from "drizzle-orm";
import { type SessionRow, selectSession } from "../auth/session.repository.ts";
import {
  CONTENT_MAX,
  type MessageRow,
  messageColumns,
  TOOL_CALLS_MAX,
  toMessage,
} from "../conversations/conversation.repository.ts";
import type { Message, StoredToolCall } from "../conversations/conversation.ts";
import type { Db, Executor, Tx } from "../db/client.ts";
import { isUniqueViolation } from "../db/db-errors.ts";
import { prepared } from "../db/prepared.ts";
import { conversations, messages, session, user } from "../db/schema.ts";
import { replyIdFor } from "./ids.ts";
import { interval, type LeaseInput, leaseStatement } from "./lease.repository.ts";

// Every statement of a chat turn (DESIGN.md §1): the lease on the conversation, step A
// (both ways), the window, step B, the replay lookups. Each answers with an outcome value;
// the only errors that leave here are real failures (the database is down, a bug).

const p = (name: string) => sql.placeholder(name);

/** A message's columns for the window read inside step A (rendered by json_agg). */
const WINDOW_COLUMNS = sql.raw(
  `m.id, m.conversation_id, m.seq, m.role, left(m.content, ${CONTENT_MAX}) as content,
   case when pg_column_size(m.tool_calls) > ${TOOL_CALLS_MAX} then '[]'::jsonb else m.tool_calls end as tool_calls,
   m.reply_to, m.status, m.client_message_id, m.usage, m.created_at, m.error_code,
   m.model, m.cost_micros, m.replaced_by`,
);

/**
 * The conversation's messages in `range` (at most `limit`, the newest), oldest first, as one
 * JSON value: a subquery of step A's RETURNING and of the preview.
 */
function windowJson(range: SQL, limit: ReturnType<typeof p>, userId: SQL = sql`${p("userId")}`) {
  return sql<MessageRow[]>`(
        select coalesce(json_agg(w order by w.seq), '[]'::json) from (
          select ${WINDOW_COLUMNS}
          from ${messages} m
          where m.user_id = ${userId} and m.conversation_id = ${p("conversationId")}::uuid
            and ${range}
          order by m.seq desc
          limit ${limit}
        ) w)`;
}

// `insert … select` statements below select their values by column name (a query-builder
// select, not raw text): Drizzle checks the keys against the table's columns, names and
// order, when the statement is built, so a column added to `messages` fails every turn
// loudly instead of silently shifting values.

// ---- step A in one statement: an existing conversation, a new message ----

export type StartInOneStatement =
  | { kind: "started"; message: Message; windowBefore: Message[] }
  /** The lease was not taken: the conversation is missing, not the user's, or busy. */
  | { kind: "not_leased" }
  /** The client_message_id is already stored (its unique index refused the insert). */
  | { kind: "duplicate" };

/**
 * Step A for an existing conversation in ONE statement (no BEGIN/COMMIT round trips): the
 * lease update (lease + next seq) as a CTE, and the user message inserted with that seq.
 * One statement is atomic: when the lease is not taken nothing is written, and a
 * client_message_id already stored makes the insert fail on its unique index, which undoes
 * the lease too.
 *
 * The same statement also returns the model's window before the new message (the newest
 * `windowBefore` messages, oldest first), read in its RETURNING clause: one round trip
 * fewer before the model is called. Seqs are gap-free, so that read names its seq range
 * (`last - windowBefore ≤ seq < last`): it touches at most the window's rows whatever plan
 * the planner picks, even on tables never analyzed. It sees the statement's snapshot,
 * which can miss a reply committed while this statement waited for the conversation's row
 * lock; the caller checks that the window is whole and reads it again otherwise.
 */
export async function startInOneStatement(
  db: Db,
  input: LeaseInput & {
    /** The new message's id, chosen by the caller (a speculative model request names it). */
    messageId: string;
    content: string;
    clientMessageId: string | null;
    windowBefore: number;
  },
): Promise<StartInOneStatement> {
  try {
    const rows = await leaseAndInsertQuery(db).execute({
      messageId: input.messageId,
      userId: input.userId,
      conversationId: input.conversationId,
      turnId: input.turnId,
      leaseInterval: interval(input.leaseMs),
      content: input.content,
      clientMessageId: input.clientMessageId,
      windowBefore: input.windowBefore,
    });
    const row = rows[0];
    if (!row) return { kind: "not_leased" };
    const { window_before, ...message } = row;
    return {
      kind: "started",
      message: toMessage(message),
      windowBefore: window_before.map(toMessage),
    };
  } catch (error) {
    if (isUniqueViolation(error, "messages_user_client_message_uq")) return { kind: "duplicate" };
    throw error;
  }
}

const leaseAndInsertQuery = prepared((db) => {
  const lease = db.$with("lease").as(
    leaseStatement(db, {
      userId: p("userId"),
      conversationId: p("conversationId"),
      turnId: p("turnId"),
      leaseInterval: p("leaseInterval"),
      seqs: 1,
    }),
  );
  return db
    .with(lease)
    .insert(messages)
    .select(
      db
        .select({
          id: sql<string>`${p("messageId")}::uuid`.as("id"),
          conversationId: sql<string>`${p("conversationId")}::uuid`.as("conversation_id"),
          userId: sql<string>`${p("userId")}`.as("user_id"),
          seq: lease.lastSeq,
          role: sql<"user">`'user'`.as("role"),
          content: sql<string>`${p("content")}`.as("content"),
          toolCalls: sql<null>`null::jsonb`.as("tool_calls"),
          replyTo: sql<null>`null::uuid`.as("reply_to"),
          status: sql<"complete">`'complete'`.as("status"),
          clientMessageId: sql<string | null>`${p("clientMessageId")}::uuid`.as(
            "client_message_id",
          ),
          usage: sql<null>`null::jsonb`.as("usage"),
          createdAt: sql<Date>`now()`.as("created_at"),
          errorCode: sql<null>`null::text`.as("error_code"),
          model: sql<null>`null::text`.as("model"),
          costMicros: sql<null>`null::bigint`.as("cost_micros"),
          context: sql<null>`null::jsonb`.as("context"),
          replacedBy: sql<null>`null::uuid`.as("replaced_by"),
        })
        .from(lease),
    )
    .returning({
      ...messageColumns,
      window_before: windowJson(
        sql`m.seq < (select last_seq from lease)
            and m.seq >= (select last_seq from lease) - ${p("windowBefore")}::int`,
        p("windowBefore"),
      ),
    });
});

// ---- before step A: what a speculative model request is built from (speculate.ts) ----

/** An existing conversation as the next turn would find it, read before step A. */
export interface TurnPreview {
  /** The conversation's model (null: the user's or the server's default). */
  model: string | null;
  lastSeq: number;
  /** Another turn holds the lease: step A would wait, so nothing is started early. */
  busy: boolean;
  /** The client_message_id is already stored: step A replays, so nothing is started early. */
  seenClientMessageId: boolean;
  /** The last `limit` messages (seq ≤ lastSeq), oldest first. */
  window: Message[];
}

/**
 * ONE read (no lock, no write) of the conversation row, its last `limit` messages and
 * whether the client_message_id is taken: undefined when the conversation is not the user's.
 */
export async function previewTurn(
  db: Db,
  input: { userId: string; conversationId: string; clientMessageId: string | null; limit: number },
): Promise<TurnPreview | undefined> {
  const [row] = await previewQuery(db).execute(input);
  return row ? toPreview(row) : undefined;
}

/**
 * The same read before the caller is known (chat.routes: it runs while the bearer token is
 * being checked): the conversation by its id alone, with its owner. The caller uses it only
 * when the owner is the authenticated user; nothing of it is ever shown otherwise.
 */
export async function previewTurnOfOwner(
  db: Db,
  input: { conversationId: string; clientMessageId: string | null; limit: number },
): Promise<(TurnPreview & { userId: string }) | undefined> {
  const [row] = await ownerPreviewQuery(db).execute(input);
  return row ? { ...toPreview(row), userId: row.user_id } : undefined;
}

function toPreview(row: {
  model: string | null;
  last_seq: number | string;
  busy: boolean;
  seen: boolean;
  window: MessageRow[];
}): TurnPreview {
  return {
    model: row.model,
    lastSeq: Number(row.last_seq),
    busy: row.busy,
    seenClientMessageId: row.seen,
    window: row.window.map(toMessage),
  };
}

/** Qualified: Drizzle leaves a one-table select's columns bare, and this is a subquery's. */
const CONVERSATION_LAST_SEQ = sql.raw(`"conversations"."last_seq"`);
const CONVERSATION_USER_ID = sql.raw(`"conversations"."user_id"`);

/** The preview's columns, the conversation's owner given as `userId` (a parameter or its column). */
function previewColumns(userId: SQL) {
  return {
    model: conversations.model,
    last_seq: conversations.lastSeq,
    busy: sql<boolean>`(${conversations.activeTurnId} is not null and ${conversations.activeTurnExpiresAt} >= now())`,
    seen: sql<boolean>`(${p("clientMessageId")}::uuid is not null and exists (
        select 1 from ${messages} c
        where c.user_id = ${userId} and c.client_message_id = ${p("clientMessageId")}::uuid))`,
    window: windowJson(
      sql`m.seq <= ${CONVERSATION_LAST_SEQ}
          and m.seq > ${CONVERSATION_LAST_SEQ} - ${p("limit")}::int`,
      p("limit"),
      userId,
    ),
  };
}

const previewQuery = prepared((db) =>
  db
    .select(previewColumns(sql`${p("userId")}`))
    .from(conversations)
    .where(
      and(
        eq(conversations.userId, p("userId")),
        eq(conversations.id, sql`${p("conversationId")}::uuid`),
      ),
    ),
);

const ownerPreviewQuery = prepared((db) =>
  db
    .select({ user_id: conversations.userId, ...previewColumns(CONVERSATION_USER_ID) })
    .from(conversations)
    .where(eq(conversations.id, sql`${p("conversationId")}::uuid`)),
);

/**
 * The bearer session lookup and the preview in ONE statement (chat.routes: a turn's token
 * check and first read): the session's row as findSessionByToken answers it, and the
 * preview of the conversation when it is that session's user's (joined by user_id, so the
 * conversation of anybody else is never read). undefined when the token is unknown.
 */
export async function findSessionWithPreview(
  db: Db,
  input: { token: string; conversationId: string; clientMessageId: string | null; limit: number },
): Promise<{ session: SessionRow; preview: TurnPreview | undefined } | undefined> {
  const [row] = await sessionPreviewQuery(db).execute(input);
  if (!row) return undefined;
  const { conversation_id, model, last_seq, busy, seen, window, ...session } = row;
  const preview =
    conversation_id === null || last_seq === null
      ? undefined
      : toPreview({ model, last_seq, busy, seen, window });
  return { session, preview };
}

const sessionPreviewQuery = prepared((db) =>
  selectSession(db, { conversation_id: conversations.id, ...previewColumns(CONVERSATION_USER_ID) })
    .leftJoin(
      conversations,
      and(
        eq(conversations.userId, user.id),
        eq(conversations.id, sql`${p("conversationId")}::uuid`),
      ),
    )
    .where(eq(session.token, p("token"))),
);

// ---- step A in a transaction: a new conversation, or a repeated client_message_id ----

/**
 * Serializes sends that carry the same client_message_id (a retry racing the original):
 * the second waits for the first's transaction, then finds its message.
 */
export async function lockClientMessageId(tx: Tx, userId: string, clientMessageId: string) {
  await tx.execute(
    sql`select pg_advisory_xact_lock(hashtextextended(${`${userId}:${clientMessageId}`}, 0))`,
  );
}

/** Takes the lease and reserves `seqs` seqs; undefined when missing, not the user's, or busy. */
export async function takeLease(
  tx: Tx,
  input: LeaseInput & { seqs: number },
): Promise<{ lastSeq: number } | undefined> {
  const [row] = await leaseStatement(tx, { ...input, leaseInterval: interval(input.leaseMs) });
  return row;
}

/** Creates a conversation already leased to `turnId`, with its first seq taken. */
export async function insertLeasedConversation(
  tx: Tx,
  input: Omit<LeaseInput, "conversationId"> & { id?: string; title: string; model: string },
): Promise<{ id: string } | undefined> {
  // The key is (id, user_id) (sharding by user): an id another user holds is refused here,
  // by id alone, so a chat id stays one conversation.
  if (input.id && (await conversationIdTaken(tx, input.id))) return undefined;
  const [row] = await tx
    .insert(conversations)
    .values({
      ...(input.id ? { id: input.id } : {}),
      userId: input.userId,
      title: input.title,
      model: input.model,
      lastSeq: 1,
      activeTurnId: input.turnId,
      activeTurnExpiresAt: sql`now() + ${interval(input.leaseMs)}::interval`,
    })
    .onConflictDoNothing({ target: [conversations.id, conversations.userId] })
    .returning({ id: conversations.id });
  return row;
}

async function conversationIdTaken(tx: Tx, id: string): Promise<boolean> {
  const [row] = await tx
    .select({ id: conversations.id })
    .from(conversations)
    .where(eq(conversations.id, id))
    .limit(1);
  return row !== undefined;
}

/**
 * Takes the conversation's row lock for the rest of the transaction; false when the
 * conversation is missing or not the user's.
 */
export async function lockConversation(tx: Tx, userId: string, id: string): Promise<boolean> {
  const [row] = await tx
    .select({ id: conversations.id })
    .from(conversations)
    .where(and(eq(conversations.userId, userId), eq(conversations.id, id)))
    .for("update");
  return row !== undefined;
}

export async function insertUserMessage(
  tx: Tx,
  input: {
    userId: string;
    conversationId: string;
    seq: number;
    content: string;
    clientMessageId: string | null;
  },
): Promise<Message> {
  const [row] = await tx
    .insert(messages)
    .values({ ...input, role: "user" })
    .returning(messageColumns);
  if (!row) throw new Error("insert into messages returned no row");
  return toMessage(row);
}

// ---- replay lookups ----

export async function findMessageByClientId(
  db: Executor,
  userId: string,
  clientMessageId: string,
): Promise<Message | undefined> {
  const [row] = await db
    .select(messageColumns)
    .from(messages)
    .where(and(eq(messages.userId, userId), eq(messages.clientMessageId, clientMessageId)));
  return row && toMessage(row);
}

export async function findReply(
  db: Executor,
  userId: string,
  messageId: string,
): Promise<Message | undefined> {
  const [row] = await db
    .select(messageColumns)
    .from(messages)
    .where(
      and(
        eq(messages.userId, userId),
        eq(messages.replyTo, messageId),
        isNotNull(messages.replyTo),
        isNull(messages.replacedBy),
      ),
    );
  return row && toMessage(row);
}

// ---- the window ----

/**
 * The newest `limit` messages up to and including `uptoSeq`, oldest first: the model's
 * window. Seqs are gap-free, so the range `uptoSeq - limit < seq ≤ uptoSeq` holds exactly
 * that window and bounds the read whatever plan is chosen (a table without statistics can
 * get a plan that sorts the whole conversation otherwise). A short answer (a gap, if one
 * ever appears) is read again without the range.
 */
export async function readWindow(
  db: Db,
  input: { userId: string; conversationId: string; uptoSeq: number; limit: number },
): Promise<Message[]> {
  let rows = await windowQuery(db).execute({
    ...input,
    fromSeq: input.uptoSeq - input.limit + 1,
  });
  if (rows.length < Math.min(input.limit, input.uptoSeq)) {
    rows = await windowQuery(db).execute({ ...input, fromSeq: 0 });
  }
  return rows.map(toMessage).reverse();
}

const windowQuery = prepared((db) =>
  db
    .select(messageColumns)
    .from(messages)
    .where(
      and(
        eq(messages.userId, p("userId")),
        eq(messages.conversationId, p("conversationId")),
        sql`${messages.seq} <= ${p("uptoSeq")}`,
        sql`${messages.seq} >= ${p("fromSeq")}`,
      ),
    )
    .orderBy(sql`${messages.seq} desc`)
    .limit(p("limit")),
);

// ---- step B ----

export type StoreReply =
  | { kind: "stored"; message: Message }
  /** Another run of this turn stored its reply first (unique reply_to). */
  | { kind: "already_replied" }
  /** The conversation was deleted while the model ran: nothing was written. */
  | { kind: "conversation_gone" };

/**
 * Step B in ONE statement: the next seq and the lease freed (if still ours) as a CTE, and
 * the assistant message inserted with that seq.
 */
export async function storeReply(
  db: Db,
  input: {
    userId: string;
    conversationId: string;
    turnId: string;
    content: string;
    toolCalls: StoredToolCall[];
    replyTo: string;
    status: Message["status"];
    usage: Record<string, number | undefined>;
    errorCode: string | null;
    model: string;
    costMicros: number | null;
    context: unknown;
  },
): Promise<StoreReply> {
  try {
    const rows = await storeReplyQuery(db).execute({
      ...input,
      id: replyIdFor(input.replyTo),
      toolCalls: JSON.stringify(input.toolCalls),
      usage: JSON.stringify(input.usage),
      context: JSON.stringify(input.context),
    });
    const row = rows[0];
    return row ? { kind: "stored", message: toMessage(row) } : { kind: "conversation_gone" };
  } catch (error) {
    if (isUniqueViolation(error, "messages_reply_to_uq")) return { kind: "already_replied" };
    throw error;
  }
}

const storeReplyQuery = prepared((db) => {
  const next = db.$with("next").as(
    db
      .update(conversations)
      .set({
        lastSeq: sql`${conversations.lastSeq} + 1`,
        activeTurnId: sql`case when ${conversations.activeTurnId} = ${p("turnId")} then null else ${conversations.activeTurnId} end`,
        activeTurnExpiresAt: sql`case when ${conversations.activeTurnId} = ${p("turnId")} then null else ${conversations.activeTurnExpiresAt} end`,
        updatedAt: sql`now()`,
      })
      .where(and(eq(conversations.userId, p("userId")), eq(conversations.id, p("conversationId"))))
      .returning({ lastSeq: conversations.lastSeq }),
  );
  return db
    .with(next)
    .insert(messages)
    .select(
      db
        .select({
          id: sql<string>`${p("id")}::uuid`.as("id"),
          conversationId: sql<string>`${p("conversationId")}::uuid`.as("conversation_id"),
          userId: sql<string>`${p("userId")}`.as("user_id"),
          seq: next.lastSeq,
          role: sql<"assistant">`'assistant'`.as("role"),
          content: sql<string>`${p("content")}`.as("content"),
          toolCalls: sql<StoredToolCall[]>`${p("toolCalls")}::jsonb`.as("tool_calls"),
          replyTo: sql<string>`${p("replyTo")}::uuid`.as("reply_to"),
          status: sql<Message["status"]>`${p("status")}`.as("status"),
          clientMessageId: sql<null>`null::uuid`.as("client_message_id"),
          usage: sql<Record<string, number>>`${p("usage")}::jsonb`.as("usage"),
          createdAt: sql<Date>`now()`.as("created_at"),
          errorCode: sql<string | null>`${p("errorCode")}::text`.as("error_code"),
          model: sql<string>`${p("model")}::text`.as("model"),
          costMicros: sql<number | null>`${p("costMicros")}::bigint`.as("cost_micros"),
          context: sql<unknown>`${p("context")}::jsonb`.as("context"),
          replacedBy: sql<null>`null::uuid`.as("replaced_by"),
        })
        .from(next),
    )
    .returning(messageColumns);
});
