import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { requireContext } from "../http/request-context.ts";
import * as service from "./user.service.ts";

const MeJson = z.object({
  id: z.string(),
  name: z.string(),
  email: z.string(),
  timezone: z.string(),
  timezone_set: z.boolean(),
});

/** The caller's own profile: who they are and the time zone "today" is computed in. */
export async function userRoutes(app: FastifyInstance) {
  app.removeContentTypeParser("text/plain");
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    "/api/me",
    { schema: { summary: "Who I am, and my time zone", response: { 200: MeJson } } },
    async (request) => service.getMe(requireContext(request)),
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
    async (request) => service.updateMe(requireContext(request), request.body),
  );
}
