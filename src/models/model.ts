import { z } from "zod";

// The models a server offers (LLM_MODELS, or the single-model LLM_* variables), as parsed
// once at start-up by config.ts. Prices are integers: micro-units (millionths of whatever
// currency the operator prices in) per million tokens, so money is never a float.

export interface ModelSpec {
  readonly id: string;
  readonly label: string;
  readonly provider: "offline" | "openai-compatible";
  readonly baseURL: string | undefined;
  readonly apiKey: string | undefined;
  /** The name sent to the provider (`model` in the request); defaults to the id. */
  readonly providerModel: string;
  /** Micro-units per million input / output tokens; null = no prices configured. */
  readonly prices: { readonly input: number; readonly output: number } | null;
}

export const OFFLINE_MODEL_ID = "offline";

const price = z
  .number()
  .min(0)
  .max(1_000_000)
  .describe("Currency units per million tokens (up to 6 decimals)");

const ModelEntry = z
  .strictObject({
    id: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .regex(/^[A-Za-z0-9._:/@-]+$/, "letters, digits and . _ : / @ - only"),
    label: z.string().trim().min(1).max(200).optional(),
    provider: z.enum(["offline", "openai-compatible"]).default("openai-compatible"),
    base_url: z.url().optional(),
    api_key: z.string().min(1).optional(),
    model: z.string().trim().min(1).max(200).optional(),
    prices: z.strictObject({ input: price, output: price }).optional(),
  })
  .refine((m) => m.provider === "offline" || m.base_url !== undefined, {
    message: "base_url is required for provider openai-compatible",
    path: ["base_url"],
  });

/** A price in currency units per million tokens, as integer micro-units per million. */
const micros = (units: number) => Math.round(units * 1_000_000);

/**
 * LLM_MODELS (a JSON array) as model specs; the issues name the bad entry
 * (`LLM_MODELS[1] (id "gpt"): base_url: …`).
 */
export function parseModels(json: string): { models: ModelSpec[] } | { issues: string[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    return { issues: [`LLM_MODELS: not valid JSON (${(e as Error).message})`] };
  }
  if (!Array.isArray(raw) || raw.length === 0) {
    return { issues: ["LLM_MODELS: must be a non-empty JSON array of models"] };
  }
  const issues: string[] = [];
  const models: ModelSpec[] = [];
  const seen = new Set<string>();
  raw.forEach((entry, i) => {
    const id = (entry as { id?: unknown } | null)?.id;
    const name = `LLM_MODELS[${i}]${typeof id === "string" ? ` (id ${JSON.stringify(id)})` : ""}`;
    const parsed = ModelEntry.safeParse(entry);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        issues.push(`${name}: ${issue.path.join(".") || "entry"}: ${issue.message}`);
      }
      return;
    }
    const m = parsed.data;
    if (seen.has(m.id)) issues.push(`${name}: id: used by an earlier entry`);
    seen.add(m.id);
    models.push({
      id: m.id,
      label: m.label ?? m.id,
      provider: m.provider,
      baseURL: m.base_url,
      apiKey: m.api_key,
      providerModel: m.model ?? m.id,
      prices: m.prices ? { input: micros(m.prices.input), output: micros(m.prices.output) } : null,
    });
  });
  return issues.length > 0 ? { issues } : { models };
}

/** The offline assistant: always offered, needs no endpoint, costs nothing. */
export const OFFLINE_MODEL: ModelSpec = {
  id: OFFLINE_MODEL_ID,
  label: "Offline assistant",
  provider: "offline",
  baseURL: undefined,
  apiKey: undefined,
  providerModel: OFFLINE_MODEL_ID,
  prices: null,
};

/** Token counts of one reply, as the provider reported them (any may be missing). */
export interface Usage {
  inputTokens?: number | undefined;
  outputTokens?: number | undefined;
  totalTokens?: number | undefined;
}

/**
 * The cost of a reply in micro-units, from the model's prices at the time of the reply;
 * null when the model has no prices or the provider reported no tokens. Rounded to the
 * nearest micro-unit.
 */
export function costMicros(spec: ModelSpec, usage: Usage): number | null {
  if (!spec.prices) return null;
  if (usage.inputTokens === undefined && usage.outputTokens === undefined) return null;
  const input = usage.inputTokens ?? 0;
  const output = usage.outputTokens ?? 0;
  return Math.round((input * spec.prices.input + output * spec.prices.output) / 1_000_000);
}
