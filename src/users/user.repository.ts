import { eq } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { user } from "../db/schema.ts";

export interface UserProfile {
  id: string;
  name: string;
  email: string;
  /** As stored: null when the user has not set one. */
  timezone: string | null;
}

const columns = { id: user.id, name: user.name, email: user.email, timezone: user.timezone };

export async function findUser(db: Db, id: string): Promise<UserProfile | undefined> {
  const rows = await db.select(columns).from(user).where(eq(user.id, id)).limit(1);
  return rows[0];
}

/** Sets the user's time zone; undefined when the user no longer exists. */
export async function setTimeZone(
  db: Db,
  id: string,
  timezone: string,
): Promise<UserProfile | undefined> {
  const rows = await db
    .update(user)
    .set({ timezone, updatedAt: new Date() })
    .where(eq(user.id, id))
    .returning(columns);
  return rows[0];
}
