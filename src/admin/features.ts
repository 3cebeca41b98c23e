import { z } from "zod";

/** The two roles. An admin manages accounts; neither role reads another user's data. */
export const ROLES = ["admin", "user"] as const;
export type Role = (typeof ROLES)[number];

export function toRole(value: unknown): Role {
  return value === "admin" ? "admin" : "user";
}

/**
 * The per-user quotas (src/quotas/): each a count per window, 0 = no limit. tokens_per_day
 * counts the tokens of the user's replies over the last 24 hours (src/models/).
 */
export const QUOTA_NAMES = [
  "chat_per_minute",
  "chat_per_day",
  "task_writes_per_minute",
  "mcp_calls_per_minute",
  "api_keys_per_day",
  "tokens_per_day",
] as const;
export type QuotaName = (typeof QUOTA_NAMES)[number];
export type QuotaLimits = Readonly<Record<QuotaName, number>>;

const quotaValue = z.int().min(0).max(1_000_000_000);

/**
 * Feature switches and quota overrides as an admin sets them for a role or for one user.
 * A key left out (or null) inherits: user → role → configuration.
 */
export const FeaturesJson = z.strictObject({
  mcp: z.boolean().nullable().optional().describe("May use the MCP endpoint"),
  api_keys: z
    .boolean()
    .nullable()
    .optional()
    .describe("May create and use personal API keys (existing keys stop working when false)"),
  models: z
    .array(z.string().trim().min(1).max(200))
    .max(100)
    .nullable()
    .optional()
    .describe("The models this user may choose (a later issue lets users choose); null = any"),
  quotas: z
    .strictObject(
      Object.fromEntries(QUOTA_NAMES.map((name) => [name, quotaValue.nullable().optional()])) as {
        [K in QuotaName]: z.ZodOptional<z.ZodNullable<typeof quotaValue>>;
      },
    )
    .optional()
    .describe("Quota overrides: a count per window, 0 = no limit"),
});
export type Features = z.infer<typeof FeaturesJson>;

/** What a user may do, resolved from their own settings, their role's and the configuration. */
export interface Access {
  readonly role: Role;
  readonly mcp: boolean;
  readonly apiKeys: boolean;
  /** null: any model. */
  readonly models: readonly string[] | null;
  readonly quotas: QuotaLimits;
}

/** Stored JSON that no longer fits the schema is ignored (inherit), never an error per request. */
export function parseStoredFeatures(value: unknown): Features {
  const parsed = FeaturesJson.safeParse(value ?? {});
  return parsed.success ? parsed.data : {};
}

export function resolveAccess(
  role: Role,
  roleFeatures: unknown,
  userFeatures: unknown,
  defaults: QuotaLimits,
): Access {
  const byRole = parseStoredFeatures(roleFeatures);
  const own = parseStoredFeatures(userFeatures);
  const pick = <T>(a: T | null | undefined, b: T | null | undefined, fallback: T): T =>
    a ?? b ?? fallback;
  const quotas = {} as Record<QuotaName, number>;
  for (const name of QUOTA_NAMES) {
    quotas[name] = pick(own.quotas?.[name], byRole.quotas?.[name], defaults[name]);
  }
  return {
    role,
    mcp: pick(own.mcp, byRole.mcp, true),
    apiKeys: pick(own.api_keys, byRole.api_keys, true),
    models: own.models ?? byRole.models ?? null,
    quotas,
  };
}

/**
 * The hook for choosing a model (a later issue): may this user use `model`? Every caller
 * that lets a user pick a model asks here, so the rule has one home.
 */
export function mayUseModel(access: Access, model: string): boolean {
  return access.models === null || access.models.includes(model);
}

/** The API shape of an effective access (GET /api/me, the admin list). */
export function toAccessJson(access: Access) {
  return {
    mcp: access.mcp,
    api_keys: access.apiKeys,
    models: access.models === null ? null : [...access.models],
    quotas: { ...access.quotas },
  };
}

export const AccessJson = z.object({
  mcp: z.boolean(),
  api_keys: z.boolean(),
  models: z.array(z.string()).nullable(),
  quotas: z.object(
    Object.fromEntries(QUOTA_NAMES.map((name) => [name, z.int()])) as {
      [K in QuotaName]: z.ZodInt;
    },
  ),
});
