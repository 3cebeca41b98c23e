import type { RequestContext } from "../context.ts";
import { inTransaction, retryingRead, retryingWrite } from "../db/transaction.ts";
import { AppError } from "../errors.ts";
import * as repo from "./admin.repository.ts";
import {
  type Features,
  parseStoredFeatures,
  type QuotaLimits,
  type Role,
  resolveAccess,
  toAccessJson,
  toRole,
} from "./features.ts";

// The admin use cases. `ctx` is the admin (the route admits admins only); the target is
// another account, named by id. What an admin sees of a user is the account and counts
// of their data — never a task, a conversation or a message.

const PAGE_MAX = 100;

export interface AdminUser {
  id: string;
  name: string;
  email: string;
  role: Role;
  banned: boolean;
  ban_reason: string | null;
  ban_expires: string | null;
  created_at: string;
  usage: { tasks: number; conversations: number; turns_today: number };
  features: Features;
}

function toAdminUser(row: repo.AdminUserRow): AdminUser {
  // An expired ban is shown as lifted (the account works again).
  const banned = row.banned && (row.banExpires === null || row.banExpires.getTime() > Date.now());
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    role: toRole(row.role),
    banned,
    ban_reason: banned ? row.banReason : null,
    ban_expires: banned && row.banExpires ? row.banExpires.toISOString() : null,
    created_at: row.createdAt.toISOString(),
    usage: { tasks: row.tasks, conversations: row.conversations, turns_today: row.turnsToday },
    features: parseStoredFeatures(row.features),
  };
}

const noUser = () => new AppError("not_found", "User not found");

function notYourself(ctx: RequestContext, id: string, what: string): void {
  if (id === ctx.userId) {
    throw new AppError("conflict", `You cannot ${what} your own account (ask another admin)`);
  }
}

/** A page of accounts by e-mail with their usage; `cursor` is the previous page's next_cursor. */
export async function listUsers(
  ctx: RequestContext,
  query: { limit?: number; cursor?: string; q?: string },
): Promise<{ items: AdminUser[]; next_cursor: string | null }> {
  const limit = Math.min(query.limit ?? 50, PAGE_MAX);
  const rows = await retryingRead(() =>
    repo.listUsers(ctx.db, { limit: limit + 1, after: query.cursor, q: query.q }),
  );
  const page = rows.slice(0, limit);
  const more = rows.length > limit;
  return { items: page.map(toAdminUser), next_cursor: more ? (page.at(-1)?.email ?? null) : null };
}

export async function getUser(ctx: RequestContext, id: string): Promise<AdminUser> {
  const row = await retryingRead(() => repo.findAdminUser(ctx.db, id));
  if (!row) throw noUser();
  return toAdminUser(row);
}

/**
 * Disables an account: its sessions end in the same transaction, and every request with
 * one of its sessions or API keys is refused from then on, on every instance (the
 * authentication hook reads the ban with the credential).
 */
export async function banUser(
  ctx: RequestContext,
  id: string,
  input: { reason?: string; expires_in_seconds?: number },
): Promise<AdminUser> {
  notYourself(ctx, id, "disable");
  const expires = input.expires_in_seconds
    ? new Date(Date.now() + input.expires_in_seconds * 1000)
    : null;
  const found = await inTransaction(ctx.db, (tx) =>
    repo.banUser(tx, id, { reason: input.reason ?? null, expires }),
  );
  if (!found) throw noUser();
  return getUser(ctx, id);
}

export async function unbanUser(ctx: RequestContext, id: string): Promise<AdminUser> {
  if (!(await retryingWrite(() => repo.unbanUser(ctx.db, id)))) throw noUser();
  return getUser(ctx, id);
}

/** Signs the user out everywhere (their API keys keep working: revoke those by disabling). */
export async function revokeSessions(ctx: RequestContext, id: string): Promise<number> {
  // Your own sessions: sign out, or change your password (which ends the others).
  notYourself(ctx, id, "reset the sessions of");
  if (!(await retryingRead(() => repo.userExists(ctx.db, id)))) throw noUser();
  return retryingWrite(() => repo.deleteSessions(ctx.db, id));
}

export async function setRole(ctx: RequestContext, id: string, role: Role): Promise<AdminUser> {
  notYourself(ctx, id, "change the role of");
  if (!(await retryingWrite(() => repo.setRole(ctx.db, id, role)))) throw noUser();
  return getUser(ctx, id);
}

/** Deletes the account and all its data (cascading foreign keys). Cannot be undone. */
export async function deleteUser(ctx: RequestContext, id: string): Promise<void> {
  notYourself(ctx, id, "delete");
  if (!(await retryingWrite(() => repo.deleteUser(ctx.db, id)))) throw noUser();
}

export interface FeaturesView {
  features: Features;
  effective: ReturnType<typeof toAccessJson>;
}

async function userFeaturesView(
  ctx: RequestContext,
  id: string,
  defaults: QuotaLimits,
): Promise<FeaturesView> {
  const user = await getUser(ctx, id);
  const [own, byRole] = await Promise.all([
    retryingRead(() => repo.findUserFeatures(ctx.db, id)),
    retryingRead(() => repo.findRoleFeatures(ctx.db, user.role)),
  ]);
  return {
    features: parseStoredFeatures(own),
    effective: toAccessJson(resolveAccess(user.role, byRole, own, defaults)),
  };
}

export const getUserFeatures = userFeaturesView;

/** Replaces the user's own feature settings (keys left out inherit from the role). */
export async function putUserFeatures(
  ctx: RequestContext,
  id: string,
  features: Features,
  defaults: QuotaLimits,
): Promise<FeaturesView> {
  if (!(await retryingRead(() => repo.userExists(ctx.db, id)))) throw noUser();
  await retryingWrite(() => repo.upsertUserFeatures(ctx.db, id, features));
  return userFeaturesView(ctx, id, defaults);
}

export async function getRoleFeatures(ctx: RequestContext, role: Role): Promise<Features> {
  return parseStoredFeatures(await retryingRead(() => repo.findRoleFeatures(ctx.db, role)));
}

/** Replaces a role's feature settings (keys left out inherit from the configuration). */
export async function putRoleFeatures(
  ctx: RequestContext,
  role: Role,
  features: Features,
): Promise<Features> {
  await retryingWrite(() => repo.upsertRoleFeatures(ctx.db, role, features));
  return getRoleFeatures(ctx, role);
}
