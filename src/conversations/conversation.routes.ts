import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { ContextManifestJson } from "../chat/manifest.ts";
import { AppError } from "../errors.ts";
import { requireContext, requireUser } from "../http/request-context.ts";
import type { ModelCatalog } from "../models/catalog.ts";
import { switchConversationModel } from "../models/model.service.ts";
import * as service from "./conversation.service.ts";
import {
  ConversationJson,
  MessageJson,
  TITLE_MAX,
  toConversationJson,
  toMessageJson,
} from "./conversation.ts";

/**
 * A query integer is plain decimal digits: "" (which coercion reads as 0), " 5", "0x10",
 * "1e3" and "1.5" are 400s, not numbers guessed at.
 */
const queryInt = z
  .string()
  .regex(/^[0-9]{1,16}$/, "expected a non-negative integer")
  .transform(Number)
  .pipe(z.number().int().max(Number.MAX_SAFE_INTEGER));

/** Page sizes: a non-number or below 1 is a 400; above the maximum is clamped. */
export const pageLimit = (fallback: number, max: number) =>
  queryInt
    .pipe(z.number().min(1))
    .transform((n) => Math.min(n, max))
    .default(fallback);

const IdParams = z.strictObject({ id: z.uuid() });
const seqQuery = queryInt;

export async function conversationRoutes(app: FastifyInstance, opts: { models: ModelCatalog }) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const ctx = requireContext;

  r.get(
    "/api/conversations",
    {
      schema: {
        summary: "My conversations, newest activity first",
        querystring: z.strictObject({
          limit: pageLimit(20, 100),
          cursor: z.string().max(200).optional(),
        }),
        response: {
          200: z.object({ items: z.array(ConversationJson), next_cursor: z.string().nullable() }),
        },
      },
    },
    async (request) => {
      const page = await service.listConversations(ctx(request), request.query);
      return { items: page.items.map(toConversationJson), next_cursor: page.nextCursor };
    },
  );

  r.get(
    "/api/conversations/:id",
    {
      schema: {
        summary: "One conversation",
        params: IdParams,
        response: { 200: ConversationJson },
        errors: ["not_found"],
      },
    },
    async (request) =>
      toConversationJson(await service.getConversation(ctx(request), request.params.id)),
  );

  r.patch(
    "/api/conversations/:id",
    {
      schema: {
        summary: "Rename a conversation, or switch the model its next replies come from",
        params: IdParams,
        body: z.strictObject({
          title: z.string().trim().min(1).max(TITLE_MAX).optional(),
          model: z.string().trim().min(1).max(200).optional().describe("A GET /api/models id"),
        }),
        response: { 200: ConversationJson },
        errors: ["not_found", "unknown_model", "model_not_allowed"],
      },
    },
    async (request) => {
      const { title, model } = request.body;
      const { id } = request.params;
      if (title === undefined && model === undefined) {
        throw new AppError("validation_failed", "Send a title, a model, or both");
      }
      const access = requireUser(request).access;
      let updated = model
        ? await switchConversationModel(ctx(request), opts.models, access, id, model)
        : undefined;
      if (title !== undefined) updated = await service.renameConversation(ctx(request), id, title);
      if (!updated) throw new AppError("not_found", "Conversation not found");
      return toConversationJson(updated);
    },
  );

  r.delete(
    "/api/conversations/:id",
    {
      schema: {
        summary: "Delete a conversation and its messages",
        params: IdParams,
        response: { 204: z.null().describe("Deleted") },
        errors: ["not_found"],
      },
    },
    async (request, reply) => {
      await service.deleteConversation(ctx(request), request.params.id);
      return reply.status(204).send(null);
    },
  );

  r.get(
    "/api/conversations/:id/messages",
    {
      schema: {
        summary: "A conversation's messages in seq order, a page at a time",
        params: IdParams,
        response: {
          200: z.object({
            items: z.array(MessageJson),
            next_cursor: z.number().nullable().describe("The seq to pass next, same direction"),
          }),
        },
        errors: ["not_found"],
        querystring: z
          .strictObject({
            limit: pageLimit(50, 200),
            before_seq: seqQuery.optional(),
            after_seq: seqQuery.optional(),
            include: z
              .literal("replaced")
              .optional()
              .describe("Also the replies replaced by Regenerate (they carry replaced_by)"),
          })
          .refine((q) => q.before_seq === undefined || q.after_seq === undefined, {
            message: "use before_seq or after_seq, not both",
          }),
      },
    },
    async (request) => {
      const { limit, before_seq, after_seq, include } = request.query;
      const page = await service.listMessages(ctx(request), request.params.id, {
        limit,
        includeReplaced: include === "replaced",
        ...(before_seq !== undefined ? { beforeSeq: before_seq } : {}),
        ...(after_seq !== undefined ? { afterSeq: after_seq } : {}),
      });
      return { items: page.items.map(toMessageJson), next_cursor: page.nextCursor };
    },
  );

  r.get(
    "/api/conversations/:id/messages/:message_id/context",
    {
      schema: {
        summary: "What the model was given for a reply: message seqs, sizes, tools, settings",
        params: z.strictObject({ id: z.uuid(), message_id: z.uuid() }),
        response: {
          200: z.object({
            message_id: z.string(),
            seq: z.number(),
            context: ContextManifestJson.nullable().describe(
              "null for a user message, or a reply stored before manifests were recorded",
            ),
          }),
        },
        errors: ["not_found"],
      },
    },
    async (request) => {
      const { id, message_id } = request.params;
      const found = await service.getMessageContext(ctx(request), id, message_id);
      return { message_id: found.id, seq: found.seq, context: found.context };
    },
  );
}
