import { randomBytes } from "node:crypto";
import type { RequestContext } from "../context.ts";
import type { Executor } from "../db/client.ts";
import { retryingRead, retryingWrite } from "../db/transaction.ts";
import { AppError } from "../errors.ts";
import { type Jobs, QUEUES } from "../jobs/queue.ts";
import { findSettings } from "../reminders/reminder.repository.ts";
import { type Task, toTaskJson } from "../tasks/task.ts";
import * as repo from "./webhook.repository.ts";
import { type TaskEvent, WEBHOOKS_MAX, type Webhook, type WebhookEvent } from "./webhook.ts";
import { checkWebhookUrl } from "./webhook-url.ts";

const notFound = () => new AppError("not_found", "Webhook not found");

/**
 * The outbox step of a task change: one delivery row per subscribed endpoint, and its
 * `webhook-deliver` job, written in the change's own transaction — committed together or
 * not at all. Call it beside the change, with the task as it is after it (as it was, for
 * a deletion).
 */
export async function enqueueTaskEvent(
  tx: Executor,
  ctx: RequestContext,
  type: TaskEvent,
  task: Task,
): Promise<void> {
  await enqueueEvent(tx, ctx.jobs, ctx.userId, type, { task: toTaskJson(task) });
}

/** Queues `type` with `data` for every active endpoint of the user that takes it. */
export async function enqueueEvent(
  tx: Executor,
  jobs: Jobs | undefined,
  userId: string,
  type: WebhookEvent,
  data: object,
): Promise<void> {
  const hooks = await repo.listSubscribers(tx, userId, type);
  if (hooks.length === 0) return;
  if (!(await findSettings(tx, userId)).webhook) return;
  const payload = { type, timestamp: new Date().toISOString(), data };
  const ids = await repo.insertDeliveries(
    tx,
    userId,
    hooks.map((h) => ({ webhookId: h.id, eventType: type, payload })),
  );
  // Without a queue (the stdio MCP entry) the rows stay pending: the server queues them at start.
  if (!jobs) return;
  for (const deliveryId of ids) {
    await jobs.send(tx, QUEUES.webhookDeliver, { deliveryId }, { singletonKey: deliveryId });
  }
}

export async function listWebhooks(ctx: RequestContext): Promise<Webhook[]> {
  return retryingRead(() => repo.listWebhooks(ctx.db, ctx.userId));
}

export async function getWebhook(ctx: RequestContext, id: string): Promise<Webhook> {
  const hook = await retryingRead(() => repo.findWebhook(ctx.db, ctx.userId, id));
  if (!hook) throw notFound();
  return hook;
}

/** Registers an endpoint; its signing secret ("whsec_" + 32 random bytes) is returned once. */
export async function createWebhook(
  ctx: RequestContext,
  input: { url: string; events?: WebhookEvent[] | undefined },
  allowPrivate: boolean,
): Promise<Webhook> {
  const url = await validUrl(input.url, allowPrivate);
  const existing = await retryingRead(() => repo.listWebhooks(ctx.db, ctx.userId));
  if (existing.length >= WEBHOOKS_MAX) {
    throw new AppError("validation_failed", `At most ${WEBHOOKS_MAX} webhooks per account`);
  }
  const secret = `whsec_${randomBytes(32).toString("base64")}`;
  return retryingWrite(() =>
    repo.insertWebhook(ctx.db, ctx.userId, { url, secret, events: unique(input.events ?? []) }),
  );
}

export async function updateWebhook(
  ctx: RequestContext,
  id: string,
  changes: {
    url?: string | undefined;
    events?: WebhookEvent[] | undefined;
    active?: boolean | undefined;
  },
  allowPrivate: boolean,
): Promise<Webhook> {
  const patch: { url?: string; events?: WebhookEvent[]; active?: boolean } = {};
  if (changes.url !== undefined) patch.url = await validUrl(changes.url, allowPrivate);
  if (changes.events !== undefined) patch.events = unique(changes.events);
  if (changes.active !== undefined) patch.active = changes.active;
  if (Object.keys(patch).length === 0)
    throw new AppError("validation_failed", "Give at least one of url, events, active");
  const hook = await retryingWrite(() => repo.updateWebhook(ctx.db, ctx.userId, id, patch));
  if (!hook) throw notFound();
  return hook;
}

export async function deleteWebhook(ctx: RequestContext, id: string): Promise<void> {
  if (!(await retryingWrite(() => repo.deleteWebhook(ctx.db, ctx.userId, id)))) throw notFound();
}

/** The endpoint's newest deliveries: what was sent, how it went, how many attempts. */
export async function listDeliveries(ctx: RequestContext, id: string, limit: number) {
  await getWebhook(ctx, id);
  return retryingRead(() => repo.listDeliveries(ctx.db, ctx.userId, id, limit));
}

async function validUrl(raw: string, allowPrivate: boolean): Promise<string> {
  const check = await checkWebhookUrl(raw.trim(), allowPrivate);
  if (!check.ok) throw new AppError("validation_failed", `url: ${check.reason}`);
  return check.url.toString();
}

const unique = (events: WebhookEvent[]) => [...new Set(events)].sort();
