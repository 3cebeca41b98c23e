import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import type { Config } from "../config.ts";
import type { RequestContext } from "../context.ts";
import type { Database } from "../db/client.ts";
import { AppError } from "../errors.ts";
import { requireContext, requireUser } from "../http/request-context.ts";
import { countMcpToolCall } from "../ops/metrics.ts";
import { checkHostAndOrigin, hostPolicy } from "./host-policy.ts";
import { createMcpServer } from "./mcp-server.ts";

/**
 * `POST /mcp`: MCP Streamable HTTP, stateless. Every request gets a NEW server and a NEW
 * transport bound to the caller, and answers with one JSON body (no SSE stream, no
 * session): any instance can serve any request, and nothing of one client can reach another.
 *
 * In order: the shared auth hook (a bearer token only — session token or API key — never
 * the cookie; else 401 problem+json with WWW-Authenticate), then Host and Origin (else
 * 403), then Fastify parses the JSON body within the app's bodyLimit (else 413), then the
 * SDK transport answers in JSON-RPC.
 */
export async function mcpRoutes(
  app: FastifyInstance,
  opts: { database: Database; config: Pick<Config, "host" | "auth"> },
) {
  const policy = hostPolicy(opts.config);
  const checkHost = async (request: FastifyRequest) => checkHostAndOrigin(policy, request);
  const config = { credentials: "bearer", door: "mcp" } as const;

  // Each request counts against the MCP quota (and needs MCP enabled for the account).
  const counted = { ...config, quota: "mcp" } as const;
  const jsonRpc = z.looseObject({ jsonrpc: z.literal("2.0") });
  const schema = {
    summary: "MCP Streamable HTTP (stateless, JSON answers): the five task tools",
    response: {
      200: {
        description: "A JSON-RPC response",
        content: { "application/json": { schema: jsonRpc } },
      },
      202: z.null().describe("A notification or response was accepted (no body)"),
      ...Object.fromEntries(
        [400, 406, 415].map((status) => [
          status,
          {
            description: "Refused by the MCP transport: a JSON-RPC error",
            content: { "application/json": { schema: jsonRpc } },
          },
        ]),
      ),
    },
    // forbidden: Host or Origin not this server's; the body is parsed as JSON (invalid_json,
    // payload_too_large, unsupported_media_type) before the transport reads it.
    errors: ["forbidden", "invalid_json", "payload_too_large", "unsupported_media_type"],
  } as const;
  app.post("/mcp", { config: counted, schema, onRequest: checkHost }, async (request, reply) => {
    await serveMcp(requireContext(request), request, reply);
    return reply;
  });

  // Stateless: no server-initiated stream to GET, no session to DELETE. Answered before any
  // body is read, so a DELETE carrying a body gets the same 405.
  const notAllowed = async (_request: FastifyRequest, reply: FastifyReply) => {
    reply.header("allow", "POST");
    throw new AppError("method_not_allowed", "This MCP endpoint is stateless: use POST");
  };
  for (const method of ["GET", "DELETE"] as const) {
    app.route({
      method,
      url: "/mcp",
      config,
      schema: {
        summary: "Not allowed: this MCP endpoint is stateless (use POST)",
        errors: ["forbidden", "method_not_allowed"],
      },
      onRequest: [checkHost, notAllowed],
      handler: notAllowed,
    });
  }
}

async function serveMcp(ctx: RequestContext, request: FastifyRequest, reply: FastifyReply) {
  const log = request.log;
  const server = createMcpServer({
    context: async () => ctx,
    scopes: requireUser(request).scopes,
    onError: (error, tool) => log.error({ err: error, tool, category: "mcp" }, "MCP tool failed"),
    onOutcome: (tool, outcome) => countMcpToolCall(ctx.db, tool, outcome),
  });
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
  });
  transport.onerror = (error) => log.warn({ err: error, category: "mcp" }, "MCP transport error");

  reply.hijack(); // from here on the SDK writes the response, not Fastify
  const res = reply.raw;
  res.setHeader("x-request-id", request.id);
  res.on("close", () => {
    server.close().catch((error: unknown) => log.warn({ err: error }, "closing MCP server"));
  });
  try {
    await server.connect(transport);
    await transport.handleRequest(request.raw, res, request.body);
  } catch (error) {
    log.error({ err: error, category: "mcp" }, "MCP request failed");
    if (!res.headersSent) {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          jsonrpc: "2.0",
          error: { code: -32603, message: "Internal error" },
          id: null,
        }),
      );
    } else if (!res.writableEnded) {
      res.end();
    }
  }
}
