import type { Config } from "../config.ts";
import type { Log } from "../context.ts";
import type { Db } from "../db/client.ts";
import { retryingRead, retryingWrite } from "../db/transaction.ts";
import { type Jobs, QUEUES } from "../jobs/queue.ts";
import { VERSION } from "../version.ts";
import { webhookHeaders } from "./signing.ts";
import * as repo from "./webhook.repository.ts";
import { checkWebhookUrl } from "./webhook-url.ts";

/** How much of a failure's text the delivery log keeps. */
const ERROR_MAX = 300;

/**
 * The `webhook-deliver` worker: one POST per attempt, signed afresh (a new timestamp, the
 * same `webhook-id`: the receiver's idempotency key). A 2xx answer is delivered; any
 * other answer, a timeout or a refused connection is logged on the delivery and thrown,
 * so pg-boss retries it with exponential backoff until WEBHOOK_RETRY_LIMIT, after which
 * the delivery is `failed`. Redirects are not followed (a 3xx is a failure): a redirect
 * could lead past the address check.
 */
export async function startWebhookWorker(
  jobs: Jobs,
  db: Db,
  config: Config["webhooks"],
  log: Log,
): Promise<void> {
  await jobs.work<{ deliveryId: string }>(QUEUES.webhookDeliver, async (job) => {
    const id = job.data.deliveryId;
    const found = await retryingRead(() => repo.findDeliveryForSend(db, id));
    if (found?.delivery.status !== "pending") return;
    const fail = (error: string, statusCode: number | null = null) =>
      retryingWrite(() =>
        repo.recordAttempt(db, id, {
          status: "failed",
          statusCode,
          error: error.slice(0, ERROR_MAX),
        }),
      );
    if (!found.hook.active) return void (await fail("the webhook is disabled"));
    const check = await checkWebhookUrl(found.hook.url, config.allowPrivate);
    if (!check.ok) return void (await fail(`url ${check.reason}`));

    const body = JSON.stringify(found.delivery.payload);
    let statusCode: number | null = null;
    let error: string;
    try {
      const res = await fetch(check.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": `Tasktalk-Webhooks/${VERSION}`,
          ...webhookHeaders(found.hook.secret, id, body),
        },
        body,
        redirect: "manual",
        signal: AbortSignal.timeout(config.timeoutMs),
      });
      statusCode = res.status;
      await res.body?.cancel();
      if (res.status >= 200 && res.status < 300) {
        await retryingWrite(() =>
          repo.recordAttempt(db, id, { status: "delivered", statusCode, error: null }),
        );
        return;
      }
      error = `the endpoint answered HTTP ${res.status}`;
    } catch (cause) {
      error = describe(cause);
    }
    const last = job.retryCount >= config.retryLimit;
    await retryingWrite(() =>
      repo.recordAttempt(db, id, {
        status: last ? "failed" : "pending",
        statusCode,
        error: error.slice(0, ERROR_MAX),
      }),
    );
    if (last) {
      log.warn({ category: "webhooks", deliveryId: id, error }, "webhook delivery failed for good");
      return;
    }
    throw new Error(`webhook delivery ${id}: ${error}`);
  });
}

/** Deliveries written where no queue was at hand (the stdio MCP entry): queued at start. */
export async function requeuePendingDeliveries(jobs: Jobs, db: Db): Promise<void> {
  const ids = await retryingRead(() => repo.listPendingDeliveryIds(db, 10_000));
  for (const deliveryId of ids) {
    await jobs.sendNow(QUEUES.webhookDeliver, { deliveryId }, { singletonKey: deliveryId });
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === "TimeoutError") return "the endpoint did not answer in time";
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ? `${error.message} (${cause.code})` : error.message;
  }
  return String(error);
}
