import { eq, sql } from "drizzle-orm";
import type { SelectedFields } from "drizzle-orm/pg-core";
import { type AccessRow, accessColumns } from "../admin/access.repository.ts";
import type { Db } from "../db/client.ts";
import { prepared } from "../db/prepared.ts";
import { roleFeatures, session, user, userFeatures } from "../db/schema.ts";

/** A bearer session's user, its expiry and the user's access (roles, features, ban). */
export type SessionRow = {
  id: string;
  email: string;
  name: string;
  timezone: string | null;
  expiresAt: Date;
} & AccessRow;

/** A session row with its user, found by the session token (the bearer hot path). */
export async function findSessionByToken(db: Db, token: string): Promise<SessionRow | undefined> {
  const [row] = await sessionByTokenQuery(db).execute({ token });
  return row;
}

/** A SessionRow's columns. */
const sessionColumns = {
  id: user.id,
  email: user.email,
  name: user.name,
  timezone: user.timezone,
  expiresAt: session.expiresAt,
  ...accessColumns,
};

/**
 * The session lookup's select (its columns plus `extra`), with its joins, where the token
 * is the placeholder "token": more may be joined to it (the chat turn joins the
 * conversation, src/chat/turn.repository.ts).
 */
export function selectSession<E extends SelectedFields>(db: Db, extra: E) {
  return db
    .select({ ...sessionColumns, ...extra })
    .from(session)
    .innerJoin(user, eq(user.id, session.userId))
    .leftJoin(roleFeatures, eq(roleFeatures.role, user.role))
    .leftJoin(userFeatures, eq(userFeatures.userId, user.id));
}

const sessionByTokenQuery = prepared((db) =>
  selectSession(db, {}).where(eq(session.token, sql.placeholder("token"))),
);
