import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { AppError } from "../errors.ts";
import { requireUser } from "../http/request-context.ts";
import { type QuotaKind, type Quotas, rateLimitHeaders } from "./quotas.ts";

const WHAT: Record<QuotaKind, string> = {
  chat: "chat messages",
  task_write: "task changes",
  mcp: "MCP requests",
  api_key_create: "new API keys",
};

/**
 * Routes marked `config: { quota }` count each request against the caller's quota, after
 * authentication and validation (a refused or malformed request costs nothing) and before
 * the handler. The same hook enforces the feature switches of those doors: MCP and API-key
 * creation can be turned off per role or per user (403 feature_disabled).
 * Must be registered before the routes (it works through onRoute, like authentication).
 */
export function registerQuotaHooks(
  app: FastifyInstance,
  quotas: Quotas,
  options: { enabled: boolean; onRejected(quota: string): void },
): void {
  app.addHook("onRoute", (route) => {
    const kind = route.config?.quota;
    if (!kind) return;
    const check = async (request: FastifyRequest, reply: FastifyReply) => {
      const user = requireUser(request);
      if (kind === "mcp" && !user.access.mcp) {
        throw new AppError("feature_disabled", "MCP is not enabled for this account");
      }
      if (kind === "api_key_create" && !user.access.apiKeys) {
        throw new AppError("feature_disabled", "API keys are not enabled for this account");
      }
      if (!options.enabled) return;
      const outcome = await quotas.consume(kind, user.id, user.access.quotas);
      const headers = rateLimitHeaders(outcome.states);
      if (outcome.kind === "allowed") {
        // On the raw response: the chat stream and MCP write their heads themselves.
        for (const [name, value] of Object.entries(headers)) reply.raw.setHeader(name, value);
        return;
      }
      options.onRejected(outcome.quota);
      throw new AppError(
        "quota_exceeded",
        `Too many ${WHAT[kind]}: the ${outcome.quota} quota is used up; try again in ${outcome.retryAfterSeconds} s`,
        {
          headers: { ...headers, "retry-after": String(outcome.retryAfterSeconds) },
          extra: { quota: outcome.quota, retry_after: outcome.retryAfterSeconds },
        },
      );
    };
    const existing = route.preHandler;
    route.preHandler = existing
      ? [check, ...(Array.isArray(existing) ? existing : [existing])]
      : [check];
  });
}
