import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { AccessJson, ROLES, toAccessJson } from "../admin/features.ts";
import { requireContext, requireUser } from "../http/request-context.ts";
import * as service from "./user.service.ts";

const MeJson = z.object({
  id: z.string(),
  name: z.string(),
  email: z.string(),
  timezone: z.string(),
  timezone_set: z.boolean(),
  role: z.enum(ROLES),
  /** What this account may do: feature switches and quotas in force (set by an admin). */
  access: AccessJson,
});

/** The caller's own profile: who they are and the time zone "today" is computed in. */
export async function userRoutes(app: FastifyInstance) {
  app.removeContentTypeParser("text/plain");
  const r = app.withTypeProvider<ZodTypeProvider>();

  const withAccess = (request: FastifyRequest, me: service.Me) => {
    const { access } = requireUser(request);
    return { ...me, role: access.role, access: toAccessJson(access) };
  };

  r.get(
    "/api/me",
    { schema: { summary: "Who I am, my time zone, role and access", response: { 200: MeJson } } },
    async (request) => withAccess(request, await service.getMe(requireContext(request))),
  );

  r.patch(
    "/api/me",
    {
      schema: {
        summary: "Set my time zone (an IANA name)",
        // Strict: name, email, id… are not changed here (Better Auth owns them).
        body: z.strictObject({ timezone: z.string().min(1).max(100) }),
        response: { 200: MeJson },
      },
    },
    async (request) =>
      withAccess(request, await service.updateMe(requireContext(request), request.body)),
  );
}
