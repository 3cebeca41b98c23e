/**
 * The closed list of error codes the API can answer with, and the one table that maps
 * each to an HTTP status. Every error that reaches a client passes through here.
 */
export const ERROR_CODES = {
  validation_failed: { status: 400, title: "The request is not valid" },
  invalid_json: { status: 400, title: "The body is not valid JSON" },
  invalid_id: { status: 400, title: "The id is not valid" },
  unknown_model: { status: 400, title: "No such model is configured" },
  unauthorized: { status: 401, title: "Sign in required" },
  forbidden: { status: 403, title: "Not allowed" },
  admin_required: { status: 403, title: "Only an administrator may do this" },
  account_disabled: { status: 403, title: "The account is disabled" },
  model_not_allowed: { status: 403, title: "Your account may not use this model" },
  feature_disabled: { status: 403, title: "This feature is not enabled for your account" },
  insufficient_scope: { status: 403, title: "The credential lacks the scope this needs" },
  not_found: { status: 404, title: "Not found" },
  method_not_allowed: { status: 405, title: "Method not allowed" },
  request_timeout: { status: 408, title: "The request took too long to arrive" },
  conflict: { status: 409, title: "Conflict with the current state" },
  turn_in_progress: { status: 409, title: "A reply is still being generated" },
  not_in_trash: { status: 409, title: "The task is not in the trash" },
  parent_in_trash: { status: 409, title: "The task's parent is in the trash" },
  undo_conflict: { status: 409, title: "Changed since: undoing would overwrite a later change" },
  already_undone: { status: 409, title: "This change was already undone" },
  not_undoable: { status: 409, title: "This kind of change cannot be undone" },
  nothing_to_undo: { status: 409, title: "There is nothing to undo" },
  nothing_pending: { status: 409, title: "No action is waiting for a confirmation" },
  precondition_failed: { status: 412, title: "The resource changed since you read it" },
  payload_too_large: { status: 413, title: "The body is too large" },
  unsupported_media_type: { status: 415, title: "Unsupported content type" },
  idempotency_mismatch: { status: 422, title: "Idempotency key reused with a different request" },
  invalid_recurrence: { status: 422, title: "The repeat pattern is not valid" },
  rate_limited: { status: 429, title: "Too many requests" },
  quota_exceeded: { status: 429, title: "Quota exceeded" },
  headers_too_large: { status: 431, title: "The request headers are too large" },
  internal_error: { status: 500, title: "Internal error" },
  model_error: { status: 502, title: "The language model failed" },
  database_unavailable: { status: 503, title: "The database is unavailable" },
  database_timeout: { status: 503, title: "The database took too long" },
  transaction_conflict: { status: 503, title: "Too much contention; try again" },
  shutting_down: { status: 503, title: "The server is shutting down" },
  model_timeout: { status: 504, title: "The language model took too long" },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Codes for which a client may simply try again later: answered with Retry-After. */
export const RETRYABLE_CODES: ReadonlySet<ErrorCode> = new Set([
  "database_unavailable",
  "database_timeout",
  "transaction_conflict",
  "shutting_down",
  "rate_limited",
  "quota_exceeded",
  "turn_in_progress",
]);

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail: string;
  /** Extra members for the problem body (e.g. the candidate ids of an ambiguous request). */
  readonly extra: Record<string, unknown> | undefined;
  /** Response headers that belong to this answer (a quota's Retry-After and RateLimit). */
  readonly headers: Readonly<Record<string, string>> | undefined;

  constructor(
    code: ErrorCode,
    detail?: string,
    options?: {
      cause?: unknown;
      extra?: Record<string, unknown>;
      headers?: Record<string, string>;
    },
  ) {
    const entry = ERROR_CODES[code];
    super(
      detail ?? entry.title,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = "AppError";
    this.code = code;
    this.status = entry.status;
    this.detail = detail ?? entry.title;
    this.extra = options?.extra;
    this.headers = options?.headers;
  }
}
