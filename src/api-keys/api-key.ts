import { createHash, randomBytes } from "node:crypto";
import { z } from "zod";
import { TASK_SCOPES } from "../auth/auth.ts";

/**
 * A personal API key: `tt_` followed by 32 random bytes in base64url (43 characters). It
 * is shown once, at creation; the server keeps only its SHA-256 (hex). A slow password
 * hash would buy nothing here: 256 random bits cannot be guessed, only stolen.
 */
export interface ApiKey {
  id: string;
  userId: string;
  name: string;
  prefix: string;
  /** `tasks:read`, `tasks:write`: a key without tasks:write is read-only. */
  scopes: string[];
  createdAt: Date;
  lastUsedAt: Date | null;
}

export const API_KEY_PREFIX = "tt_";
const KEY_BYTES = 32;
/** `tt_` + the first 8 characters of the random part: enough to tell keys apart, not to guess one. */
const SHOWN_PREFIX_LENGTH = API_KEY_PREFIX.length + 8;
const KEY_PATTERN = /^tt_[A-Za-z0-9_-]{43}$/;

export const NAME_MAX = 100;
/** How many live (not revoked) keys one user may hold. */
export const MAX_KEYS_PER_USER = 50;

export const apiKeyName = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(NAME_MAX, `must be at most ${NAME_MAX} characters`)
  .refine((s) => !s.includes("\u0000"), "must not contain NUL characters");

/** What a key may do; the default (and every key made before scopes existed) is both. */
export const apiKeyScopes = z
  .array(z.enum(TASK_SCOPES))
  .min(1, "must name at least one scope")
  .max(TASK_SCOPES.length)
  .refine((list) => new Set(list).size === list.length, "must not repeat a scope")
  .describe("`tasks:read` (read-only) or both `tasks:read` and `tasks:write` (the default)");

/** True for any bearer token meant as an API key (it may still be malformed or unknown). */
export function looksLikeApiKey(token: string): boolean {
  return token.startsWith(API_KEY_PREFIX);
}

/** True when the token has exactly the shape of a key this server issues. */
export function isWellFormedApiKey(token: string): boolean {
  return KEY_PATTERN.test(token);
}

export function generateApiKey(): { key: string; prefix: string; keyHash: string } {
  const key = `${API_KEY_PREFIX}${randomBytes(KEY_BYTES).toString("base64url")}`;
  return { key, prefix: key.slice(0, SHOWN_PREFIX_LENGTH), keyHash: hashApiKey(key) };
}

export function hashApiKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

/** The API shape of a key: never its secret or hash. */
export function toApiKeyJson(apiKey: ApiKey) {
  return {
    id: apiKey.id,
    name: apiKey.name,
    prefix: apiKey.prefix,
    scopes: apiKey.scopes,
    created_at: apiKey.createdAt.toISOString(),
    last_used_at: apiKey.lastUsedAt ? apiKey.lastUsedAt.toISOString() : null,
  };
}
