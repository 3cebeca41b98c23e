import { eq, sql } from "drizzle-orm";
import { type AccessRow, accessColumns } from "../admin/access.repository.ts";
import type { Db } from "../db/client.ts";
import { prepared } from "../db/prepared.ts";
import { roleFeatures, session, user, userFeatures } from "../db/schema.ts";

/** A session row with its user, found by the session token (the bearer hot path). */
export async function findSessionByToken(
  db: Db,
  token: string,
): Promise<
  | ({
      id: string;
      email: string;
      name: string;
      timezone: string | null;
      expiresAt: Date;
    } & AccessRow)
  | undefined
> {
  const [row] = await sessionByTokenQuery(db).execute({ token });
  return row;
}

const sessionByTokenQuery = prepared((db) =>
  db
    .select({
      id: user.id,
      email: user.email,
      name: user.name,
      timezone: user.timezone,
      expiresAt: session.expiresAt,
      ...accessColumns,
    })
    .from(session)
    .innerJoin(user, eq(user.id, session.userId))
    .leftJoin(roleFeatures, eq(roleFeatures.role, user.role))
    .leftJoin(userFeatures, eq(userFeatures.userId, user.id))
    .where(eq(session.token, sql.placeholder("token"))),
);
