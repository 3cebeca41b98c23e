import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { RequestContext } from "../context.ts";
import { AppError } from "../errors.ts";
import { SECURITY } from "../http/openapi.ts";
import { requireContext, requireUser } from "../http/request-context.ts";
import * as service from "./api-key.service.ts";
import { apiKeyName, apiKeyScopes, toApiKeyJson } from "./api-key.ts";

const ApiKeyJson = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
  scopes: z.array(z.string()),
  created_at: z.string(),
  last_used_at: z.string().nullable(),
});
const CreatedJson = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
  scopes: z.array(z.string()),
  key: z.string(),
  created_at: z.string(),
});
const KeyParams = z.strictObject({ key_id: z.uuid() });

/**
 * Personal API keys. Managing keys needs a signed-in session: a key cannot mint, list or
 * revoke keys, so a leaked key cannot make itself permanent or lock its owner out.
 */
export async function apiKeyRoutes(app: FastifyInstance) {
  app.removeContentTypeParser("text/plain");
  const r = app.withTypeProvider<ZodTypeProvider>();
  const ctx = (request: FastifyRequest): RequestContext => {
    if (requireUser(request).via !== "session") {
      throw new AppError("forbidden", "API keys are managed with a signed-in session, not a key");
    }
    return requireContext(request);
  };

  r.post(
    "/api/api-keys",
    {
      config: { quota: "api_key_create" },
      schema: {
        summary: "Create a personal API key (the key is shown once)",
        body: z.strictObject({ name: apiKeyName, scopes: apiKeyScopes.optional() }),
        response: { 201: CreatedJson },
        security: SECURITY.session,
        // forbidden: a key cannot manage keys; conflict: the per-user maximum is reached.
        errors: ["forbidden", "conflict"],
      },
    },
    async (request, reply) => {
      const { apiKey, key } = await service.createApiKey(ctx(request), request.body);
      // The secret is in this one response: keep it out of every cache.
      reply.status(201).header("cache-control", "no-store");
      const { last_used_at: _, ...json } = toApiKeyJson(apiKey);
      return { ...json, key };
    },
  );

  r.get(
    "/api/api-keys",
    {
      schema: {
        summary: "My API keys (never their secrets)",
        response: { 200: z.object({ items: z.array(ApiKeyJson) }) },
        security: SECURITY.session,
        errors: ["forbidden"],
      },
    },
    async (request) => ({
      items: (await service.listApiKeys(ctx(request))).map(toApiKeyJson),
    }),
  );

  r.delete(
    "/api/api-keys/:key_id",
    {
      schema: {
        summary: "Revoke an API key",
        params: KeyParams,
        response: { 204: z.null().describe("Revoked") },
        security: SECURITY.session,
        errors: ["forbidden", "not_found"],
      },
    },
    async (request, reply) => {
      await service.revokeApiKey(ctx(request), request.params.key_id);
      return reply.status(204).send(null);
    },
  );
}
