import { AppError, type ErrorCode } from "../errors.ts";

/** What kind of failure a database error is, which decides retry and HTTP status. */
export type DbErrorCategory =
  | "serialization" // 40001 / 40P01: the transaction was rolled back; retrying is safe
  | "connection" // the server is gone or unreachable; safe to retry only before COMMIT
  | "timeout" // statement or lock timeout
  | "constraint" // unique / foreign key: the request conflicts with stored data
  | "input" // the data cannot be represented (bad uuid text, too long, not null)
  | "unknown";

export interface DbErrorInfo {
  category: DbErrorCategory;
  code: ErrorCode;
  sqlstate: string | undefined;
}

const BY_SQLSTATE: Record<string, [DbErrorCategory, ErrorCode]> = {
  "40001": ["serialization", "transaction_conflict"],
  "40P01": ["serialization", "transaction_conflict"],
  "57014": ["timeout", "database_timeout"],
  "55P03": ["timeout", "database_timeout"],
  "57P01": ["connection", "database_unavailable"],
  "57P02": ["connection", "database_unavailable"],
  "57P03": ["connection", "database_unavailable"], // cannot connect now (starting up)
  "53300": ["connection", "database_unavailable"], // too many connections
  "57P04": ["connection", "database_unavailable"], // database dropped
  "3D000": ["connection", "database_unavailable"], // the configured database does not exist
  // Our own DATABASE_URL credentials were refused (a rotated password, a dropped role):
  // the client did nothing wrong, and it is not a bug that a retry cannot fix.
  "28P01": ["connection", "database_unavailable"], // invalid password
  "28000": ["connection", "database_unavailable"], // invalid authorization (pg_hba)
  // A named statement the server refused inside a transaction (src/db/pg-statements.ts):
  // the transaction was aborted and rolled back; it is retried with unnamed statements.
  "26000": ["serialization", "transaction_conflict"],
  "23505": ["constraint", "conflict"],
  "23503": ["constraint", "conflict"],
  "23P01": ["constraint", "conflict"],
  "22P02": ["input", "validation_failed"],
  "22001": ["input", "validation_failed"],
  "22003": ["input", "validation_failed"],
  "22007": ["input", "validation_failed"],
  "22008": ["input", "validation_failed"],
  "22021": ["input", "validation_failed"],
  "23502": ["input", "validation_failed"],
  "23514": ["input", "validation_failed"],
};

/**
 * 55000 (object_not_in_prerequisite_state) is a grab bag ("sequence not yet defined in
 * this session", "cannot drop … in use"); only its connection form — the database is not
 * accepting connections, as managed PostgreSQL says during maintenance or when
 * datallowconn is off — is an outage. The rest stay unclassified (500): they are bugs.
 */
const NOT_ACCEPTING_CONNECTIONS = /not (?:currently )?accepting connections/i;

const CONNECTION_ERRNOS = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

// Driver failures that carry no SQLSTATE (node-postgres and PGlite wording).
const CONNECTION_MESSAGES = [
  /connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /query read timeout/i,
  /not queryable/i,
  /cannot use a pool after calling end/i,
  /client was closed/i,
  /pglite is closed/i,
  /connection (?:is )?closed/i,
  /server closed the connection/i,
];

/** Classifies any error thrown by a query, looking through wrappers (Drizzle wraps pg errors). */
export function classifyDbError(error: unknown): DbErrorInfo | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 6; depth++) {
    if (typeof e !== "object") break;
    const { code, message, cause } = e as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof code === "string") {
      if (/^[0-9A-Z]{5}$/.test(code)) {
        if (
          code === "55000" &&
          typeof message === "string" &&
          NOT_ACCEPTING_CONNECTIONS.test(message)
        ) {
          return { category: "connection", code: "database_unavailable", sqlstate: code };
        }
        const known = BY_SQLSTATE[code];
        if (known) return { category: known[0], code: known[1], sqlstate: code };
        if (code.startsWith("08")) {
          return { category: "connection", code: "database_unavailable", sqlstate: code };
        }
        return { category: "unknown", code: "internal_error", sqlstate: code };
      }
      if (CONNECTION_ERRNOS.has(code)) {
        return { category: "connection", code: "database_unavailable", sqlstate: undefined };
      }
    }
    if (typeof message === "string" && CONNECTION_MESSAGES.some((re) => re.test(message))) {
      return { category: "connection", code: "database_unavailable", sqlstate: undefined };
    }
    e = cause;
  }
  return undefined;
}

/**
 * True when `error` (or an error it wraps) is a unique violation of `constraint`: a race
 * the caller expects and answers with an outcome, not a failure. On a table split by user
 * the server names the piece's index: `<constraint>_p<n>` for a hash partition (the
 * partitioned test schema, test/support/partition-schema.ts), `<constraint>_<shard id>`
 * for a Citus shard.
 */
export function isUniqueViolation(error: unknown, constraint: string): boolean {
  for (let e: unknown = error, depth = 0; e && typeof e === "object" && depth < 6; depth++) {
    const { code, constraint: name, cause } = e as Record<string, unknown>;
    if (code === "23505") {
      return (
        typeof name === "string" &&
        (name === constraint ||
          (name.startsWith(`${constraint}_`) && /^p?\d+$/.test(name.slice(constraint.length + 1))))
      );
    }
    e = cause;
  }
  return false;
}

/** Turns a database error into the AppError clients see, keeping the original as cause. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const info = classifyDbError(error);
  if (!info) return new AppError("internal_error", undefined, { cause: error });
  const detail =
    info.category === "constraint"
      ? "The request conflicts with data already stored"
      : info.category === "input"
        ? "A value in the request cannot be stored"
        : undefined;
  return new AppError(info.code, detail, { cause: error, extra: { category: info.category } });
}
