import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { requireContext, requireUser } from "../http/request-context.ts";
import type { ModelCatalog } from "./catalog.ts";
import * as service from "./model.service.ts";
import type { ModelSpec } from "./model.ts";

const ModelJson = z.object({
  id: z.string(),
  label: z.string(),
  provider: z.enum(["offline", "openai-compatible"]),
  prices: z
    .object({
      input_micros: z.int().describe("Micro-units of currency per million input tokens"),
      output_micros: z.int().describe("Micro-units of currency per million output tokens"),
    })
    .nullable(),
});

const ModelsJson = z.object({
  items: z.array(ModelJson),
  default: z.string().nullable().describe("The model a new conversation of mine gets"),
  my_default: z.string().nullable().describe("The default I set (PUT /api/models/default)"),
});

const Counts = {
  replies: z.int(),
  input_tokens: z.int(),
  output_tokens: z.int(),
  total_tokens: z.int(),
  cost_micros: z
    .int()
    .nullable()
    .describe("Millionths of the operator's currency; null when no reply had prices"),
};
const TotalsJson = z.object({
  ...Counts,
  models: z.array(z.object({ model: z.string().nullable(), ...Counts })),
});
const UsageJson = z.object({
  date: z.string(),
  timezone: z.string(),
  day: TotalsJson,
  month: TotalsJson,
  conversation: TotalsJson.nullable(),
});

function toModelJson(m: ModelSpec) {
  return {
    id: m.id,
    label: m.label,
    provider: m.provider,
    prices: m.prices && { input_micros: m.prices.input, output_micros: m.prices.output },
  };
}

function toTotalsJson(t: service.UsageTotals): z.infer<typeof TotalsJson> {
  const counts = (c: Omit<service.UsageTotals, "models">) => ({
    replies: c.replies,
    input_tokens: c.inputTokens,
    output_tokens: c.outputTokens,
    total_tokens: c.totalTokens,
    cost_micros: c.costMicros,
  });
  return { ...counts(t), models: t.models.map((m) => ({ model: m.model, ...counts(m) })) };
}

/** GET /api/models, PUT /api/models/default and GET /api/usage. */
export async function modelRoutes(app: FastifyInstance, opts: { models: ModelCatalog }) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { models } = opts;

  const listed = async (request: Parameters<typeof requireContext>[0]) => {
    const list = await service.listModels(
      requireContext(request),
      models,
      requireUser(request).access,
    );
    return {
      items: list.models.map(toModelJson),
      default: list.defaultModel,
      my_default: list.userDefault,
    };
  };

  r.get(
    "/api/models",
    {
      schema: {
        summary: "The models I may choose, and my default",
        response: { 200: ModelsJson },
      },
    },
    (request) => listed(request),
  );

  r.put(
    "/api/models/default",
    {
      schema: {
        summary: "Set the model my new conversations get (null: the server's default)",
        body: z.strictObject({ model: z.string().trim().min(1).max(200).nullable() }),
        response: { 200: ModelsJson },
        errors: ["unknown_model", "model_not_allowed"],
      },
    },
    async (request) => {
      await service.setDefaultModel(
        requireContext(request),
        models,
        requireUser(request).access,
        request.body.model,
      );
      return listed(request);
    },
  );

  r.get(
    "/api/usage",
    {
      schema: {
        summary: "My tokens and costs: a day, its month, and optionally one conversation",
        querystring: z.strictObject({
          date: z.iso.date().optional().describe("YYYY-MM-DD in my time zone; default today"),
          conversation_id: z.uuid().optional(),
        }),
        response: { 200: UsageJson },
        errors: ["not_found"],
      },
    },
    async (request) => {
      const usage = await service.getUsage(requireContext(request), {
        date: request.query.date,
        conversationId: request.query.conversation_id,
      });
      return {
        date: usage.date,
        timezone: usage.timezone,
        day: toTotalsJson(usage.day),
        month: toTotalsJson(usage.month),
        conversation: usage.conversation && toTotalsJson(usage.conversation),
      };
    },
  );
}
