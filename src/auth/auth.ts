import { betterAuth } from "better-auth";
import { drizzleAdapter } from "better-auth/adapters/drizzle";
import { admin } from "better-auth/plugins/admin";
import { bearer } from "better-auth/plugins/bearer";
import type { Config } from "../config.ts";
import type { Db } from "../db/client.ts";
import { account, rateLimit, session, user, verification } from "../db/schema.ts";
import { authLog } from "../http/log.ts";
import { recordSignInClient } from "./auth-activity.ts";
import { authHooks } from "./auth-hooks.ts";

/** Header we set from the socket address; Better Auth reads the client IP only from headers. */
export const CLIENT_IP_HEADER = "x-tasktalk-client-ip";
/** The request id and door of the Fastify request Better Auth serves (activity log). */
export const REQUEST_ID_HEADER = "x-tasktalk-request-id";
export const DOOR_HEADER = "x-tasktalk-door";

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
      schema: { user, session, account, verification, rateLimit },
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
    plugins: [bearer(), admin({ defaultRole: "user", adminRoles: ["admin"] })],
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
