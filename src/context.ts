import type { BaseLogger } from "pino";
import type { Db } from "./db/client.ts";
import type { Jobs } from "./jobs/queue.ts";

/** Which way a request came in: recorded with every change, used for metrics and logs. */
export type Door = "rest" | "web" | "chat" | "mcp" | "stdio" | "caldav" | "system";

/** The logger a request carries: pino, already bound to the request id. */
export type Log = Pick<BaseLogger, "debug" | "info" | "warn" | "error">;

/**
 * Who is acting, how, and on which database: built ONCE per request (HTTP routes: by the
 * authentication hook; stdio MCP: per tool call) and passed first to every service
 * function. The user id comes from the authenticated session (or API key), never from a
 * request body, path or tool argument. Domain code gets this, never Fastify objects.
 */
export interface RequestContext {
  readonly db: Db;
  readonly userId: string;
  readonly requestId: string;
  readonly door: Door;
  /** The user's effective IANA time zone ("UTC" when they have not set one): what "today" means. */
  readonly timezone: string;
  /** Failures that are swallowed (a missed lease renewal, say) are at least logged here. */
  readonly log: Log;
  /** Set by a chat turn: its conversation and user message (recorded with every change). */
  readonly turn?: { readonly conversationId: string; readonly messageId: string } | undefined;
  /** Set while an undo runs: the activity entry the change reverts (recorded with it). */
  readonly undoOf?: string | undefined;
  /**
   * The job queue, for jobs sent in the same transaction as a change (reminders, webhook
   * deliveries). Absent outside the server (the stdio MCP entry): what such a change leaves
   * pending is queued when the server starts (src/reminders/reminder.jobs.ts).
   */
  readonly jobs?: Jobs | undefined;
}

const silent: Log = { debug() {}, info() {}, warn() {}, error() {} };

/** A context outside any HTTP request (scripts, maintenance, tests). */
export function systemContext(
  db: Db,
  userId: string,
  options: { door?: Door; log?: Log; requestId?: string; timezone?: string | null } = {},
): RequestContext {
  return {
    db,
    userId,
    timezone: effectiveTimeZone(options.timezone),
    door: options.door ?? "system",
    log: options.log ?? silent,
    requestId: options.requestId ?? "system",
  };
}

/**
 * The zone a user's "today" is computed in: theirs when set and known to this runtime,
 * else UTC (a zone name that became unknown must not turn every request into an error).
 */
export function effectiveTimeZone(timezone: string | null | undefined): string {
  if (!timezone) return "UTC";
  try {
    new Intl.DateTimeFormat("en", { timeZone: timezone });
    return timezone;
  } catch {
    return "UTC";
  }
}
