import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { AppError } from "../errors.ts";
import { requireContext, requireUser } from "../http/request-context.ts";
import { turnProbe } from "../ops/metrics.ts";
import { streamTurn } from "./sse.ts";
import { runTurn, startTurn } from "./turn.service.ts";
import type { TurnDeps } from "./turn.ts";
import { TurnJson, turnJson } from "./turn-json.ts";

export const MESSAGE_MAX = 8000;

const ChatBody = z.strictObject({
  message: z
    .string()
    .trim()
    .min(1, "message must not be empty")
    .max(MESSAGE_MAX)
    // PostgreSQL text cannot hold U+0000: refused here, before anything is stored.
    .refine((m) => !m.includes("\u0000"), "message must not contain NUL characters"),
  conversation_id: z.uuid().optional(),
  client_message_id: z.uuid().optional(),
});
type ChatBody = z.infer<typeof ChatBody>;

/** POST /api/chat and the seed's POST /api/{user_id}/chat: one turn, as JSON or SSE. */
export async function chatRoutes(app: FastifyInstance, opts: { turn: TurnDeps }) {
  const r = app.withTypeProvider<ZodTypeProvider>();

  const handle = async (request: FastifyRequest, reply: FastifyReply, body: ChatBody) => {
    const ctx = requireContext(request);
    const input = {
      message: body.message,
      conversationId: body.conversation_id,
      clientMessageId: body.client_message_id,
    };
    const started = await startTurn(ctx, opts.turn, input);
    if (wantsStream(request)) return streamTurn(ctx, opts.turn, started, request, reply);
    // A replay answers as the first run did: the stored reply, or the same error.
    const probe = turnProbe(app, reply, "json");
    const outcome =
      started.kind === "replay"
        ? started
        : await probe.track(runTurn(ctx, opts.turn, started, probe.onPart));
    if (outcome.error) {
      throw new AppError(outcome.error.code, outcome.error.detail, {
        cause: outcome.error,
        extra: {
          conversation_id: outcome.conversationId,
          user_message_id: outcome.userMessage.id,
          ...(outcome.reply
            ? { message_id: outcome.reply.id, partial_response: outcome.reply.content }
            : {}),
        },
      });
    }
    return turnJson(outcome);
  };

  const config = { door: "chat" } as const;
  const response = {
    200: {
      description:
        "The turn: JSON, or with `Accept: text/event-stream` the AI SDK UI message stream",
      content: {
        "application/json": { schema: TurnJson },
        "text/event-stream": { schema: z.string() },
      },
    },
  };
  // not_found: the conversation; turn_in_progress: a reply is still being generated there
  // (after TURN_QUEUE_MS); idempotency_mismatch: client_message_id reused with another
  // message; model_error / model_timeout: the model failed (the user message is kept).
  const errors = [
    "not_found",
    "turn_in_progress",
    "idempotency_mismatch",
    "model_error",
    "model_timeout",
  ] as const;
  r.post(
    "/api/chat",
    { config, schema: { summary: "One chat turn", body: ChatBody, response, errors } },
    (request, reply) => handle(request, reply, request.body),
  );

  r.post(
    "/api/:user_id/chat",
    {
      config,
      schema: {
        summary: "One chat turn (the seed's path: user_id must be the caller's)",
        params: z.strictObject({ user_id: z.string().min(1).max(200) }),
        body: ChatBody,
        response,
        errors,
      },
    },
    (request, reply) => {
      if (request.params.user_id !== requireUser(request).id) {
        throw new AppError("forbidden", "user_id in the path must be the signed-in user");
      }
      return handle(request, reply, request.body);
    },
  );
}

function wantsStream(request: FastifyRequest): boolean {
  return (request.headers.accept ?? "").includes("text/event-stream");
}
