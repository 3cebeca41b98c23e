import type { FastifyRequest } from "fastify";
import type { Access } from "../admin/features.ts";
import type { TaskScope } from "../auth/auth.ts";
import type { SessionRow } from "../auth/session.repository.ts";
import type { Door, RequestContext } from "../context.ts";
import type { Db } from "../db/client.ts";
import { AppError } from "../errors.ts";

/** The caller of a request, as the authentication hook found it. */
export interface RequestUser {
  id: string;
  email: string;
  name: string;
  /** The user's IANA time zone as stored; null when not set (the context then says "UTC"). */
  timezone: string | null;
  /**
   * How the caller proved who they are: a Better Auth session, a personal API key, or an
   * OAuth access token (MCP clients; accepted on /mcp only).
   */
  via: "session" | "api_key" | "oauth";
  /** What the credential may do: a session, everything; a key or token, what it was given. */
  scopes: readonly TaskScope[];
  /** The session came from the cookie (a browser's ambient credential): CSRF applies. */
  cookie: boolean;
  /** Role, feature switches and quotas in force for this caller (src/admin/features.ts). */
  access: Access;
}

/** Who may call a route: "user" (the default) needs a session; "public" does not. */
export type RouteAuth = "user" | "public";

declare module "fastify" {
  interface FastifyContextConfig {
    auth?: RouteAuth;
    /**
     * "bearer": only an `Authorization: Bearer` token is accepted, never the session cookie
     * (the MCP endpoint: a browser's ambient cookie must not drive tools). "basic": only
     * HTTP Basic with the e-mail and an API key (CalDAV, src/caldav/).
     */
    credentials?: "any" | "bearer" | "basic";
    /** The door recorded in the request context (default: "web" when signed in by the
     *  session cookie — the page —, else "rest"). */
    door?: Door;
    /** Who may call it beyond being signed in: "admin" routes answer 403 admin_required. */
    role?: "admin";
    /** The per-user quota a request to this route counts against (src/quotas/quota.hook.ts). */
    quota?: "chat" | "task_write" | "mcp" | "api_key_create";
    /**
     * A bearer request with a small body (≤ OVERLAP_BODY_MAX) has its token checked after
     * the body is read, once the route's own preValidation hooks ran, and before validation:
     * a refused token is still a 401 before any 400. Those hooks may set `sessionLookup`
     * (the chat turn reads the conversation in the session lookup's statement).
     */
    overlapAuth?: boolean;
  }
  interface FastifyRequest {
    user: RequestUser | undefined;
    /** Built once by the authentication hook, on authenticated routes only. */
    ctx: RequestContext | undefined;
    /** On an `overlapAuth` route: the token is checked in preValidation, not yet. */
    authDeferred: boolean;
    /**
     * Set by an `overlapAuth` route's preValidation hook: how a bearer session token is
     * looked up (one statement that also reads what the route needs), instead of
     * findSessionByToken. It answers the same row, or undefined.
     */
    sessionLookup: SessionLookup | undefined;
  }
}

/** Looks a bearer session token up: its session's user and access, or undefined. */
export type SessionLookup = (db: Db, token: string) => Promise<SessionRow | undefined>;

/** The largest body read before the token is checked (`overlapAuth` routes): a refused
 *  token costs the server at most this much parsing. */
export const OVERLAP_BODY_MAX = 64 * 1024;

/** The signed-in user of a request on an authenticated route. */
export function requireUser(request: FastifyRequest): RequestUser {
  if (!request.user) throw new AppError("unauthorized");
  return request.user;
}

/** The request context of an authenticated route (see registerRequestUser). */
export function requireContext(request: FastifyRequest): RequestContext {
  if (!request.ctx) throw new AppError("unauthorized");
  return request.ctx;
}
