import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  check,
  date,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import type { StoredToolCall } from "../conversations/conversation.ts";

const timestamps = {
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
};

// ---- Better Auth tables (field names are what Better Auth expects; columns are ours) ----

export const user = pgTable("user", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  email: text("email").notNull().unique(),
  emailVerified: boolean("email_verified").notNull().default(false),
  image: text("image"),
  /**
   * IANA time zone (a Better Auth additional field, `input: false`: only PATCH /api/me sets
   * it, validated). Null = not set yet; the effective zone is then UTC.
   */
  timezone: text("timezone"),
  ...timestamps,
});

export const session = pgTable(
  "session",
  {
    id: text("id").primaryKey(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    token: text("token").notNull().unique(),
    ipAddress: text("ip_address"),
    userAgent: text("user_agent"),
    userId: text("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    ...timestamps,
  },
  (t) => [index("session_user_id_idx").on(t.userId)],
);

export const account = pgTable(
  "account",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id").notNull(),
    providerId: text("provider_id").notNull(),
    userId: text("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    accessToken: text("access_token"),
    refreshToken: text("refresh_token"),
    idToken: text("id_token"),
    accessTokenExpiresAt: timestamp("access_token_expires_at", { withTimezone: true }),
    refreshTokenExpiresAt: timestamp("refresh_token_expires_at", { withTimezone: true }),
    scope: text("scope"),
    password: text("password"),
    ...timestamps,
  },
  (t) => [index("account_user_id_idx").on(t.userId)],
);

export const verification = pgTable(
  "verification",
  {
    id: text("id").primaryKey(),
    identifier: text("identifier").notNull(),
    value: text("value").notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    ...timestamps,
  },
  (t) => [index("verification_identifier_idx").on(t.identifier)],
);

/** Better Auth's rate-limit counters, kept in the database so every instance shares them. */
export const rateLimit = pgTable("rate_limit", {
  id: text("id").primaryKey(),
  key: text("key").notNull().unique(),
  count: integer("count").notNull(),
  lastRequest: bigint("last_request", { mode: "number" }).notNull(),
});

/**
 * Sign-in attempts per account (src/auth/sign-in-lockout.ts), in the database so every
 * instance shares them. `key` is a hash of the normalised e-mail: unknown e-mails are
 * counted too (the lockout must not tell which accounts exist), without storing them.
 */
export const signInFailures = pgTable(
  "sign_in_failures",
  {
    key: text("key").primaryKey(),
    failures: integer("failures").notNull(),
    lastAttemptAt: timestamp("last_attempt_at", { withTimezone: true }).notNull(),
  },
  (t) => [index("sign_in_failures_last_attempt_idx").on(t.lastAttemptAt)],
);

/**
 * Settings of the installation itself (not of a user: provably global), shared by every
 * instance: the generated auth secret when BETTER_AUTH_SECRET is not set on PostgreSQL.
 */
export const appSettings = pgTable("app_settings", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
});

// ---- Tasktalk tables: every one carries user_id, every query filters by it ----

export const conversations = pgTable(
  "conversations",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: text("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    title: text("title").notNull().default("New conversation"),
    model: text("model"),
    lastSeq: bigint("last_seq", { mode: "number" }).notNull().default(0),
    /** The turn now generating a reply, if any: a lease that expires, so a crash frees it. */
    activeTurnId: uuid("active_turn_id"),
    activeTurnExpiresAt: timestamp("active_turn_expires_at", { withTimezone: true }),
    ...timestamps,
  },
  (t) => [index("conversations_user_updated_idx").on(t.userId, t.updatedAt.desc(), t.id.desc())],
);

export const messages = pgTable(
  "messages",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    conversationId: uuid("conversation_id")
      .notNull()
      .references(() => conversations.id, { onDelete: "cascade" }),
    userId: text("user_id").notNull(),
    seq: bigint("seq", { mode: "number" }).notNull(),
    role: text("role", { enum: ["user", "assistant", "tool", "system"] }).notNull(),
    content: text("content").notNull(),
    toolCalls: jsonb("tool_calls").$type<StoredToolCall[]>(),
    /** For an assistant message: the user message it answers. */
    replyTo: uuid("reply_to"),
    /** complete | error | truncated: how the message ended. */
    status: text("status", { enum: ["complete", "error", "truncated"] })
      .notNull()
      .default("complete"),
    clientMessageId: uuid("client_message_id"),
    usage: jsonb("usage").$type<Record<string, number | undefined>>(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    /** For a reply with status `error`: the error code the turn answered with (a replay repeats it). */
    errorCode: text("error_code"),
  },
  (t) => [
    uniqueIndex("messages_conversation_seq_uq").on(t.conversationId, t.seq),
    uniqueIndex("messages_user_client_message_uq").on(t.userId, t.clientMessageId),
    uniqueIndex("messages_reply_to_uq").on(t.replyTo),
    check("messages_role_ck", sql`${t.role} in ('user', 'assistant', 'tool', 'system')`),
  ],
);

/**
 * The side effects of a chat turn, recorded in the SAME transaction as each effect: the
 * turn's idempotency record. A turn run again (the client's retry after a failed reply
 * store) replays these results instead of redoing the effects.
 */
export const turnToolCalls = pgTable(
  "turn_tool_calls",
  {
    id: uuid("id").notNull().defaultRandom(),
    userId: text("user_id").notNull(),
    /** The user message the turn answers. */
    messageId: uuid("message_id")
      .notNull()
      .references(() => messages.id, { onDelete: "cascade" }),
    toolCallId: text("tool_call_id").notNull(),
    name: text("name").notNull(),
    arguments: jsonb("arguments").notNull(),
    result: jsonb("result").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.id] }),
    index("turn_tool_calls_message_idx").on(t.userId, t.messageId),
  ],
);

/** A user's named lists of tasks; a task without one is in "Inbox". */
export const lists = pgTable(
  "lists",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: text("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  // Names are unique per user ignoring case: "Shopping" and "shopping" are one list.
  (t) => [uniqueIndex("lists_user_name_uq").on(t.userId, sql`lower(${t.name})`)],
);

export const tasks = pgTable(
  "tasks",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: text("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    number: integer("number").notNull(),
    title: text("title").notNull(),
    description: text("description").notNull().default(""),
    completed: boolean("completed").notNull().default(false),
    completedAt: timestamp("completed_at", { withTimezone: true }),
    /** Bumped by every change; PATCH with If-Match compares it (no silent lost update). */
    version: integer("version").notNull().default(1),
    /** The calendar day in `due_timezone`; null = no due date (all the due_* are then null). */
    dueDate: date("due_date", { mode: "string" }),
    /** "HH:MM" wall-clock time; null = all day. */
    dueTime: text("due_time"),
    dueTimezone: text("due_timezone"),
    /** The instant (null when all day): what "overdue" compares with now(). */
    dueAt: timestamp("due_at", { withTimezone: true }),
    /** The words it was given in ("tomorrow at 5pm"), if any. */
    dueString: text("due_string"),
    /**
     * A repeating task's pattern, `{rule, repeat_from, time}` (src/tasks/recurrence.ts):
     * the RRULE, where the next occurrence counts from, the series' time of day (null =
     * all day); null = does not repeat.
     */
    dueRecurrence: jsonb("due_recurrence"),
    /** How many occurrences of a repeating task were completed (COUNT counts these). */
    completedOccurrences: integer("completed_occurrences").notNull().default(0),
    /** When an occurrence (or the task) was last completed; kept when the task is reopened. */
    lastCompletedAt: timestamp("last_completed_at", { withTimezone: true }),
    priority: text("priority", { enum: ["none", "low", "medium", "high"] })
      .notNull()
      .default("none"),
    /** Null = "Inbox". */
    listId: uuid("list_id").references(() => lists.id, { onDelete: "set null" }),
    labels: text("labels").array().notNull().default(sql`'{}'::text[]`),
    /** The parent's per-user number (one level deep); deleting the parent deletes this task. */
    parentNumber: integer("parent_number"),
    ...timestamps,
  },
  (t) => [
    uniqueIndex("tasks_user_number_uq").on(t.userId, t.number),
    check("tasks_priority_ck", sql`${t.priority} in ('none', 'low', 'medium', 'high')`),
    foreignKey({
      name: "tasks_parent_fk",
      columns: [t.userId, t.parentNumber],
      foreignColumns: [t.userId, t.number],
    }).onDelete("cascade"),
    index("tasks_user_parent_idx").on(t.userId, t.parentNumber),
    index("tasks_user_due_idx").on(t.userId, t.dueDate),
    // The same expression as the `q` filter in task.repository.ts, so the planner can use it.
    index("tasks_search_idx").using(
      "gin",
      sql`to_tsvector('simple', ${t.title} || ' ' || ${t.description})`,
    ),
  ],
);

/** The last task number handed out per user: numbers are never reused, even after deletes. */
export const taskCounters = pgTable("task_counters", {
  userId: text("user_id")
    .primaryKey()
    .references(() => user.id, { onDelete: "cascade" }),
  lastNumber: integer("last_number").notNull().default(0),
});

/**
 * Personal API keys: a bearer credential for MCP clients and scripts. Only the SHA-256 of
 * the key is stored (the key is 32 random bytes, so a fast hash is enough); `prefix` is
 * its first characters, shown in lists so a person can tell keys apart.
 */
export const apiKeys = pgTable(
  "api_keys",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: text("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    prefix: text("prefix").notNull(),
    keyHash: text("key_hash").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
  },
  (t) => [
    uniqueIndex("api_keys_key_hash_uq").on(t.keyHash),
    index("api_keys_user_created_idx").on(t.userId, t.createdAt.desc()),
  ],
);
