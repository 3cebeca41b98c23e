import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { problems } from "../http/problem-json.ts";
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
        body: z.strictObject({ url, events: events.optional() }),
        response: { 201: NewWebhookJson, ...problems() },
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
    { schema: { response: { 200: z.object({ items: z.array(WebhookJson) }), ...problems() } } },
    async (request) => ({
      items: (await service.listWebhooks(requireContext(request))).map(toWebhookJson),
    }),
  );

  r.get(
    "/api/webhooks/:id",
    { schema: { params: IdParams, response: { 200: WebhookJson, ...problems(404) } } },
    async (request) =>
      toWebhookJson(await service.getWebhook(requireContext(request), request.params.id)),
  );

  r.patch(
    "/api/webhooks/:id",
    {
      schema: {
        params: IdParams,
        body: z.strictObject({
          url: url.optional(),
          events: events.optional(),
          active: z.boolean().optional(),
        }),
        response: { 200: WebhookJson, ...problems(404) },
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
    { schema: { params: IdParams, response: { 204: z.null(), ...problems(404) } } },
    async (request, reply) => {
      await service.deleteWebhook(requireContext(request), request.params.id);
      return reply.status(204).send(null);
    },
  );

  r.get(
    "/api/webhooks/:id/deliveries",
    {
      schema: {
        params: IdParams,
        querystring: z.strictObject({ limit: z.coerce.number().int().min(1).max(200).default(50) }),
        response: { 200: z.object({ items: z.array(DeliveryJson) }), ...problems(404) },
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
