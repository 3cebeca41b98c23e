import { randomUUID } from "node:crypto";
import Fastify, { type FastifyInstance } from "fastify";
import { serializerCompiler, validatorCompiler } from "fastify-type-provider-zod";
import { activityRoutes } from "./activity/activity.routes.ts";
import { adminRoutes } from "./admin/admin.routes.ts";
import { apiKeyRoutes } from "./api-keys/api-key.routes.ts";
import { authRoutes } from "./auth/auth.routes.ts";
import type { Auth } from "./auth/auth.ts";
import { oauthDiscoveryRoutes } from "./auth/oauth.routes.ts";
import { registerRequestUser } from "./auth/request-user.ts";
import { addDavMethods, caldavRoutes } from "./caldav/caldav.routes.ts";
import { icalFeedRoutes } from "./caldav/ical-feed.routes.ts";
import { chatRoutes } from "./chat/chat.routes.ts";
import type { TurnDeps } from "./chat/turn.ts";
import type { Config } from "./config.ts";
import { conversationRoutes } from "./conversations/conversation.routes.ts";
import type { Database } from "./db/client.ts";
import { clientErrorHandler, limitConnectionsPerAddress } from "./http/connections.ts";
import { loggerOptions, OneLinePerRequest } from "./http/log.ts";
import { openApiRoutes, registerOpenApi } from "./http/openapi.ts";
import { registerProblemHandlers, sendProblem, toHttpError } from "./http/problem.ts";
import type { RouteAuth } from "./http/request-context.ts";
import { registerStrictUtf8 } from "./http/utf8.ts";
import type { Jobs } from "./jobs/queue.ts";
import { mcpRoutes } from "./mcp/mcp.routes.ts";
import { createModelCatalog } from "./models/catalog.ts";
import { modelRoutes } from "./models/model.routes.ts";
import { notificationRoutes } from "./notifications/notification.routes.ts";
import { healthRoutes } from "./ops/health.routes.ts";
import { registerMetrics } from "./ops/metrics.routes.ts";
import { registerShutdown } from "./ops/shutdown.ts";
import { portabilityRoutes } from "./portability/portability.routes.ts";
import { registerQuotaHooks } from "./quotas/quota.hook.ts";
import { createQuotas } from "./quotas/quotas.ts";
import { reminderRoutes } from "./reminders/reminder.routes.ts";
import { searchRoutes } from "./search/search.routes.ts";
import { taskRoutes } from "./tasks/task.routes.ts";
import { userRoutes } from "./users/user.routes.ts";
import { webRoutes } from "./web/web.plugin.ts";
import { webhookRoutes } from "./webhooks/webhook.routes.ts";

export interface AppDeps {
  config: Config;
  database: Database;
  auth: Auth;
  /** The job queue (absent only in tests that build the app without a server). */
  jobs?: Jobs;
  /** Overrides the pino logger options (tests pass `false` or a stream). */
  logger?: boolean | object;
}

const REQUEST_ID = /^[\w.:-]{1,64}$/;

/** One registered route, as recorded at registration (tests sweep them: A1, A5, A7). */
export interface RouteInfo {
  method: string;
  url: string;
  auth: RouteAuth;
  /** "basic": HTTP Basic with an API key only (CalDAV); else a session or bearer token. */
  credentials: "any" | "bearer" | "basic";
}

declare module "fastify" {
  interface FastifyInstance {
    /** Every route of the app, in registration order. */
    routeList: readonly RouteInfo[];
  }
}

/** Builds the whole HTTP application without listening: tests `inject` into the real thing. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, database, auth } = deps;
  const app = Fastify({
    // Errors are logged through an allow-list serializer: no query parameters, prompts
    // or stored values (tokens, passwords, message text) reach a log line.
    logger: loggerOptions(config.logLevel, deps.logger),
    logController: new OneLinePerRequest(),
    bodyLimit: config.http.bodyLimit,
    // request.ip is the client behind trusted proxies only (TRUST_PROXY); the auth
    // rate limits key on it.
    trustProxy: config.http.trustProxy === false ? false : [...config.http.trustProxy],
    // Headers and body must arrive in time: a body trickled a byte at a time would hold
    // its socket (and a request slot) forever. Node checks the deadline periodically
    // (every 30 s by default); checking more often keeps the bound close to the setting.
    requestTimeout: config.http.requestTimeoutMs,
    http: {
      requestTimeout: config.http.requestTimeoutMs,
      headersTimeout: Math.min(60_000, config.http.requestTimeoutMs),
      connectionsCheckingInterval: Math.min(
        5000,
        Math.max(250, Math.floor(config.http.requestTimeoutMs / 10)),
      ),
    },
    clientErrorHandler,
    genReqId: (req) => {
      const incoming = req.headers["x-request-id"];
      return typeof incoming === "string" && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    // Close idle keep-alive sockets on close() instead of waiting out their timeout.
    forceCloseConnections: "idle",
    // Off: its 503 body is not problem+json. registerShutdown refuses with ours instead.
    return503OnClosing: false,
    // Bad URLs (invalid percent-encoding, an over-long id) are answered before routing:
    // they get the same problem body as every other error.
    frameworkErrors: (error, request, reply) => {
      reply.header("x-request-id", request.id);
      sendProblem(reply, request, toHttpError(error));
    },
    routerOptions: { maxParamLength: 200 },
  });
  limitConnectionsPerAddress(app.server, config.http.maxConnectionsPerIp);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.addHook("onRequest", async (request, reply) => {
    reply.header("x-request-id", request.id);
  });
  registerShutdown(app);
  registerProblemHandlers(app);
  registerStrictUtf8(app);
  // The OpenAPI generator sees every route; before the auth hook (the docs page is public).
  await registerOpenApi(app);
  registerRequestUser(app, auth, database.db, config.quotas.limits, deps.jobs);
  const routeList: RouteInfo[] = [];
  app.decorate("routeList", routeList);
  app.addHook("onRoute", (route) => {
    for (const method of [route.method].flat()) {
      routeList.push({
        method,
        url: route.url,
        auth: route.config?.auth ?? "user",
        credentials: route.config?.credentials ?? "any",
      });
    }
  });

  // app.metrics, the onResponse hook counting every request, and GET /metrics (after the
  // onRoute hook, so app.routeList has it).
  registerMetrics(app, { database, token: config.metrics.token, jobs: deps.jobs });
  // Per-user quotas and the MCP / API-key feature switches, on routes marked `quota`.
  const quotas = createQuotas(database.db, config.quotas.redisUrl);
  app.addHook("onClose", () => quotas.close());
  registerQuotaHooks(app, quotas, {
    enabled: config.quotas.enabled,
    onRejected: (quota) => app.metrics.quotaRejection(quota),
  });
  await app.register(healthRoutes, { database, jobs: deps.jobs });
  await app.register(authRoutes, { auth, database });
  await app.register(oauthDiscoveryRoutes, { auth });
  const models = createModelCatalog(config.llm);
  // The default model is built now (the offline one loads its language library, ~0.5 s),
  // not during the first turn; the others on first use.
  const defaultSpec = models.find(models.defaultId);
  if (defaultSpec) await models.languageModel(defaultSpec);
  await app.register(conversationRoutes, { models });
  await app.register(modelRoutes, { models });
  const turn: TurnDeps = {
    models,
    turnQueueMs: config.turnQueueMs,
    turnLeaseMs: config.turnLeaseMs,
    llm: config.llm,
    history: config.history,
  };
  await app.register(chatRoutes, {
    turn,
    db: database.db,
    bodyLimit: config.http.chatBodyLimit,
    quotas: config.quotas.enabled,
  });
  await app.register(taskRoutes);
  await app.register(activityRoutes);
  await app.register(searchRoutes);
  await app.register(apiKeyRoutes);
  await app.register(userRoutes);
  await app.register(adminRoutes, { quotaDefaults: config.quotas.limits });
  await app.register(portabilityRoutes, { bodyLimit: config.http.importBodyLimit });
  await app.register(reminderRoutes, { emailAvailable: config.smtp.url !== undefined });
  await app.register(notificationRoutes);
  await app.register(webhookRoutes, { allowPrivate: config.webhooks.allowPrivate });
  await app.register(mcpRoutes, { database, config });
  // Calendar apps (CalDAV, /dav/): WebDAV methods and XML/iCalendar bodies, its own plugin.
  addDavMethods(app);
  await app.register(caldavRoutes);
  await app.register(icalFeedRoutes, { baseURL: config.auth.baseURL, database });
  // The web page (web/dist): public `/` and `/assets/*` only.
  await app.register(webRoutes);
  // GET /openapi.json and the reference page at /docs.
  await app.register(openApiRoutes);
  return app;
}
