import { recordActivity } from "../activity/activity.repository.ts";
import { TASK_SCOPES, type TaskScope } from "../auth/auth.ts";
import { taskScopes } from "../auth/oauth-token.ts";
import type { RequestContext } from "../context.ts";
import type { Db } from "../db/client.ts";
import { joinOrBegin, retryingRead, retryingWrite } from "../db/transaction.ts";
import { AppError } from "../errors.ts";
import * as repo from "./api-key.repository.ts";
import {
  type ApiKey,
  apiKeyName,
  apiKeyScopes,
  generateApiKey,
  hashApiKey,
  isWellFormedApiKey,
  MAX_KEYS_PER_USER,
} from "./api-key.ts";

/** `last_used_at` is refreshed at most this often: a key used per request is not a write per request. */
const TOUCH_INTERVAL_SECONDS = 60;

/**
 * Creates a personal API key for the caller. The returned `key` is the only time the secret
 * exists outside the client: only its hash is stored.
 */
export async function createApiKey(
  ctx: RequestContext,
  input: { name: string; scopes?: readonly string[] | undefined },
): Promise<{ apiKey: ApiKey; key: string }> {
  const parsed = apiKeyName.safeParse(input.name);
  if (!parsed.success) {
    throw new AppError("validation_failed", `name: ${parsed.error.issues[0]?.message}`);
  }
  const scopes = apiKeyScopes.safeParse(input.scopes ?? [...TASK_SCOPES]);
  if (!scopes.success) {
    throw new AppError("validation_failed", `scopes: ${scopes.error.issues[0]?.message}`);
  }
  // Writing without reading makes no sense for a task client: tasks:write implies tasks:read.
  const granted = TASK_SCOPES.filter(
    (scope) => scopes.data.includes(scope) || scopes.data.includes("tasks:write"),
  );
  const { key, prefix, keyHash } = generateApiKey();
  const apiKey = await joinOrBegin(ctx.db, async (tx, db) => {
    const created = await repo.insertApiKey(
      db,
      ctx.userId,
      { name: parsed.data, prefix, keyHash, scopes: granted },
      MAX_KEYS_PER_USER,
    );
    if (!created) {
      throw new AppError(
        "conflict",
        `You already have ${MAX_KEYS_PER_USER} API keys; revoke one before creating another`,
      );
    }
    await recordActivity(tx, ctx, {
      kind: "api_key.created",
      subjectType: "api_key",
      subject: created.id,
      summary: `Created API key “${created.name}” (${created.prefix}…)`,
      before: null,
      after: { name: created.name, prefix: created.prefix, scopes: created.scopes },
    });
    return created;
  });
  return { apiKey, key };
}

/** The caller's live (not revoked) keys, newest first; never their secrets. */
export async function listApiKeys(ctx: RequestContext): Promise<ApiKey[]> {
  return retryingRead(() => repo.listApiKeys(ctx.db, ctx.userId, MAX_KEYS_PER_USER));
}

/** Revokes one of the caller's keys: it stops working at once. Someone else's id is a 404. */
export async function revokeApiKey(ctx: RequestContext, id: string): Promise<void> {
  await joinOrBegin(ctx.db, async (tx, db) => {
    const revoked = await repo.revokeApiKey(db, ctx.userId, id);
    if (!revoked) throw new AppError("not_found", "API key not found");
    await recordActivity(tx, ctx, {
      kind: "api_key.revoked",
      subjectType: "api_key",
      subject: id,
      summary: `Revoked API key “${revoked.name}” (${revoked.prefix}…)`,
      before: { revoked: false },
      after: { revoked: true },
    });
  });
}

/**
 * The user a bearer API key belongs to, or undefined when the key is malformed, unknown or
 * revoked. A database failure throws (503), so an outage never looks like a bad key (401).
 */
export async function authenticateApiKey(
  db: Db,
  token: string,
): Promise<
  | {
      id: string;
      email: string;
      name: string;
      timezone: string | null;
      scopes: TaskScope[];
      access: repo.KeyOwner["access"];
    }
  | undefined
> {
  if (!isWellFormedApiKey(token)) return undefined;
  const keyHash = hashApiKey(token);
  const owner = await retryingRead(() => repo.findLiveKeyOwner(db, keyHash));
  if (!owner) return undefined;
  const stale =
    !owner.lastUsedAt || Date.now() - owner.lastUsedAt.getTime() > TOUCH_INTERVAL_SECONDS * 1000;
  if (stale) await retryingWrite(() => repo.touchApiKey(db, owner.keyId, TOUCH_INTERVAL_SECONDS));
  return { ...owner.user, scopes: taskScopes(owner.scopes), access: owner.access };
}
