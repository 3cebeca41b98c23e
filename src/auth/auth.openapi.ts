import { z } from "zod";
import type { ErrorCode } from "../errors.ts";
import { groupByStatus, PROBLEM_CONTENT_TYPE } from "../http/problem.ts";

/**
 * Better Auth's routes, as the OpenAPI document describes them. They are served by Better
 * Auth behind one mount (`/api/auth/*`, src/auth/auth.routes.ts), which has no per-path
 * schema to generate from, so the paths the README documents are written here as zod
 * schemas, and the suite checks Better Auth's real answers against them
 * (test/http/openapi.test.ts) — an upgrade that changes a shape fails there. Better Auth's
 * own OpenAPI plugin is not used: it would add a second, CDN-loaded reference page.
 *
 * Objects are loose: a Better Auth plugin (admin: `role`, `banned`) adds fields.
 */

const AuthUser = z.looseObject({
  id: z.string(),
  name: z.string(),
  email: z.string(),
  emailVerified: z.boolean(),
  image: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  timezone: z.string().nullable(),
});

const AuthSession = z.looseObject({
  id: z.string(),
  token: z.string(),
  userId: z.string(),
  expiresAt: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  ipAddress: z.string().nullable(),
  userAgent: z.string().nullable(),
});

const UpdateUserBody = z.looseObject({
  name: z.string().max(100).optional(),
  image: z.string().nullable().optional(),
});
const ChangePasswordBody = z.looseObject({
  currentPassword: z.string(),
  newPassword: z.string(),
  revokeOtherSessions: z.boolean().optional(),
});

const SignUpBody = z.looseObject({
  name: z.string().max(100),
  email: z.email(),
  password: z.string(),
  rememberMe: z.boolean().optional(),
});
const SignInBody = z.looseObject({
  email: z.email(),
  password: z.string(),
  rememberMe: z.boolean().optional(),
});

function json(schema: z.ZodType, io: "input" | "output") {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { target: "draft-2020-12", io });
  return rest;
}

const TOKEN_HEADER = {
  "set-auth-token": {
    description: "The session token: send it as `Authorization: Bearer <token>`",
    schema: { type: "string" },
  },
  "set-cookie": { description: "The session cookie (browsers)", schema: { type: "string" } },
};

/**
 * A problem from the auth mount: for Better Auth's own client, `code` and `message` are
 * Better Auth's (`INVALID_EMAIL_OR_PASSWORD`) and our code is `problem_code`
 * (src/auth/auth.routes.ts); a refusal before Better Auth runs (draining) has our code in
 * `code` and no `problem_code`.
 */
function authProblemResponses(codes: ErrorCode[]) {
  return Object.fromEntries(
    [...groupByStatus(codes)].map(([status, list]) => [
      status,
      {
        description: list.map((code) => `\`${code}\``).join(", "),
        content: {
          [PROBLEM_CONTENT_TYPE]: {
            schema: {
              type: "object",
              required: ["type", "title", "status", "detail", "code", "request_id"],
              properties: {
                type: { type: "string", description: "`urn:tasktalk:error:<problem_code>`" },
                title: { type: "string" },
                status: { const: Number(status) },
                detail: { type: "string" },
                code: { type: "string", description: "Better Auth's code, else ours" },
                message: { type: "string", description: "Better Auth's message (= detail)" },
                problem_code: { enum: list, description: "Our code (README: Errors)" },
                request_id: { type: "string" },
              },
            },
          },
        },
      },
    ]),
  );
}

/** Every Better Auth route: its origin check, the database under it, our 503s. */
const COMMON: ErrorCode[] = [
  "forbidden",
  "internal_error",
  "database_unavailable",
  "database_timeout",
  "shutting_down",
];

function operation(spec: {
  summary: string;
  description: string;
  body?: z.ZodType;
  response: z.ZodType;
  headers?: Record<string, unknown>;
  errors: ErrorCode[];
  /** "optional": answers without a session too; "required": 401 without one. */
  session?: "optional" | "required";
}) {
  const sessions = [{ sessionToken: [] }, { sessionCookie: [] }];
  return {
    tags: ["auth"],
    summary: spec.summary,
    description: spec.description,
    security:
      spec.session === "optional"
        ? [...sessions, {}]
        : spec.session === "required"
          ? sessions
          : ([] as Record<string, never>[]),
    ...(spec.body
      ? {
          requestBody: {
            required: true,
            content: { "application/json": { schema: json(spec.body, "input") } },
          },
        }
      : {}),
    responses: {
      200: {
        description: spec.summary,
        ...(spec.headers ? { headers: spec.headers } : {}),
        content: { "application/json": { schema: json(spec.response, "output") } },
      },
      ...authProblemResponses([...COMMON, ...spec.errors]),
    },
  };
}

export const AUTH_PATHS = {
  "/api/auth/sign-up/email": {
    post: operation({
      summary: "Create an account",
      description:
        "Name at most 100 characters, no control characters. The session token comes back in `set-auth-token` (and the cookie). An e-mail already registered is 409 `conflict` (`auth_code` says which).",
      body: SignUpBody,
      response: z.object({ token: z.string().nullable(), user: AuthUser }),
      headers: TOKEN_HEADER,
      errors: ["validation_failed", "conflict", "rate_limited"],
    }),
  },
  "/api/auth/sign-in/email": {
    post: operation({
      summary: "Sign in",
      description:
        "10 tries per minute per client address, and `SIGN_IN_MAX_FAILURES` failures per account, then 429 with `Retry-After`. A wrong e-mail or password is 401 `unauthorized`.",
      body: SignInBody,
      response: z.looseObject({ redirect: z.boolean(), token: z.string(), user: AuthUser }),
      headers: TOKEN_HEADER,
      errors: ["validation_failed", "unauthorized", "rate_limited"],
    }),
  },
  "/api/auth/sign-out": {
    post: operation({
      summary: "Sign out",
      description: "Ends the session of the token or cookie sent (none: nothing to end).",
      response: z.object({ success: z.boolean() }),
      errors: [],
      session: "optional",
    }),
  },
  "/api/auth/get-session": {
    get: operation({
      summary: "The current session",
      description: "The session and its user, or `null` without a valid session.",
      response: z.object({ session: AuthSession, user: AuthUser }).nullable(),
      errors: [],
      session: "optional",
    }),
  },
  "/api/auth/list-sessions": {
    get: operation({
      summary: "My sessions",
      description: "The caller's live sessions, without their tokens.",
      response: z.array(AuthSession.omit({ token: true })),
      errors: ["unauthorized"],
      session: "required",
    }),
  },
  "/api/auth/update-user": {
    post: operation({
      summary: "Change my name or image",
      description: "The e-mail cannot be changed here (400); the time zone is `PATCH /api/me`.",
      body: UpdateUserBody,
      response: z.object({ status: z.boolean() }),
      errors: ["validation_failed", "unauthorized"],
      session: "required",
    }),
  },
  "/api/auth/change-password": {
    post: operation({
      summary: "Change my password",
      description:
        "Signs out every other session, always; the response carries this session's new token. A wrong current password is 400 (`auth_code` `INVALID_PASSWORD`).",
      body: ChangePasswordBody,
      response: z.looseObject({ token: z.string().nullable(), user: AuthUser }),
      errors: ["validation_failed", "unauthorized", "rate_limited"],
      session: "required",
    }),
  },
};
