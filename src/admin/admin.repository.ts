import { and, asc, eq, gt, ilike, or, sql } from "drizzle-orm";
import type { Db, Executor, Tx } from "../db/client.ts";
import {
  apiKeys,
  conversations,
  messages,
  roleFeatures,
  session,
  tasks,
  user,
  userFeatures,
} from "../db/schema.ts";
import type { Role } from "./features.ts";

// Admin statements. They read accounts and COUNTS of a user's data, never its content:
// no statement here selects a task title, a message or a conversation title.

/**
 * The first account of an installation becomes its admin: the oldest user is promoted
 * while no admin exists. Run after every sign-up; two sign-ups at once both name the same
 * oldest account, so there is exactly one first admin.
 */
export async function promoteFirstAccount(db: Db): Promise<void> {
  await db.execute(sql`
    update "user" set role = 'admin', updated_at = now()
    where id = (select id from "user" order by created_at, id limit 1)
      and not exists (select 1 from "user" where role = 'admin')`);
}

export interface AdminUserRow {
  id: string;
  name: string;
  email: string;
  role: string;
  banned: boolean;
  banReason: string | null;
  banExpires: Date | null;
  createdAt: Date;
  features: unknown;
  tasks: number;
  conversations: number;
  turnsToday: number;
}

const zone = sql`coalesce(${user.timezone}, 'UTC')`;
const adminUserColumns = {
  id: user.id,
  name: user.name,
  email: user.email,
  role: user.role,
  banned: user.banned,
  banReason: user.banReason,
  banExpires: user.banExpires,
  createdAt: user.createdAt,
  features: userFeatures.features,
  tasks: sql<number>`(select count(*) from ${tasks} where ${tasks.userId} = ${user.id})`.mapWith(
    Number,
  ),
  conversations:
    sql<number>`(select count(*) from ${conversations} where ${conversations.userId} = ${user.id})`.mapWith(
      Number,
    ),
  // Turns the user started today, "today" in their own zone.
  turnsToday: sql<number>`(select count(*) from ${messages}
    where ${messages.userId} = ${user.id} and ${messages.role} = 'user'
      and ${messages.createdAt} >= (date_trunc('day', now() at time zone ${zone}) at time zone ${zone}))`.mapWith(
    Number,
  ),
};

/** A page of users by e-mail, after `after` (the last e-mail of the previous page). */
export async function listUsers(
  db: Db,
  options: { limit: number; after?: string; q?: string },
): Promise<AdminUserRow[]> {
  const pattern = options.q ? `%${options.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : undefined;
  return db
    .select(adminUserColumns)
    .from(user)
    .leftJoin(userFeatures, eq(userFeatures.userId, user.id))
    .where(
      and(
        options.after === undefined ? undefined : gt(user.email, options.after),
        pattern ? or(ilike(user.email, pattern), ilike(user.name, pattern)) : undefined,
      ),
    )
    .orderBy(asc(user.email))
    .limit(options.limit);
}

export async function findAdminUser(db: Executor, id: string): Promise<AdminUserRow | undefined> {
  const rows = await db
    .select(adminUserColumns)
    .from(user)
    .leftJoin(userFeatures, eq(userFeatures.userId, user.id))
    .where(eq(user.id, id))
    .limit(1);
  return rows[0];
}

/** Disables an account and ends its sessions, in one transaction; false when there is no such user. */
export async function banUser(
  tx: Tx,
  id: string,
  ban: { reason: string | null; expires: Date | null },
): Promise<boolean> {
  const rows = await tx
    .update(user)
    .set({ banned: true, banReason: ban.reason, banExpires: ban.expires, updatedAt: new Date() })
    .where(eq(user.id, id))
    .returning({ id: user.id });
  if (rows.length === 0) return false;
  await tx.delete(session).where(eq(session.userId, id));
  return true;
}

export async function unbanUser(db: Db, id: string): Promise<boolean> {
  const rows = await db
    .update(user)
    .set({ banned: false, banReason: null, banExpires: null, updatedAt: new Date() })
    .where(eq(user.id, id))
    .returning({ id: user.id });
  return rows.length > 0;
}

/** Ends every session of the user (API keys are left alone); the number ended. */
export async function deleteSessions(db: Db, userId: string): Promise<number> {
  const rows = await db
    .delete(session)
    .where(eq(session.userId, userId))
    .returning({ id: session.id });
  return rows.length;
}

export async function setRole(db: Db, id: string, role: Role): Promise<boolean> {
  const rows = await db
    .update(user)
    .set({ role, updatedAt: new Date() })
    .where(eq(user.id, id))
    .returning({ id: user.id });
  return rows.length > 0;
}

/** Promotes the account with this e-mail (any case); false when there is none. */
export async function promoteByEmail(db: Db, email: string): Promise<boolean> {
  const rows = await db
    .update(user)
    .set({ role: "admin", updatedAt: new Date() })
    .where(sql`lower(${user.email}) = lower(${email})`)
    .returning({ id: user.id });
  return rows.length > 0;
}

/**
 * Deletes the user and, through the foreign keys (on delete cascade), everything of
 * theirs: sessions, accounts, API keys, conversations with their messages and tool
 * records, tasks, lists, counters and feature settings. False when there is no such user.
 */
export async function deleteUser(db: Db, id: string): Promise<boolean> {
  const rows = await db.delete(user).where(eq(user.id, id)).returning({ id: user.id });
  return rows.length > 0;
}

export async function userExists(db: Executor, id: string): Promise<boolean> {
  const rows = await db.select({ id: user.id }).from(user).where(eq(user.id, id)).limit(1);
  return rows.length > 0;
}

/** Counts left behind after a delete (tests and the admin's confirmation). */
export async function countOwnedRows(db: Db, id: string): Promise<number> {
  const [row] = await db
    .select({
      n: sql<number>`(select count(*) from ${tasks} where ${tasks.userId} = ${id})
        + (select count(*) from ${conversations} where ${conversations.userId} = ${id})
        + (select count(*) from ${messages} where ${messages.userId} = ${id})
        + (select count(*) from ${apiKeys} where ${apiKeys.userId} = ${id})
        + (select count(*) from ${session} where ${session.userId} = ${id})`.mapWith(Number),
    })
    .from(sql`(select 1) as one`);
  return row?.n ?? 0;
}

export async function findUserFeatures(db: Db, userId: string): Promise<unknown> {
  const rows = await db
    .select({ features: userFeatures.features })
    .from(userFeatures)
    .where(eq(userFeatures.userId, userId));
  return rows[0]?.features;
}

export async function upsertUserFeatures(
  db: Db,
  userId: string,
  features: Record<string, unknown>,
): Promise<void> {
  await db
    .insert(userFeatures)
    .values({ userId, features })
    .onConflictDoUpdate({ target: userFeatures.userId, set: { features, updatedAt: new Date() } });
}

export async function findRoleFeatures(db: Db, role: Role): Promise<unknown> {
  const rows = await db
    .select({ features: roleFeatures.features })
    .from(roleFeatures)
    .where(eq(roleFeatures.role, role));
  return rows[0]?.features;
}

export async function upsertRoleFeatures(
  db: Db,
  role: Role,
  features: Record<string, unknown>,
): Promise<void> {
  await db
    .insert(roleFeatures)
    .values({ role, features })
    .onConflictDoUpdate({ target: roleFeatures.role, set: { features, updatedAt: new Date() } });
}
