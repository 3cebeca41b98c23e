import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { sql } from "drizzle-orm";
import type { InjectOptions } from "fastify";
import { signUp, startTestApp, type TestApp, type TestUser } from "../support/app.ts";
import { availableBackends } from "../support/databases.ts";

// A7: every route of the real app is either public BY THIS LIST or answers 401 to a
// request without a valid session (A5: none, tampered, revoked or expired). The route list
// comes from the app (app.routeList), so a route added tomorrow is checked too.

/** The routes that answer without a session, on purpose. Adding one is a reviewed change. */
const PUBLIC = new Set([
  "GET /health",
  "HEAD /health",
  "GET /health/live",
  "HEAD /health/live",
  "GET /health/ready",
  "HEAD /health/ready",
  "GET /api/auth/*",
  "HEAD /api/auth/*",
  "POST /api/auth/*",
  // Prometheus scrapes: its own check (METRICS_TOKEN bearer, else loopback only), test/ops.
  "GET /metrics",
  "HEAD /metrics",
  // The web page and its hashed assets (src/web): the page signs in through /api/auth.
  "GET /",
  "HEAD /",
  "GET /index.html",
  "HEAD /index.html",
  "GET /assets/*",
  "HEAD /assets/*",
  // The OAuth consent screen (the same page) and the MCP authorization flow's discovery
  // documents (RFC 9728, RFC 8414): what the server is, never data.
  ...[
    "/oauth/consent",
    "/.well-known/oauth-protected-resource",
    "/.well-known/oauth-protected-resource/mcp",
    "/.well-known/oauth-authorization-server",
    "/.well-known/oauth-authorization-server/api/auth",
  ].flatMap((path) => [`GET ${path}`, `HEAD ${path}`]),
  // The OpenAPI document and its reference page (src/http/openapi.ts): what the API is,
  // never data.
  "GET /openapi.json",
  "HEAD /openapi.json",
  ...[
    "/docs",
    "/docs/static/index.html",
    "/docs/static/swagger-initializer.js",
    "/docs/json",
    "/docs/yaml",
    "/docs/static/*",
  ].flatMap((path) => [`GET ${path}`, `HEAD ${path}`]),
  "HEAD /docs/", // its GET twin is not in the route list: see the router cross-check
  // CalDAV discovery (RFC 6764): a redirect to /dav/, which asks for credentials itself.
  "GET /.well-known/caldav",
  "HEAD /.well-known/caldav",
  "PROPFIND /.well-known/caldav",
  // The calendar feed: its secret token is the credential (src/caldav/ical-feed.routes.ts).
  "GET /ical/:file",
  "HEAD /ical/:file",
]);

/** A concrete URL for a route pattern; authentication runs before any validation. */
const sampleUrl = (url: string, user: TestUser) =>
  url
    .replace(/:user_id\b/g, user.id)
    .replace(/:number\b/g, "1")
    .replace(/:id\b/g, randomUUID())
    .replace(/:\w+/g, "x")
    .replace(/\*$/, "get-session");

const HOOK_DETAIL = "Sign in, or send a bearer token";

/**
 * Audits every route of `t.app`; returns what is wrong (empty when all is well). `tokens`
 * are invalid credentials, each of which must be refused like no credential at all.
 */
async function auditRoutes(
  t: TestApp,
  user: TestUser,
  tokens: Record<string, Record<string, string>>,
): Promise<string[]> {
  const problems: string[] = [];
  // Calendar routes (credentials "basic") take the e-mail and a personal API key only.
  let basic: Record<string, string> | undefined;
  const basicHeaders = async () => {
    if (basic) return basic;
    const res = await t.app.inject({
      method: "POST",
      url: "/api/api-keys",
      headers: user.headers,
      payload: { name: "calendar audit" },
    });
    assert.equal(res.statusCode, 201, res.body);
    const pair = `${user.email}:${(res.json() as { key: string }).key}`;
    basic = { authorization: `Basic ${Buffer.from(pair).toString("base64")}` };
    return basic;
  };
  for (const route of t.app.routeList) {
    const key = `${route.method} ${route.url}`;
    const scheme = route.credentials === "basic" ? /^Basic / : /^Bearer /;
    const url = sampleUrl(route.url, user);
    const request = (headers: Record<string, string>): InjectOptions => ({
      method: route.method as InjectOptions["method"],
      url,
      headers,
      ...(["POST", "PUT", "PATCH"].includes(route.method) ? { payload: {} } : {}),
    });
    const anonymous = await t.app.inject(request({}));
    if (PUBLIC.has(key)) {
      if (route.auth !== "public") problems.push(`${key}: on the PUBLIC list but not public`);
      if (anonymous.statusCode === 401 && anonymous.body.includes(HOOK_DETAIL)) {
        problems.push(`${key}: on the PUBLIC list but refused without a token`);
      }
      continue;
    }
    if (route.auth === "public") {
      problems.push(`${key}: public, but not on the PUBLIC list of this test`);
    }
    for (const [name, headers] of Object.entries({ "no token": {}, ...tokens })) {
      const res = name === "no token" ? anonymous : await t.app.inject(request(headers));
      if (res.statusCode !== 401) {
        problems.push(`${key} with ${name}: ${res.statusCode} instead of 401`);
        continue;
      }
      if (!scheme.test(String(res.headers["www-authenticate"]))) {
        problems.push(`${key} with ${name}: no WWW-Authenticate: ${scheme.source.slice(1, -1)}`);
      }
      if (route.method === "HEAD") continue;
      if (!String(res.headers["content-type"]).startsWith("application/problem+json")) {
        problems.push(`${key} with ${name}: not problem+json`);
      }
      const body = res.json();
      if (body.code !== "unauthorized" || body.status !== 401) {
        problems.push(`${key} with ${name}: body ${res.body}`);
      }
    }
    // The control: the same request with a valid token gets past authentication.
    const valid = route.credentials === "basic" ? await basicHeaders() : user.headers;
    const signedIn = await t.app.inject(request(valid));
    if (signedIn.statusCode === 401) {
      problems.push(`${key}: 401 even with a valid token (${signedIn.body})`);
    }
  }
  return problems;
}

for (const backend of await availableBackends()) {
  describe(`authentication on every route (A5, A7) [${backend}]`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(backend);
    });
    after(() => t.close());

    /** Credentials that must all be refused: tampered, garbage, revoked and expired. */
    const badCredentials = async (user: TestUser) => {
      const revoked = await signUp(t.app);
      const out = await t.app.inject({
        method: "POST",
        url: "/api/auth/sign-out",
        headers: revoked.headers,
      });
      assert.equal(out.statusCode, 200);
      const expired = await signUp(t.app);
      await t.server.database.db.execute(
        sql`update "session" set expires_at = now() - interval '1 minute' where user_id = ${expired.id}`,
      );
      const flip = (s: string) => `${s.slice(0, -1)}${s.endsWith("A") ? "B" : "A"}`;
      const [plain] = user.token.split(".");
      const keys: Record<string, Record<string, string>> = {};
      if (t.app.hasRoute({ method: "POST", url: "/api/api-keys" })) {
        // Personal API keys are bearer credentials too: a tampered or revoked one is refused.
        const create = await t.app.inject({
          method: "POST",
          url: "/api/api-keys",
          headers: user.headers,
          payload: { name: "audit" },
        });
        assert.equal(create.statusCode, 201, create.body);
        const { id, key } = create.json() as { id: string; key: string };
        const revoke = await t.app.inject({
          method: "DELETE",
          url: `/api/api-keys/${id}`,
          headers: user.headers,
        });
        assert.equal(revoke.statusCode, 204, revoke.body);
        keys["a revoked API key"] = { authorization: `Bearer ${key}` };
        keys["a tampered API key"] = { authorization: `Bearer ${flip(key)}` };
      }
      return {
        ...keys,
        "a forged API key": { authorization: `Bearer tt_${randomBytes(32).toString("base64url")}` },
        "a tampered token": { authorization: `Bearer ${flip(user.token)}` },
        "a truncated token": { authorization: `Bearer ${user.token.slice(0, -4)}` },
        "a token with a forged signature": { authorization: `Bearer ${plain}.forged` },
        "a garbage token": { authorization: "Bearer %%%" },
        "an empty bearer": { authorization: "Bearer " },
        "Basic credentials": {
          authorization: `Basic ${Buffer.from(`${user.email}:correct horse battery`).toString("base64")}`,
        },
        "an unsigned session cookie": { cookie: `better-auth.session_token=${plain}` },
        "a revoked session": revoked.headers,
        "an expired session": expired.headers,
      };
    };

    test("the route list is the router's: every route, every method", async () => {
      await t.app.ready();
      const list = t.app.routeList;
      // Cross-check with the router's own print-out (wildcard routes are merged there, so
      // they are compared by hasRoute only): a route registered before the recording hook,
      // or around it, would be missing from app.routeList and fail here.
      const printed = t.app.printRoutes({ commonPrefix: false });
      const methods = printed
        .split("\n")
        .filter((line) => !line.includes("*"))
        .flatMap((line) => [...line.matchAll(/\(([A-Z, ]+)\)/g)])
        .flatMap((m) => String(m[1]).split(", "));
      const listed = list.filter((r) => !r.url.includes("*"));
      // Fastify adds the trailing-slash twin of a plugin's "/" route (the docs page's
      // GET /docs/, beside GET /docs) without calling onRoute: the same handler and
      // options, so the same (public) answer — checked below.
      const twins = ["GET /docs/"];
      assert.equal(listed.length + twins.length, methods.length, printed);
      const twin = await t.app.inject({ url: "/docs/" });
      assert.equal(twin.statusCode, 200, "GET /docs/ is the docs page, public like GET /docs");
      for (const route of list) {
        assert.ok(
          t.app.hasRoute({ method: route.method as "GET", url: route.url }),
          `${route.method} ${route.url}`,
        );
      }
      // Every PUBLIC entry is a real route (the list cannot go stale silently).
      const keys = new Set(list.map((r) => `${r.method} ${r.url}`));
      for (const key of PUBLIC) assert.ok(keys.has(key), `PUBLIC lists ${key}, no such route`);
      assert.ok(list.length > PUBLIC.size, "there are authenticated routes to check");
    });

    test("A7 + A5: every route is public by list, or 401 without a valid session", async () => {
      const user = await signUp(t.app);
      const problems = await auditRoutes(t, user, await badCredentials(user));
      assert.deepEqual(problems, []);
      // The sweep covered each authenticated route, the chat and id-taking ones included.
      const checked = t.app.routeList.filter((r) => !PUBLIC.has(`${r.method} ${r.url}`));
      assert.ok(checked.some((r) => r.url === "/api/:user_id/chat"));
      assert.ok(checked.some((r) => r.url.includes(":id")));
    });

    test("public routes answer without a token", async () => {
      for (const url of ["/health", "/health/live", "/health/ready", "/api/auth/get-session"]) {
        const res = await t.app.inject({ url });
        assert.equal(res.statusCode, 200, `${url}: ${res.body}`);
      }
    });

    test("the audit catches a route that is public but not listed (the A7 guard works)", async () => {
      const other = await startTestApp(backend);
      try {
        other.app.get("/api/leak", { config: { auth: "public" } }, async () => ({ all: "data" }));
        other.app.get("/api/new-thing/:thing_id", async () => ({ ok: true }));
        const user = await signUp(other.app);
        const problems = await auditRoutes(other, user, {
          "a garbage token": { authorization: "Bearer %%%" },
        });
        assert.deepEqual(problems.sort(), [
          "GET /api/leak with a garbage token: 200 instead of 401",
          "GET /api/leak with no token: 200 instead of 401",
          "GET /api/leak: public, but not on the PUBLIC list of this test",
          "HEAD /api/leak with a garbage token: 200 instead of 401",
          "HEAD /api/leak with no token: 200 instead of 401",
          "HEAD /api/leak: public, but not on the PUBLIC list of this test",
        ]);
      } finally {
        await other.close();
      }
    });
  });
}
