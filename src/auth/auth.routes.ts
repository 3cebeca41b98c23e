import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { type Database, databaseReachable } from "../db/client.ts";
import { AppError, type ErrorCode } from "../errors.ts";
import { answerError } from "../http/problem.ts";
import { decodeUtf8, isWellFormedDeep, LONE_SURROGATE, NOT_UTF8 } from "../http/utf8.ts";
import { type Auth, CLIENT_IP_HEADER, DOOR_HEADER, REQUEST_ID_HEADER } from "./auth.ts";

/**
 * Mounts Better Auth's handler at /api/auth/* so its own validation and rate limiting
 * apply. The body is passed through untouched (raw bytes), as a Web Request.
 */
export async function authRoutes(
  app: FastifyInstance,
  opts: { auth: Auth; database: Database },
): Promise<void> {
  app.removeAllContentTypeParsers();
  // Better Auth parses the bytes itself: they get the app's UTF-8 checks here first.
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_req, body, done) => {
    const text = decodeUtf8(body as Buffer);
    if (text === undefined) return done(new AppError("validation_failed", NOT_UTF8), undefined);
    if (!isWellFormedDeep(parsedOrUndefined(text))) {
      return done(new AppError("validation_failed", LONE_SURROGATE), undefined);
    }
    done(null, body);
  });

  // A 429 from Better Auth says when to come back (its per-address limit, our per-account
  // lockout): that, not the problem handler's generic Retry-After, is what the client gets.
  app.addHook("onSend", async (request, reply) => {
    const seconds = retryAfter.get(request);
    if (seconds) reply.header("retry-after", seconds);
  });

  // Better Auth's own client (createAuthClient) reads `code` and `message` from an error
  // body: here they are Better Auth's (INVALID_EMAIL_OR_PASSWORD, its sentence), beside the
  // problem members; our stable code stays in `type` and `problem_code`.
  app.setErrorHandler((error, request, reply) =>
    answerError(error, request, reply, (appError) => ({
      code: (appError.extra?.auth_code as string | undefined) ?? appError.code,
      message: appError.detail,
      problem_code: appError.code,
    })),
  );

  app.route({
    method: ["GET", "POST"],
    url: "/api/auth/*",
    config: { auth: "public" },
    // Documented path by path in auth.openapi.ts (Better Auth's routes have no schema here).
    schema: { hide: true },
    handler: (request, reply) => forward(opts, request, reply),
  });
}

/**
 * MCP clients on the user's machine (Claude Code, Claude Desktop, the MCP Inspector, the
 * SDK's examples) register `http://localhost:PORT/callback` without `application_type`,
 * which RFC 7591 reads as "web" — and Better Auth refuses http and loopback redirects for
 * web clients. A registration whose every redirect URI is http on an exact loopback host is
 * what RFC 8252 calls a native app: it is registered as one (any other body passes as is).
 */
function loopbackClientsAreNative(body: Buffer): Buffer {
  const parsed = parsedOrUndefined(body.toString("utf8"));
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return body;
  const metadata = parsed as Record<string, unknown>;
  const uris = metadata.redirect_uris;
  if (metadata.application_type !== undefined || !Array.isArray(uris) || uris.length === 0) {
    return body;
  }
  const loopback = uris.every(
    (uri) =>
      typeof uri === "string" &&
      URL.canParse(uri) &&
      new URL(uri).protocol === "http:" &&
      ["localhost", "127.0.0.1", "[::1]"].includes(new URL(uri).hostname),
  );
  if (!loopback) return body;
  return Buffer.from(JSON.stringify({ ...metadata, application_type: "native" }));
}

/** Malformed JSON is left for Better Auth to refuse in its own words. */
function parsedOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Headers only we set: a client's copies are dropped. */
const OURS = new Set([CLIENT_IP_HEADER, REQUEST_ID_HEADER, DOOR_HEADER]);

async function forward(
  { auth, database }: { auth: Auth; database: Database },
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const headers = new Headers();
  for (const [key, value] of Object.entries(request.headers)) {
    if (value === undefined || OURS.has(key)) continue;
    headers.set(key, Array.isArray(value) ? value.join(", ") : value);
  }
  headers.set(CLIENT_IP_HEADER, request.ip);
  // For the activity log's sign-in entries (auth-activity.ts): this request and its door.
  headers.set(REQUEST_ID_HEADER, request.id);
  headers.set(DOOR_HEADER, request.headers.origin || request.headers.referer ? "web" : "rest");
  const url = new URL(request.url, auth.options.baseURL as string);
  // Better Auth's admin endpoints (impersonation, listing sessions of others…) are not
  // offered: /api/admin/* is the admin API, with its own rules.
  if (url.pathname.startsWith("/api/auth/admin/")) {
    throw new AppError("not_found", `No route for ${request.method} ${url.pathname}`);
  }
  // Browsers send Origin (or at least Referer) with every POST; a request with neither
  // comes from a program (curl, Node's fetch, a script with a cookie jar), where cross-site
  // request forgery cannot happen. Better Auth would refuse it when it carries a cookie or
  // Fetch Metadata headers (Node's fetch sends sec-fetch-mode), so it is vouched for here.
  // Requests that do carry an Origin or Referer are still checked by Better Auth.
  if (!request.headers.origin && !request.headers.referer) headers.set("origin", url.origin);
  let body = request.body instanceof Buffer && request.body.length > 0 ? request.body : undefined;
  if (body && request.method === "POST" && url.pathname === "/api/auth/oauth2/register") {
    body = loopbackClientsAreNative(body);
    headers.delete("content-length");
  }
  const response = await auth.handler(
    new Request(url, { method: request.method, headers, body: body ? new Uint8Array(body) : null }),
  );
  rememberRetryAfter(request, response);
  // Database errors are thrown to our handler (onAPIError.throw), but some of Better
  // Auth's paths catch them first: its session middleware answers 401 ("signed out", so a
  // client may drop a valid token), others a bare 500. For those two answers the database
  // itself is asked, in one bounded round trip: an outage is then the same retryable 503
  // as on every other route.
  // Sign-out also swallows the failed delete and answers 200: the client would believe a
  // token that still works is gone.
  const suspect =
    response.status >= 500 || response.status === 401 || url.pathname.endsWith("/sign-out");
  if (suspect && !(await databaseReachable(database))) {
    throw new AppError("database_unavailable");
  }
  // The OAuth provider's endpoints answer OAuth clients (RFC 6749 §5.2 `{ error,
  // error_description }`, a redirect): they get Better Auth's answer as it is.
  const oauth = url.pathname.startsWith("/api/auth/oauth2/");
  if (response.status >= 400 && !oauth) throw await authError(response);
  reply.status(response.status);
  response.headers.forEach((value, key) => {
    if (key !== "set-cookie") reply.header(key, value);
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) reply.header("set-cookie", cookies);
  return reply.send(response.body ? Buffer.from(await response.arrayBuffer()) : null);
}

const retryAfter = new WeakMap<FastifyRequest, string>();

function rememberRetryAfter(request: FastifyRequest, response: Response): void {
  if (response.status !== 429) return;
  const seconds = response.headers.get("retry-after") ?? response.headers.get("x-retry-after");
  if (seconds && /^\d{1,6}$/.test(seconds)) retryAfter.set(request, seconds);
}

/** Better Auth's own error bodies become our problem responses, keeping its code. */
async function authError(response: Response): Promise<AppError> {
  let body: { code?: unknown; message?: unknown } = {};
  try {
    body = (await response.json()) as typeof body;
  } catch {
    // not JSON: keep the status alone
  }
  if (body.code === "BANNED_USER") {
    return new AppError("account_disabled", "This account has been disabled by an administrator", {
      extra: { auth_code: "BANNED_USER" },
    });
  }
  const code =
    AUTH_STATUS_CODES[response.status] ??
    (response.status >= 500 ? "internal_error" : "validation_failed");
  const detail = typeof body.message === "string" ? body.message : undefined;
  const authCode = typeof body.code === "string" ? body.code : undefined;
  return new AppError(code, detail, authCode ? { extra: { auth_code: authCode } } : undefined);
}

const AUTH_STATUS_CODES: Record<number, ErrorCode> = {
  400: "validation_failed",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  409: "conflict",
  422: "conflict",
  429: "rate_limited",
};
