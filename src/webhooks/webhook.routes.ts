import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { requireContext } from "../http/request-context.ts";
import * as service from "./webhook.service.ts";
import {
  DeliveryJson,
  NewWebhookJson,
  toDeliveryJson,
  toWebhookJson,
  WEBHOOK_EVENTS,
  WebhookJson,
} from "./webhook.ts";

const IdParams = z.strictObject({ id: z.uuid() });
const events = z.array(z.enum(WEBHOOK_EVENTS)).max(WEBHOOK_EVENTS.length);
const url = z.string().trim().min(1).max(2000);

/** The caller's webhook endpoints and their delivery logs. */
export async function webhookRoutes(app: FastifyInstance, options: { allowPrivate: boolean }) {
  app.removeContentTypeParser("text/plain");
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { allowPrivate } = options;

  r.post(
    "/api/webhooks",
    {
      schema: {
        summary: "Register a webhook endpoint (its signing secret is in this answer only)",
        body: z.strictObject({ url, events: events.optional() }),
        response: { 201: NewWebhookJson },
      },
    },
    async (request, reply) => {
      const hook = await service.createWebhook(requireContext(request), request.body, allowPrivate);
      // The signing secret is in this one response: keep it out of every cache.
      reply.status(201).header("cache-control", "no-store");
      return { ...toWebhookJson(hook), secret: hook.secret };
    },
  );

  r.get(
    "/api/webhooks",
    {
      schema: {
        summary: "The caller's webhook endpoints",
        response: { 200: z.object({ items: z.array(WebhookJson) }) },
      },
    },
    async (request) => ({
      items: (await service.listWebhooks(requireContext(request))).map(toWebhookJson),
    }),
  );

  r.get(
    "/api/webhooks/:id",
    {
      schema: {
        summary: "One webhook endpoint",
        params: IdParams,
        response: { 200: WebhookJson },
        errors: ["not_found"],
      },
    },
    async (request) =>
      toWebhookJson(await service.getWebhook(requireContext(request), request.params.id)),
  );

  r.patch(
    "/api/webhooks/:id",
    {
      schema: {
        summary: "Change a webhook endpoint (url, events, active)",
        params: IdParams,
        body: z.strictObject({
          url: url.optional(),
          events: events.optional(),
          active: z.boolean().optional(),
        }),
        response: { 200: WebhookJson },
        errors: ["not_found"],
      },
    },
    async (request) =>
      toWebhookJson(
        await service.updateWebhook(
          requireContext(request),
          request.params.id,
          request.body,
          allowPrivate,
        ),
      ),
  );

  r.delete(
    "/api/webhooks/:id",
    {
      schema: {
        summary: "Delete a webhook endpoint",
        params: IdParams,
        response: { 204: z.null().describe("Deleted") },
        errors: ["not_found"],
      },
    },
    async (request, reply) => {
      await service.deleteWebhook(requireContext(request), request.params.id);
      return reply.status(204).send(null);
    },
  );

  r.get(
    "/api/webhooks/:id/deliveries",
    {
      schema: {
        summary: "An endpoint's newest deliveries",
        params: IdParams,
        querystring: z.strictObject({ limit: z.coerce.number().int().min(1).max(200).default(50) }),
        response: { 200: z.object({ items: z.array(DeliveryJson) }) },
        errors: ["not_found"],
      },
    },
    async (request) => ({
      items: (
        await service.listDeliveries(
          requireContext(request),
          request.params.id,
          request.query.limit,
        )
      ).map(toDeliveryJson),
    }),
  );
}
