import { APIError, createAuthMiddleware, isAPIError } from "better-auth/api";
import { promoteFirstAccount } from "../admin/admin.repository.ts";
import type { Db } from "../db/client.ts";
import { beginSignInAttempt, clearSignInFailures } from "./sign-in-lockout.ts";

/**
 * Our rules on top of Better Auth's endpoints, as its before/after hooks (they run for
 * every way in: JSON, form bodies, and server-side `auth.api` calls alike):
 * - sign-in: the per-account lockout (sign-in-lockout.ts);
 * - sign-up and update-user: a bounded, printable name (and image URL, e-mail);
 * - change-password: always revokes the other sessions;
 * - list-sessions: never returns session tokens;
 * - sign-up: the first account of an installation becomes its admin.
 */
export function authHooks(db: Db, options: { lockout: boolean; maxFailures: number }) {
  const before = createAuthMiddleware(async (ctx) => {
    const body = plainObject(ctx.body);
    switch (ctx.path) {
      case "/sign-in/email": {
        if (!options.lockout || !body || typeof body.email !== "string") return;
        const outcome = await beginSignInAttempt(db, body.email, options);
        if (outcome.kind === "locked") {
          const retryAfter = String(outcome.retryAfterSeconds);
          throw new APIError(
            "TOO_MANY_REQUESTS",
            {
              message: `Too many sign-in attempts for this account; try again in ${retryAfter} s`,
              code: "TOO_MANY_ATTEMPTS",
            },
            { "Retry-After": retryAfter },
          );
        }
        return;
      }
      case "/sign-up/email":
      case "/update-user": {
        if (body) checkProfile(body);
        return;
      }
      case "/change-password": {
        // A new password must shut out whoever knew the old one: every other session
        // ends, whatever the client asked (Better Auth answers with a fresh token).
        if (body) return { context: { body: { ...body, revokeOtherSessions: true } } };
        return;
      }
    }
  });

  const after = createAuthMiddleware(async (ctx) => {
    const returned: unknown = ctx.context.returned;
    if (isAPIError(returned)) return;
    switch (ctx.path) {
      case "/sign-in/email": {
        const body = plainObject(ctx.body);
        if (options.lockout && body && typeof body.email === "string") {
          await clearSignInFailures(db, body.email);
        }
        return;
      }
      case "/sign-up/email": {
        // The first account of an installation is its admin.
        await promoteFirstAccount(db);
        return;
      }
      case "/list-sessions": {
        // A session token is a bearer credential: listing them would hand every other
        // session of the account to whoever holds one (a stolen token, an XSS).
        if (!Array.isArray(returned)) return;
        return ctx.json(returned.map(withoutToken));
      }
    }
  });

  return { before, after };
}

const MAX_NAME = 100;
const MAX_IMAGE = 2048;
const MAX_EMAIL = 254;
/** C0/C1 control characters (NUL included): never part of a name; PostgreSQL refuses NUL. */
const CONTROL = /\p{Cc}/u;

/** A 400 validation error before Better Auth stores anything. */
function checkProfile(body: Record<string, unknown>): void {
  const problems: string[] = [];
  const { name, image, email } = body;
  // An e-mail longer than any real one would only fail later, in the unique index.
  if (typeof email === "string" && email.length > MAX_EMAIL) {
    problems.push(`email: at most ${MAX_EMAIL} characters`);
  }
  if (typeof name === "string") {
    if (name.length > MAX_NAME) problems.push(`name: at most ${MAX_NAME} characters`);
    if (CONTROL.test(name)) problems.push("name: control characters are not allowed");
  }
  if (typeof image === "string") {
    if (image.length > MAX_IMAGE) problems.push(`image: at most ${MAX_IMAGE} characters`);
    if (CONTROL.test(image)) problems.push("image: control characters are not allowed");
  }
  if (problems.length > 0) {
    throw new APIError("BAD_REQUEST", { message: problems.join("; "), code: "VALIDATION_ERROR" });
  }
}

function plainObject(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function withoutToken(session: unknown): unknown {
  const record = plainObject(session);
  if (!record) return session;
  const { token: _token, ...rest } = record;
  return rest;
}
