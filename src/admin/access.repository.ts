import { eq } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { roleFeatures, user, userFeatures } from "../db/schema.ts";
import { AppError } from "../errors.ts";

/**
 * What the authentication hook needs to know about a caller beyond who they are: role,
 * ban, and the stored feature settings of the user and of their role. The bearer and
 * API-key lookups select these columns in their own single query (left joins); the
 * cookie path, which goes through Better Auth, reads them with `findUserAccess`.
 */
export const accessColumns = {
  role: user.role,
  banned: user.banned,
  banExpires: user.banExpires,
  roleFeatures: roleFeatures.features,
  userFeatures: userFeatures.features,
};

export interface AccessRow {
  role: string;
  banned: boolean;
  banExpires: Date | null;
  roleFeatures: unknown;
  userFeatures: unknown;
}

export async function findUserAccess(db: Db, userId: string): Promise<AccessRow | undefined> {
  const rows = await db
    .select(accessColumns)
    .from(user)
    .leftJoin(roleFeatures, eq(roleFeatures.role, user.role))
    .leftJoin(userFeatures, eq(userFeatures.userId, user.id))
    .where(eq(user.id, userId))
    .limit(1);
  return rows[0];
}

/** A ban is in force unless it has an end that has passed. */
export function isBanned(row: Pick<AccessRow, "banned" | "banExpires">, now = Date.now()): boolean {
  return row.banned && (row.banExpires === null || row.banExpires.getTime() > now);
}

/** Refuses a disabled account: its sessions and API keys stop working everywhere at once. */
export function assertNotBanned(row: Pick<AccessRow, "banned" | "banExpires">): void {
  if (isBanned(row)) {
    throw new AppError("account_disabled", "This account has been disabled by an administrator");
  }
}
