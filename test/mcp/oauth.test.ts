import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from "@modelcontextprotocol/sdk/shared/auth.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { startTestApp, type TestApp } from "../support/app.ts";
import { availableBackends } from "../support/databases.ts";
import { freePort } from "../support/process.ts";
import { createApiKey, rawRequest } from "./support.ts";

// The MCP authorization flow (OAuth 2.1) end to end, over real HTTP on 127.0.0.1 with the
// official MCP SDK client and its OAuth support: discovery (RFC 9728, RFC 8414) → dynamic
// client registration → authorization code with PKCE S256 → consent (as the signed-in
// user, by HTTP with the session cookie) → token → tool calls; then scopes, refresh,
// a wrong PKCE verifier and a token for another resource.

const REDIRECT_URI = "http://127.0.0.1:1/callback"; // never reached: the test reads the code

interface Signed {
  cookie: string;
  headers: { authorization: string };
}

/** An in-memory OAuthClientProvider whose "browser" is the test, acting as the user. */
class TestProvider {
  clientInfo: OAuthClientInformationMixed | undefined;
  savedTokens: OAuthTokens | undefined;
  verifier = "";
  code: string | undefined;
  /** What the user allows on the consent page: undefined = what was asked. */
  grant: string | undefined;
  consentShown = false;
  readonly base: string;
  readonly user: Signed;
  constructor(base: string, user: Signed) {
    this.base = base;
    this.user = user;
  }
  get redirectUrl() {
    return REDIRECT_URI;
  }
  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: "SDK test client",
      redirect_uris: [REDIRECT_URI],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  }
  clientInformation() {
    return this.clientInfo;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.clientInfo = info;
  }
  tokens() {
    return this.savedTokens;
  }
  saveTokens(tokens: OAuthTokens) {
    this.savedTokens = tokens;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
  /** The user's browser: the authorize URL, the consent page if asked, back with a code. */
  async redirectToAuthorization(url: URL) {
    assert.equal(url.searchParams.get("resource"), `${this.base}/mcp`, "RFC 8707 resource sent");
    this.code = await authorizeAsUser(this.base, this.user, url, this.grant, () => {
      this.consentShown = true;
    });
  }
}

/** Follows /oauth2/authorize as the signed-in user; consents on the page's behalf. */
async function authorizeAsUser(
  base: string,
  user: Signed,
  url: URL,
  grant: string | undefined,
  onConsent: () => void = () => {},
): Promise<string> {
  assert.equal(url.origin, base, "the authorization endpoint is this server's");
  assert.equal(url.searchParams.get("code_challenge_method"), "S256");
  assert.ok(url.searchParams.get("code_challenge"), "PKCE challenge sent");
  // As a browser navigates (node:http: fetch() says sec-fetch-mode "cors", and a fetch
  // from a page gets JSON instead of a redirect).
  const res = await rawRequest(base, {
    method: "GET",
    path: `${url.pathname}${url.search}`,
    headers: { cookie: user.cookie, accept: "text/html", "sec-fetch-mode": "navigate" },
  });
  assert.ok(res.status >= 300 && res.status < 400, `authorize: ${res.status} ${res.body}`);
  let location = new URL(String(res.headers.location ?? ""), base);
  if (location.pathname === "/oauth/consent") {
    onConsent();
    // What the consent page sends when the user presses Allow (web/src/Consent.tsx).
    const consent = await fetch(`${base}/api/auth/oauth2/consent`, {
      method: "POST",
      headers: { cookie: user.cookie, "content-type": "application/json", origin: base },
      body: JSON.stringify({
        accept: true,
        oauth_query: location.search.slice(1),
        ...(grant ? { scope: grant } : {}),
      }),
    });
    const body = (await consent.json()) as { redirect_uri?: string; url?: string };
    assert.equal(consent.status, 200, JSON.stringify(body));
    location = new URL(body.redirect_uri ?? body.url ?? "");
  }
  assert.equal(`${location.origin}${location.pathname}`, REDIRECT_URI, location.href);
  assert.equal(location.searchParams.get("state"), url.searchParams.get("state"));
  const code = location.searchParams.get("code");
  assert.ok(code, `no code in ${location.href}`);
  return code;
}

/** Connects with OAuth: the first attempt runs the flow, finishAuth trades the code. */
async function connectWithOAuth(base: string, provider: TestProvider): Promise<Client> {
  const first = new StreamableHTTPClientTransport(new URL(`${base}/mcp`), {
    authProvider: provider,
  });
  const probe = new Client({ name: "oauth-test", version: "1.0.0" });
  await assert.rejects(probe.connect(first), UnauthorizedError);
  assert.ok(provider.code, "the flow produced an authorization code");
  await first.finishAuth(provider.code);
  provider.code = undefined;
  return connectWithTokens(base, provider);
}

async function connectWithTokens(base: string, provider: TestProvider): Promise<Client> {
  const client = new Client({ name: "oauth-test", version: "1.0.0" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { authProvider: provider }),
  );
  return client;
}

async function call(client: Client, name: string, args: Record<string, unknown>) {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

function errorCode(result: CallToolResult): string | undefined {
  const first = result.content[0];
  if (!result.isError || first?.type !== "text") return undefined;
  return (JSON.parse(first.text) as { error: { code: string } }).error.code;
}

async function signUpWithCookie(base: string): Promise<Signed> {
  const res = await fetch(`${base}/api/auth/sign-up/email`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      email: `oauth-${randomBytes(6).toString("hex")}@example.com`,
      password: "correct horse battery",
      name: "OAuth User",
    }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
  const token = res.headers.get("set-auth-token") ?? "";
  return { cookie, headers: { authorization: `Bearer ${token}` } };
}

/** A raw token request (what the SDK sends), for the refusals the SDK would not make. */
async function tokenRequest(base: string, params: Record<string, string>) {
  const res = await fetch(`${base}/api/auth/oauth2/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(params),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** A code obtained by hand (register, PKCE pair, authorize as the user). */
async function manualCode(
  base: string,
  user: Signed,
  options: { resource?: string | null } = {},
): Promise<{ clientId: string; code: string; verifier: string }> {
  const registered = await fetch(`${base}/api/auth/oauth2/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      client_name: "manual",
      redirect_uris: [REDIRECT_URI],
      token_endpoint_auth_method: "none",
      grant_types: ["authorization_code"],
      response_types: ["code"],
    }),
  });
  const client = (await registered.json()) as { client_id: string };
  assert.ok(registered.status === 200 || registered.status === 201, JSON.stringify(client));
  const verifier = randomBytes(32).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  const url = new URL(`${base}/api/auth/oauth2/authorize`);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: client.client_id,
    redirect_uri: REDIRECT_URI,
    scope: "tasks:read",
    state: randomBytes(8).toString("hex"),
    code_challenge: challenge,
    code_challenge_method: "S256",
  }).toString();
  if (options.resource !== null) {
    url.searchParams.set("resource", options.resource ?? `${base}/mcp`);
  }
  const code = await authorizeAsUser(base, user, url, undefined);
  return { clientId: client.client_id, code, verifier };
}

for (const backend of await availableBackends()) {
  describe(`MCP authorization flow (OAuth 2.1) [${backend}]`, () => {
    let t: TestApp;
    let base: string;
    const clients: Client[] = [];
    before(async () => {
      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      t = await startTestApp(backend, { BETTER_AUTH_URL: base, HOST: "127.0.0.1" });
      await t.app.listen({ port, host: "127.0.0.1" });
    });
    after(async () => {
      for (const client of clients) await client.close();
      await t.close();
    });

    test("discovery: 401 with resource_metadata, RFC 9728 and RFC 8414 documents", async () => {
      const res = await fetch(`${base}/mcp`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
      });
      assert.equal(res.status, 401);
      const challenge = res.headers.get("www-authenticate") ?? "";
      assert.match(
        challenge,
        new RegExp(
          `^Bearer resource_metadata="${base}/\\.well-known/oauth-protected-resource/mcp"`,
        ),
      );
      assert.doesNotMatch(challenge, /invalid_token/, "no token sent: no token error");

      for (const path of ["", "/mcp"]) {
        const prm = await fetch(`${base}/.well-known/oauth-protected-resource${path}`);
        assert.equal(prm.status, 200);
        assert.deepEqual(await prm.json(), {
          resource: `${base}/mcp`,
          authorization_servers: [`${base}/api/auth`],
          scopes_supported: ["tasks:read", "tasks:write", "offline_access"],
          bearer_methods_supported: ["header"],
          resource_name: "Tasktalk MCP",
        });
      }
      for (const path of ["", "/api/auth"]) {
        const as = await fetch(`${base}/.well-known/oauth-authorization-server${path}`);
        assert.equal(as.status, 200);
        const meta = (await as.json()) as Record<string, unknown>;
        assert.equal(meta.issuer, `${base}/api/auth`);
        assert.equal(meta.authorization_endpoint, `${base}/api/auth/oauth2/authorize`);
        assert.equal(meta.token_endpoint, `${base}/api/auth/oauth2/token`);
        assert.equal(meta.registration_endpoint, `${base}/api/auth/oauth2/register`);
        assert.deepEqual(meta.code_challenge_methods_supported, ["S256"]);
      }
    });

    test("SDK client: read-only grant reads but cannot write; tasks:write then writes; refresh works", async () => {
      const user = await signUpWithCookie(base);
      const provider = new TestProvider(base, user);
      provider.grant = "tasks:read offline_access"; // the user allows read-only
      const readOnly = await connectWithOAuth(base, provider);
      clients.push(readOnly);
      assert.ok(provider.consentShown, "the consent page was shown");
      assert.ok(provider.clientInfo?.client_id, "registered dynamically (RFC 7591)");
      assert.equal(
        provider.savedTokens?.scope?.split(" ").sort().join(" "),
        "offline_access tasks:read",
      );
      assert.match(provider.savedTokens?.access_token ?? "", /^ttat_/);

      assert.match(readOnly.getInstructions() ?? "", /read-only \(scope tasks:read\)/);
      const listed = await call(readOnly, "list_tasks", {});
      assert.equal(listed.isError, undefined, JSON.stringify(listed));
      const added = await call(readOnly, "add_task", { title: "should not exist" });
      assert.equal(errorCode(added), "insufficient_scope", JSON.stringify(added));
      const rest = await fetch(`${base}/api/tasks`, { headers: user.headers });
      assert.deepEqual(((await rest.json()) as { items: unknown[] }).items, []);

      // Re-authorize with write: a fresh grant, the consent page asks again (more scope).
      provider.savedTokens = undefined;
      provider.grant = undefined;
      provider.consentShown = false;
      const writer = await connectWithOAuth(base, provider);
      clients.push(writer);
      assert.ok(provider.consentShown, "more scope: consent asked again");
      const written = await call(writer, "add_task", { title: "Water the plants" });
      assert.equal(written.isError, undefined, JSON.stringify(written));
      const after = await fetch(`${base}/api/tasks`, { headers: user.headers });
      const titles = ((await after.json()) as { items: { title: string }[] }).items.map(
        (i) => i.title,
      );
      assert.deepEqual(titles, ["Water the plants"]);

      // Refresh: a new access token from the refresh token; the old one stops working.
      const old = provider.tokens();
      assert.ok(old?.refresh_token, "offline_access: a refresh token was issued");
      assert.match(old.refresh_token, /^ttrt_/);
      const refreshed = await tokenRequest(base, {
        grant_type: "refresh_token",
        refresh_token: old.refresh_token,
        client_id: String(provider.clientInfo?.client_id),
        resource: `${base}/mcp`,
      });
      assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
      assert.notEqual(refreshed.body.access_token, old.access_token);
      provider.savedTokens = refreshed.body as unknown as OAuthTokens;
      const again = await connectWithTokens(base, provider);
      clients.push(again);
      const listedAgain = await call(again, "list_tasks", {});
      assert.equal(listedAgain.isError, undefined, JSON.stringify(listedAgain));
    });

    test("a wrong PKCE verifier is refused at the token endpoint", async () => {
      const user = await signUpWithCookie(base);
      const { clientId, code } = await manualCode(base, user);
      const refused = await tokenRequest(base, {
        grant_type: "authorization_code",
        code,
        client_id: clientId,
        redirect_uri: REDIRECT_URI,
        code_verifier: randomBytes(32).toString("base64url"),
        resource: `${base}/mcp`,
      });
      assert.ok([400, 401].includes(refused.status), JSON.stringify(refused.body));
      assert.match(String(refused.body.error_description), /code verification failed/);
      assert.equal(refused.body.access_token, undefined);
    });

    test("a token for another resource, or none, is refused at /mcp", async () => {
      const user = await signUpWithCookie(base);
      // Another resource is not one this server issues tokens for.
      const { clientId, code, verifier } = await manualCode(base, user);
      const other = await tokenRequest(base, {
        grant_type: "authorization_code",
        code,
        client_id: clientId,
        redirect_uri: REDIRECT_URI,
        code_verifier: verifier,
        resource: `${base}/api/tasks`,
      });
      assert.equal(other.status, 400, JSON.stringify(other.body));

      // A token issued without the MCP resource is not for /mcp (audience binding).
      const second = await manualCode(base, user, { resource: null });
      const unbound = await tokenRequest(base, {
        grant_type: "authorization_code",
        code: second.code,
        client_id: second.clientId,
        redirect_uri: REDIRECT_URI,
        code_verifier: second.verifier,
      });
      assert.equal(unbound.status, 200, JSON.stringify(unbound.body));
      const res = await fetch(`${base}/mcp`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${unbound.body.access_token}`,
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
        },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
      });
      assert.equal(res.status, 401);
      assert.match(res.headers.get("www-authenticate") ?? "", /error="invalid_token"/);
      assert.match(
        ((await res.json()) as { detail: string }).detail,
        /not issued for this resource/,
      );

      // An OAuth token is for /mcp only: the REST API refuses it.
      const bound = await manualCode(base, user);
      const ok = await tokenRequest(base, {
        grant_type: "authorization_code",
        code: bound.code,
        client_id: bound.clientId,
        redirect_uri: REDIRECT_URI,
        code_verifier: bound.verifier,
        resource: `${base}/mcp`,
      });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      const rest = await fetch(`${base}/api/tasks`, {
        headers: { authorization: `Bearer ${ok.body.access_token}` },
      });
      assert.equal(rest.status, 401);
      // The client itself asked for tasks:read only: the token reads at /mcp, never writes.
      assert.equal(ok.body.scope, "tasks:read");
      const reader = new Client({ name: "oauth-test", version: "1.0.0" });
      await reader.connect(
        new StreamableHTTPClientTransport(new URL(`${base}/mcp`), {
          requestInit: { headers: { authorization: `Bearer ${ok.body.access_token}` } },
        }),
      );
      clients.push(reader);
      assert.equal((await call(reader, "list_tasks", {})).isError, undefined);
      assert.equal(
        errorCode(await call(reader, "add_task", { title: "no" })),
        "insufficient_scope",
      );
    });

    test("API keys keep working, and a read-only key cannot write (MCP and REST)", async () => {
      const user = await signUpWithCookie(base);
      const res = await t.app.inject({
        method: "POST",
        url: "/api/api-keys",
        headers: user.headers,
        payload: { name: "reader", scopes: ["tasks:read"] },
      });
      assert.equal(res.statusCode, 201, res.body);
      const reader = res.json() as { key: string; scopes: string[] };
      assert.deepEqual(reader.scopes, ["tasks:read"]);
      const full = await createApiKey(t.app, {
        id: "",
        email: "",
        token: "",
        headers: user.headers,
      });

      const connect = async (key: string) => {
        const client = new Client({ name: "key-test", version: "1.0.0" });
        await client.connect(
          new StreamableHTTPClientTransport(new URL(`${base}/mcp`), {
            requestInit: { headers: { authorization: `Bearer ${key}` } },
          }),
        );
        clients.push(client);
        return client;
      };
      const readerClient = await connect(reader.key);
      assert.equal((await call(readerClient, "list_tasks", {})).isError, undefined);
      const refused = await call(readerClient, "add_task", { title: "no" });
      assert.equal(errorCode(refused), "insufficient_scope");
      const restWrite = await fetch(`${base}/api/tasks`, {
        method: "POST",
        headers: { authorization: `Bearer ${reader.key}`, "content-type": "application/json" },
        body: JSON.stringify({ title: "no" }),
      });
      assert.equal(restWrite.status, 403);
      assert.equal(((await restWrite.json()) as { code: string }).code, "insufficient_scope");
      const restRead = await fetch(`${base}/api/tasks`, {
        headers: { authorization: `Bearer ${reader.key}` },
      });
      assert.equal(restRead.status, 200);

      const fullClient = await connect(full.key);
      const added = await call(fullClient, "add_task", { title: "yes" });
      assert.equal(added.isError, undefined, JSON.stringify(added));
    });
  });
}
