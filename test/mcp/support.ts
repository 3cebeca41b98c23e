import { request as httpRequest } from "node:http";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { FastifyInstance } from "fastify";
import type { TestUser } from "../support/app.ts";

/** The official SDK client over real HTTP, sending `headers` on every request. */
export async function connectClient(
  baseUrl: string,
  headers: Record<string, string>,
): Promise<Client> {
  const client = new Client({ name: "tasktalk-test", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(`${baseUrl}/mcp`), {
    requestInit: { headers },
  });
  await client.connect(transport);
  return client;
}

/** Calls a tool and returns the result with its content narrowed to what we send. */
export async function callTool(
  client: Client,
  name: string,
  args: Record<string, unknown>,
): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

/** The JSON of the first (text) content block. */
export function textJson(result: CallToolResult): unknown {
  const first = result.content[0];
  if (first?.type !== "text") throw new Error(`no text content: ${JSON.stringify(result)}`);
  return JSON.parse(first.text);
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json(): unknown;
}

/**
 * One raw HTTP request with node:http, so that Host and Origin are exactly what the test
 * says (fetch would not let a test forge Host).
 */
export function rawRequest(
  baseUrl: string,
  options: {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string;
  },
): Promise<RawResponse> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: options.method ?? "POST",
        path: options.path ?? "/mcp",
        headers: options.headers,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const body = Buffer.concat(chunks).toString("utf8");
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            json: () => JSON.parse(body),
          });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

/** Headers of a JSON-RPC POST as an MCP client sends them. */
export function rpcHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return {
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
    "mcp-protocol-version": "2025-06-18",
    ...extra,
  };
}

/** A JSON-RPC tools/call request body. */
export function toolCallBody(id: number | string, name: string, args: Record<string, unknown>) {
  return JSON.stringify({
    jsonrpc: "2.0",
    id,
    method: "tools/call",
    params: { name, arguments: args },
  });
}

/** Creates a personal API key for the user through the REST API; returns the secret. */
export async function createApiKey(
  app: FastifyInstance,
  user: TestUser,
  name = "test key",
): Promise<{ id: string; key: string }> {
  const res = await app.inject({
    method: "POST",
    url: "/api/api-keys",
    headers: user.headers,
    payload: { name },
  });
  if (res.statusCode !== 201) throw new Error(`create key: ${res.statusCode} ${res.body}`);
  return res.json() as { id: string; key: string };
}
