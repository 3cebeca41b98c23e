import { type FastifyReply, type FastifyRequest, LogController } from "fastify";

/**
 * What an error may put into a log line. Errors carry the request's secrets: Drizzle's
 * "Failed query … params: …" message holds every bound value (session tokens, password
 * hashes, message text), pg errors' `detail` holds key values, the AI SDK's APICallError
 * holds the whole prompt (`requestBodyValues`) and the provider's answer, and V8's JSON
 * errors quote the body. pino's standard serializer copies every enumerable property and
 * every cause's message. This one copies an allow-list of fields instead, so a field added
 * by a library later cannot leak by default.
 */

export interface SafeError {
  type: string;
  message: string;
  stack?: string;
  code?: unknown;
  [field: string]: unknown;
}

/** Fields kept as they are when they hold a string, number or boolean (nothing else). */
const KEPT_FIELDS = [
  "code",
  "errno",
  "syscall",
  "severity",
  "status",
  "statusCode",
  "isRetryable",
  "table",
  "column",
  "constraint",
  "routine",
] as const;

const MAX_DEPTH = 5;
const MAX_MESSAGE = 500;

/** pino `err` serializer: anything error-like becomes a SafeError; anything else is kept. */
export function serializeError(value: unknown): unknown {
  return isErrorLike(value) ? safeError(value, 0) : value;
}

function safeError(error: ErrorLike, depth: number): SafeError {
  const type = typeName(error);
  const message = safeMessage(error, type);
  const out: SafeError = { type, message };
  const frames = typeof error.stack === "string" ? stackFrames(error.stack) : "";
  if (frames) out.stack = `${type}: ${message}${frames}`;
  const fields = error as unknown as Record<string, unknown>;
  for (const key of KEPT_FIELDS) {
    const v = fields[key];
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") out[key] = v;
  }
  // Our own AppError: its detail is text we wrote, never a stored value.
  if (type === "AppError" && typeof fields.detail === "string") out.detail = fields.detail;
  if (isQueryError(error)) out.query = error.query.slice(0, 2000);
  if (depth < MAX_DEPTH) {
    if (isErrorLike(error.cause)) out.cause = safeError(error.cause, depth + 1);
    const errors = fields.errors;
    if (Array.isArray(errors)) {
      out.errors = errors
        .slice(0, 5)
        .map((e) => (isErrorLike(e) ? safeError(e, depth + 1) : typeof e));
    }
  }
  return out;
}

function safeMessage(error: ErrorLike, type: string): string {
  // Drizzle: the SQL text is useful, the bound values are the request's data.
  if (isQueryError(error)) return `Failed query: ${error.query}`.slice(0, MAX_MESSAGE);
  let message = typeof error.message === "string" ? error.message : String(error.message);
  const params = message.search(/\nparams:/);
  if (params >= 0) message = message.slice(0, params);
  // V8's JSON.parse errors quote the input ("Unexpected token 'x', "…" is not valid JSON").
  if (type === "SyntaxError") message = message.replace(/"[\s\S]*"/, '"…"');
  // PostgreSQL data exceptions (class 22) quote the value that could not be stored.
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && code.startsWith("22"))
    message = message.replace(/"[^"]*"/g, '"…"');
  return message.slice(0, MAX_MESSAGE);
}

/** Only the "    at …" lines: the first line repeats the (unsafe) message. */
function stackFrames(stack: string): string {
  const at = stack.indexOf("\n    at ");
  return at >= 0 ? stack.slice(at) : "";
}

interface ErrorLike {
  name?: unknown;
  message: unknown;
  stack?: unknown;
  cause?: unknown;
}

function isErrorLike(value: unknown): value is ErrorLike {
  return (
    value instanceof Error ||
    (typeof value === "object" && value !== null && "message" in value && "stack" in value)
  );
}

function isQueryError(error: ErrorLike): error is ErrorLike & { query: string } {
  const e = error as { query?: unknown; params?: unknown };
  return typeof e.query === "string" && Array.isArray(e.params);
}

function typeName(error: ErrorLike): string {
  const ctor = (error as { constructor?: { name?: unknown } }).constructor?.name;
  if (typeof ctor === "string" && ctor !== "Error" && ctor !== "Object") return ctor;
  return typeof error.name === "string" ? error.name : "Error";
}

/** Headers that carry credentials, wherever a logged request or response shows them. */
const REDACT = ["req.headers.authorization", "req.headers.cookie", 'res.headers["set-auth-token"]'];

/**
 * The app's pino options. `override` (tests: `false`, or a level and a stream) replaces
 * the defaults, but never the error serializer: the secrets rule holds in every logger.
 */
export function loggerOptions(
  level: string,
  override: boolean | object | undefined,
): false | Record<string, unknown> {
  if (override === false) return false;
  const extra = typeof override === "object" ? (override as Record<string, unknown>) : {};
  const serializers = (extra.serializers ?? {}) as Record<string, unknown>;
  return {
    level,
    redact: REDACT,
    ...extra,
    serializers: { ...serializers, err: serializeError },
  };
}

/**
 * Better Auth's `logger.log`: its own messages, with any error argument through the same
 * serializer (it logs the raw Drizzle error of a failed session lookup otherwise: token
 * included). Other arguments are reduced to their type: they can be user records.
 */
export function authLog(level: string, message: string, ...args: unknown[]): void {
  const line = JSON.stringify({
    level,
    source: "better-auth",
    time: Date.now(),
    msg: String(message).slice(0, MAX_MESSAGE),
    args: args.map((a) =>
      isErrorLike(a)
        ? safeError(a, 0)
        : typeof a === "number" || typeof a === "boolean"
          ? a
          : typeof a,
    ),
  });
  if (level === "error" || level === "warn") console.error(line);
  else console.log(line);
}

/**
 * One log line per request instead of Fastify's two ("incoming request", then "request
 * completed"): the completed line also carries the request (method, URL, host, remote
 * address), so nothing is lost but the line written before the work. Each line is a write
 * to the log's descriptor, a system call: on a chat turn the two lines cost ~0.5 ms of CPU
 * (bench/profile.ts --cpu-prof). Errors are logged as before ("request errored").
 */
export class OneLinePerRequest extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    if (this.isLogDisabled(request)) return;
    const fields = { req: request, res: reply, responseTime: reply.elapsedTime };
    if (error) reply.log.error({ ...fields, err: error }, "request errored");
    else reply.log.info(fields, "request completed");
  }
}
