import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { systemContext } from "../../src/context.ts";
import { QUEUES } from "../../src/jobs/queue.ts";
import { requeueReminders } from "../../src/reminders/reminder.jobs.ts";
import { runTool } from "../../src/tools/task-tools.ts";
import { signUp, startTestApp, type TestApp, type TestUser } from "../support/app.ts";
import { availableBackends, createTestDatabase } from "../support/databases.ts";
import { startWebhookReceiver, waitFor } from "../support/receivers.ts";

// Reminders (issue 14 items 2 and 4): set through REST, fired once by the job queue,
// shown in the inbox with their own time, re-timed by rescheduling, dropped by completing.

const backends = await availableBackends();
const ENV = {
  MAINTENANCE_INTERVAL_MS: "0",
  JOBS_POLL_INTERVAL_MS: "500",
  WEBHOOKS_ALLOW_PRIVATE: "true",
  WEBHOOK_RETRY_DELAY_S: "1",
};

const inSeconds = (s: number) => new Date(Date.now() + s * 1000).toISOString();

async function addTask(t: TestApp, user: TestUser, payload: object) {
  const res = await t.app.inject({
    method: "POST",
    url: "/api/tasks",
    headers: user.headers,
    payload,
  });
  assert.equal(res.statusCode, 201, res.body);
  return res.json() as { id: number };
}

async function inbox(t: TestApp, user: TestUser) {
  const res = await t.app.inject({ url: "/api/notifications", headers: user.headers });
  assert.equal(res.statusCode, 200, res.body);
  return res.json() as {
    items: {
      id: string;
      task_id: number;
      scheduled_for: string;
      fired_at: string;
      read: boolean;
    }[];
    unread_count: number;
  };
}

async function reminders(t: TestApp, user: TestUser, number: number) {
  const res = await t.app.inject({ url: `/api/tasks/${number}/reminders`, headers: user.headers });
  assert.equal(res.statusCode, 200, res.body);
  return (
    res.json() as { items: { fire_at: string | null; fired_at: string | null; default: boolean }[] }
  ).items;
}

for (const backend of backends) {
  describe(`reminders [${backend}]`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(backend, ENV);
    });
    after(() => t.close());

    test("a reminder fires once into the inbox, at its own time; read marks it", async () => {
      const user = await signUp(t.app);
      const at = inSeconds(2);
      const task = await addTask(t, user, { title: "call the plumber", reminders: [{ at }] });
      assert.equal((await inbox(t, user)).items.length, 0);
      const box = await waitFor("the reminder in the inbox", async () => {
        const b = await inbox(t, user);
        return b.items.length > 0 && b;
      });
      assert.equal(box.items.length, 1);
      assert.equal(box.unread_count, 1);
      const [n] = box.items;
      assert.equal(n?.task_id, task.id);
      assert.equal(n?.scheduled_for, at);
      assert.ok(n && new Date(n.fired_at) >= new Date(at));
      const [r] = await reminders(t, user, task.id);
      assert.ok(r?.fired_at, "the reminder is marked fired");
      // Another job for the same reminder and time (a retry, another instance's copy)
      // fires nothing more.
      const id = (await t.server.jobs.sendNow(QUEUES.reminderFire, {
        reminderId: (
          await t.app.inject({ url: `/api/tasks/${task.id}/reminders`, headers: user.headers })
        ).json().items[0].id,
        fireAt: at,
      })) as string;
      assert.ok(id);
      await sleep(1500);
      assert.equal((await inbox(t, user)).items.length, 1);

      const read = await t.app.inject({
        method: "POST",
        url: `/api/notifications/${n?.id}/read`,
        headers: user.headers,
      });
      assert.equal(read.statusCode, 200);
      assert.equal(read.json().read, true);
      assert.equal((await inbox(t, user)).unread_count, 0);
      // Someone else's notification is not found.
      const other = await signUp(t.app);
      const foreign = await t.app.inject({
        method: "POST",
        url: `/api/notifications/${n?.id}/read`,
        headers: other.headers,
      });
      assert.equal(foreign.statusCode, 404);
    });

    test("relative reminders follow the due time; completing or deleting the task drops them", async () => {
      const user = await signUp(t.app);
      const due = new Date(Date.now() + 3600_000);
      const dueDate = due.toISOString().slice(0, 10);
      const dueTime = due.toISOString().slice(11, 16);
      const task = await addTask(t, user, {
        title: "dentist",
        due: { date: dueDate, time: dueTime },
        reminders: [{ before_minutes: 30 }],
      });
      const [first] = await reminders(t, user, task.id);
      const dueAt = new Date(`${dueDate}T${dueTime}:00Z`).getTime();
      assert.equal(new Date(first?.fire_at ?? 0).getTime(), dueAt - 30 * 60_000);

      // Rescheduled: the reminder moves with the due time.
      const later = new Date(dueAt + 86_400_000).toISOString();
      const moved = await t.app.inject({
        method: "PATCH",
        url: `/api/tasks/${task.id}`,
        headers: user.headers,
        payload: { due: { date: later.slice(0, 10), time: dueTime } },
      });
      assert.equal(moved.statusCode, 200, moved.body);
      const [second] = await reminders(t, user, task.id);
      assert.equal(new Date(second?.fire_at ?? 0).getTime(), dueAt + 86_400_000 - 30 * 60_000);

      // A reminder two seconds ahead on a task then completed never fires.
      const soon = await addTask(t, user, {
        title: "water plants",
        reminders: [{ at: inSeconds(2) }],
      });
      const done = await t.app.inject({
        method: "PATCH",
        url: `/api/tasks/${soon.id}`,
        headers: user.headers,
        payload: { completed: true },
      });
      assert.equal(done.statusCode, 200);
      const gone = await addTask(t, user, {
        title: "deleted one",
        reminders: [{ at: inSeconds(2) }],
      });
      const del = await t.app.inject({
        method: "DELETE",
        url: `/api/tasks/${gone.id}`,
        headers: user.headers,
      });
      assert.equal(del.statusCode, 200);
      await sleep(4000);
      assert.equal((await inbox(t, user)).items.length, 0);
    });

    test("a timed task gets the default reminder at its due time, unless the user turned it off", async () => {
      const user = await signUp(t.app);
      const task = await addTask(t, user, {
        title: "standup",
        due: { date: "2031-01-06", time: "09:00" },
      });
      const [r] = await reminders(t, user, task.id);
      assert.equal(r?.default, true);
      assert.equal(r?.fire_at, "2031-01-06T09:00:00.000Z");
      const allDay = await addTask(t, user, { title: "all day", due: { date: "2031-01-06" } });
      assert.deepEqual(await reminders(t, user, allDay.id), []);

      const off = await t.app.inject({
        method: "PATCH",
        url: "/api/me/notifications",
        headers: user.headers,
        payload: { default_reminder: false },
      });
      assert.equal(off.statusCode, 200);
      assert.equal(off.json().default_reminder, false);
      const none = await addTask(t, user, {
        title: "no default",
        due: { date: "2031-01-06", time: "10:00" },
      });
      assert.deepEqual(await reminders(t, user, none.id), []);
    });

    test("the AI tools set and replace reminders (add_task, update_task)", async () => {
      const user = await signUp(t.app);
      const ctx = { ...systemContext(t.server.database.db, user.id), jobs: t.server.jobs };
      const added = (await runTool(ctx, "add_task", {
        title: "pay rent",
        due: { date: "2031-02-01", time: "09:00" },
        reminders: [{ before_minutes: 60 }, { at: "2031-01-31T18:00:00Z" }],
      })) as { task_id: number };
      const set = await reminders(t, user, added.task_id);
      assert.deepEqual(
        set.map((r) => r.fire_at),
        ["2031-01-31T18:00:00.000Z", "2031-02-01T08:00:00.000Z"],
      );
      await runTool(ctx, "update_task", { task_id: added.task_id, reminders: [] });
      assert.deepEqual(await reminders(t, user, added.task_id), []);
      const bad = await runTool(ctx, "add_task", {
        title: "x",
        reminders: [{ before_minutes: "soon" }],
      });
      assert.equal((bad as { error?: { code: string } }).error?.code, "validation_failed");
    });

    test("a reminder set where no queue is at hand (the stdio door) fires once it is queued", async () => {
      const user = await signUp(t.app);
      const ctx = systemContext(t.server.database.db, user.id, { door: "stdio" });
      const at = inSeconds(1);
      await runTool(ctx, "add_task", { title: "from stdio", reminders: [{ at }] });
      await sleep(2500);
      assert.equal((await inbox(t, user)).items.length, 0, "nothing queued it yet");
      await requeueReminders(t.server.jobs, t.server.database.db);
      await requeueReminders(t.server.jobs, t.server.database.db);
      const box = await waitFor("the late reminder", async () => {
        const b = await inbox(t, user);
        return b.items.length > 0 && b;
      });
      await sleep(1000);
      assert.equal((await inbox(t, user)).items.length, 1);
      assert.equal(box.items[0]?.scheduled_for, at);
    });

    test("bad reminders are 400 and store nothing", async () => {
      const user = await signUp(t.app);
      for (const bad of [
        [{ before_minutes: -1 }],
        [{ at: "tomorrow" }],
        [{ at: inSeconds(60), before_minutes: 5 }],
        Array.from({ length: 11 }, () => ({ before_minutes: 5 })),
      ]) {
        const res = await t.app.inject({
          method: "POST",
          url: "/api/tasks",
          headers: user.headers,
          payload: { title: "x", reminders: bad },
        });
        assert.equal(res.statusCode, 400, JSON.stringify(bad));
        assert.equal(res.json().code, "validation_failed");
      }
      const list = await t.app.inject({ url: "/api/tasks", headers: user.headers });
      assert.equal(list.json().items.length, 0);
    });
  });

  describe(`reminders across instances and restarts [${backend}]`, () => {
    test("a reminder due while the server was down fires when it is back, with its original time", async () => {
      const testDb = await createTestDatabase(backend, { onDisk: true });
      try {
        const first = await startTestApp(backend, ENV, { testDb });
        const user = await signUp(first.app);
        const at = inSeconds(2);
        await addTask(first, user, { title: "while down", reminders: [{ at }] });
        await first.close();
        await sleep(3000);
        const second = await startTestApp(backend, ENV, { testDb });
        try {
          const box = await waitFor("the missed reminder", async () => {
            const b = await inbox(second, user);
            return b.items.length > 0 && b;
          });
          assert.equal(box.items.length, 1);
          assert.equal(box.items[0]?.scheduled_for, at);
          assert.ok(
            new Date(box.items[0]?.fired_at ?? 0).getTime() >= new Date(at).getTime() + 1000,
          );
        } finally {
          await second.close();
        }
      } finally {
        await testDb.drop();
      }
    });

    test("two instances on one database deliver a reminder once", {
      skip: backend !== "pg",
    }, async () => {
      const testDb = await createTestDatabase("pg");
      const receiver = await startWebhookReceiver();
      const a = await startTestApp("pg", ENV, { testDb });
      const b = await startTestApp("pg", ENV, { testDb });
      try {
        const user = await signUp(a.app);
        const hook = await a.app.inject({
          method: "POST",
          url: "/api/webhooks",
          headers: user.headers,
          payload: { url: receiver.url, events: ["reminder.fired"] },
        });
        assert.equal(hook.statusCode, 201, hook.body);
        const at = inSeconds(3);
        const task = await addTask(a, user, { title: "race me", reminders: [{ at }] });
        const reminderId = (
          await a.app.inject({ url: `/api/tasks/${task.id}/reminders`, headers: user.headers })
        ).json().items[0].id as string;
        // Extra copies of the job, on both instances, all due at once: the race is real.
        for (const t of [a, b, a, b]) {
          await t.server.jobs.sendNow(
            QUEUES.reminderFire,
            { reminderId, fireAt: at },
            { startAfter: new Date(at) },
          );
        }
        await waitFor("the webhook", () => receiver.events("reminder.fired").length > 0);
        await sleep(3000);
        assert.equal(receiver.events("reminder.fired").length, 1);
        assert.equal((await inbox(b, user)).items.length, 1);
      } finally {
        await b.close();
        await a.close();
        await receiver.close();
        await testDb.drop();
      }
    });
  });
}
