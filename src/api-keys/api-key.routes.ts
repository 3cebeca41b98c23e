import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { RequestContext } from "../context.ts";
import { AppError } from "../errors.ts";
import { requireContext, requireUser } from "../http/request-context.ts";
import * as service from "./api-key.service.ts";
import { apiKeyName, toApiKeyJson } from "./api-key.ts";

const ApiKeyJson = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
  created_at: z.string(),
  last_used_at: z.string().nullable(),
});
const CreatedJson = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
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
        body: z.strictObject({ name: apiKeyName }),
        response: { 201: CreatedJson },
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
    { schema: { response: { 200: z.object({ items: z.array(ApiKeyJson) }) } } },
    async (request) => ({
      items: (await service.listApiKeys(ctx(request))).map(toApiKeyJson),
    }),
  );

  r.delete("/api/api-keys/:key_id", { schema: { params: KeyParams } }, async (request, reply) => {
    await service.revokeApiKey(ctx(request), request.params.key_id);
    return reply.status(204).send();
  });
}
