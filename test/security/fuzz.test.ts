import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import type { InjectOptions, LightMyRequestResponse } from "fastify";
import { ERROR_CODES } from "../../src/errors.ts";
import { WEB_DIST } from "../../src/web/web.plugin.ts";
import { signUp, startTestApp, type TestApp, type TestUser } from "../support/app.ts";
import { availableBackends } from "../support/databases.ts";

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

// ---- generators ------------------------------------------------------------------------

const printable = fc.stringMatching(/^[\x20-\x7e]{0,40}$/);
const hostileString = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: "binary-ascii", maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 20 }) },
  fc.constantFrom(
    "",
    " ",
    "\u0000",
    "a\u0000b",
    "%00",
    "%",
    "%zz",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "' or 1=1 --",
    "\ud800",
    "\u202e\u200b",
    "🙂".repeat(200),
    "null",
    "NaN",
    "-1",
    "0",
    "1e400",
    "9".repeat(40),
    "__proto__",
    "constructor",
  ),
  fc.constantFrom(300, 9000, 70_000).map((n) => "x".repeat(n)),
);
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: hostileString },
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.uuid(),
  fc.jsonValue({ maxDepth: 2 }),
  fc.array(hostileString, { maxLength: 3 }),
);
/** Every field name some route or Better Auth endpoint reads, plus prototype keys. */
const FIELDS = [
  "title",
  "description",
  "completed",
  "name",
  "email",
  "password",
  "message",
  "conversation_id",
  "client_message_id",
  "currentPassword",
  "newPassword",
  "revokeOtherSessions",
  "image",
  "callbackURL",
  "rememberMe",
  "limit",
  "cursor",
  "status",
  "__proto__",
  "constructor",
  "user_id",
  "userId",
];
const TOOLS = ["add_task", "list_tasks", "complete_task", "delete_task", "update_task"];

/** Text a user could type: any script, emoji, and now and then a NUL or a control. */
const text = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: "grapheme", minLength: 1, maxLength: 60 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 60 }) },
  { weight: 1, arbitrary: hostileString },
);

/** Bodies shaped like what a route (or an auth endpoint, or an MCP method) expects. */
function goodBodies(key: string, fixtures: Fixtures): fc.Arbitrary<Record<string, unknown>>[] {
  const taskId = fc.oneof(fc.constant(fixtures.taskNumber), fc.integer({ min: -3, max: 2 ** 33 }));
  const toolCall = fc.oneof(
    fc.record({
      name: fc.constant("add_task"),
      arguments: fc.record({ title: text, description: text }, { requiredKeys: ["title"] }),
    }),
    fc.record({
      name: fc.constant("list_tasks"),
      arguments: fc.record(
        { status: fc.constantFrom("pending", "completed", "all", "x") },
        { requiredKeys: [] },
      ),
    }),
    fc.record({
      name: fc.constantFrom("complete_task", "delete_task"),
      arguments: fc.record({ task_id: taskId }),
    }),
    fc.record({
      name: fc.constant("update_task"),
      arguments: fc.record(
        { task_id: taskId, title: text, description: text },
        { requiredKeys: ["task_id"] },
      ),
    }),
    fc.record({ name: fc.oneof(fc.constantFrom(...TOOLS), text), arguments: anyValue }),
  );
  const task =
    key === "POST /api/tasks"
      ? fc.record({ title: text, description: text }, { requiredKeys: ["title"] })
      : fc.record(
          { title: text, description: text, completed: fc.boolean() },
          { requiredKeys: [] },
        );
  const chat = fc.record(
    {
      message: text,
      conversation_id: fc.oneof(fc.constant(fixtures.conversationId), fc.uuid()),
      client_message_id: fc.uuid(),
    },
    { requiredKeys: ["message"] },
  );
  const auth = [
    fc.record({ email: fc.oneof(fc.emailAddress(), text), password: text, name: text }),
    fc.record({ email: fc.constant(fixtures.user.email), password: text }),
    fc.record({ name: text, image: fc.oneof(fc.webUrl(), text) }, { requiredKeys: [] }),
    fc.record({ currentPassword: text, newPassword: text, revokeOtherSessions: fc.boolean() }),
  ];
  const mcp = [
    fc.record({
      jsonrpc: fc.constant("2.0"),
      id: fc.nat(),
      method: fc.constant("tools/call"),
      params: toolCall,
    }),
    fc.record({
      jsonrpc: fc.constantFrom("2.0", "1.0"),
      id: fc.oneof(fc.nat(), printable, fc.constant(null)),
      method: fc.constantFrom("initialize", "tools/list", "ping", "x/unknown"),
      params: fc.oneof(
        fc.record({
          protocolVersion: fc.constantFrom("2025-06-18", "1999-01-01"),
          capabilities: fc.constant({}),
          clientInfo: fc.record({ name: text, version: printable }),
        }),
        anyValue,
      ),
    }),
  ];
  const byRoute: Record<string, fc.Arbitrary<Record<string, unknown>>[]> = {
    "POST /api/tasks": [task],
    "PATCH /api/tasks/:number": [task],
    "PATCH /api/conversations/:id": [fc.record({ title: text })],
    "POST /api/api-keys": [fc.record({ name: text })],
    "POST /api/chat": [chat],
    "POST /api/:user_id/chat": [chat],
    "POST /api/auth/*": auth,
    "POST /mcp": mcp,
  };
  return byRoute[key] ?? [task, chat, ...auth, ...mcp];
}

function bodies(key: string, fixtures: Fixtures): fc.Arbitrary<unknown> {
  const good = goodBodies(key, fixtures);
  // A good body with one field swapped for anything at all, or one unknown field more.
  const mutated = fc
    .tuple(fc.oneof(...good), fc.constantFrom(...FIELDS), anyValue)
    .map(([body, field, value]) => ({ ...body, [field]: value }));
  return fc.oneof(
    { weight: 8, arbitrary: fc.oneof(...good) },
    { weight: 3, arbitrary: mutated },
    { weight: 1, arbitrary: fc.oneof(...goodBodies("", fixtures)) },
    { weight: 1, arbitrary: fc.dictionary(fc.constantFrom(...FIELDS), anyValue, { maxKeys: 5 }) },
    { weight: 1, arbitrary: fc.dictionary(hostileString, anyValue, { maxKeys: 3 }) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  );
}

const BAD_JSON = ['{"title":', "{'a':1}", "[1,2", "\u0000", "", "nul", '{"a":1}}', "\ufeff{}"];
const CONTENT_TYPES = [
  "application/json",
  "application/json; charset=utf-16",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=xyz",
  "application/xml",
  "application/problem+json",
  "*/*",
  "",
];

/** One request's payload: JSON, a raw body of any content type, or none. */
type Payload = { contentType?: string; body?: string };
function payloads(key: string, fixtures: Fixtures): fc.Arbitrary<Payload> {
  return fc.oneof(
    {
      weight: 6,
      arbitrary: bodies(key, fixtures).map((v) => ({
        contentType: "application/json",
        body: JSON.stringify(v) ?? "null",
      })),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        contentType: fc.constantFrom(...CONTENT_TYPES),
        body: fc.oneof(
          fc.constantFrom(...BAD_JSON),
          hostileString,
          bodies(key, fixtures).map((v) => JSON.stringify(v) ?? ""),
        ),
      }),
    },
    { weight: 1, arbitrary: fc.constant({}) },
  );
}

const AUTH_PATHS = [
  "get-session",
  "list-sessions",
  "sign-in/email",
  "sign-up/email",
  "update-user",
  "change-password",
  "change-email",
  "request-password-reset",
  "reset-password",
  "verify-email",
  "ok",
  "error",
  "list-accounts",
  "unknown/endpoint",
];

function pathParam(name: string, fixtures: Fixtures): fc.Arbitrary<string> {
  const valid: Record<string, string> = {
    user_id: fixtures.user.id,
    id: fixtures.conversationId,
    number: String(fixtures.taskNumber),
    key_id: fixtures.keyId,
    "*": "get-session",
  };
  const hostile = fc.oneof(
    fc.uuid(),
    fc.integer({ min: -5, max: 2 ** 40 }).map(String),
    hostileString.map((s) => encodeURIComponent(s.slice(0, 250).toWellFormed())),
    fc.constantFrom(
      "%00",
      "%zz",
      "%",
      "..",
      "a%2Fb",
      "%F0%9F%99%82",
      "x".repeat(300),
      "0x10",
      "1.5",
      "01",
    ),
  );
  if (name === "*") {
    return fc.oneof(
      { weight: 5, arbitrary: fc.constantFrom(...AUTH_PATHS) },
      { weight: 1, arbitrary: hostile },
      { weight: 1, arbitrary: fc.constantFrom("index-abc.js", "../package.json", "%2e%2e/x") },
    );
  }
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant(valid[name] ?? "x") },
    { weight: 2, arbitrary: hostile },
  );
}

const queries = fc.oneof(
  fc.constant(""),
  fc
    .dictionary(
      fc.constantFrom("status", "limit", "cursor", "before_seq", "after_seq", "x", "__proto__"),
      hostileString,
      { maxKeys: 3 },
    )
    .map((q) => {
      const entries = Object.entries(q).map(([k, v]) => [k, v.toWellFormed()]);
      return entries.length ? `?${new URLSearchParams(entries)}` : "";
    }),
  fc.constantFrom(
    "?a=%zz",
    "?limit=1&limit=2",
    "?status[]=x",
    "?limit=-1",
    "?limit=1e9",
    "?cursor=%00",
    "?status=open&status=done",
    "?=",
    "?&&",
  ),
);

// ---- the property ---------------------------------------------------------------------

interface Fixtures {
  user: TestUser;
  cookie: string;
  conversationId: string;
  taskNumber: number;
  keyId: string;
}

interface FuzzRequest {
  url: string;
  payload: Payload;
  credential: "bearer" | "cookie";
  headers: Record<string, string>;
}

function requests(method: string, pattern: string, fixtures: Fixtures): fc.Arbitrary<FuzzRequest> {
  const names = [...pattern.matchAll(/:(\w+)|\*/g)].map((m) => m[1] ?? "*");
  const params = fc.tuple(...names.map((n) => pathParam(n, fixtures)));
  return fc.record({
    url: fc.tuple(params, queries).map(([values, query]) => {
      let i = 0;
      return `${pattern.replace(/:\w+|\*/g, () => values[i++] ?? "")}${query}`;
    }),
    payload: ["POST", "PUT", "PATCH", "DELETE"].includes(method)
      ? payloads(`${method} ${pattern}`, fixtures)
      : fc.constant({}),
    credential: fc.constantFrom("bearer", "bearer", "bearer", "cookie"),
    headers: fc.record(
      {
        accept: fc.oneof(
          { weight: 3, arbitrary: fc.constant("application/json, text/event-stream") },
          {
            weight: 2,
            arbitrary: fc.constantFrom("application/json", "text/event-stream", "*/*", "text/html"),
          },
        ),
        "if-match": fc.oneof(fc.constantFrom('"1"', 'W/"1"', "*", '"99999999999"'), printable),
        "idempotency-key": printable,
        "x-request-id": printable,
      },
      { requiredKeys: [] },
    ),
  });
}

function toInject(method: string, r: FuzzRequest, fixtures: Fixtures): InjectOptions {
  const headers: Record<string, string> = { ...r.headers };
  if (r.credential === "bearer") Object.assign(headers, fixtures.user.headers);
  else headers.cookie = fixtures.cookie;
  if (r.payload.contentType !== undefined) headers["content-type"] = r.payload.contentType;
  return {
    method: method as InjectOptions["method"],
    url: r.url,
    headers,
    ...(r.payload.body !== undefined ? { payload: r.payload.body } : {}),
  };
}

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
  const body = JSON.parse(res.body) as { code?: unknown; status?: unknown };
  const code = typeof body.code === "string" ? body.code : "";
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
