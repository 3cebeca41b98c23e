import type { FastifyInstance } from "fastify";
import { AppError } from "../errors.ts";
import { sendProblem } from "../http/problem.ts";

/**
 * Where a stopping instance is: `serving` (normal), `grace` (readiness fails so load
 * balancers take the instance out, but every request is still served), `closing` (no
 * longer accepting; requests that still arrive on an open connection are refused).
 */
export type ShutdownPhase = "serving" | "grace" | "closing";

export interface ShutdownState {
  readonly phase: ShutdownPhase;
  enter(phase: Exclude<ShutdownPhase, "serving">): void;
}

declare module "fastify" {
  interface FastifyInstance {
    shutdown: ShutdownState;
  }
}

/**
 * Registers the shutdown state on the root instance (before any route plugin, so the
 * hooks cover every route and the not-found handler). Once shutdown has begun, every
 * response says `Connection: close`, so clients and balancers open their next connection
 * to another instance instead of reusing this one. While closing, a request is refused
 * with our own 503 `shutting_down` (problem+json, Retry-After): Fastify's
 * return503OnClosing is off because its body is not in our error format.
 */
export function registerShutdown(app: FastifyInstance): void {
  let phase: ShutdownPhase = "serving";
  const state: ShutdownState = {
    get phase() {
      return phase;
    },
    enter(next) {
      // Only forward: a grace period asked for after closing began changes nothing.
      if (phase === "closing") return;
      phase = next;
    },
  };
  app.decorate("shutdown", state);
  app.addHook("onRequest", async (request, reply) => {
    if (phase === "serving") return;
    reply.header("connection", "close");
    if (phase === "closing") {
      // Answered here rather than thrown: a refusal while stopping is expected, not an
      // error to log with a stack.
      const refusal = new AppError(
        "shutting_down",
        "This instance is shutting down; send the request again",
      );
      return sendProblem(reply, request, refusal);
    }
  });
  // Requests already in flight when shutdown began answer with `Connection: close` too.
  // A callback hook, not async: an async onSend defers every send by a tick, and a
  // handler that calls reply.send() without returning the reply would then answer twice.
  app.addHook("onSend", (_request, reply, payload, done) => {
    if (phase !== "serving" && !reply.raw.headersSent) reply.header("connection", "close");
    done(null, payload);
  });
}
