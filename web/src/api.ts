/** The Tasktalk HTTP API, as the page uses it: same-origin, the session cookie does the rest. */

import type { Notification } from "./reminders.ts";

export interface Problem {
  status: number;
  code: string;
  title: string;
  detail: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail: string;
  constructor(problem: Problem) {
    super(problem.detail || problem.title);
    this.name = "ApiError";
    this.status = problem.status;
    this.code = problem.code;
    this.title = problem.title;
    this.detail = problem.detail;
  }
}

/** What a person should read for any error: a problem's `detail`, or a plain sentence. */
export function errorText(error: unknown): string {
  if (error instanceof ApiError) return error.detail || error.title;
  if (error instanceof TypeError)
    return "Can't reach the server. Check your connection and try again.";
  if (error instanceof Error && error.message) return error.message;
  return "Something went wrong.";
}

/** Reads a problem+json body (or anything else) into an ApiError. */
export async function problemOf(res: Response): Promise<ApiError> {
  let body: Partial<Problem> = {};
  try {
    body = (await res.json()) as Partial<Problem>;
  } catch {
    // not JSON: a proxy's page, say
  }
  return new ApiError({
    status: res.status,
    code: typeof body.code === "string" ? body.code : `http_${res.status}`,
    title: typeof body.title === "string" ? body.title : res.statusText || "Request failed",
    detail:
      typeof body.detail === "string" && body.detail
        ? body.detail
        : `The server answered ${res.status}${res.statusText ? ` ${res.statusText}` : ""}.`,
  });
}

type Listener = (error: ApiError) => void;
let onUnauthorized: Listener | undefined;
/** Called when any API call answers 401: the session ended. */
export function setUnauthorizedListener(listener: Listener | undefined): void {
  onUnauthorized = listener;
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: {
      accept: "application/json",
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) {
    const error = await problemOf(res);
    if (res.status === 401 && !path.startsWith("/api/auth/")) onUnauthorized?.(error);
    throw error;
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : null) as T;
}

// ---- Types of the API (snake_case, as on the wire) ----

export interface User {
  id: string;
  name: string;
  email: string;
}

export interface Conversation {
  id: string;
  title: string;
  /** The model its replies come from (null: from before models were chosen). */
  model: string | null;
  created_at: string;
  updated_at: string;
}

export interface ToolCall {
  name: string;
  arguments: unknown;
  result: unknown;
}

export interface Message {
  id: string;
  seq: number;
  role: "user" | "assistant" | "tool" | "system";
  content: string;
  tool_calls: ToolCall[];
  status: "complete" | "truncated" | "error";
  client_message_id: string | null;
  reply_to?: string | null;
  /** A reply replaced by Regenerate: the reply that replaced it. */
  replaced_by?: string | null;
  created_at: string;
  /** An assistant reply's tokens and cost (null for the user's messages). */
  usage: Usage | null;
}

export interface Usage {
  model: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  total_tokens: number | null;
  /** Millionths of the operator's currency; null when the model has no prices. */
  cost_micros: number | null;
}

export interface Model {
  id: string;
  label: string;
  provider: "offline" | "openai-compatible";
  prices: { input_micros: number; output_micros: number } | null;
}

export interface Totals {
  replies: number;
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  cost_micros: number | null;
}

export interface UsageReport {
  date: string;
  timezone: string;
  day: Totals;
  month: Totals;
}

/** What the model was given for a reply (GET …/messages/{id}/context): ids and sizes. */
export interface ContextManifest {
  model: string;
  settings: Record<string, number>;
  system_prompt: { version: string; chars: number; tokens_estimate: number };
  window: {
    seqs: [number, number][];
    messages: number;
    read: number;
    chars: number;
    tokens_estimate: number;
  };
  parts: {
    id: string;
    seq: number;
    role: string;
    chars: number;
    tokens_estimate: number;
    tool_calls: number;
  }[];
  parts_omitted: number;
  earlier_tool_calls: { count: number; chars: number; tokens_estimate: number };
  note: { chars: number; tokens_estimate: number } | null;
  tools: { count: number; names: string[]; description_chars: number };
  usage: { input_tokens: number | null; output_tokens: number | null; total_tokens: number | null };
  token_estimate: string;
}

export interface Regenerated {
  conversation_id: string;
  message_id: string | null;
  response: string;
  replaced_message_id: string;
  previous_effects: { kind: string; subject: string; summary: string }[];
}

export interface SearchHit {
  type: "message" | "task";
  id: string;
  created_at: string;
  snippet: string;
  conversation_id: string | null;
  conversation_title: string | null;
  seq: number | null;
  role: string | null;
  task_id: number | null;
  task_title: string | null;
  completed: boolean | null;
}

/** Search my messages and tasks (GET /api/search): newest first, a page at a time. */
export const search = (q: string, cursor?: string) =>
  api<Page<SearchHit>>(
    "GET",
    `/api/search?limit=20&q=${encodeURIComponent(q)}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
  );

export interface Due {
  /** The calendar day in the task's time zone. */
  date: string;
  /** "17:00", or null for all day. */
  time: string | null;
  timezone: string;
  /** The instant (null when all day). */
  at: string | null;
  /** The words it was understood from ("tomorrow at 5pm"), if any. */
  string: string | null;
  /** An RFC 5545 RRULE ("FREQ=WEEKLY;BYDAY=MO"); null = does not repeat. */
  recurrence: string | null;
  repeat_from: "due" | "completion" | null;
}

export type Priority = "none" | "low" | "medium" | "high";

export interface Task {
  id: number;
  title: string;
  description: string;
  completed: boolean;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
  due: Due | null;
  priority: Priority;
  list: string;
  labels: string[];
  parent_id: number | null;
  /** When it went to the trash; null = not in the trash. */
  deleted_at?: string | null;
}

/** One entry of the activity log (GET /api/activity). */
export interface Activity {
  id: string;
  kind: string;
  door: string;
  conversation_id: string | null;
  message_id: string | null;
  task_id: number | null;
  summary: string;
  undo_of: string | null;
  undone_by: string | null;
  undoable: boolean;
  created_at: string;
}

/** What PATCH /api/tasks/:id takes (any subset). */
export interface TaskPatch {
  title?: string;
  description?: string;
  completed?: boolean;
  due?: { date: string; time?: string | null } | null;
  /** Repeat words ("every monday") or an RRULE; null stops repeating (the date stays). */
  recurrence?: string | null;
  priority?: Priority;
  list?: string;
  labels?: string[];
  parent_id?: number | null;
}

export interface TaskList {
  name: string;
  task_count: number;
}

/** The signed-in user as GET /api/me answers: `timezone_set` false = never chosen (UTC). */
export interface Me extends User {
  timezone: string;
  timezone_set: boolean;
  role: "admin" | "user";
}

/** An account as the admin API shows it: the account and counts, never its content. */
export interface AdminUser {
  id: string;
  name: string;
  email: string;
  role: "admin" | "user";
  banned: boolean;
  ban_reason: string | null;
  ban_expires: string | null;
  created_at: string;
  usage: { tasks: number; conversations: number; turns_today: number };
}

export interface TaskQuery {
  q?: string;
  status?: "all" | "pending" | "completed" | "deleted";
  due?: "today" | "overdue" | "upcoming" | "none";
  list?: string;
  label?: string;
  priority?: Priority;
  sort?: "number" | "due" | "priority" | "created";
  limit?: number;
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | number | null;
}

/** The newest seq there can be: `before_seq` with it reads a conversation's last page. */
const LAST = "9007199254740991";

export const auth = {
  session: () => api<{ user: User } | null>("GET", "/api/auth/get-session"),
  signIn: (email: string, password: string) =>
    api<{ user: User }>("POST", "/api/auth/sign-in/email", { email, password }),
  signUp: (name: string, email: string, password: string) =>
    api<{ user: User }>("POST", "/api/auth/sign-up/email", { name, email, password }),
  signOut: () => api<unknown>("POST", "/api/auth/sign-out", {}),
};

export const conversations = {
  list: (cursor?: string) =>
    api<Page<Conversation>>(
      "GET",
      `/api/conversations?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
    ),
  get: (id: string) => api<Conversation>("GET", `/api/conversations/${id}`),
  rename: (id: string, title: string) =>
    api<Conversation>("PATCH", `/api/conversations/${id}`, { title }),
  setModel: (id: string, model: string) =>
    api<Conversation>("PATCH", `/api/conversations/${id}`, { model }),
  remove: (id: string) => api<void>("DELETE", `/api/conversations/${id}`),
  /**
   * The last page of messages, or the one before `beforeSeq` (or from `afterSeq` on); in seq
   * order, with the replies replaced by Regenerate (the page shows them as earlier versions).
   */
  messages: (id: string, beforeSeq?: number, afterSeq?: number) =>
    api<Page<Message>>(
      "GET",
      `/api/conversations/${id}/messages?limit=50&include=replaced&${
        afterSeq !== undefined ? `after_seq=${afterSeq}` : `before_seq=${beforeSeq ?? LAST}`
      }`,
    ),
  context: (id: string, messageId: string) =>
    api<{ message_id: string; seq: number; context: ContextManifest | null }>(
      "GET",
      `/api/conversations/${id}/messages/${messageId}/context`,
    ),
  regenerate: (id: string, messageId: string) =>
    api<Regenerated>("POST", `/api/conversations/${id}/regenerate`, { message_id: messageId }),
};

function queryString(query: TaskQuery): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== "") params.set(key, String(value));
  }
  return params.toString();
}

export const tasks = {
  /** One page of tasks; `next_cursor` set when there are more. */
  list: (query: TaskQuery = {}) =>
    api<Page<Task>>("GET", `/api/tasks?${queryString({ status: "all", ...query })}`),
  create: (input: TaskPatch & { title: string }) => api<Task>("POST", "/api/tasks", input),
  update: (id: number, patch: TaskPatch) => api<Task>("PATCH", `/api/tasks/${id}`, patch),
  remove: (id: number) => api<Task>("DELETE", `/api/tasks/${id}`),
  restore: (id: number) => api<Task>("POST", `/api/tasks/${id}/restore`),
};

export const activity = {
  /** The newest entries; `task` narrows them to one task. */
  list: (options: { task?: number; limit?: number } = {}) =>
    api<Page<Activity>>(
      "GET",
      `/api/activity?limit=${options.limit ?? 50}${options.task ? `&task=${options.task}` : ""}`,
    ),
  undo: (id: string) => api<Activity>("POST", `/api/activity/${id}/undo`),
};

export const lists = {
  list: () => api<{ items: TaskList[] }>("GET", "/api/lists"),
};

export const models = {
  list: () =>
    api<{ items: Model[]; default: string | null; my_default: string | null }>(
      "GET",
      "/api/models",
    ),
  usage: () => api<UsageReport>("GET", "/api/usage"),
};

export const me = {
  get: () => api<Me>("GET", "/api/me"),
  setTimezone: (timezone: string) => api<Me>("PATCH", "/api/me", { timezone }),
};

export const notifications = {
  list: () =>
    api<{ items: Notification[]; unread_count: number; next_cursor: string | null }>(
      "GET",
      "/api/notifications?limit=20",
    ),
  read: (id: string) => api<Notification>("POST", `/api/notifications/${id}/read`, {}),
  readAll: () => api<{ marked: number }>("POST", "/api/notifications/read-all", {}),
};

export const admin = {
  users: (cursor?: string) =>
    api<Page<AdminUser>>(
      "GET",
      `/api/admin/users?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
    ),
  ban: (id: string) => api<AdminUser>("POST", `/api/admin/users/${id}/ban`, {}),
  unban: (id: string) => api<AdminUser>("POST", `/api/admin/users/${id}/unban`),
  revokeSessions: (id: string) =>
    api<{ sessions_revoked: number }>("POST", `/api/admin/users/${id}/revoke-sessions`),
  setRole: (id: string, role: "admin" | "user") =>
    api<AdminUser>("PUT", `/api/admin/users/${id}/role`, { role }),
  remove: (id: string) => api<void>("DELETE", `/api/admin/users/${id}`),
};

/** A personal API key as listed (never its secret). */
export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  created_at: string;
  last_used_at: string | null;
}

/** A key just created: `key` is its secret, in this one answer only. */
export interface CreatedApiKey extends Omit<ApiKey, "last_used_at"> {
  key: string;
}

export const apiKeys = {
  list: () => api<{ items: ApiKey[] }>("GET", "/api/api-keys"),
  create: (name: string) => api<CreatedApiKey>("POST", "/api/api-keys", { name }),
  revoke: (id: string) => api<void>("DELETE", `/api/api-keys/${id}`),
};

/** A v4 uuid, also on plain-http origins where `crypto.randomUUID` is missing. */
export function uuid(): string {
  if (typeof crypto.randomUUID === "function" && window.isSecureContext) {
    return crypto.randomUUID();
  }
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
