import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Webhook } from "standardwebhooks";
import { checkWebhookUrl } from "../../src/webhooks/webhook-url.ts";
import { signUp, startTestApp, type TestApp, type TestUser } from "../support/app.ts";
import { availableBackends } from "../support/databases.ts";
import { startSmtpReceiver, startWebhookReceiver, waitFor } from "../support/receivers.ts";

// Delivery channels (issue 14 items 3 and 4): webhooks signed per Standard Webhooks and
// checked by the `standardwebhooks` library (an independent implementation), retried
// with backoff and logged; e-mail through a real SMTP server on 127.0.0.1.

const backends = await availableBackends();

test("webhook URLs: loopback, private and metadata addresses are refused unless allowed", async () => {
  for (const url of [
    "http://127.0.0.1:8080/x",
    "http://10.1.2.3/x",
    "http://169.254.169.254/latest/meta-data",
    "http://[::1]/x",
    "http://192.168.0.10/x",
    "http://localhost/x",
    "http://[::ffff:127.0.0.1]/x",
    "http://[fd00::1]/x",
  ]) {
    const result = await checkWebhookUrl(url, false);
    assert.equal(result.ok, false, url);
    assert.equal((await checkWebhookUrl(url, true)).ok, true, url);
  }
  assert.equal((await checkWebhookUrl("http://93.184.215.14/hook", false)).ok, true);
  for (const bad of ["ftp://example.com/x", "not a url", "http://user:pw@example.com/"]) {
    assert.equal((await checkWebhookUrl(bad, true)).ok, false, bad);
  }
});

for (const backend of backends) {
  describe(`webhooks and e-mail [${backend}]`, () => {
    let t: TestApp;
    let smtp: Awaited<ReturnType<typeof startSmtpReceiver>>;
    before(async () => {
      smtp = await startSmtpReceiver();
      t = await startTestApp(backend, {
        MAINTENANCE_INTERVAL_MS: "0",
        JOBS_POLL_INTERVAL_MS: "500",
        WEBHOOKS_ALLOW_PRIVATE: "true",
        WEBHOOK_RETRY_DELAY_S: "1",
        SMTP_URL: smtp.url,
        SMTP_FROM: "Tasktalk <reminders@tasktalk.test>",
      });
    });
    after(async () => {
      await t.close();
      await smtp.close();
    });

    const register = async (user: TestUser, url: string, events?: string[]) => {
      const res = await t.app.inject({
        method: "POST",
        url: "/api/webhooks",
        headers: user.headers,
        payload: { url, ...(events ? { events } : {}) },
      });
      assert.equal(res.statusCode, 201, res.body);
      return res.json() as { id: string; secret: string; url: string };
    };

    test("task changes reach the endpoint as signed events the reference library verifies", async () => {
      const receiver = await startWebhookReceiver();
      try {
        const user = await signUp(t.app);
        const hook = await register(user, receiver.url);
        assert.match(hook.secret, /^whsec_/);
        const created = await t.app.inject({
          method: "POST",
          url: "/api/tasks",
          headers: user.headers,
          payload: { title: "buy milk" },
        });
        const n = created.json().id as number;
        for (const payload of [{ title: "buy oat milk" }, { completed: true }]) {
          const res = await t.app.inject({
            method: "PATCH",
            url: `/api/tasks/${n}`,
            headers: user.headers,
            payload,
          });
          assert.equal(res.statusCode, 200);
        }
        await t.app.inject({ method: "DELETE", url: `/api/tasks/${n}`, headers: user.headers });
        await waitFor("four events", () => receiver.events().length >= 4);
        const types = receiver.events().map((e) => e.type);
        assert.deepEqual([...types].sort(), [
          "task.completed",
          "task.created",
          "task.deleted",
          "task.updated",
        ]);
        const verifier = new Webhook(hook.secret);
        for (const r of receiver.received) {
          const verified = verifier.verify(r.body, r.headers as Record<string, string>) as {
            type: string;
            data: { task: { id: number; title: string } };
          };
          assert.equal(verified.data.task.id, n);
        }
        // A tampered body or another secret fails verification.
        const one = receiver.received[0];
        assert.ok(one);
        assert.throws(() => verifier.verify(`${one.body} `, one.headers as Record<string, string>));
        const other = new Webhook(`whsec_${Buffer.alloc(32, 7).toString("base64")}`);
        assert.throws(() => other.verify(one.body, one.headers as Record<string, string>));
        // Another user's task changes are not sent here.
        const stranger = await signUp(t.app);
        await t.app.inject({
          method: "POST",
          url: "/api/tasks",
          headers: stranger.headers,
          payload: { title: "not yours" },
        });
        const foreign = await t.app.inject({
          url: `/api/webhooks/${hook.id}/deliveries`,
          headers: stranger.headers,
        });
        assert.equal(foreign.statusCode, 404);
        assert.equal(receiver.received.length, 4);
      } finally {
        await receiver.close();
      }
    });

    test("a receiver that fails twice gets the event on the third attempt; the log shows it", async () => {
      const receiver = await startWebhookReceiver({ failFirst: 2 });
      try {
        const user = await signUp(t.app);
        const hook = await register(user, receiver.url, ["task.created"]);
        await t.app.inject({
          method: "POST",
          url: "/api/tasks",
          headers: user.headers,
          payload: { title: "retry me" },
        });
        await waitFor("the delivery", () => receiver.events("task.created").length === 1, 40_000);
        assert.deepEqual(
          receiver.received.map((r) => r.status),
          [500, 500, 204],
        );
        // One webhook-id across the attempts: the receiver's idempotency key.
        assert.equal(new Set(receiver.received.map((r) => r.headers["webhook-id"])).size, 1);
        const log = await waitFor("the delivery log", async () => {
          const res = await t.app.inject({
            url: `/api/webhooks/${hook.id}/deliveries`,
            headers: user.headers,
          });
          const items = res.json().items as { status: string; attempts: number }[];
          return items[0]?.status === "delivered" && items;
        });
        assert.equal(log.length, 1);
        assert.equal(log[0]?.attempts, 3);
        assert.deepEqual(
          {
            ...log[0],
            id: undefined,
            created_at: undefined,
            last_attempt_at: undefined,
            delivered_at: undefined,
            payload: undefined,
          },
          {
            id: undefined,
            event_type: "task.created",
            status: "delivered",
            attempts: 3,
            last_status_code: 204,
            last_error: null,
            created_at: undefined,
            last_attempt_at: undefined,
            delivered_at: undefined,
            payload: undefined,
          },
        );
      } finally {
        await receiver.close();
      }
    });

    test("a fired reminder is e-mailed and sent to the webhook once", async () => {
      const receiver = await startWebhookReceiver();
      try {
        const user = await signUp(t.app);
        await register(user, receiver.url, ["reminder.fired"]);
        const settings = await t.app.inject({
          method: "PATCH",
          url: "/api/me/notifications",
          headers: user.headers,
          payload: { email: true },
        });
        assert.equal(settings.statusCode, 200);
        assert.equal(settings.json().email_available, true);
        const at = new Date(Date.now() + 2000).toISOString();
        await t.app.inject({
          method: "POST",
          url: "/api/tasks",
          headers: user.headers,
          payload: { title: "renew passport", reminders: [{ at }] },
        });
        const mail = await waitFor("the e-mail", () =>
          smtp.mails.find((m) => m.to.includes(user.email)),
        );
        assert.equal(mail.from, "reminders@tasktalk.test");
        assert.match(mail.raw, /Subject: Reminder: renew passport/);
        await waitFor("the webhook", () => receiver.events("reminder.fired").length > 0);
        const [event] = receiver.events("reminder.fired");
        const reminder = event?.data.reminder as { scheduled_for: string } | undefined;
        assert.equal(reminder?.scheduled_for, at);
        assert.equal(smtp.mails.filter((m) => m.to.includes(user.email)).length, 1);
      } finally {
        await receiver.close();
      }
    });

    test("webhook CRUD: list, disable, refuse bad input, delete", async () => {
      const user = await signUp(t.app);
      const hook = await register(user, "http://127.0.0.1:9/never");
      const list = await t.app.inject({ url: "/api/webhooks", headers: user.headers });
      assert.equal(list.json().items.length, 1);
      assert.equal(list.json().items[0].secret, undefined, "the secret is shown once");
      const off = await t.app.inject({
        method: "PATCH",
        url: `/api/webhooks/${hook.id}`,
        headers: user.headers,
        payload: { active: false },
      });
      assert.equal(off.json().active, false);
      for (const payload of [
        { url: "ftp://x.test/" },
        { url: "http://x.test/", events: ["nope"] },
        { url: "http://x.test", secret: "mine" },
      ]) {
        const bad = await t.app.inject({
          method: "POST",
          url: "/api/webhooks",
          headers: user.headers,
          payload,
        });
        assert.equal(bad.statusCode, 400, JSON.stringify(payload));
      }
      const del = await t.app.inject({
        method: "DELETE",
        url: `/api/webhooks/${hook.id}`,
        headers: user.headers,
      });
      assert.equal(del.statusCode, 204);
      const again = await t.app.inject({
        method: "DELETE",
        url: `/api/webhooks/${hook.id}`,
        headers: user.headers,
      });
      assert.equal(again.statusCode, 404);
    });
  });
}
