import { createHmac, timingSafeEqual } from "node:crypto";
import type { BetterAuthOptions } from "better-auth";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { type AccessRow, assertNotBanned, findUserAccess } from "../admin/access.repository.ts";
import { type QuotaLimits, resolveAccess, toRole } from "../admin/features.ts";
import { authenticateApiKey } from "../api-keys/api-key.service.ts";
import { looksLikeApiKey } from "../api-keys/api-key.ts";
import { effectiveTimeZone } from "../context.ts";
import type { Db } from "../db/client.ts";
import { toAppError } from "../db/db-errors.ts";
import { AppError } from "../errors.ts";
import { OVERLAP_BODY_MAX, type RequestUser, type SessionLookup } from "../http/request-context.ts";
import type { Jobs } from "../jobs/queue.ts";
import { type Auth, MCP_SCOPES, mcpResource, TASK_SCOPES } from "./auth.ts";
import { findOAuthTokenOwner, looksLikeOAuthToken } from "./oauth-token.ts";
import { findSessionByToken } from "./session.repository.ts";

/**
 * Authentication is on for every route unless the route says `config: { auth: "public" }`:
 * a new route cannot be left open by forgetting a hook.
 */
export function registerRequestUser(
  app: FastifyInstance,
  auth: Auth,
  db: Db,
  quotaDefaults: QuotaLimits,
  jobs?: Jobs,
): void {
  app.decorateRequest("user", undefined);
  app.decorateRequest("ctx", undefined);
  app.decorateRequest("authDeferred", false);
  app.decorateRequest("sessionLookup", undefined);
  const origins = allowedOrigins(auth);
  const resource = mcpResource(String(auth.options.baseURL));
  const metadataUrl = protectedResourceMetadataUrl(String(auth.options.baseURL));
  app.addHook("onRoute", (route) => {
    if (route.config?.auth === "public") return;
    // onRequest: before the body is read or validated, so an anonymous caller learns
    // nothing but 401 and cannot make the server parse a large body.
    const existing = route.onRequest;
    const bearerOnly = route.config?.credentials === "bearer";
    const basic = route.config?.credentials === "basic";
    const door = route.config?.door;
    const adminOnly = route.config?.role === "admin";
    // The MCP endpoint also takes OAuth access tokens issued for it (RFC 8707 audience),
    // and its 401 points MCP clients at the authorization flow (RFC 9728).
    const oauthResource = door === "mcp" ? resource : undefined;
    const authenticate = async (request: FastifyRequest) => {
      let user: RequestUser;
      try {
        user = basic
          ? await basicUser(db, request, quotaDefaults)
          : await sessionUser(auth, db, request, { bearerOnly, quotaDefaults, oauthResource });
      } catch (error) {
        throw oauthResource ? withResourceChallenge(error, metadataUrl, request) : error;
      }
      if (user.cookie) checkOrigin(request, origins);
      // A read-only credential (an API key with tasks:read only) cannot write anywhere:
      // MCP, where every call is a POST, checks the scope per tool instead.
      if (door !== "mcp" && UNSAFE_METHODS.has(request.method) && !canWrite(user)) {
        throw new AppError(
          "insufficient_scope",
          "This API key is read-only (scope tasks:read): writes need the tasks:write scope",
        );
      }
      if (adminOnly && user.access.role !== "admin") {
        throw new AppError("admin_required", "This route is for administrators");
      }
      request.user = user;
      request.ctx = {
        db,
        userId: user.id,
        requestId: request.id,
        // A REST call signed in by the browser's cookie is the page's: door "web".
        door: door ?? (user.cookie ? "web" : "rest"),
        log: request.log,
        timezone: effectiveTimeZone(user.timezone),
        jobs,
      };
    };
    let first = authenticate;
    if (route.config?.overlapAuth) {
      // A bearer token with a small declared body is checked once the body is read, after
      // the route's own preValidation hooks (the chat turn joins its first read to the
      // session lookup: one statement); anything else is checked here, as on every route.
      // A request refused before then (a malformed body) never costs a lookup.
      first = async (request) => {
        if (!overlapsBody(request)) return authenticate(request);
        request.authDeferred = true;
      };
      const deferred = async (request: FastifyRequest) => {
        if (!request.authDeferred) return;
        request.authDeferred = false;
        await authenticate(request);
      };
      const before = route.preValidation;
      route.preValidation = before
        ? [...(Array.isArray(before) ? before : [before]), deferred]
        : [deferred];
    }
    route.onRequest = existing
      ? [first, ...(Array.isArray(existing) ? existing : [existing])]
      : [first];
  });
}

/** A bearer request (no cookie) whose declared body is small: its token waits for its body. */
function overlapsBody(request: FastifyRequest): boolean {
  const { authorization, cookie } = request.headers;
  if (cookie !== undefined || !authorization || !/^Bearer +\S/i.test(authorization)) return false;
  const length = Number(request.headers["content-length"]);
  return Number.isInteger(length) && length > 0 && length <= OVERLAP_BODY_MAX;
}

/** The token of an `Authorization: Bearer <token>` header (the only place one is read). */
export function bearerToken(request: FastifyRequest): string | undefined {
  return request.headers.authorization?.match(/^Bearer +(\S+) *$/i)?.[1];
}

/** True when the caller's credential may change tasks (scope tasks:write). */
export function canWrite(user: Pick<RequestUser, "scopes">): boolean {
  return user.scopes.includes("tasks:write");
}

/** Where the MCP endpoint's protected resource metadata is (RFC 9728, path-suffixed form). */
export function protectedResourceMetadataUrl(baseURL: string): string {
  return new URL("/.well-known/oauth-protected-resource/mcp", baseURL).href;
}

/**
 * A 401 from /mcp carries `WWW-Authenticate: Bearer resource_metadata="…"` (RFC 9728 §5.1,
 * the MCP authorization spec): how an MCP client finds the authorization server.
 */
function withResourceChallenge(error: unknown, metadataUrl: string, request: FastifyRequest) {
  if (!(error instanceof AppError) || error.code !== "unauthorized") return error;
  const sent = /^Bearer +\S/i.test(request.headers.authorization ?? "");
  const challenge = `Bearer resource_metadata="${metadataUrl}", scope="${MCP_SCOPES.join(" ")}"${
    sent ? ', error="invalid_token"' : ""
  }`;
  return new AppError("unauthorized", error.detail, {
    cause: error,
    headers: { "www-authenticate": challenge },
  });
}

/**
 * Reads the caller from the bearer token or the session cookie; a database failure is a
 * 503, not a 401. A bearer token starting with `tt_` is a personal API key, looked up by
 * its hash and never passed to Better Auth; any other token is a Better Auth session.
 * Only headers are read: a token in the query string is ignored.
 */
export async function sessionUser(
  auth: Auth,
  db: Db,
  request: FastifyRequest,
  options: { bearerOnly?: boolean; quotaDefaults: QuotaLimits; oauthResource?: string },
): Promise<RequestUser> {
  const access = (row: AccessRow) => {
    assertNotBanned(row);
    return resolveAccess(
      toRole(row.role),
      row.roleFeatures,
      row.userFeatures,
      options.quotaDefaults,
    );
  };
  const headers = new Headers();
  const { authorization } = request.headers;
  const cookie = options.bearerOnly ? undefined : request.headers.cookie;
  const bearer = bearerToken(request);
  if (bearer && looksLikeApiKey(bearer)) {
    const owner = await authenticateApiKey(db, bearer);
    if (!owner) throw new AppError("unauthorized", "The API key is invalid or was revoked");
    const { access: row, ...who } = owner;
    const resolved = access(row);
    if (!resolved.apiKeys) {
      throw new AppError("feature_disabled", "API keys are not enabled for this account");
    }
    return { ...who, via: "api_key", cookie: false, access: resolved };
  }
  if (bearer && looksLikeOAuthToken(bearer)) {
    if (!options.oauthResource) {
      throw new AppError("unauthorized", "An OAuth access token is accepted at /mcp only");
    }
    const owner = await findOAuthTokenOwner(db, bearer).catch((error: unknown) => {
      throw toAppError(error);
    });
    if (!owner) {
      throw new AppError("unauthorized", "The access token is invalid, expired or revoked");
    }
    // Audience binding (RFC 8707): a token issued for another resource is not ours.
    if (!owner.resources.includes(options.oauthResource)) {
      throw new AppError("unauthorized", "The access token was not issued for this resource");
    }
    return {
      ...owner.user,
      via: "oauth",
      cookie: false,
      scopes: owner.scopes,
      access: access(owner.access),
    };
  }
  if (options.bearerOnly && !bearer) {
    throw new AppError("unauthorized", "Send a bearer token: a session token or an API key");
  }
  if (authorization) headers.set("authorization", authorization);
  if (cookie) headers.set("cookie", cookie);
  if (!authorization && !cookie)
    throw new AppError("unauthorized", "Sign in, or send a bearer token");
  let result: Awaited<ReturnType<Auth["api"]["getSession"]>>;
  try {
    if (bearer) {
      const fast = await bearerSession(auth, db, bearer, request.sessionLookup);
      if (fast) return { ...fast.user, scopes: TASK_SCOPES, access: access(fast.row) };
    }
    result = await auth.api.getSession({ headers });
  } catch (error) {
    throw toAppError(error);
  }
  if (!result) throw new AppError("unauthorized", "The session is missing, expired or invalid");
  const userId = result.user.id;
  const row = await findUserAccess(db, userId).catch((error: unknown) => {
    throw toAppError(error);
  });
  if (!row) throw new AppError("unauthorized", "The account no longer exists");
  return {
    access: access(row),
    id: result.user.id,
    email: result.user.email,
    name: result.user.name,
    timezone: typeof result.user.timezone === "string" ? result.user.timezone : null,
    via: "session",
    scopes: TASK_SCOPES,
    // Sent alongside a bearer token the cookie may be what signed in: count it as such.
    cookie: cookie !== undefined,
  };
}

/**
 * HTTP Basic for calendar apps (CalDAV): the account's e-mail as the user name and a
 * personal API key as the password; the key must be that account's. Nothing else is
 * accepted on these routes (no cookie: a browser's ambient credential must not write).
 */
async function basicUser(
  db: Db,
  request: FastifyRequest,
  quotaDefaults: QuotaLimits,
): Promise<RequestUser> {
  const encoded = request.headers.authorization?.match(/^Basic +([A-Za-z0-9+/=]+) *$/i)?.[1];
  const decoded = encoded ? Buffer.from(encoded, "base64").toString("utf8") : "";
  const colon = decoded.indexOf(":");
  if (colon < 0) {
    throw new AppError("unauthorized", "Sign in with your e-mail and a personal API key");
  }
  const email = decoded.slice(0, colon).trim().toLowerCase();
  const key = decoded.slice(colon + 1);
  const owner = looksLikeApiKey(key) ? await authenticateApiKey(db, key) : undefined;
  if (!owner || owner.email.toLowerCase() !== email) {
    throw new AppError(
      "unauthorized",
      "The e-mail or the API key is wrong (or the key was revoked)",
    );
  }
  const { access: row, ...who } = owner;
  assertNotBanned(row);
  const resolved = resolveAccess(
    toRole(row.role),
    row.roleFeatures,
    row.userFeatures,
    quotaDefaults,
  );
  if (!resolved.apiKeys) {
    throw new AppError("feature_disabled", "API keys are not enabled for this account");
  }
  return { ...who, via: "api_key", cookie: false, access: resolved };
}

/**
 * The hot path of every API call (measured in bench/: getSession costs two queries and
 * ~2 ms of CPU): a bearer session token resolved in ONE query, checked exactly as Better
 * Auth's bearer plugin does (a signed token must carry a valid HMAC of the secret; an
 * unsigned one is accepted, as the plugin accepts it without requireSignature). Only a
 * live session that is not yet due for its sliding refresh is answered here; anything
 * else (bad signature, unknown token, expired, due for refresh) returns undefined and
 * goes through getSession, which decides — and refreshes or deletes — exactly as before.
 * `lookup` is the route's own when it set one (request.sessionLookup): the same row.
 */
async function bearerSession(
  auth: Auth,
  db: Db,
  bearer: string,
  lookup: SessionLookup = findSessionByToken,
): Promise<{ user: Omit<RequestUser, "access">; row: AccessRow } | undefined> {
  let token = bearer;
  if (bearer.includes(".")) {
    let decoded = bearer;
    try {
      if (bearer.includes("%")) decoded = decodeURIComponent(bearer);
    } catch {
      return undefined;
    }
    const [value, signature, extra] = decoded.split(".");
    if (!value || !signature || extra !== undefined) return undefined;
    // Compare the exact text of the signature, not decoded bytes: Node's base64 decoder
    // ignores trailing garbage, so "<token>x" would otherwise pass as the same signature.
    const digest = createHmac("sha256", auth.options.secret).update(value).digest();
    const expected = Buffer.from(
      /[-_]/.test(signature) ? digest.toString("base64url") : digest.toString("base64"),
    );
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    token = value;
  }
  const row = await lookup(db, token);
  if (!row) return undefined;
  const now = Date.now();
  const expiresAt = row.expiresAt.getTime();
  const options = (auth.options as BetterAuthOptions).session;
  const expiresInMs = (options?.expiresIn ?? DEFAULT_EXPIRES_IN_S) * 1000;
  const updateAgeMs = (options?.updateAge ?? DEFAULT_UPDATE_AGE_S) * 1000;
  if (expiresAt <= now || expiresAt - expiresInMs + updateAgeMs <= now) return undefined;
  return {
    user: {
      id: row.id,
      email: row.email,
      name: row.name,
      timezone: row.timezone,
      via: "session",
      scopes: TASK_SCOPES,
      cookie: false,
    },
    row,
  };
}

/** Better Auth's defaults: sessions last 7 days and slide forward once a day. */
const DEFAULT_EXPIRES_IN_S = 60 * 60 * 24 * 7;
const DEFAULT_UPDATE_AGE_S = 60 * 60 * 24;

/** Methods that change something (WebDAV's too: CalDAV clients write with them). */
const UNSAFE_METHODS = new Set([
  "POST",
  "PUT",
  "PATCH",
  "DELETE",
  "MKCALENDAR",
  "MKCOL",
  "PROPPATCH",
  "MOVE",
  "COPY",
]);

/** This server's own origin and TRUSTED_ORIGINS, as origins (entries that are not URLs drop). */
function allowedOrigins(auth: Auth): ReadonlySet<string> {
  const listed = auth.options.trustedOrigins;
  const entries = [String(auth.options.baseURL), ...(Array.isArray(listed) ? listed : [])];
  const origins = new Set<string>();
  for (const entry of entries) {
    if (URL.canParse(entry)) origins.add(new URL(entry).origin);
  }
  return origins;
}

/**
 * Cross-site request forgery guard for cookie-authenticated writes: the browser names
 * the page that sent the request in Origin (or at least Referer), and it must be ours or
 * trusted. A request with neither comes from a program (curl, a script with a cookie
 * jar), not a browser page — browsers send Origin on every cross-site POST — so it
 * passes, as it does at the auth mount (src/auth/auth.routes.ts). "null" (a sandboxed or
 * privacy-stripped origin) is refused.
 */
function checkOrigin(request: FastifyRequest, origins: ReadonlySet<string>): void {
  if (!UNSAFE_METHODS.has(request.method)) return;
  const { origin, referer } = request.headers;
  let source: string | undefined;
  if (origin !== undefined) source = origin;
  else if (referer !== undefined) source = URL.canParse(referer) ? new URL(referer).origin : "null";
  else return;
  if (!origins.has(source)) {
    throw new AppError(
      "forbidden",
      "Cross-origin request refused: a cookie-authenticated write must come from this site's own pages (or TRUSTED_ORIGINS)",
    );
  }
}
