import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { validate as isUuid } from "uuid";
import { z } from "zod";
import { looksLikeApiKey } from "../api-keys/api-key.ts";
import { looksLikeOAuthToken } from "../auth/oauth-token.ts";
import { bearerToken } from "../auth/request-user.ts";
import type { Db } from "../db/client.ts";
import { retryingRead } from "../db/transaction.ts";
import { AppError } from "../errors.ts";
import { requireContext, requireUser } from "../http/request-context.ts";
import { modelForTurn } from "../models/model.service.ts";
import { checkTokenQuota } from "../models/token-quota.ts";
import { turnProbe } from "../ops/metrics.ts";
import { clientMessageIdFor, conversationIdForChat } from "./ids.ts";
import { startRegenerate } from "./regenerate.ts";
import { canSpeculate, startSpeculating } from "./speculate.ts";
import { streamTurn } from "./sse.ts";
import {
  findSessionWithPreview,
  previewTurn,
  previewTurnOfOwner,
  type TurnPreview,
} from "./turn.repository.ts";
import { runTurn, startTurn } from "./turn.service.ts";
import type { ReplayedTurn, StartedTurn, TurnDeps, TurnOutcome } from "./turn.ts";
import { RegenerateJson, regeneratedJson, TurnJson, turnJson } from "./turn-json.ts";

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
  model: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .optional()
    .describe("For a new conversation: its model (GET /api/models); else my default"),
});
type ChatBody = z.infer<typeof ChatBody>;

/**
 * The body the AI SDK's DefaultChatTransport (useChat, Chat) sends by default: the chat id,
 * the whole chat as UI messages and a trigger. Only the last message is read — history
 * always comes from the database — and its id is the turn's idempotency key. Extra members
 * (a transport's `body` option) are allowed and ignored.
 */
const UiMessage = z.looseObject({
  id: z.string().min(1).max(200),
  role: z.enum(["system", "user", "assistant"]),
  parts: z.array(z.looseObject({ type: z.string(), text: z.unknown().optional() })).max(10_000),
});
const SdkChatBody = z.looseObject({
  id: z.string().min(1).max(200),
  messages: z.array(UiMessage).min(1).max(100_000),
  trigger: z.enum(["submit-message", "regenerate-message"]).default("submit-message"),
  messageId: z.string().max(200).optional(),
  /** A transport's `body: {model}`: the model of a chat this request creates. */
  model: z.string().trim().min(1).max(200).optional(),
});
type SdkChatBody = z.infer<typeof SdkChatBody>;

/**
 * An AI SDK `regenerate()`: the reply it names (`messageId`, our reply id from the stream's
 * `start`), else the conversation's last reply — the same use case as the REST route.
 */
function sdkRegenerate(body: SdkChatBody): { conversationId: string; messageId?: string } {
  const conversationId = conversationIdForChat(body.id);
  const named = body.messageId && isUuid(body.messageId) ? body.messageId.toLowerCase() : undefined;
  return { conversationId, ...(named ? { messageId: named } : {}) };
}

/** The turn an AI SDK request asks for: its last message, in the conversation its chat id names. */
function sdkTurn(body: SdkChatBody): ChatBody & { createConversation: true } {
  const last = body.messages.at(-1);
  if (last?.role !== "user") {
    throw new AppError("validation_failed", "The last message must be the user's message");
  }
  const text = last.parts
    .filter((part) => part.type === "text" && typeof part.text === "string")
    .map((part) => part.text as string)
    .join("\n");
  const message = ChatBody.shape.message.safeParse(text);
  if (!message.success) {
    const why = message.error.issues[0]?.message ?? "not valid";
    throw new AppError("validation_failed", `The last message's text: ${why}`);
  }
  const conversationId = conversationIdForChat(body.id);
  return {
    message: message.data,
    conversation_id: conversationId,
    client_message_id: clientMessageIdFor(conversationId, last.id),
    ...(body.model ? { model: body.model } : {}),
    createConversation: true,
  };
}

/** POST /api/chat and the seed's POST /api/{user_id}/chat: one turn, as JSON or SSE. */
export async function chatRoutes(
  app: FastifyInstance,
  /** quotas: per-user quotas are on (RATE_LIMITS): tokens_per_day is checked here. */
  opts: { turn: TurnDeps; db: Db; bodyLimit: number; quotas: boolean },
) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const early = new WeakMap<FastifyRequest, EarlyPreview>();

  /**
   * preValidation, before the bearer token is checked (config overlapAuth): the turn's
   * first read is joined to the session lookup, from the body as sent — one statement,
   * which reads the conversation only if it is the session user's. Any other bearer (an
   * API key, an OAuth token) has the conversation read by its id alone while its token is
   * checked. The handler uses the read only if the body validated to the same ids and its
   * owner is the authenticated caller; anything else (or a failed read) is read again.
   */
  const startPreview = async (request: FastifyRequest) => {
    if (!request.authDeferred) return;
    const sent = request.body as { conversation_id?: unknown; client_message_id?: unknown };
    const conversationId = sent?.conversation_id;
    const clientMessageId = sent?.client_message_id ?? null;
    if (typeof conversationId !== "string" || !isUuid(conversationId)) return;
    if (
      clientMessageId !== null &&
      (typeof clientMessageId !== "string" || !isUuid(clientMessageId))
    )
      return;
    const input = { conversationId, clientMessageId, limit: opts.turn.history.maxMessages };
    const entry: EarlyPreview = { conversationId, clientMessageId };
    early.set(request, entry);
    if (sessionBearer(request)) {
      // Called (once) by the token check, if it gets to the lookup at all.
      request.sessionLookup = async (db, token) => {
        const found = findSessionWithPreview(db, { ...input, token });
        entry.read = found.then(
          (got) => (got?.preview ? { ...got.preview, userId: got.session.id } : undefined),
          () => undefined,
        );
        return (await found)?.session;
      };
      return;
    }
    entry.read = previewTurnOfOwner(opts.db, input).catch(() => undefined);
  };

  /** The turn's preview: the early read when it is this caller's and these ids', else read now. */
  const previewFor = async (
    request: FastifyRequest,
    input: { userId: string; conversationId: string; clientMessageId: string | null },
  ): Promise<TurnPreview | undefined> => {
    const started = early.get(request);
    if (
      started?.read &&
      started.conversationId === input.conversationId &&
      started.clientMessageId === input.clientMessageId
    ) {
      const got = await started.read;
      if (got?.userId === input.userId) return got;
    }
    const ctx = requireContext(request);
    return retryingRead(() =>
      previewTurn(ctx.db, { ...input, limit: opts.turn.history.maxMessages }),
    );
  };

  const handle = async (
    request: FastifyRequest,
    reply: FastifyReply,
    sent: ChatBody | SdkChatBody,
  ) => {
    const ctx = requireContext(request);
    // An AI SDK client always gets the stream: its transport sends no Accept header.
    const sdk = "messages" in sent;
    if (sdk && sent.trigger === "regenerate-message") {
      const which = sdkRegenerate(sent);
      const model = await modelForTurn(ctx, opts.turn.models, requireUser(request).access, {
        conversationId: which.conversationId,
        requested: undefined,
        sdk,
      });
      const started = await startRegenerate(ctx, opts.turn, { ...which, model });
      return streamTurn(ctx, opts.turn, started, request, reply);
    }
    const body = sdk ? sdkTurn(sent) : sent;
    const { access } = requireUser(request);
    if (opts.quotas) await checkTokenQuota(ctx, access);
    const conversationId = body.conversation_id;
    // One read gives the conversation's model and what the model's request is built from,
    // so that request can go out while step A commits (speculate.ts).
    const preview = conversationId
      ? await previewFor(request, {
          userId: ctx.userId,
          conversationId,
          clientMessageId: body.client_message_id ?? null,
        })
      : undefined;
    const model = await modelForTurn(ctx, opts.turn.models, access, {
      conversationId,
      requested: body.model,
      sdk,
      known: preview,
    });
    const input = {
      message: body.message,
      conversationId,
      clientMessageId: body.client_message_id,
      model,
      ...(sdk ? { createConversation: true } : {}),
    };
    const started =
      conversationId && canSpeculate(preview)
        ? await startSpeculating(ctx, opts.turn, { ...input, conversationId }, preview)
        : await startTurn(ctx, opts.turn, input);
    if (sdk || wantsStream(request)) return streamTurn(ctx, opts.turn, started, request, reply);
    return turnJson(await answer(reply, started));
  };

  /** Runs a started turn for a JSON answer; a failed turn is a problem+json with its ids. */
  const answer = async (reply: FastifyReply, started: StartedTurn | ReplayedTurn) => {
    const ctx = requireContext(reply.request);
    // A replay answers as the first run did: the stored reply, or the same error.
    const probe = turnProbe(app, reply, "json");
    const outcome: TurnOutcome =
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
    return outcome;
  };

  const config = { door: "chat" } as const;
  // Every send counts against the caller's chat quotas (per minute and per day).
  const counted = { ...config, quota: "chat" } as const;
  // A turn's token check, body and first read overlap (request-user.ts overlapAuth).
  const turnConfig = { ...counted, overlapAuth: true } as const;
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
    "unknown_model",
    "model_not_allowed",
    "turn_in_progress",
    "idempotency_mismatch",
    "model_error",
    "model_timeout",
  ] as const;
  r.post(
    "/api/chat",
    {
      config: turnConfig,
      preValidation: startPreview,
      bodyLimit: opts.bodyLimit,
      schema: {
        summary: "One chat turn (our body, or the AI SDK useChat body: then a stream)",
        body: z.union([ChatBody, SdkChatBody]),
        response,
        errors,
      },
    },
    (request, reply) => handle(request, reply, request.body),
  );

  // The AI SDK's resume (useChat's `resume: true`) asks for a stream still running; turns
  // are not resumable streams here (a reply is read from the conversation once stored), so
  // there is never one: 204, which the SDK reads as "nothing to resume".
  r.get(
    "/api/chat/:id/stream",
    {
      config,
      schema: {
        summary: "Resume a stream (useChat): never one to resume",
        params: z.strictObject({ id: z.string().min(1).max(200) }),
        response: { 204: z.null().describe("Nothing to resume") },
      },
    },
    async (_request, reply) => reply.code(204).send(null),
  );

  r.post(
    "/api/conversations/:id/regenerate",
    {
      config: counted,
      schema: {
        summary: "Replace the conversation's last reply with a new one (the old one is kept)",
        params: z.strictObject({ id: z.uuid() }),
        body: z
          .strictObject({
            message_id: z
              .uuid()
              .optional()
              .describe(
                "The reply to replace (the last one). Send it: a retry then answers with the reply that replaced it instead of generating again",
              ),
          })
          .default({}),
        response: {
          200: {
            description: "The new reply: JSON, or with `Accept: text/event-stream` a stream",
            content: {
              "application/json": { schema: RegenerateJson },
              "text/event-stream": { schema: z.string() },
            },
          },
        },
        // conflict: the reply named is not the conversation's last message.
        errors: [...errors, "conflict"],
      },
    },
    async (request, reply) => {
      const ctx = requireContext(request);
      const model = await modelForTurn(ctx, opts.turn.models, requireUser(request).access, {
        conversationId: request.params.id,
        requested: undefined,
        sdk: false,
      });
      const started = await startRegenerate(ctx, opts.turn, {
        conversationId: request.params.id,
        messageId: request.body.message_id,
        model,
      });
      if (wantsStream(request)) return streamTurn(ctx, opts.turn, started, request, reply);
      const outcome = await answer(reply, started);
      return { ...turnJson(outcome), ...regeneratedJson(outcome) };
    },
  );

  r.post(
    "/api/:user_id/chat",
    {
      config: turnConfig,
      preValidation: startPreview,
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

/** A preview read started before the caller was known (startPreview). */
interface EarlyPreview {
  conversationId: string;
  clientMessageId: string | null;
  /** Started by the session lookup or beside the token check; unset if neither happened. */
  read?: Promise<(TurnPreview & { userId: string }) | undefined>;
}

/** A bearer token Better Auth would look up as a session (not an API key or OAuth token). */
function sessionBearer(request: FastifyRequest): boolean {
  const bearer = bearerToken(request);
  return bearer !== undefined && !looksLikeApiKey(bearer) && !looksLikeOAuthToken(bearer);
}

function wantsStream(request: FastifyRequest): boolean {
  return (request.headers.accept ?? "").includes("text/event-stream");
}
