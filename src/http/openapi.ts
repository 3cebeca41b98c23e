import fastifySwagger from "@fastify/swagger";
import fastifySwaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance, RouteOptions } from "fastify";
import {
  createJsonSchemaTransform,
  jsonSchemaTransformObject,
  type ZodTypeProvider,
} from "fastify-type-provider-zod";
import { z } from "zod";
import { AUTH_PATHS } from "../auth/auth.openapi.ts";
import type { ErrorCode } from "../errors.ts";
import { VERSION } from "../version.ts";
import { groupByStatus, PROBLEM_CONTENT_TYPE, problemSchema } from "./problem.ts";

/**
 * The OpenAPI 3.1 document, generated from the zod schemas the routes validate with
 * (@fastify/swagger + fastify-type-provider-zod's transform), served at /openapi.json, with
 * a reference page at /docs (Swagger UI, its assets bundled in the package: no CDN).
 *
 * A route declares `schema.response` (its success bodies, per status) and `schema.errors`
 * (the error codes only it can answer with). The problem responses every route of its kind
 * can give are added here (`standardErrors`), so each operation lists every status it
 * can answer with, each problem response typed by its codes.
 */

declare module "fastify" {
  interface FastifySchema {
    /**
     * Error codes this route answers with beyond the standard ones (`standardErrors`):
     * documented as application/problem+json responses, grouped by status.
     */
    errors?: readonly ErrorCode[];
  }
}

export const DOCS_PREFIX = "/docs";
export const OPENAPI_PATH = "/openapi.json";

/** One registered route and whether it documents its responses (the suite checks). */
export interface RouteDoc {
  method: string;
  url: string;
  /** It declares schema.response (at least one status) or schema.errors. */
  responses: boolean;
  /** Left out of the document (`schema.hide`): the docs page's files, Better Auth's mount. */
  hidden: boolean;
  /** Registered by the docs page plugin (@fastify/swagger-ui) under /docs. */
  docsPage: boolean;
}

declare module "fastify" {
  interface FastifyInstance {
    /** Every route and its documentation state, recorded by the onRoute hook. */
    routeDocs: readonly RouteDoc[];
  }
}

/**
 * Routes left out of the generated document on purpose, and where they are described
 * instead. Any other route must declare its responses (the suite fails otherwise).
 */
export const DOCUMENTED_ELSEWHERE: Readonly<Record<string, string>> = {
  "/api/auth/*": "Better Auth's mount: its routes are described in src/auth/auth.openapi.ts",
  // Calendar apps (WebDAV/CalDAV, XML and iCalendar bodies): README "Calendar apps (CalDAV)".
  "/.well-known/caldav": "CalDAV discovery (RFC 6764): a redirect to /dav/",
  "/dav": "CalDAV (RFC 4791, RFC 6578): README, src/caldav/",
  "/dav/*": "CalDAV (RFC 4791, RFC 6578): README, src/caldav/",
  "/ical/:file": "The calendar feed (text/calendar), public by its secret token: README",
};

/** Error codes every route of a kind can answer with, without declaring them. */
export function standardErrors(route: Pick<RouteOptions, "config" | "schema" | "method">) {
  const codes = new Set<ErrorCode>(["internal_error", "shutting_down"]);
  const schema = route.schema;
  if (route.config?.auth !== "public") {
    // The session or key lookup: no or bad credentials, or the database failing under it.
    for (const code of [
      "unauthorized",
      "database_unavailable",
      "database_timeout",
      "transaction_conflict",
    ] as const)
      codes.add(code);
    // An account an admin banned; an API key when the account's api_keys switch is off.
    codes.add("account_disabled");
    codes.add("feature_disabled");
    // A cookie-authenticated write from a foreign origin (CSRF guard).
    const methods = [route.method].flat();
    if (methods.some((m) => m !== "GET" && m !== "HEAD")) codes.add("forbidden");
    if (route.config?.role === "admin") codes.add("admin_required");
    // The per-user quota of a counted door (src/quotas/quota.hook.ts).
    if (route.config?.quota) codes.add("quota_exceeded");
  }
  if (schema?.params) codes.add("invalid_id");
  if (schema?.querystring) codes.add("validation_failed");
  if (schema?.body) {
    for (const code of [
      "validation_failed",
      "invalid_json",
      "payload_too_large",
      "unsupported_media_type",
    ] as const)
      codes.add(code);
  }
  return codes;
}

/** Who may call what: the security requirement of a route (public → none). */
export const SECURITY = {
  user: [{ sessionToken: [] }, { apiKey: [] }, { sessionCookie: [] }],
  bearer: [{ sessionToken: [] }, { apiKey: [] }],
  session: [{ sessionToken: [] }, { sessionCookie: [] }],
  public: [],
} as const;

const SECURITY_SCHEMES = {
  sessionToken: {
    type: "http",
    scheme: "bearer",
    description:
      "A Better Auth session token: the `set-auth-token` header of sign-up or sign-in, sent as `Authorization: Bearer <token>`.",
  },
  apiKey: {
    type: "http",
    scheme: "bearer",
    bearerFormat: "tt_…",
    description:
      "A personal API key (`POST /api/api-keys`), sent as `Authorization: Bearer tt_…`. Not accepted for managing keys.",
  },
  sessionCookie: {
    type: "apiKey",
    in: "cookie",
    name: "better-auth.session_token",
    description:
      "The session cookie sign-in sets (browsers; `__Secure-` prefixed over https). A write with it must come from this site's own origin or TRUSTED_ORIGINS.",
  },
  metricsToken: {
    type: "http",
    scheme: "bearer",
    description: "`METRICS_TOKEN` (GET /metrics only). Unset: loopback clients need none.",
  },
} as const;

const zodTransform = createJsonSchemaTransform({ skipList: [] });
type TransformInput = Parameters<typeof zodTransform>[0] & { route: RouteOptions };
type JsonObject = Record<string, unknown>;

/**
 * Adds the document generator and the route bookkeeping. Call before any route is
 * registered (and before the auth hook, which must see the docs page as public).
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  const routeDocs: RouteDoc[] = [];
  app.decorate("routeDocs", routeDocs);
  app.addHook("onRoute", (route) => {
    // The docs page and its assets are public: registered by @fastify/swagger-ui under
    // its prefix, they cannot say so themselves.
    const docsPage = route.prefix === DOCS_PREFIX || route.prefix?.startsWith(`${DOCS_PREFIX}/`);
    if (docsPage) route.config = { ...route.config, auth: "public" };
    const response = route.schema?.response as JsonObject | undefined;
    for (const method of [route.method].flat()) {
      routeDocs.push({
        method,
        url: route.url,
        responses:
          (response !== undefined && Object.keys(response).length > 0) ||
          (route.schema?.errors?.length ?? 0) > 0,
        hidden: route.schema?.hide === true,
        docsPage: docsPage === true,
      });
    }
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Tasktalk",
        version: VERSION,
        description:
          "Manage a to-do list by talking to an AI assistant. JSON is snake_case; every error is `application/problem+json` with a stable `code` (README: Errors).",
        license: { name: "MIT", identifier: "MIT" },
      },
      components: { securitySchemes: SECURITY_SCHEMES },
      tags: TAGS,
    },
    transform: (input) => transformRoute(input as TransformInput),
    transformObject: (input) => {
      const document = jsonSchemaTransformObject(input) as JsonObject & { paths?: JsonObject };
      return { ...document, paths: { ...document.paths, ...AUTH_PATHS } } as ReturnType<
        typeof jsonSchemaTransformObject
      >;
    },
  });
}

/** GET /openapi.json and the reference page at /docs (both public). */
export async function openApiRoutes(app: FastifyInstance): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    OPENAPI_PATH,
    {
      config: { auth: "public" },
      logLevel: "warn",
      schema: {
        summary: "This document (OpenAPI 3.1)",
        response: {
          200: z.looseObject({ openapi: z.string() }).describe("The OpenAPI document"),
        },
      },
    },
    async (_request, reply) => {
      reply.header("cache-control", "no-cache");
      return app.swagger() as { openapi: string };
    },
  );
  await app.register(fastifySwaggerUi, {
    routePrefix: DOCS_PREFIX,
    staticCSP: true,
    logLevel: "warn",
    // The page loads the document from /docs/json: the same document as /openapi.json.
    uiConfig: { deepLinking: true, docExpansion: "list" },
  });
}

/** The zod transform, then our additions: problem responses, security, a tag. */
function transformRoute(input: TransformInput) {
  const { route } = input;
  const { errors, security, ...schema } = (input.schema ?? {}) as JsonObject & {
    errors?: readonly ErrorCode[];
    security?: unknown;
  };
  const out = zodTransform({ ...input, schema }) as { schema: JsonObject; url: string };
  if (out.schema.hide) return out;
  const responses = (out.schema.response ?? {}) as Record<string, JsonObject>;
  const codes = new Set([...standardErrors(route), ...(errors ?? [])]);
  for (const [status, list] of groupByStatus(codes)) {
    const problem = { schema: problemSchema(status, list) };
    const existing = responses[status];
    if (!existing) {
      responses[status] = {
        description: list.map((code) => `\`${code}\``).join(", "),
        content: { [PROBLEM_CONTENT_TYPE]: problem },
      };
    } else if (existing.content) {
      (existing.content as JsonObject)[PROBLEM_CONTENT_TYPE] = problem;
    } else {
      // The route answers this status with its own body too (GET /health's 503).
      responses[status] = {
        description: existing.description ?? list.join(", "),
        content: { "application/json": { schema: existing }, [PROBLEM_CONTENT_TYPE]: problem },
      };
    }
  }
  out.schema.response = responses;
  out.schema.security = security ?? securityOf(route);
  out.schema.tags ??= [tagOf(out.url)];
  return out;
}

function securityOf(route: RouteOptions) {
  if (route.config?.auth === "public") return SECURITY.public;
  return route.config?.credentials === "bearer" ? SECURITY.bearer : SECURITY.user;
}

/** The reference page's groups, in this order; a route's is its first path segment. */
const TAGS = [
  { name: "auth", description: "Better Auth: accounts and sessions" },
  { name: "chat", description: "Talk to the assistant: one turn, JSON or a stream" },
  { name: "conversations", description: "Conversations and their messages" },
  { name: "tasks", description: "Tasks and lists over REST" },
  { name: "users", description: "The caller's profile" },
  { name: "api-keys", description: "Personal API keys (session only)" },
  { name: "mcp", description: "The task tools for MCP clients" },
  { name: "health", description: "Probes for load balancers and people" },
  { name: "metrics", description: "Prometheus" },
  { name: "web", description: "The chat page" },
  { name: "docs", description: "This document" },
];
const TAG_OF_SEGMENT: Record<string, string> = {
  lists: "tasks",
  me: "users",
  "index.html": "web",
  assets: "web",
  "openapi.json": "docs",
  "": "web",
};

function tagOf(url: string): string {
  const parts = url.split("/").filter(Boolean);
  const first = (parts[0] === "api" ? parts[1] : parts[0]) ?? "";
  // /api/{user_id}/chat
  if (first.startsWith("{") || first.startsWith(":")) return parts.at(-1) ?? "chat";
  return TAG_OF_SEGMENT[first] ?? first;
}

/**
 * What is wrong with the documentation of the app's routes: one line per route that
 * declares no responses, is hidden without a reason, or is missing from the document.
 * The suite fails on any (test/http/openapi.test.ts); each line says what to add.
 */
export function undocumentedRoutes(app: FastifyInstance): string[] {
  const paths = (app.swagger() as { paths?: Record<string, Record<string, unknown>> }).paths ?? {};
  const problems: string[] = [];
  for (const route of app.routeDocs) {
    if (route.method === "HEAD" || route.docsPage) continue;
    const key = `${route.method} ${route.url}`;
    if (route.hidden) {
      if (!DOCUMENTED_ELSEWHERE[route.url]) {
        problems.push(
          `${key}: hidden from the document (schema.hide) but not listed in DOCUMENTED_ELSEWHERE (src/http/openapi.ts)`,
        );
      }
    } else if (!route.responses) {
      problems.push(
        `${key}: declares no responses. Add to its route options: schema: { response: { 200: <zod schema of the body> }, errors: [<error codes only this route answers with, e.g. "not_found">] } (see "Where does new code go?" in docs/architecture.md)`,
      );
    } else {
      const path = route.url.replace(/:(\w+)/g, "{$1}").replace(/\*$/, "{*}");
      if (!paths[path]?.[route.method.toLowerCase()]) {
        problems.push(`${key}: declares responses but is missing from ${OPENAPI_PATH}`);
      }
    }
  }
  return problems;
}
