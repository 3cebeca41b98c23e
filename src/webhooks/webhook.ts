import { z } from "zod";

export const WEBHOOK_EVENTS = [
  "task.created",
  "task.updated",
  "task.completed",
  "task.deleted",
  "reminder.fired",
] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];
export type TaskEvent = Exclude<WebhookEvent, "reminder.fired">;

/** At most this many endpoints per user. */
export const WEBHOOKS_MAX = 10;

export interface Webhook {
  id: string;
  url: string;
  secret: string;
  events: WebhookEvent[];
  active: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface Delivery {
  id: string;
  webhookId: string;
  eventType: string;
  payload: unknown;
  status: "pending" | "delivered" | "failed";
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: Date;
  lastAttemptAt: Date | null;
  deliveredAt: Date | null;
}

export const WebhookJson = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(z.enum(WEBHOOK_EVENTS)).describe("Empty: every event"),
  active: z.boolean(),
  created_at: z.string(),
  updated_at: z.string(),
});
/** On creation only: the signing secret is shown once. */
export const NewWebhookJson = WebhookJson.extend({ secret: z.string() });

export function toWebhookJson(w: Webhook): z.infer<typeof WebhookJson> {
  return {
    id: w.id,
    url: w.url,
    events: w.events,
    active: w.active,
    created_at: w.createdAt.toISOString(),
    updated_at: w.updatedAt.toISOString(),
  };
}

export const DeliveryJson = z.object({
  id: z.string().describe("Also the webhook-id header the receiver saw"),
  event_type: z.string(),
  payload: z.unknown(),
  status: z.enum(["pending", "delivered", "failed"]),
  attempts: z.number(),
  last_status_code: z.number().nullable(),
  last_error: z.string().nullable(),
  created_at: z.string(),
  last_attempt_at: z.string().nullable(),
  delivered_at: z.string().nullable(),
});

export function toDeliveryJson(d: Delivery): z.infer<typeof DeliveryJson> {
  return {
    id: d.id,
    event_type: d.eventType,
    payload: d.payload,
    status: d.status,
    attempts: d.attempts,
    last_status_code: d.lastStatusCode,
    last_error: d.lastError,
    created_at: d.createdAt.toISOString(),
    last_attempt_at: d.lastAttemptAt?.toISOString() ?? null,
    delivered_at: d.deliveredAt?.toISOString() ?? null,
  };
}
