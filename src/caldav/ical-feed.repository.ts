import { eq } from "drizzle-orm";
import type { Db, Executor } from "../db/client.ts";
import { icalFeeds, user } from "../db/schema.ts";

/** Sets the user's one feed token (hash), replacing the old one: the old URL stops working. */
export async function upsertFeed(db: Executor, userId: string, tokenHash: string): Promise<void> {
  await db
    .insert(icalFeeds)
    .values({ userId, tokenHash })
    .onConflictDoUpdate({ target: icalFeeds.userId, set: { tokenHash, createdAt: new Date() } });
}

export async function deleteFeed(db: Executor, userId: string): Promise<boolean> {
  const rows = await db
    .delete(icalFeeds)
    .where(eq(icalFeeds.userId, userId))
    .returning({ userId: icalFeeds.userId });
  return rows.length > 0;
}

/** The owner of a feed token (by hash), with the zone "today" is read in; banned → none. */
export async function findFeedOwner(db: Db, tokenHash: string) {
  const [row] = await db
    .select({
      userId: user.id,
      timezone: user.timezone,
      banned: user.banned,
      banExpires: user.banExpires,
    })
    .from(icalFeeds)
    .innerJoin(user, eq(user.id, icalFeeds.userId))
    .where(eq(icalFeeds.tokenHash, tokenHash));
  return row;
}
