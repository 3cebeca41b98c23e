import type { FastifyInstance, FastifyRequest } from "fastify";
import { toAppError } from "../db/db-errors.ts";
import { AppError } from "../errors.ts";
import type { Auth } from "./auth.ts";

export interface RequestUser {
  id: string;
  email: string;
  name: string;
}

/** Who may call a route: "user" (the default) needs a session; "public" does not. */
export type RouteAuth = "user" | "public";

declare module "fastify" {
  interface FastifyContextConfig {
    auth?: RouteAuth;
  }
  interface FastifyRequest {
    user: RequestUser | undefined;
  }
}

/**
 * Authentication is on for every route unless the route says `config: { auth: "public" }`:
 * a new route cannot be left open by forgetting a hook.
 */
export function registerRequestUser(app: FastifyInstance, auth: Auth): void {
  app.decorateRequest("user", undefined);
  app.addHook("onRoute", (route) => {
    if (route.config?.auth === "public") return;
    // onRequest: before the body is read or validated, so an anonymous caller learns
    // nothing but 401 and cannot make the server parse a large body.
    const existing = route.onRequest;
    const authenticate = async (request: FastifyRequest) => {
      request.user = await sessionUser(auth, request);
    };
    route.onRequest = existing
      ? [authenticate, ...(Array.isArray(existing) ? existing : [existing])]
      : [authenticate];
  });
}

/** Reads the session from the cookie or bearer token; a database failure is a 503, not a 401. */
export async function sessionUser(auth: Auth, request: FastifyRequest): Promise<RequestUser> {
  const headers = new Headers();
  const { authorization, cookie } = request.headers;
  if (authorization) headers.set("authorization", authorization);
  if (cookie) headers.set("cookie", cookie);
  if (!authorization && !cookie)
    throw new AppError("unauthorized", "Sign in, or send a bearer token");
  let result: Awaited<ReturnType<Auth["api"]["getSession"]>>;
  try {
    result = await auth.api.getSession({ headers });
  } catch (error) {
    throw toAppError(error);
  }
  if (!result) throw new AppError("unauthorized", "The session is missing, expired or invalid");
  return { id: result.user.id, email: result.user.email, name: result.user.name };
}

/** The signed-in user of a request on an authenticated route. */
export function requireUser(request: FastifyRequest): RequestUser {
  if (!request.user) throw new AppError("unauthorized");
  return request.user;
}
