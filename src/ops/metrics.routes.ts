import { createHash, timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import type { Database } from "../db/client.ts";
import { observeDbFailures } from "../db/transaction.ts";
import { AppError } from "../errors.ts";
import type { Jobs } from "../jobs/queue.ts";
import { bindMetrics, createMetrics } from "./metrics.ts";

/**
 * The app's metrics (`app.metrics`), the hook that counts every answered request, and
 * `GET /metrics` in the Prometheus text format. Called by buildApp before any route is
 * registered, so every route is counted and every plugin sees `app.metrics`.
 *
 * Who may scrape: with METRICS_TOKEN set, a caller sending `Authorization: Bearer <token>`
 * (else 401); without it, a client on the loopback interface only (else 403) — and not
 * one that arrives through a proxy on this host (a forwarding header is refused), since a
 * local reverse proxy would make every outside client look like loopback.
 */
export function registerMetrics(
  app: FastifyInstance,
  opts: { database: Database; token: string | undefined; jobs?: Jobs | undefined },
): void {
  const metrics = createMetrics(opts.database, opts.jobs);
  app.decorate("metrics", metrics);
  bindMetrics(opts.database.db, metrics);
  // The retry helpers are module functions without the app at hand: their observers are
  // process-wide (in a process with several apps, as in tests, each app counts them all).
  const unobserve = observeDbFailures({
    failure: (category) => metrics.dbFailure(category),
    retry: () => metrics.dbRetry(),
  });
  app.addHook("onClose", async () => {
    unobserve();
    metrics.registry.clear();
  });

  app.addHook("onResponse", async (request, reply) => {
    // The route pattern (bounded label values); unmatched URLs share one value.
    const route = request.routeOptions.url ?? "unmatched";
    metrics.httpRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
  });

  const expected = opts.token === undefined ? undefined : digest(opts.token);
  const schema = {
    summary: "Prometheus metrics (text format)",
    response: {
      200: {
        description: "The metrics of this instance",
        content: { "text/plain": { schema: z.string() } },
      },
    },
    // With METRICS_TOKEN: the token as a bearer (else 401); without: loopback only (else 403).
    security: [{ metricsToken: [] }, {}],
    errors: ["unauthorized", "forbidden"],
  } as const;
  app.get("/metrics", { config: { auth: "public" }, schema }, async (request, reply) => {
    if (expected) {
      const presented = /^Bearer (.+)$/i.exec(request.headers.authorization ?? "")?.[1];
      // Digests have one length, so the comparison takes the same time whatever was sent.
      if (!presented || !timingSafeEqual(digest(presented.trim()), expected)) {
        throw new AppError("unauthorized", "Send Authorization: Bearer <METRICS_TOKEN>");
      }
    } else if (!fromLoopback(request)) {
      throw new AppError(
        "forbidden",
        "Metrics are served to loopback clients only unless METRICS_TOKEN is set",
      );
    }
    reply.header("content-type", metrics.contentType).header("cache-control", "no-store");
    return metrics.scrape();
  });
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

function fromLoopback(request: FastifyRequest): boolean {
  const { headers } = request;
  if (headers["x-forwarded-for"] !== undefined || headers.forwarded !== undefined) return false;
  return isLoopback(request.ip) && isLoopback(request.socket.remoteAddress ?? "");
}

export function isLoopback(address: string): boolean {
  const v4 = address.startsWith("::ffff:") ? address.slice(7) : address;
  if (isIP(v4) === 4) return v4.startsWith("127.");
  return address === "::1";
}
