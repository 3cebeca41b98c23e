import { randomBytes } from "node:crypto";
import { eq } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { appSettings } from "../db/schema.ts";

const KEY = "auth_secret";

/**
 * The auth secret every instance on this database shares: `candidate` (the secret an
 * earlier version kept in this instance's DATA_DIR, so an upgrade keeps its users signed
 * in) or a new one, stored by whichever instance starts first (`on conflict do nothing` makes a race harmless: all read the one stored),
 * then read by every other. Without it, instances would each sign sessions with a secret
 * of their own, and a token from one would be refused by the next.
 */
export async function sharedAuthSecret(db: Db, candidate?: string): Promise<string> {
  await db
    .insert(appSettings)
    .values({ key: KEY, value: candidate ?? randomBytes(32).toString("base64url") })
    .onConflictDoNothing();
  const [row] = await db
    .select({ value: appSettings.value })
    .from(appSettings)
    .where(eq(appSettings.key, KEY));
  if (!row) throw new Error("the shared auth secret could not be stored");
  return row.value;
}
