import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Database } from "../db/client.ts";
import { AppError } from "../errors.ts";
import { requireContext } from "../http/request-context.ts";
import * as service from "./ical-feed.service.ts";

const FeedJson = z.object({
  url: z.string().describe("The secret feed URL: subscribe to it in a calendar app"),
});

/**
 * The read-only calendar feed: POST issues the secret URL (revoking the old one), DELETE
 * turns it off, and GET /ical/<token>.ics is the feed itself — public, the token is the
 * credential (a calendar app subscribing sends no other).
 */
export async function icalFeedRoutes(
  app: FastifyInstance,
  options: { baseURL: string; database: Database },
) {
  app.removeContentTypeParser("text/plain");
  const r = app.withTypeProvider<ZodTypeProvider>();
  const base = options.baseURL.replace(/\/+$/, "");

  r.post(
    "/api/ical-feed",
    {
      schema: {
        summary: "Issue the secret calendar feed URL (the previous one stops working)",
        response: { 201: FeedJson },
      },
    },
    async (request, reply) => {
      const token = await service.issueFeedToken(requireContext(request));
      reply.status(201).header("cache-control", "no-store");
      return { url: `${base}/ical/${token}.ics` };
    },
  );

  r.delete(
    "/api/ical-feed",
    {
      schema: {
        summary: "Turn the calendar feed off (its URL stops working)",
        response: { 204: z.null().describe("Turned off") },
        errors: ["not_found"],
      },
    },
    async (request, reply) => {
      if (!(await service.revokeFeed(requireContext(request)))) {
        throw new AppError("not_found", "There is no calendar feed to turn off");
      }
      return reply.status(204).send(null);
    },
  );

  app.get<{ Params: { file: string } }>(
    "/ical/:file",
    { config: { auth: "public" }, schema: { hide: true } },
    async (request, reply) => {
      const token = /^(.+)\.ics$/.exec(request.params.file)?.[1];
      const body = token ? await service.renderFeed(options.database.db, token) : undefined;
      if (body === undefined) throw new AppError("not_found", "No such calendar feed");
      return reply
        .type("text/calendar; charset=utf-8")
        .header("cache-control", "private, max-age=300")
        .send(body);
    },
  );
}
