import { and, desc, eq, isNull, lt, or, sql } from "drizzle-orm";
import { type AccessRow, accessColumns } from "../admin/access.repository.ts";
import { type Db, rowsOf } from "../db/client.ts";
import { apiKeys, roleFeatures, user, userFeatures } from "../db/schema.ts";
import type { ApiKey } from "./api-key.ts";

// Every statement but the lookup by hash filters by user_id. The lookup by hash IS the
// authentication: the hash is unique and the caller proved they hold the key.

const columns = {
  id: apiKeys.id,
  userId: apiKeys.userId,
  name: apiKeys.name,
  prefix: apiKeys.prefix,
  scopes: apiKeys.scopes,
  createdAt: apiKeys.createdAt,
  lastUsedAt: apiKeys.lastUsedAt,
};

/**
 * Inserts a key unless the user already holds `max` live ones, in ONE statement (so two
 * concurrent creations cannot both slip past a separate count). Undefined when over the cap.
 */
export async function insertApiKey(
  db: Db,
  userId: string,
  input: { name: string; prefix: string; keyHash: string; scopes: string[] },
  max: number,
): Promise<ApiKey | undefined> {
  const scopes = sql`array[${sql.join(
    input.scopes.map((scope) => sql`${scope}`),
    sql`, `,
  )}]::text[]`;
  const result = await db.execute(sql`
    insert into ${apiKeys} (user_id, name, prefix, key_hash, scopes)
    select ${userId}, ${input.name}, ${input.prefix}, ${input.keyHash}, ${scopes}
    where (select count(*) from ${apiKeys}
           where ${apiKeys.userId} = ${userId} and ${apiKeys.revokedAt} is null) < ${max}
    returning id, created_at`);
  const row = rowsOf<{ id: string; created_at: Date | string }>(result)[0];
  if (!row) return undefined;
  return {
    id: row.id,
    userId,
    name: input.name,
    prefix: input.prefix,
    scopes: input.scopes,
    createdAt: new Date(row.created_at),
    lastUsedAt: null,
  };
}

/** The user's live keys, newest first. */
export async function listApiKeys(db: Db, userId: string, limit: number): Promise<ApiKey[]> {
  return db
    .select(columns)
    .from(apiKeys)
    .where(and(eq(apiKeys.userId, userId), isNull(apiKeys.revokedAt)))
    .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id))
    .limit(limit);
}

/** Marks one of the user's live keys revoked; undefined when there is no such live key. */
export async function revokeApiKey(
  db: Db,
  userId: string,
  id: string,
): Promise<{ name: string; prefix: string } | undefined> {
  const rows = await db
    .update(apiKeys)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(apiKeys.id, id), eq(apiKeys.userId, userId), isNull(apiKeys.revokedAt)))
    .returning({ name: apiKeys.name, prefix: apiKeys.prefix });
  return rows[0];
}

export interface KeyOwner {
  keyId: string;
  scopes: string[];
  lastUsedAt: Date | null;
  user: { id: string; email: string; name: string; timezone: string | null };
  access: AccessRow;
}

/** The owner of a live key with this hash, if any. */
export async function findLiveKeyOwner(db: Db, keyHash: string): Promise<KeyOwner | undefined> {
  const rows = await db
    .select({
      keyId: apiKeys.id,
      scopes: apiKeys.scopes,
      lastUsedAt: apiKeys.lastUsedAt,
      userId: user.id,
      email: user.email,
      name: user.name,
      timezone: user.timezone,
      ...accessColumns,
    })
    .from(apiKeys)
    .innerJoin(user, eq(user.id, apiKeys.userId))
    .leftJoin(roleFeatures, eq(roleFeatures.role, user.role))
    .leftJoin(userFeatures, eq(userFeatures.userId, user.id))
    .where(and(eq(apiKeys.keyHash, keyHash), isNull(apiKeys.revokedAt)))
    .limit(1);
  const row = rows[0];
  if (!row) return undefined;
  return {
    keyId: row.keyId,
    scopes: row.scopes,
    lastUsedAt: row.lastUsedAt,
    user: { id: row.userId, email: row.email, name: row.name, timezone: row.timezone },
    access: {
      role: row.role,
      banned: row.banned,
      banExpires: row.banExpires,
      roleFeatures: row.roleFeatures,
      userFeatures: row.userFeatures,
    },
  };
}

/** Records a use, at most once per `minIntervalSeconds` per key (not a write per request). */
export async function touchApiKey(db: Db, id: string, minIntervalSeconds: number): Promise<void> {
  await db
    .update(apiKeys)
    .set({ lastUsedAt: sql`now()` })
    .where(
      and(
        eq(apiKeys.id, id),
        or(
          isNull(apiKeys.lastUsedAt),
          lt(apiKeys.lastUsedAt, sql`now() - make_interval(secs => ${minIntervalSeconds})`),
        ),
      ),
    );
}
