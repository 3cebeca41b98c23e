import { oauthProvider } from "@better-auth/oauth-provider";
import { betterAuth } from "better-auth";
import { drizzleAdapter } from "better-auth/adapters/drizzle";
import { admin } from "better-auth/plugins/admin";
import { bearer } from "better-auth/plugins/bearer";
import type { Config } from "../config.ts";
import type { Db } from "../db/client.ts";
import {
  account,
  oauthAccessToken,
  oauthClient,
  oauthClientAssertion,
  oauthClientResource,
  oauthConsent,
  oauthRefreshToken,
  oauthResource,
  rateLimit,
  session,
  user,
  verification,
} from "../db/schema.ts";
import { authLog } from "../http/log.ts";
import { recordSignInClient } from "./auth-activity.ts";
import { authHooks } from "./auth-hooks.ts";

/** Header we set from the socket address; Better Auth reads the client IP only from headers. */
export const CLIENT_IP_HEADER = "x-tasktalk-client-ip";
/** The request id and door of the Fastify request Better Auth serves (activity log). */
export const REQUEST_ID_HEADER = "x-tasktalk-request-id";
export const DOOR_HEADER = "x-tasktalk-door";

/** The scopes an OAuth client (and an API key) can hold: reading tasks, and changing them. */
export const TASK_SCOPES = ["tasks:read", "tasks:write"] as const;
export type TaskScope = (typeof TASK_SCOPES)[number];
/**
 * What MCP clients are told to ask for (RFC 9728 metadata, the 401 challenge): the task
 * scopes, and offline_access for a refresh token (a connector stays connected past the
 * access token's hour). The user may grant less on the consent page (read-only).
 */
export const MCP_SCOPES = [...TASK_SCOPES, "offline_access"] as const;
/** Prefixes of the OAuth provider's opaque tokens (never `tt_`, an API key's). */
export const OAUTH_ACCESS_TOKEN_PREFIX = "ttat_";
export const OAUTH_REFRESH_TOKEN_PREFIX = "ttrt_";
/** The web page's consent screen: the authorize endpoint sends the browser there. */
export const CONSENT_PAGE = "/oauth/consent";

/** The MCP endpoint's URL: the one resource (RFC 8707) OAuth access tokens are issued for. */
/** The MCP resource's name in the OAuth provider (and its metadata). */
export const MCP_RESOURCE_NAME = "Tasktalk MCP";

export function mcpResource(baseURL: string): string {
  return new URL("/mcp", baseURL).href;
}

/** Better Auth on our database: email + password, bearer tokens for API clients. */
export function createAuth(db: Db, config: Config["auth"] & { secret: string }) {
  return betterAuth({
    appName: "Tasktalk",
    baseURL: config.baseURL,
    basePath: "/api/auth",
    secret: config.secret,
    trustedOrigins: [...config.trustedOrigins],
    database: drizzleAdapter(db, {
      provider: "pg",
      schema: {
        user,
        session,
        account,
        verification,
        rateLimit,
        oauthClient,
        oauthResource,
        oauthClientResource,
        oauthRefreshToken,
        oauthAccessToken,
        oauthConsent,
        oauthClientAssertion,
      },
    }),
    // The user's time zone: `input: false`, so sign-up and update-user cannot set it;
    // PATCH /api/me does, after checking it is a real IANA zone.
    user: { additionalFields: { timezone: { type: "string", required: false, input: false } } },
    emailAndPassword: { enabled: true, autoSignIn: true, minPasswordLength: 8 },
    // The admin plugin brings the role and ban fields (user.role, banned, ban_reason,
    // ban_expires) and refuses a banned user a new session (sign-in answers 403). Its own
    // endpoints (/api/auth/admin/*, impersonation included) are NOT served: auth.routes.ts
    // answers 404 there; /api/admin/* (src/admin/) is the one door, and it never lets an
    // admin act as, or read the data of, another user.
    plugins: [
      bearer(),
      admin({ defaultRole: "user", adminRoles: ["admin"] }),
      // The MCP authorization flow (OAuth 2.1): MCP clients (claude.ai, ChatGPT, LibreChat)
      // register themselves (RFC 7591), send the user to the consent page, and get an
      // opaque access token bound to the MCP URL (RFC 8707), with PKCE (S256) always.
      // Tokens are stored hashed; /mcp resolves them in src/auth/oauth-token.ts.
      oauthProvider({
        loginPage: CONSENT_PAGE,
        consentPage: CONSENT_PAGE,
        scopes: [...MCP_SCOPES],
        resources: [{ identifier: mcpResource(config.baseURL), name: MCP_RESOURCE_NAME }],
        resourceSeedMode: "overwrite",
        // Any registered client may ask for the one resource there is.
        enforcePerClientResources: false,
        allowDynamicClientRegistration: true,
        allowUnauthenticatedClientRegistration: true,
        grantTypes: ["authorization_code", "refresh_token"],
        // Opaque tokens, looked up by hash: no signing keys to keep, and a revoked token
        // stops working at once.
        disableJwtPlugin: true,
        prefix: {
          opaqueAccessToken: OAUTH_ACCESS_TOKEN_PREFIX,
          refreshToken: OAUTH_REFRESH_TOKEN_PREFIX,
        },
      }),
    ],
    hooks: authHooks(db, { lockout: config.rateLimit, maxFailures: config.signInMaxFailures }),
    // A session from a client (user agent) the account has not signed in from before is
    // an activity entry. Better Auth's adapter runs without transactions, so the entry is
    // written right after the session, in its own (documented in the README).
    databaseHooks: {
      session: {
        create: {
          after: async (created, context) => {
            await recordSignInClient(db, created, context?.request?.headers);
          },
        },
      },
    },
    telemetry: { enabled: false },
    // A failure that is not Better Auth's own APIError (a database error, a bug) is thrown
    // to our error handler instead of becoming a bare 500: an outage is then classified
    // (503) like on every route, and the error is logged by our serializer. Otherwise
    // better-call prints it with console.error — Drizzle's message with every query
    // parameter (session tokens, password hashes) — even with the logger disabled.
    onAPIError: { throw: true },
    // Through our error serializer: Better Auth logs raw database errors (query params).
    logger: { disabled: config.logLevel === "silent", level: "warn", log: authLog },
    rateLimit: {
      enabled: config.rateLimit,
      storage: "database", // shared by every instance, unlike process memory
      window: 60,
      max: 100,
      customRules: {
        "/sign-in/email": { window: 60, max: 10 },
        "/sign-up/email": { window: 60, max: 10 },
      },
    },
    advanced: {
      ipAddress: { ipAddressHeaders: [CLIENT_IP_HEADER] },
    },
  });
}

export type Auth = ReturnType<typeof createAuth>;
