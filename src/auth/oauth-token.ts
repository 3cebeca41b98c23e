import { createHash } from "node:crypto";
import { and, eq, isNull, or, sql } from "drizzle-orm";
import { type AccessRow, accessColumns } from "../admin/access.repository.ts";
import type { Db } from "../db/client.ts";
import {
  oauthAccessToken,
  oauthClient,
  roleFeatures,
  session,
  user,
  userFeatures,
} from "../db/schema.ts";
import { OAUTH_ACCESS_TOKEN_PREFIX, TASK_SCOPES, type TaskScope } from "./auth.ts";

/** True for a bearer token meant as an OAuth access token (it may still be unknown). */
export function looksLikeOAuthToken(token: string): boolean {
  return token.startsWith(OAUTH_ACCESS_TOKEN_PREFIX);
}

export interface OAuthTokenOwner {
  user: { id: string; email: string; name: string; timezone: string | null };
  access: AccessRow;
  scopes: TaskScope[];
  resources: string[];
}

/**
 * The user an OAuth access token acts for, in ONE query: the token as Better Auth's OAuth
 * provider stores it (the part after the prefix, SHA-256, base64url without padding), not
 * expired, not revoked, its client not disabled, and — when it came from a session — that
 * session still live (the provider's own introspection checks the same). Undefined for
 * anything else. The caller checks the resource (audience).
 */
export async function findOAuthTokenOwner(
  db: Db,
  bearer: string,
): Promise<OAuthTokenOwner | undefined> {
  if (!looksLikeOAuthToken(bearer)) return undefined;
  const stored = createHash("sha256")
    .update(bearer.slice(OAUTH_ACCESS_TOKEN_PREFIX.length), "utf8")
    .digest("base64url");
  const rows = await db
    .select({
      scopes: oauthAccessToken.scopes,
      resources: oauthAccessToken.resources,
      id: user.id,
      email: user.email,
      name: user.name,
      timezone: user.timezone,
      ...accessColumns,
    })
    .from(oauthAccessToken)
    .innerJoin(user, eq(user.id, oauthAccessToken.userId))
    .innerJoin(oauthClient, eq(oauthClient.clientId, oauthAccessToken.clientId))
    .leftJoin(session, eq(session.id, oauthAccessToken.sessionId))
    .leftJoin(roleFeatures, eq(roleFeatures.role, user.role))
    .leftJoin(userFeatures, eq(userFeatures.userId, user.id))
    .where(
      and(
        eq(oauthAccessToken.token, stored),
        isNull(oauthAccessToken.revoked),
        sql`${oauthAccessToken.expiresAt} > now()`,
        or(isNull(oauthClient.disabled), eq(oauthClient.disabled, false)),
        or(isNull(oauthAccessToken.sessionId), sql`${session.expiresAt} > now()`),
      ),
    )
    .limit(1);
  const row = rows[0];
  if (!row) return undefined;
  return {
    user: { id: row.id, email: row.email, name: row.name, timezone: row.timezone },
    access: {
      role: row.role,
      banned: row.banned,
      banExpires: row.banExpires,
      roleFeatures: row.roleFeatures,
      userFeatures: row.userFeatures,
    },
    scopes: taskScopes(row.scopes),
    resources: row.resources ?? [],
  };
}

/** The task scopes among `scopes` (others, such as offline_access, grant nothing here). */
export function taskScopes(scopes: readonly string[] | null | undefined): TaskScope[] {
  return TASK_SCOPES.filter((scope) => scopes?.includes(scope));
}
