import { and, desc, eq, sql } from "drizzle-orm";
import type { Db, Executor } from "../db/client.ts";
import { prepared } from "../db/prepared.ts";
import { webhookDeliveries, webhooks } from "../db/schema.ts";
import type { Delivery, Webhook, WebhookEvent } from "./webhook.ts";

const toWebhook = (row: typeof webhooks.$inferSelect): Webhook => ({
  id: row.id,
  url: row.url,
  secret: row.secret,
  events: row.events as WebhookEvent[],
  active: row.active,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
});

const toDelivery = (row: typeof webhookDeliveries.$inferSelect): Delivery => ({
  id: row.id,
  webhookId: row.webhookId,
  eventType: row.eventType,
  payload: row.payload,
  status: row.status,
  attempts: row.attempts,
  lastStatusCode: row.lastStatusCode,
  lastError: row.lastError,
  createdAt: row.createdAt,
  lastAttemptAt: row.lastAttemptAt,
  deliveredAt: row.deliveredAt,
});

export async function listWebhooks(db: Executor, userId: string): Promise<Webhook[]> {
  const rows = await db
    .select()
    .from(webhooks)
    .where(eq(webhooks.userId, userId))
    .orderBy(webhooks.createdAt, webhooks.id);
  return rows.map(toWebhook);
}

export async function findWebhook(db: Executor, userId: string, id: string) {
  const rows = await db
    .select()
    .from(webhooks)
    .where(and(eq(webhooks.userId, userId), eq(webhooks.id, id)))
    .limit(1);
  return rows[0] ? toWebhook(rows[0]) : undefined;
}

export async function insertWebhook(
  db: Executor,
  userId: string,
  input: { url: string; secret: string; events: WebhookEvent[] },
): Promise<Webhook> {
  const [row] = await db
    .insert(webhooks)
    .values({ userId, ...input })
    .returning();
  if (!row) throw new Error("insert into webhooks returned no row");
  return toWebhook(row);
}

export async function updateWebhook(
  db: Executor,
  userId: string,
  id: string,
  patch: { url?: string; events?: WebhookEvent[]; active?: boolean },
) {
  const [row] = await db
    .update(webhooks)
    .set({ ...patch, updatedAt: sql`now()` })
    .where(and(eq(webhooks.userId, userId), eq(webhooks.id, id)))
    .returning();
  return row ? toWebhook(row) : undefined;
}

export async function deleteWebhook(db: Executor, userId: string, id: string) {
  const rows = await db
    .delete(webhooks)
    .where(and(eq(webhooks.userId, userId), eq(webhooks.id, id)))
    .returning({ id: webhooks.id });
  return rows.length > 0;
}

/** The user's active endpoints that take `event` (an empty list takes every event). */
export async function listSubscribers(db: Executor, userId: string, event: WebhookEvent) {
  const rows = await subscribersQuery(db as Db).execute({ userId, event });
  return rows.map(toWebhook);
}

// Every task change (a chat turn's add_task too) asks, in its transaction: built once per
// connection (src/db/prepared.ts).
const subscribersQuery = prepared((db) =>
  db
    .select()
    .from(webhooks)
    .where(
      and(
        eq(webhooks.userId, sql.placeholder("userId")),
        eq(webhooks.active, true),
        sql`(cardinality(${webhooks.events}) = 0 or ${sql.placeholder("event")} = any(${webhooks.events}))`,
      ),
    ),
);

export async function insertDeliveries(
  db: Executor,
  userId: string,
  rows: { webhookId: string; eventType: string; payload: unknown }[],
): Promise<string[]> {
  if (rows.length === 0) return [];
  const inserted = await db
    .insert(webhookDeliveries)
    .values(rows.map((r) => ({ ...r, userId })))
    .returning({ id: webhookDeliveries.id });
  return inserted.map((r) => r.id);
}

export async function listDeliveries(
  db: Executor,
  userId: string,
  webhookId: string,
  limit: number,
): Promise<Delivery[]> {
  const rows = await db
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.userId, userId), eq(webhookDeliveries.webhookId, webhookId)))
    .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
    .limit(limit);
  return rows.map(toDelivery);
}

/** A delivery with its endpoint, for the delivery job (any user: the job names the row). */
export async function findDeliveryForSend(db: Executor, id: string) {
  const rows = await db
    .select({ delivery: webhookDeliveries, hook: webhooks })
    .from(webhookDeliveries)
    .innerJoin(webhooks, eq(webhooks.id, webhookDeliveries.webhookId))
    .where(eq(webhookDeliveries.id, id))
    .limit(1);
  const row = rows[0];
  return row ? { delivery: toDelivery(row.delivery), hook: toWebhook(row.hook) } : undefined;
}

export async function recordAttempt(
  db: Executor,
  id: string,
  outcome: {
    status: "pending" | "delivered" | "failed";
    statusCode: number | null;
    error: string | null;
  },
) {
  await db
    .update(webhookDeliveries)
    .set({
      status: outcome.status,
      attempts: sql`${webhookDeliveries.attempts} + 1`,
      lastStatusCode: outcome.statusCode,
      lastError: outcome.error,
      lastAttemptAt: sql`now()`,
      ...(outcome.status === "delivered" ? { deliveredAt: sql`now()` } : {}),
    })
    .where(eq(webhookDeliveries.id, id));
}

/**
 * Deliveries never attempted a minute after they were written: those written where no
 * queue was at hand (the stdio MCP entry). One with attempts has its job (retrying).
 */
export async function listPendingDeliveryIds(db: Executor, limit: number): Promise<string[]> {
  const rows = await db
    .select({ id: webhookDeliveries.id })
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.status, "pending"),
        eq(webhookDeliveries.attempts, 0),
        sql`${webhookDeliveries.createdAt} < now() - interval '1 minute'`,
      ),
    )
    .orderBy(webhookDeliveries.createdAt)
    .limit(limit);
  return rows.map((r) => r.id);
}
