import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { toAppError } from "../db/db-errors.ts";
import { type Auth, MCP_SCOPES, mcpResource } from "./auth.ts";

/**
 * Discovery for the MCP authorization flow, at the site's root where MCP clients look:
 * - `/.well-known/oauth-protected-resource[/mcp]` (RFC 9728): the MCP endpoint is a
 *   resource whose tokens come from our authorization server;
 * - `/.well-known/oauth-authorization-server[/api/auth]` (RFC 8414): Better Auth's OAuth
 *   provider (issuer `<origin>/api/auth`), its endpoints, PKCE S256, registration.
 */
export async function oauthDiscoveryRoutes(app: FastifyInstance, opts: { auth: Auth }) {
  const baseURL = String(opts.auth.options.baseURL);
  const issuer = new URL("/api/auth", baseURL).href;
  const resource = {
    resource: mcpResource(baseURL),
    authorization_servers: [issuer],
    scopes_supported: [...MCP_SCOPES],
    bearer_methods_supported: ["header"],
    resource_name: "Tasktalk MCP",
  };
  const ResourceJson = z.object({
    resource: z.string(),
    authorization_servers: z.array(z.string()),
    scopes_supported: z.array(z.string()),
    bearer_methods_supported: z.array(z.string()),
    resource_name: z.string(),
  });
  const ServerJson = z.looseObject({
    issuer: z.string(),
    authorization_endpoint: z.string(),
    token_endpoint: z.string(),
    registration_endpoint: z.string().optional(),
    scopes_supported: z.array(z.string()).optional(),
    response_types_supported: z.array(z.string()),
    grant_types_supported: z.array(z.string()),
    code_challenge_methods_supported: z.array(z.string()),
  });
  const r = app.withTypeProvider<ZodTypeProvider>();
  const config = { auth: "public" } as const;
  for (const url of [
    "/.well-known/oauth-protected-resource",
    "/.well-known/oauth-protected-resource/mcp",
  ]) {
    r.get(
      url,
      {
        config,
        schema: {
          summary: "OAuth protected resource metadata of the MCP endpoint (RFC 9728)",
          tags: ["oauth"],
          response: { 200: ResourceJson },
        },
      },
      async (_request, reply) => {
        reply.header("cache-control", "public, max-age=3600");
        return resource;
      },
    );
  }
  for (const url of [
    "/.well-known/oauth-authorization-server",
    "/.well-known/oauth-authorization-server/api/auth",
  ]) {
    r.get(
      url,
      {
        config,
        schema: {
          summary: "OAuth authorization server metadata (RFC 8414)",
          tags: ["oauth"],
          response: { 200: ServerJson },
          errors: ["database_unavailable", "database_timeout"],
        },
      },
      async (_request, reply) => {
        let metadata: z.infer<typeof ServerJson>;
        try {
          metadata = { ...(await opts.auth.api.getOAuthServerConfig()) };
        } catch (error) {
          throw toAppError(error);
        }
        reply.header("cache-control", "public, max-age=3600");
        return metadata;
      },
    );
  }
}
