import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { RequestContext } from "../context.ts";
import { AppError } from "../errors.ts";
import { requireContext, requireUser } from "../http/request-context.ts";
import * as service from "./admin.service.ts";
import { AccessJson, FeaturesJson, type QuotaLimits, ROLES } from "./features.ts";

const AdminUserJson = z.object({
  id: z.string(),
  name: z.string(),
  email: z.string(),
  role: z.enum(ROLES),
  banned: z.boolean(),
  ban_reason: z.string().nullable(),
  ban_expires: z.string().nullable(),
  created_at: z.string(),
  usage: z.object({
    tasks: z.int().describe("Tasks the user has"),
    conversations: z.int().describe("Conversations the user has"),
    turns_today: z.int().describe("Chat messages the user sent today, in their time zone"),
  }),
  features: FeaturesJson.describe("The user's own settings (left out = inherited)"),
});
const FeaturesView = z.object({ features: FeaturesJson, effective: AccessJson });
/**
 * What every admin route answers besides the standard errors (and `admin_required`, added
 * for `config: { role: "admin" }`): an API key is refused (403 forbidden, reads included),
 * and the user named is not found.
 */
const ERRORS = ["forbidden", "not_found"] as const;
/** …and what an admin may not do to their own account (ban, revoke, demote, delete): 409. */
const SELF_ERRORS = [...ERRORS, "conflict"] as const;

const UserParams = z.strictObject({ user_id: z.string().min(1).max(200) });
const RoleParams = z.strictObject({ role: z.enum(ROLES) });

/**
 * /api/admin/*: account administration, for admins with a signed-in session (an API key
 * cannot administer: a leaked key must not be able to disable or delete accounts). Every
 * route answers 403 `admin_required` to anyone else. No route returns a user's tasks,
 * conversations or messages: only the account and counts.
 */
export async function adminRoutes(app: FastifyInstance, opts: { quotaDefaults: QuotaLimits }) {
  app.removeContentTypeParser("text/plain");
  const r = app.withTypeProvider<ZodTypeProvider>();
  const config = { role: "admin" } as const;
  const ctx = (request: FastifyRequest): RequestContext => {
    if (requireUser(request).via !== "session") {
      throw new AppError("forbidden", "Administration needs a signed-in session, not an API key");
    }
    return requireContext(request);
  };

  r.get(
    "/api/admin/users",
    {
      config,
      schema: {
        querystring: z.strictObject({
          limit: z.coerce.number().int().min(1).max(100).optional(),
          cursor: z.string().max(300).optional(),
          q: z.string().trim().min(1).max(200).optional(),
        }),
        response: {
          200: z.object({ items: z.array(AdminUserJson), next_cursor: z.string().nullable() }),
        },
        errors: ["forbidden"],
      },
    },
    async (request) => service.listUsers(ctx(request), request.query),
  );

  r.get(
    "/api/admin/users/:user_id",
    { config, schema: { params: UserParams, response: { 200: AdminUserJson }, errors: ERRORS } },
    async (request) => service.getUser(ctx(request), request.params.user_id),
  );

  r.post(
    "/api/admin/users/:user_id/ban",
    {
      config,
      schema: {
        params: UserParams,
        body: z
          .strictObject({
            reason: z.string().trim().min(1).max(500).optional(),
            expires_in_seconds: z
              .int()
              .min(60)
              .max(10 * 365 * 86_400)
              .optional(),
          })
          // No body at all is a ban without a reason or an end (Fastify gives null).
          .nullish(),
        response: { 200: AdminUserJson },
        errors: SELF_ERRORS,
      },
    },
    async (request) => service.banUser(ctx(request), request.params.user_id, request.body ?? {}),
  );

  r.post(
    "/api/admin/users/:user_id/unban",
    { config, schema: { params: UserParams, response: { 200: AdminUserJson }, errors: ERRORS } },
    async (request) => service.unbanUser(ctx(request), request.params.user_id),
  );

  r.post(
    "/api/admin/users/:user_id/revoke-sessions",
    {
      config,
      schema: {
        params: UserParams,
        response: { 200: z.object({ sessions_revoked: z.int() }) },
        errors: SELF_ERRORS,
      },
    },
    async (request) => ({
      sessions_revoked: await service.revokeSessions(ctx(request), request.params.user_id),
    }),
  );

  r.put(
    "/api/admin/users/:user_id/role",
    {
      config,
      schema: {
        params: UserParams,
        body: z.strictObject({ role: z.enum(ROLES) }),
        response: { 200: AdminUserJson },
        errors: SELF_ERRORS,
      },
    },
    async (request) => service.setRole(ctx(request), request.params.user_id, request.body.role),
  );

  r.delete(
    "/api/admin/users/:user_id",
    {
      config,
      schema: {
        params: UserParams,
        response: { 204: z.null().describe("Deleted, with everything the user had") },
        errors: SELF_ERRORS,
      },
    },
    async (request, reply) => {
      await service.deleteUser(ctx(request), request.params.user_id);
      return reply.status(204).send(null);
    },
  );

  r.get(
    "/api/admin/users/:user_id/features",
    { config, schema: { params: UserParams, response: { 200: FeaturesView }, errors: ERRORS } },
    async (request) =>
      service.getUserFeatures(ctx(request), request.params.user_id, opts.quotaDefaults),
  );

  r.put(
    "/api/admin/users/:user_id/features",
    {
      config,
      schema: {
        params: UserParams,
        body: FeaturesJson,
        response: { 200: FeaturesView },
        errors: ERRORS,
      },
    },
    async (request) =>
      service.putUserFeatures(
        ctx(request),
        request.params.user_id,
        request.body,
        opts.quotaDefaults,
      ),
  );

  r.get(
    "/api/admin/roles/:role/features",
    {
      config,
      schema: {
        params: RoleParams,
        response: { 200: z.object({ features: FeaturesJson }) },
        errors: ["forbidden"],
      },
    },
    async (request) => ({
      features: await service.getRoleFeatures(ctx(request), request.params.role),
    }),
  );

  r.put(
    "/api/admin/roles/:role/features",
    {
      config,
      schema: {
        params: RoleParams,
        body: FeaturesJson,
        response: { 200: z.object({ features: FeaturesJson }) },
        errors: ["forbidden"],
      },
    },
    async (request) => ({
      features: await service.putRoleFeatures(ctx(request), request.params.role, request.body),
    }),
  );
}
