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
  /** The model this user's new conversations get (PATCH /api/me); null = the server's. */
  defaultModel: text("default_model"),
  /** Better Auth's admin plugin: "admin" or "user" (the first account is admin). */
  role: text("role").notNull().default("user"),
  /** Disabled by an admin: no sign-in, no session, no API key works until re-enabled. */
  banned: boolean("banned").notNull().default(false),
  banReason: text("ban_reason"),
  /** When the ban lifts by itself; null = until an admin re-enables the account. */
  banExpires: timestamp("ban_expires", { withTimezone: true }),
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
    /** The admin plugin's impersonation marker; impersonation itself is not offered. */
    impersonatedBy: text("impersonated_by"),
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

// ---- Better Auth's OAuth provider (@better-auth/oauth-provider): the MCP authorization flow.
// Field names are the plugin's; columns are ours. Tokens and client secrets are stored hashed.

const tz = (name: string) => timestamp(name, { withTimezone: true });

/** OAuth clients: registered dynamically (RFC 7591) by MCP clients such as claude.ai. */
export const oauthClient = pgTable(
  "oauth_client",
  {
    id: text("id").primaryKey(),
    clientId: text("client_id").notNull().unique(),
    clientSecret: text("client_secret"),
    clientDiscoveryId: text("client_discovery_id"),
    disabled: boolean("disabled").default(false),
    skipConsent: boolean("skip_consent"),
    enableEndSession: boolean("enable_end_session"),
    subjectType: text("subject_type"),
    scopes: text("scopes").array(),
    clientCredentialsScopes: text("client_credentials_scopes").array(),
    userId: text("user_id").references(() => user.id, { onDelete: "cascade" }),
    createdAt: tz("created_at"),
    updatedAt: tz("updated_at"),
    name: text("name"),
    uri: text("uri"),
    icon: text("icon"),
    contacts: text("contacts").array(),
    tos: text("tos"),
    policy: text("policy"),
    softwareId: text("software_id"),
    softwareVersion: text("software_version"),
    softwareStatement: text("software_statement"),
    redirectUris: text("redirect_uris").array().notNull(),
    postLogoutRedirectUris: text("post_logout_redirect_uris").array(),
    backchannelLogoutUri: text("backchannel_logout_uri"),
    backchannelLogoutSessionRequired: boolean("backchannel_logout_session_required"),
    tokenEndpointAuthMethod: text("token_endpoint_auth_method"),
    applicationType: text("application_type"),
    jwks: text("jwks"),
    jwksUri: text("jwks_uri"),
    grantTypes: text("grant_types").array(),
    responseTypes: text("response_types").array(),
    requirePKCE: boolean("require_pkce"),
    dpopBoundAccessTokens: boolean("dpop_bound_access_tokens").default(false),
    referenceId: text("reference_id"),
    metadata: jsonb("metadata"),
  },
  (t) => [index("oauth_client_user_id_idx").on(t.userId)],
);

/** Protected resources tokens are issued for: the MCP endpoint (seeded at start). */
export const oauthResource = pgTable("oauth_resource", {
  id: text("id").primaryKey(),
  identifier: text("identifier").notNull().unique(),
  name: text("name").notNull(),
  accessTokenTtl: integer("access_token_ttl"),
  refreshTokenTtl: integer("refresh_token_ttl"),
  signingAlgorithm: text("signing_algorithm"),
  signingKeyId: text("signing_key_id"),
  allowedScopes: text("allowed_scopes").array(),
  customClaims: jsonb("custom_claims"),
  dpopBoundAccessTokensRequired: boolean("dpop_bound_access_tokens_required").default(false),
  disabled: boolean("disabled").default(false),
  createdAt: tz("created_at"),
  updatedAt: tz("updated_at"),
  policyVersion: integer("policy_version").default(1),
  metadata: jsonb("metadata"),
});

export const oauthClientResource = pgTable(
  "oauth_client_resource",
  {
    id: text("id").primaryKey(),
    clientId: text("client_id")
      .notNull()
      .references(() => oauthClient.clientId, { onDelete: "cascade" }),
    resourceId: text("resource_id")
      .notNull()
      .references(() => oauthResource.identifier, { onDelete: "cascade" }),
    metadata: jsonb("metadata"),
    createdAt: tz("created_at"),
  },
  (t) => [
    uniqueIndex("oauth_client_resource_uq").on(t.clientId, t.resourceId),
    index("oauth_client_resource_resource_idx").on(t.resourceId),
  ],
);

export const oauthRefreshToken = pgTable(
  "oauth_refresh_token",
  {
    id: text("id").primaryKey(),
    token: text("token").notNull().unique(),
    clientId: text("client_id")
      .notNull()
      .references(() => oauthClient.clientId, { onDelete: "cascade" }),
    sessionId: text("session_id").references(() => session.id, { onDelete: "set null" }),
    userId: text("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    referenceId: text("reference_id"),
    authorizationCodeId: text("authorization_code_id"),
    resources: text("resources").array(),
    requestedUserInfoClaims: text("requested_user_info_claims").array(),
    expiresAt: tz("expires_at"),
    createdAt: tz("created_at"),
    revoked: tz("revoked"),
    rotatedAt: tz("rotated_at"),
    rotationReplayResponse: text("rotation_replay_response"),
    rotationReplayExpiresAt: tz("rotation_replay_expires_at"),
    authTime: tz("auth_time"),
    confirmation: jsonb("confirmation"),
    scopes: text("scopes").array().notNull(),
  },
  (t) => [
    index("oauth_refresh_token_client_idx").on(t.clientId),
    index("oauth_refresh_token_session_idx").on(t.sessionId),
    index("oauth_refresh_token_user_idx").on(t.userId),
    index("oauth_refresh_token_code_idx").on(t.authorizationCodeId),
  ],
);

export const oauthAccessToken = pgTable(
  "oauth_access_token",
  {
    id: text("id").primaryKey(),
    token: text("token").unique(),
    clientId: text("client_id")
      .notNull()
      .references(() => oauthClient.clientId, { onDelete: "cascade" }),
    sessionId: text("session_id").references(() => session.id, { onDelete: "set null" }),
    userId: text("user_id").references(() => user.id, { onDelete: "cascade" }),
    referenceId: text("reference_id"),
    authorizationCodeId: text("authorization_code_id"),
    resources: text("resources").array(),
    requestedUserInfoClaims: text("requested_user_info_claims").array(),
    refreshId: text("refresh_id").references(() => oauthRefreshToken.id, { onDelete: "cascade" }),
    expiresAt: tz("expires_at"),
    createdAt: tz("created_at"),
    revoked: tz("revoked"),
    confirmation: jsonb("confirmation"),
    scopes: text("scopes").array().notNull(),
  },
  (t) => [
    index("oauth_access_token_client_idx").on(t.clientId),
    index("oauth_access_token_session_idx").on(t.sessionId),
    index("oauth_access_token_user_idx").on(t.userId),
    index("oauth_access_token_code_idx").on(t.authorizationCodeId),
    index("oauth_access_token_refresh_idx").on(t.refreshId),
  ],
);

/** What a user allowed a client (scopes, resources): asked once, remembered. */
export const oauthConsent = pgTable(
  "oauth_consent",
  {
    id: text("id").primaryKey(),
    clientId: text("client_id")
      .notNull()
      .references(() => oauthClient.clientId, { onDelete: "cascade" }),
    userId: text("user_id").references(() => user.id, { onDelete: "cascade" }),
    referenceId: text("reference_id"),
    resources: text("resources").array(),
    requestedUserInfoClaims: text("requested_user_info_claims").array(),
    scopes: text("scopes").array().notNull(),
    createdAt: tz("created_at"),
    updatedAt: tz("updated_at"),
  },
  (t) => [
    index("oauth_consent_client_idx").on(t.clientId),
    index("oauth_consent_user_idx").on(t.userId),
  ],
);

/** Replay guard for client assertions (private_key_jwt); unused by public MCP clients. */
export const oauthClientAssertion = pgTable("oauth_client_assertion", {
  id: text("id").primaryKey(),
  expiresAt: tz("expires_at").notNull(),
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
// Ready to shard by user (docs/architecture.md, "Sharding by user"): every primary key and
// unique index below includes user_id, and every foreign key between them is composite,
// (user_id, x) → (user_id, id), so rows that refer to each other live on one shard. Keys
// are (id, user_id): a lookup by id alone (a job holding an id) still uses the index.

export const conversations = pgTable(
  "conversations",
  {
    id: uuid("id").notNull().defaultRandom(),
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
  (t) => [
    primaryKey({ name: "conversations_pkey", columns: [t.id, t.userId] }),
    index("conversations_user_updated_idx").on(t.userId, t.updatedAt.desc(), t.id.desc()),
  ],
);

export const messages = pgTable(
  "messages",
  {
    id: uuid("id").notNull().defaultRandom(),
    conversationId: uuid("conversation_id").notNull(),
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
    /** For an assistant message: the model id that wrote it. */
    model: text("model"),
    /**
     * For an assistant message: its cost in micro-units of the operator's currency, from
     * the model's prices when it was written; null when the model has no prices.
     */
    costMicros: bigint("cost_micros", { mode: "number" }),
    /** For a reply: what the model was given (chat/manifest.ts): ids and sizes, never text. */
    context: jsonb("context").$type<Record<string, unknown>>(),
    /** For a regenerated reply: the reply that replaced it (kept, out of the window). */
    replacedBy: uuid("replaced_by"),
  },
  (t) => [
    primaryKey({ name: "messages_pkey", columns: [t.id, t.userId] }),
    foreignKey({
      name: "messages_conversation_fk",
      columns: [t.userId, t.conversationId],
      foreignColumns: [conversations.userId, conversations.id],
    }).onDelete("cascade"),
    uniqueIndex("messages_conversation_seq_uq").on(t.userId, t.conversationId, t.seq),
    // GET /api/usage: a user's replies over a day or a month.
    index("messages_user_usage_idx").on(t.userId, t.createdAt).where(sql`${t.role} = 'assistant'`),
    uniqueIndex("messages_user_client_message_uq").on(t.userId, t.clientMessageId),
    // One current reply per user message; replaced ones (regenerate) are kept beside it.
    uniqueIndex("messages_reply_to_uq").on(t.userId, t.replyTo).where(sql`${t.replacedBy} is null`),
    // Search across chats (chat/search): the same expression as the query's.
    index("messages_search_idx").using("gin", sql`to_tsvector('simple', ${t.content})`),
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
    messageId: uuid("message_id").notNull(),
    toolCallId: text("tool_call_id").notNull(),
    name: text("name").notNull(),
    arguments: jsonb("arguments").notNull(),
    result: jsonb("result").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.id] }),
    foreignKey({
      name: "turn_tool_calls_message_fk",
      columns: [t.userId, t.messageId],
      foreignColumns: [messages.userId, messages.id],
    }).onDelete("cascade"),
    index("turn_tool_calls_message_idx").on(t.userId, t.messageId),
  ],
);

/**
 * A bulk or risky action the assistant asked the user to confirm (issue 13): at most one per
 * conversation, made by the turn of user message `seq`, and carried out only by the very
 * next user turn of that conversation (seq + 2) through confirm_pending_action.
 */
export const pendingActions = pgTable(
  "pending_actions",
  {
    userId: text("user_id").notNull(),
    conversationId: uuid("conversation_id").notNull(),
    /** The user message whose turn asked. */
    messageId: uuid("message_id").notNull(),
    seq: bigint("seq", { mode: "number" }).notNull(),
    /** The tool calls held back: [{ name, input }]. */
    calls: jsonb("calls").notNull(),
    /** The question the user was asked. */
    question: text("question").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.conversationId] }),
    foreignKey({
      name: "pending_actions_conversation_fk",
      columns: [t.userId, t.conversationId],
      foreignColumns: [conversations.userId, conversations.id],
    }).onDelete("cascade"),
    foreignKey({
      name: "pending_actions_message_fk",
      columns: [t.userId, t.messageId],
      foreignColumns: [messages.userId, messages.id],
    }).onDelete("cascade"),
  ],
);

/** A user's named lists of tasks; a task without one is in "Inbox". */
export const lists = pgTable(
  "lists",
  {
    id: uuid("id").notNull().defaultRandom(),
    userId: text("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    /** The path segment a CalDAV client chose for it (MKCALENDAR); null = served by its id. */
    caldavName: text("caldav_name"),
  },
  // Names are unique per user ignoring case: "Shopping" and "shopping" are one list.
  (t) => [
    primaryKey({ name: "lists_pkey", columns: [t.id, t.userId] }),
    uniqueIndex("lists_user_name_uq").on(t.userId, sql`lower(${t.name})`),
    uniqueIndex("lists_user_caldav_name_uq").on(t.userId, t.caldavName),
  ],
);

export const tasks = pgTable(
  "tasks",
  {
    id: uuid("id").notNull().defaultRandom(),
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
    listId: uuid("list_id"),
    labels: text("labels").array().notNull().default(sql`'{}'::text[]`),
    /** The parent's per-user number (one level deep); deleting the parent deletes this task. */
    parentNumber: integer("parent_number"),
    ...timestamps,
    /** In the trash since then (null = live): invisible to every read but the trash's. */
    deletedAt: timestamp("deleted_at", { withTimezone: true }),
    /**
     * The user's change number at this task's last write, set by a trigger from
     * task_change_counters (hand-written SQL): what CalDAV sync tokens count (src/caldav/).
     */
    changeSeq: bigint("change_seq", { mode: "number" }).notNull().default(0),
  },
  (t) => [
    primaryKey({ name: "tasks_pkey", columns: [t.id, t.userId] }),
    uniqueIndex("tasks_user_number_uq").on(t.userId, t.number),
    // The migration narrows this to ON DELETE SET NULL (list_id) (PostgreSQL 15): user_id
    // is part of the key and NOT NULL, only the list is forgotten.
    foreignKey({
      name: "tasks_list_fk",
      columns: [t.userId, t.listId],
      foreignColumns: [lists.userId, lists.id],
    }).onDelete("set null"),
    check("tasks_priority_ck", sql`${t.priority} in ('none', 'low', 'medium', 'high')`),
    foreignKey({
      name: "tasks_parent_fk",
      columns: [t.userId, t.parentNumber],
      foreignColumns: [t.userId, t.number],
    }).onDelete("cascade"),
    index("tasks_user_parent_idx").on(t.userId, t.parentNumber),
    index("tasks_user_due_idx").on(t.userId, t.dueDate),
    index("tasks_user_change_idx").on(t.userId, t.changeSeq),
    // The trash purge (maintenance) finds old trashed tasks without reading live ones.
    index("tasks_deleted_at_idx").on(t.deletedAt).where(sql`${t.deletedAt} is not null`),
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
 * Each user's task change counter (bumped by the tasks trigger, in the writing transaction,
 * so numbers commit in order per user): `last_seq` is the newest change; `forgotten_seq` the
 * newest change of a task since purged for good — a CalDAV sync token older than it cannot
 * be answered (the client then resyncs in full).
 */
export const taskChangeCounters = pgTable("task_change_counters", {
  userId: text("user_id")
    .primaryKey()
    .references(() => user.id, { onDelete: "cascade" }),
  lastSeq: bigint("last_seq", { mode: "number" }).notNull().default(0),
  forgottenSeq: bigint("forgotten_seq", { mode: "number" }).notNull().default(0),
});

/**
 * What a CalDAV client gave a task (src/caldav/): its UID, its resource name, and the
 * VTODO properties and components Tasktalk does not map, as iCalendar text, given back
 * unchanged. A task without a row is served under `tasktalk-<number>.ics`.
 */
export const caldavObjects = pgTable(
  "caldav_objects",
  {
    taskId: uuid("task_id").notNull(),
    userId: text("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    uid: text("uid").notNull(),
    name: text("name").notNull(),
    extra: text("extra").notNull().default(""),
    /**
     * The body the client last PUT, served as is while the task's version is still
     * raw_version (so the ETag the PUT answered stays true); null when the stored task
     * differs from what was sent (e.g. a repeating task moved to its next date).
     */
    raw: text("raw"),
    rawVersion: integer("raw_version"),
  },
  (t) => [
    primaryKey({ name: "caldav_objects_pkey", columns: [t.taskId, t.userId] }),
    foreignKey({
      name: "caldav_objects_task_fk",
      columns: [t.userId, t.taskId],
      foreignColumns: [tasks.userId, tasks.id],
    }).onDelete("cascade"),
    uniqueIndex("caldav_objects_user_uid_uq").on(t.userId, t.uid),
    uniqueIndex("caldav_objects_user_name_uq").on(t.userId, t.name),
  ],
);

/** A user's secret calendar feed URL (/ical/<token>.ics): only the token's SHA-256 is kept. */
export const icalFeeds = pgTable("ical_feeds", {
  userId: text("user_id")
    .primaryKey()
    .references(() => user.id, { onDelete: "cascade" }),
  tokenHash: text("token_hash").notNull().unique(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
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
    /** What the key may do: `tasks:read`, `tasks:write` (existing keys: both). */
    scopes: text("scopes").array().notNull().default(sql`array['tasks:read','tasks:write']`),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
  },
  (t) => [
    uniqueIndex("api_keys_key_hash_uq").on(t.keyHash),
    index("api_keys_user_created_idx").on(t.userId, t.createdAt.desc()),
  ],
);

/**
 * Feature switches and quota overrides (src/admin/features.ts), per role and per user: a
 * user's own setting wins over their role's, which wins over the configuration. `features`
 * is validated JSON ({mcp?, api_keys?, models?, quotas?}); a missing key means "inherit".
 */
export const roleFeatures = pgTable("role_features", {
  role: text("role").primaryKey(),
  features: jsonb("features").$type<Record<string, unknown>>().notNull(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

export const userFeatures = pgTable("user_features", {
  userId: text("user_id")
    .primaryKey()
    .references(() => user.id, { onDelete: "cascade" }),
  features: jsonb("features").$type<Record<string, unknown>>().notNull(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

/**
 * Quota counters (rate-limiter-flexible's Drizzle store, src/quotas/): one row per user,
 * quota and window, shared by every instance. `expire` ends the window.
 */
export const quotaCounters = pgTable(
  "quota_counters",
  {
    key: text("key").primaryKey(),
    points: integer("points").notNull(),
    expire: timestamp("expire", { withTimezone: true }),
  },
  (t) => [index("quota_counters_expire_idx").on(t.expire)],
);

/**
 * What an import already brought in, per user: the key of each imported item (a TickTick
 * task id, a hash of a Todoist row, a Tasktalk export's task) and what it became, so the
 * same file imported twice creates nothing new.
 */
export const importKeys = pgTable(
  "import_keys",
  {
    userId: text("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    key: text("key").notNull(),
    /** The task it became (its per-user number), or null for a conversation. */
    taskNumber: integer("task_number"),
    conversationId: uuid("conversation_id"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.key] })],
);

/**
 * A large import run as a job (src/portability/import.jobs.ts): the file is kept here
 * first (durable: a job retried after a crash reads it again), then a pg-boss worker
 * imports it item by item, counting as it goes. `body` is emptied once the job is done.
 */
export const importJobs = pgTable(
  "import_jobs",
  {
    id: uuid("id").notNull(),
    userId: text("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    format: text("format").notNull(),
    list: text("list"),
    body: text("body").notNull(),
    /** queued | running | done | failed */
    state: text("state").notNull().default("queued"),
    total: integer("total").notNull(),
    processed: integer("processed").notNull().default(0),
    created: integer("created").notNull().default(0),
    skipped: integer("skipped").notNull().default(0),
    /** The import report (failed items, warnings, counts) once done; the reason if failed. */
    report: jsonb("report"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: "import_jobs_pkey", columns: [t.id, t.userId] }),
    index("import_jobs_user_idx").on(t.userId, t.createdAt),
  ],
);

/**
 * The activity log: every change, written in the SAME transaction as the change by
 * src/activity/activity.repository.ts `recordActivity` (the one choke point). Rows are
 * never updated: an undo is a new row whose `undo_of` names the entry it reverts (unique,
 * so an entry is undone at most once).
 */
export const activity = pgTable(
  "activity",
  {
    id: uuid("id").notNull().defaultRandom(),
    userId: text("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    /** chat | mcp | rest | web | caldav | system */
    door: text("door").notNull(),
    requestId: text("request_id").notNull(),
    /** For a change made by a chat turn: its conversation and user message. */
    conversationId: uuid("conversation_id"),
    messageId: uuid("message_id"),
    /** task.created, task.updated, … (src/activity/activity.ts). */
    kind: text("kind").notNull(),
    /** task | conversation | api_key | session */
    subjectType: text("subject_type").notNull(),
    /** The task's number, the conversation's or key's id… as text. */
    subject: text("subject").notNull(),
    summary: text("summary").notNull(),
    /** The changed fields before and after (task entries carry the task's version in both). */
    before: jsonb("before"),
    after: jsonb("after"),
    undoOf: uuid("undo_of"),
    // clock_timestamp(): entries of one transaction still come out in the order written.
    createdAt: timestamp("created_at", { withTimezone: true })
      .notNull()
      .default(sql`clock_timestamp()`),
  },
  (t) => [
    primaryKey({ name: "activity_pkey", columns: [t.id, t.userId] }),
    index("activity_user_created_idx").on(t.userId, t.createdAt.desc(), t.id.desc()),
    index("activity_user_subject_idx").on(t.userId, t.subjectType, t.subject, t.createdAt.desc()),
    index("activity_user_message_idx")
      .on(t.userId, t.messageId)
      .where(sql`${t.messageId} is not null`),
    index("activity_created_idx").on(t.createdAt),
    uniqueIndex("activity_undo_of_uq").on(t.userId, t.undoOf),
  ],
);

// ---- Reminders and their delivery (src/reminders/, src/webhooks/, src/notifications/) ----

/**
 * A reminder of a task: at a fixed instant (`at`) or `before_minutes` before the task's due
 * instant. `fire_at` is the instant it fires (null while a relative reminder's task has no
 * due time); `fired_at` is set by the one job run that fires it (the claim that makes it
 * fire once). A change of `fire_at` clears `fired_at`: a rescheduled task reminds again.
 */
export const taskReminders = pgTable(
  "task_reminders",
  {
    id: uuid("id").notNull().defaultRandom(),
    userId: text("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    taskId: uuid("task_id").notNull(),
    at: timestamp("at", { withTimezone: true }),
    beforeMinutes: integer("before_minutes"),
    /** Added by the user's default-reminder setting rather than asked for. */
    isDefault: boolean("is_default").notNull().default(false),
    fireAt: timestamp("fire_at", { withTimezone: true }),
    firedAt: timestamp("fired_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: "task_reminders_pkey", columns: [t.id, t.userId] }),
    foreignKey({
      name: "task_reminders_task_fk",
      columns: [t.userId, t.taskId],
      foreignColumns: [tasks.userId, tasks.id],
    }).onDelete("cascade"),
    index("task_reminders_task_idx").on(t.userId, t.taskId),
    index("task_reminders_due_idx").on(t.fireAt).where(sql`fired_at is null`),
    check("task_reminders_kind_ck", sql`(${t.at} is null) <> (${t.beforeMinutes} is null)`),
  ],
);

/** Per-user delivery settings; no row = the defaults. */
export const notificationSettings = pgTable("notification_settings", {
  userId: text("user_id")
    .primaryKey()
    .references(() => user.id, { onDelete: "cascade" }),
  /** A reminder at the due time for every timed task that is given none. */
  defaultReminder: boolean("default_reminder").notNull().default(true),
  web: boolean("web").notNull().default(true),
  webhook: boolean("webhook").notNull().default(true),
  email: boolean("email").notNull().default(false),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

/** The inbox: one row per fired reminder, written in the transaction that fires it. */
export const notifications = pgTable(
  "notifications",
  {
    id: uuid("id").notNull().defaultRandom(),
    userId: text("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    /** The reminder (null once its task is gone: the inbox keeps what was shown). */
    reminderId: uuid("reminder_id"),
    taskNumber: integer("task_number").notNull(),
    title: text("title").notNull(),
    dueAt: timestamp("due_at", { withTimezone: true }),
    /** The reminder's own time, shown even when it fired late (the server was down). */
    scheduledFor: timestamp("scheduled_for", { withTimezone: true }).notNull(),
    firedAt: timestamp("fired_at", { withTimezone: true }).notNull().defaultNow(),
    readAt: timestamp("read_at", { withTimezone: true }),
  },
  (t) => [
    primaryKey({ name: "notifications_pkey", columns: [t.id, t.userId] }),
    // Narrowed by the migration to ON DELETE SET NULL (reminder_id), as tasks_list_fk.
    foreignKey({
      name: "notifications_reminder_fk",
      columns: [t.userId, t.reminderId],
      foreignColumns: [taskReminders.userId, taskReminders.id],
    }).onDelete("set null"),
    index("notifications_user_idx").on(t.userId, t.firedAt.desc(), t.id.desc()),
    uniqueIndex("notifications_reminder_fire_uq").on(t.userId, t.reminderId, t.scheduledFor),
  ],
);

/** A user's webhook endpoint; `secret` is the Standard Webhooks key ("whsec_…"). */
export const webhooks = pgTable(
  "webhooks",
  {
    id: uuid("id").notNull().defaultRandom(),
    userId: text("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    url: text("url").notNull(),
    secret: text("secret").notNull(),
    /** Event types it receives; empty = all. */
    events: text("events").array().notNull().default(sql`'{}'::text[]`),
    active: boolean("active").notNull().default(true),
    ...timestamps,
  },
  (t) => [
    primaryKey({ name: "webhooks_pkey", columns: [t.id, t.userId] }),
    index("webhooks_user_idx").on(t.userId),
  ],
);

/**
 * The outbox and the delivery log in one: a row per (event, endpoint), written in the
 * transaction of the change; the delivery job updates its status and attempts.
 */
export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    /** Also the `webhook-id` header: the receiver's idempotency key across retries. */
    id: uuid("id").notNull().defaultRandom(),
    userId: text("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    webhookId: uuid("webhook_id").notNull(),
    eventType: text("event_type").notNull(),
    payload: jsonb("payload").notNull(),
    status: text("status", { enum: ["pending", "delivered", "failed"] })
      .notNull()
      .default("pending"),
    attempts: integer("attempts").notNull().default(0),
    lastStatusCode: integer("last_status_code"),
    lastError: text("last_error"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    lastAttemptAt: timestamp("last_attempt_at", { withTimezone: true }),
    deliveredAt: timestamp("delivered_at", { withTimezone: true }),
  },
  (t) => [
    primaryKey({ name: "webhook_deliveries_pkey", columns: [t.id, t.userId] }),
    foreignKey({
      name: "webhook_deliveries_webhook_fk",
      columns: [t.userId, t.webhookId],
      foreignColumns: [webhooks.userId, webhooks.id],
    }).onDelete("cascade"),
    index("webhook_deliveries_hook_idx").on(t.userId, t.webhookId, t.createdAt.desc()),
    index("webhook_deliveries_pending_idx").on(t.createdAt).where(sql`status = 'pending'`),
  ],
);
