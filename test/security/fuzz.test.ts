import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import type { LightMyRequestResponse } from "fastify";
import { ERROR_CODES } from "../../src/errors.ts";
import { WEB_DIST } from "../../src/web/web.plugin.ts";
import { signUp, startTestApp, type TestApp } from "../support/app.ts";
import { availableBackends } from "../support/databases.ts";
import { type Fixtures, requests, toInject } from "./fuzz-inputs.ts";

// Fuzzing every route of the real app (the list comes from app.routeList, so a route
// added tomorrow is fuzzed too) with generated path params, queries, headers and bodies,
// valid-ish and hostile, as a signed-in user. The contract under test: never a 5xx, and
// every 4xx is application/problem+json with a code from the closed list (src/errors.ts),
// whose status it carries.

const RUNS_PER_ROUTE = 35;
/** Fixed, so a failure is reproducible; FUZZ_SEED=<n> explores further. */
const SEED = Number(process.env.FUZZ_SEED ?? 17_009);

/**
 * The one exception to problem+json: POST /mcp past authentication speaks JSON-RPC, and
 * the MCP specification has the transport answer protocol errors (406 wrong Accept, 415,
 * 400 parse error) as JSON-RPC error objects, which MCP clients expect.
 */
const JSON_RPC_ROUTES = new Set(["POST /mcp"]);

/**
 * The web page answers 503 with an HTML "run npm run build" page when web/dist was never
 * built (a fresh checkout running tests); that answer is deliberate, not a crash.
 */
const PAGE_ROUTES = new Set(["GET /", "HEAD /", "GET /index.html", "HEAD /index.html"]);
const pageBuilt = existsSync(join(WEB_DIST, "index.html"));

/** Routes whose fuzzing must be skipped, with the reason (owner's bug, reported). */
const SKIPPED = new Map<string, string>();

/** What is wrong with the answer, or undefined when it keeps the contract. */
function violation(key: string, method: string, res: LightMyRequestResponse): string | undefined {
  if (res.statusCode === 503 && PAGE_ROUTES.has(key) && !pageBuilt) return undefined;
  if (res.statusCode >= 500) return `${res.statusCode} (server error)`;
  if (res.statusCode < 400) return undefined;
  const type = String(res.headers["content-type"] ?? "");
  if (JSON_RPC_ROUTES.has(key) && type.startsWith("application/json")) {
    const body = JSON.parse(res.body) as { jsonrpc?: unknown; error?: { code?: unknown } };
    return body.jsonrpc === "2.0" && typeof body.error?.code === "number"
      ? undefined
      : "a 4xx JSON body that is not a JSON-RPC error";
  }
  if (!type.startsWith("application/problem+json"))
    return `${res.statusCode} as ${type || "no content type"}`;
  if (method === "HEAD") return undefined;
  const body = JSON.parse(res.body) as {
    code?: unknown;
    problem_code?: unknown;
    status?: unknown;
  };
  // On /api/auth/* `code` is Better Auth's (for its client) and ours is `problem_code`.
  const ours = body.problem_code ?? body.code;
  const code = typeof ours === "string" ? ours : "";
  if (!Object.hasOwn(ERROR_CODES, code)) return `unknown code ${JSON.stringify(body.code)}`;
  const status = ERROR_CODES[code as keyof typeof ERROR_CODES].status;
  if (status !== res.statusCode || body.status !== res.statusCode) {
    return `code ${code} (${status}) answered as ${res.statusCode}`;
  }
  return undefined;
}

const clip = (s: string) => (s.length > 300 ? `${s.slice(0, 300)}… (${s.length} chars)` : s);

for (const backend of await availableBackends()) {
  describe(`fuzzing every route [${backend}]`, () => {
    let t: TestApp;
    let fixtures: Fixtures;
    before(async () => {
      // Real throttling on, so the sign-in lockout's code is fuzzed too.
      t = await startTestApp(backend, { AUTH_RATE_LIMIT: "true" });
      await t.app.ready();
      fixtures = await makeFixtures(t);
    });
    after(() => t?.close());

    test("the route list is not empty", async () => {
      await t.app.ready();
      assert.ok(t.app.routeList.length > 20, "every route is fuzzed");
    });

    // The list is read at run time, inside one subtest per route.
    test("every route keeps the contract under generated input", async (ctx) => {
      for (const route of t.app.routeList) {
        const key = `${route.method} ${route.url}`;
        await ctx.test(key, { skip: SKIPPED.get(key) }, () => fuzzRoute(t, route, fixtures));
      }
    });

    test("the fuzzer catches a route that crashes or answers a 4xx off the contract", async () => {
      const other = await startTestApp(backend);
      try {
        other.app.post("/api/fragile", async (request) => {
          const { title } = request.body as { title?: unknown };
          return { length: (title as string).length }; // a TypeError on anything but a string
        });
        other.app.get("/api/plain-error", async (_request, reply) =>
          reply.status(400).send({ error: "plain JSON, not a problem" }),
        );
        const otherFixtures = await makeFixtures(other);
        for (const url of ["/api/fragile", "/api/plain-error"]) {
          const method = url === "/api/fragile" ? "POST" : "GET";
          await assert.rejects(
            fuzzRoute(other, { method, url }, otherFixtures),
            (error: Error) => `${error.message} ${error.cause}`.includes(`${method} ${url} → `),
            url,
          );
        }
      } finally {
        await other.close();
      }
    });
  });
}

let address = 0;

/** Runs the property on one route; rejects with the request and response that broke it. */
async function fuzzRoute(
  t: TestApp,
  route: { method: string; url: string },
  fixtures: Fixtures,
): Promise<void> {
  const key = `${route.method} ${route.url}`;
  await fc.assert(
    fc.asyncProperty(requests(route.method, route.url, fixtures), async (r) => {
      address++;
      const options = toInject(route.method, r, fixtures);
      // A fresh client address per request keeps the per-address auth limit out of the way.
      options.remoteAddress = `10.77.${Math.floor(address / 250) % 250}.${(address % 250) + 1}`;
      const res = await t.app.inject(options);
      const wrong = violation(key, route.method, res);
      if (wrong) {
        throw new Error(
          `${key} → ${wrong}\n  request: ${clip(JSON.stringify(options))}\n  response: ${res.statusCode} ${clip(res.body)}`,
        );
      }
    }),
    { numRuns: RUNS_PER_ROUTE, seed: SEED, endOnFailure: true },
  );
}

/** A user with a conversation, a task and an API key, so valid ids reach the handlers. */
async function makeFixtures(t: TestApp): Promise<Fixtures> {
  const user = await signUp(t.app, "Fuzz User");
  const signIn = await t.app.inject({
    method: "POST",
    url: "/api/auth/sign-in/email",
    payload: { email: user.email, password: "correct horse battery" },
  });
  const cookie =
    String([signIn.headers["set-cookie"]].flat().find((c) => c?.includes("session_token"))).split(
      ";",
    )[0] ?? "";
  const chat = await t.app.inject({
    method: "POST",
    url: "/api/chat",
    headers: user.headers,
    payload: { message: "add a task to buy milk" },
  });
  assert.equal(chat.statusCode, 200, chat.body);
  const task = await t.app.inject({
    method: "POST",
    url: "/api/tasks",
    headers: user.headers,
    payload: { title: "fuzz fixture" },
  });
  assert.equal(task.statusCode, 201, task.body);
  const key = await t.app.inject({
    method: "POST",
    url: "/api/api-keys",
    headers: user.headers,
    payload: { name: "fuzz" },
  });
  assert.equal(key.statusCode, 201, key.body);
  return {
    user,
    cookie,
    conversationId: chat.json().conversation_id,
    taskNumber: task.json().id,
    keyId: key.json().id,
  };
}
