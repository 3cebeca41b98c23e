import { and, asc, desc, eq, gt, isNotNull, lt, or, type Placeholder, sql } from "drizzle-orm";
import type { Db, Executor, Tx } from "../db/client.ts";
import { prepared } from "../db/prepared.ts";
import { conversations, messages, type StoredToolCall } from "../db/schema.ts";
import type { Conversation, Message, MessageRole, MessageStatus } from "./conversation.ts";

const conversationColumns = {
  id: conversations.id,
  userId: conversations.userId,
  title: conversations.title,
  lastSeq: conversations.lastSeq,
  createdAt: conversations.createdAt,
  updatedAt: conversations.updatedAt,
};

export async function findConversation(
  db: Executor,
  userId: string,
  id: string,
): Promise<Conversation | undefined> {
  const [row] = await db
    .select(conversationColumns)
    .from(conversations)
    .where(and(eq(conversations.userId, userId), eq(conversations.id, id)));
  return row;
}

/**
 * updated_at to the microsecond, as the page cursor needs it: a JS Date keeps milliseconds
 * only, and a cursor cut to the millisecond skips rows updated within that millisecond.
 */
const cursorAt = sql<string>`to_char(${conversations.updatedAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** Newest activity first; the cursor is the (updated_at, id) of the last item seen. */
export async function listConversations(
  db: Executor,
  userId: string,
  limit: number,
  after?: { updatedAt: string; id: string },
): Promise<(Conversation & { cursorAt: string })[]> {
  const at = after ? sql`${after.updatedAt}::timestamptz` : undefined;
  const page = after
    ? or(
        sql`${conversations.updatedAt} < ${at}`,
        and(sql`${conversations.updatedAt} = ${at}`, lt(conversations.id, after.id)),
      )
    : undefined;
  return db
    .select({ ...conversationColumns, cursorAt })
    .from(conversations)
    .where(and(eq(conversations.userId, userId), page))
    .orderBy(desc(conversations.updatedAt), desc(conversations.id))
    .limit(limit);
}

export async function updateConversationTitle(
  db: Executor,
  userId: string,
  id: string,
  title: string,
): Promise<Conversation | undefined> {
  const [row] = await db
    .update(conversations)
    .set({ title, updatedAt: sql`now()` })
    .where(and(eq(conversations.userId, userId), eq(conversations.id, id)))
    .returning(conversationColumns);
  return row;
}

export async function deleteConversation(
  db: Executor,
  userId: string,
  id: string,
): Promise<boolean> {
  const rows = await db
    .delete(conversations)
    .where(and(eq(conversations.userId, userId), eq(conversations.id, id)))
    .returning({ id: conversations.id });
  return rows.length > 0;
}

/** Creates a conversation that is already leased to `turnId`, with `seqs` sequence numbers taken. */
export async function insertConversationForTurn(
  tx: Tx,
  input: {
    userId: string;
    title: string;
    model: string;
    turnId: string;
    leaseMs: number;
    seqs: number;
  },
): Promise<Conversation> {
  const [row] = await tx
    .insert(conversations)
    .values({
      userId: input.userId,
      title: input.title,
      model: input.model,
      lastSeq: input.seqs,
      activeTurnId: input.turnId,
      activeTurnExpiresAt: sql`now() + ${`${input.leaseMs} milliseconds`}::interval`,
    })
    .returning(conversationColumns);
  if (!row) throw new Error("insert returned no row");
  return row;
}

/**
 * Takes the conversation's turn lease (if free or expired) and reserves `seqs` sequence
 * numbers in one statement; the row lock makes seq allocation gap-free and unique.
 * Returns undefined when the conversation is missing, not the user's, or busy.
 */
export async function leaseTurn(
  tx: Tx,
  input: { userId: string; conversationId: string; turnId: string; leaseMs: number; seqs: number },
): Promise<{ lastSeq: number } | undefined> {
  const [row] = await leaseStatement(tx, { ...input, leaseInterval: interval(input.leaseMs) });
  return row;
}

type Value<T> = T | Placeholder;

function leaseStatement(
  db: Executor,
  input: {
    userId: Value<string>;
    conversationId: Value<string>;
    turnId: Value<string>;
    /** `${ms} milliseconds` */
    leaseInterval: Value<string>;
    seqs: Value<number>;
  },
) {
  return db
    .update(conversations)
    .set({
      lastSeq: sql`${conversations.lastSeq} + ${input.seqs}`,
      activeTurnId: sql`${input.turnId}`,
      activeTurnExpiresAt: sql`now() + ${input.leaseInterval}::interval`,
      updatedAt: sql`now()`,
    })
    .where(
      and(
        eq(conversations.userId, input.userId),
        eq(conversations.id, input.conversationId),
        or(
          sql`${conversations.activeTurnId} is null`,
          lt(conversations.activeTurnExpiresAt, sql`now()`),
        ),
      ),
    )
    .returning({ lastSeq: conversations.lastSeq });
}

const interval = (ms: number) => `${ms} milliseconds`;
const p = (name: string) => sql.placeholder(name);

/**
 * Step A for an existing conversation in ONE statement (no BEGIN/COMMIT round trips):
 * leaseTurn's update (lease + next seq) as a CTE, and the user message inserted with that
 * seq. One statement is atomic; when the lease is not taken (missing, not the user's, or
 * busy) nothing is written and undefined is returned. A client_message_id already stored
 * makes the insert fail on its unique index, which undoes the lease too.
 *
 * The same statement also returns the model's window before the new message (the newest
 * `windowBefore` messages, oldest first), read in its RETURNING clause: one round trip
 * fewer before the model is called. Seqs are gap-free, so that read names its seq range
 * (`last - windowBefore ≤ seq < last`): it touches at most the window's rows whatever plan
 * the planner picks, even on tables never analyzed. It sees the statement's snapshot,
 * which can miss a reply committed while this statement waited for the conversation's row
 * lock; the caller checks that the window is whole and reads it again otherwise
 * (see turn.service.ts).
 * (`insert … select` lists every column of `messages` in schema order.)
 */
export async function leaseAndInsertUserMessage(
  db: Db,
  input: {
    userId: string;
    conversationId: string;
    turnId: string;
    leaseMs: number;
    content: string;
    clientMessageId: string | null;
    windowBefore: number;
  },
): Promise<{ message: Message; windowBefore: Message[] } | undefined> {
  const rows = await leaseAndInsertQuery(db).execute({
    userId: input.userId,
    conversationId: input.conversationId,
    turnId: input.turnId,
    leaseInterval: interval(input.leaseMs),
    content: input.content,
    clientMessageId: input.clientMessageId,
    windowBefore: input.windowBefore,
  });
  const row = rows[0];
  if (!row) return undefined;
  const { windowBefore, ...message } = row;
  return { message: message as Message, windowBefore: windowBefore.map(messageFromJson) };
}

/** A message row as json_agg renders it (snake_case keys, timestamps as text). */
interface MessageJson {
  id: string;
  conversation_id: string;
  seq: number;
  role: MessageRole;
  content: string;
  tool_calls: StoredToolCall[] | null;
  reply_to: string | null;
  status: MessageStatus;
  client_message_id: string | null;
  usage: Record<string, number | undefined> | null;
  created_at: string;
}

function messageFromJson(m: MessageJson): Message {
  return {
    id: m.id,
    conversationId: m.conversation_id,
    seq: m.seq,
    role: m.role,
    content: m.content,
    toolCalls: m.tool_calls,
    replyTo: m.reply_to,
    status: m.status,
    clientMessageId: m.client_message_id,
    usage: m.usage,
    createdAt: new Date(m.created_at),
  };
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
      sql`select gen_random_uuid(), ${p("conversationId")}::uuid, ${p("userId")}, lease.last_seq, 'user', ${p("content")}, null::jsonb, null::uuid, 'complete', ${p("clientMessageId")}::uuid, null::jsonb, now() from lease`,
    )
    .returning({
      ...messageColumns,
      windowBefore: sql<MessageJson[]>`(
        select coalesce(json_agg(w order by w.seq), '[]'::json) from (
          select m.id, m.conversation_id, m.seq, m.role, m.content, m.tool_calls, m.reply_to,
                 m.status, m.client_message_id, m.usage, m.created_at
          from ${messages} m
          where m.user_id = ${p("userId")} and m.conversation_id = ${p("conversationId")}::uuid
            and m.seq < (select last_seq from lease)
            and m.seq >= (select last_seq from lease) - ${p("windowBefore")}::int
          order by m.seq desc
          limit ${p("windowBefore")}
        ) w)`,
    });
});

/** Reserves the next seq and frees the lease held by `turnId` (if still held by it). */
function finishStatement(db: Executor) {
  return db
    .update(conversations)
    .set({
      lastSeq: sql`${conversations.lastSeq} + 1`,
      activeTurnId: sql`case when ${conversations.activeTurnId} = ${p("turnId")} then null else ${conversations.activeTurnId} end`,
      activeTurnExpiresAt: sql`case when ${conversations.activeTurnId} = ${p("turnId")} then null else ${conversations.activeTurnExpiresAt} end`,
      updatedAt: sql`now()`,
    })
    .where(and(eq(conversations.userId, p("userId")), eq(conversations.id, p("conversationId"))))
    .returning({ lastSeq: conversations.lastSeq });
}

/**
 * Step B in ONE statement: finishStatement (next seq, lease freed if still ours) as a
 * CTE, and the assistant message inserted with that seq. Undefined when the conversation
 * is gone (deleted meanwhile): nothing is written.
 */
export async function finishTurnWithReply(
  db: Db,
  input: {
    userId: string;
    conversationId: string;
    turnId: string;
    content: string;
    toolCalls: StoredToolCall[];
    replyTo: string;
    status: MessageStatus;
    usage: Record<string, number | undefined>;
  },
): Promise<Message | undefined> {
  const rows = await finishWithReplyQuery(db).execute({
    userId: input.userId,
    conversationId: input.conversationId,
    turnId: input.turnId,
    content: input.content,
    toolCalls: JSON.stringify(input.toolCalls),
    replyTo: input.replyTo,
    status: input.status,
    usage: JSON.stringify(input.usage),
  });
  return rows[0] as Message | undefined;
}

const finishWithReplyQuery = prepared((db) => {
  const next = db.$with("next").as(finishStatement(db));
  return db
    .with(next)
    .insert(messages)
    .select(
      sql`select gen_random_uuid(), ${p("conversationId")}::uuid, ${p("userId")}, next.last_seq, 'assistant', ${p("content")}, ${p("toolCalls")}::jsonb, ${p("replyTo")}::uuid, ${p("status")}, null::uuid, ${p("usage")}::jsonb, now() from next`,
    )
    .returning(messageColumns);
});

/** Extends the lease held by `turnId` (a heartbeat while the model runs). */
export async function renewTurn(
  db: Executor,
  userId: string,
  conversationId: string,
  turnId: string,
  leaseMs: number,
): Promise<void> {
  await db
    .update(conversations)
    .set({ activeTurnExpiresAt: sql`now() + ${`${leaseMs} milliseconds`}::interval` })
    .where(
      and(
        eq(conversations.userId, userId),
        eq(conversations.id, conversationId),
        eq(conversations.activeTurnId, turnId),
      ),
    );
}

/** Frees the lease without writing a message (the model failed before producing anything). */
export async function releaseTurn(
  db: Executor,
  userId: string,
  conversationId: string,
  turnId: string,
): Promise<void> {
  await db
    .update(conversations)
    .set({ activeTurnId: null, activeTurnExpiresAt: null })
    .where(
      and(
        eq(conversations.userId, userId),
        eq(conversations.id, conversationId),
        eq(conversations.activeTurnId, turnId),
      ),
    );
}

// ---- messages ----

const messageColumns = {
  id: messages.id,
  conversationId: messages.conversationId,
  seq: messages.seq,
  role: messages.role,
  content: messages.content,
  toolCalls: messages.toolCalls,
  replyTo: messages.replyTo,
  status: messages.status,
  clientMessageId: messages.clientMessageId,
  usage: messages.usage,
  createdAt: messages.createdAt,
};

export interface NewMessage {
  conversationId: string;
  userId: string;
  seq: number;
  role: MessageRole;
  content: string;
  toolCalls?: StoredToolCall[] | null;
  replyTo?: string | null;
  status?: MessageStatus;
  clientMessageId?: string | null;
  usage?: Record<string, number | undefined> | null;
}

export async function insertMessage(tx: Tx, message: NewMessage): Promise<Message> {
  const [row] = await tx.insert(messages).values(message).returning(messageColumns);
  if (!row) throw new Error("insert returned no row");
  return row as Message;
}

export async function findMessageByClientId(
  db: Executor,
  userId: string,
  clientMessageId: string,
): Promise<Message | undefined> {
  const [row] = await db
    .select(messageColumns)
    .from(messages)
    .where(and(eq(messages.userId, userId), eq(messages.clientMessageId, clientMessageId)));
  return row as Message | undefined;
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
      ),
    );
  return row as Message | undefined;
}

/** A page of messages in seq order: after `afterSeq` (forwards) or before `beforeSeq` (backwards). */
export async function listMessages(
  db: Executor,
  userId: string,
  conversationId: string,
  page: { limit: number; afterSeq?: number; beforeSeq?: number },
): Promise<Message[]> {
  const scope = and(eq(messages.userId, userId), eq(messages.conversationId, conversationId));
  if (page.beforeSeq !== undefined) {
    const rows = await db
      .select(messageColumns)
      .from(messages)
      .where(and(scope, lt(messages.seq, page.beforeSeq)))
      .orderBy(desc(messages.seq))
      .limit(page.limit);
    return (rows as Message[]).reverse();
  }
  const rows = await db
    .select(messageColumns)
    .from(messages)
    .where(and(scope, gt(messages.seq, page.afterSeq ?? 0)))
    .orderBy(asc(messages.seq))
    .limit(page.limit);
  return rows as Message[];
}

/**
 * The newest `limit` messages up to and including `uptoSeq`, oldest first: the model's
 * window. Seqs are gap-free, so the range `uptoSeq - limit < seq ≤ uptoSeq` holds exactly
 * that window and bounds the read whatever plan is chosen (a table without statistics can
 * get a plan that sorts the whole conversation otherwise). A short answer (a gap, if one
 * ever appears) is read again without the range.
 */
export async function historyWindow(
  db: Db,
  userId: string,
  conversationId: string,
  uptoSeq: number,
  limit: number,
): Promise<Message[]> {
  const params = { userId, conversationId, uptoSeq, limit };
  let rows = (await historyWindowQuery(db).execute({
    ...params,
    fromSeq: uptoSeq - limit + 1,
  })) as Message[];
  if (rows.length < Math.min(limit, uptoSeq)) {
    rows = (await historyWindowQuery(db).execute({ ...params, fromSeq: 0 })) as Message[];
  }
  return rows.reverse();
}

const historyWindowQuery = prepared((db) =>
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
    .orderBy(desc(messages.seq))
    .limit(p("limit")),
);
