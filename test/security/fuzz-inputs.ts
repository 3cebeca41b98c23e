import fc from "fast-check";
import type { InjectOptions } from "fastify";
import type { TestUser } from "../support/app.ts";

// The generators of test/security/fuzz.test.ts: requests for one route, valid-ish and
// hostile (path parameters, queries, headers, bodies, content types).

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

export interface Fixtures {
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

export function requests(
  method: string,
  pattern: string,
  fixtures: Fixtures,
): fc.Arbitrary<FuzzRequest> {
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

export function toInject(method: string, r: FuzzRequest, fixtures: Fixtures): InjectOptions {
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
