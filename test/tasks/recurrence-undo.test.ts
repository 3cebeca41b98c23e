import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { signUp, startTestApp, type TestApp } from "../support/app.ts";
import { availableBackends } from "../support/databases.ts";

// Issue 14 item 5: complete-then-undo of a repeating task. Completing moves the task to its
// next occurrence; undoing that completion (the activity log) puts the occurrence back,
// with its pattern intact — still one task.

for (const backend of await availableBackends()) {
  describe(`undoing the completion of a repeating task [${backend}]`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(backend);
    });
    after(() => t.close());

    test("the occurrence comes back, the pattern stays, nothing is copied", async () => {
      const user = await signUp(t.app);
      const call = (method: "GET" | "POST" | "PATCH", url: string, payload?: object) =>
        t.app.inject({ method, url, headers: user.headers, ...(payload ? { payload } : {}) });
      const created = await call("POST", "/api/tasks", {
        title: "Water the plants",
        due: { date: "2031-01-06", time: "08:00" },
        recurrence: "FREQ=WEEKLY;BYDAY=MO",
      });
      assert.equal(created.statusCode, 201, created.body);
      const n = created.json().id as number;

      const done = await call("PATCH", `/api/tasks/${n}`, { completed: true });
      assert.equal(done.statusCode, 200, done.body);
      assert.equal(done.json().completed, false, "a repeating task moves on");
      assert.equal(done.json().due.date, "2031-01-13");
      assert.equal(done.json().due.recurrence, "FREQ=WEEKLY;BYDAY=MO");

      const log = await call("GET", `/api/activity?task=${n}&limit=5`);
      const entry = (log.json() as { items: { id: string; kind: string }[] }).items[0];
      assert.equal(entry?.kind, "task.completed");
      const undo = await call("POST", `/api/activity/${entry?.id}/undo`);
      assert.equal(undo.statusCode, 201, undo.body);

      const back = await call("GET", `/api/tasks/${n}`);
      assert.equal(back.json().due.date, "2031-01-06", "the occurrence is back");
      assert.equal(back.json().due.time, "08:00");
      assert.equal(back.json().due.recurrence, "FREQ=WEEKLY;BYDAY=MO", "the pattern is intact");
      assert.equal(back.json().completed, false);
      const all = await call("GET", "/api/tasks?status=all");
      assert.equal((all.json() as { items: unknown[] }).items.length, 1, "one task, never copies");

      // Completing it again moves it on again, from the restored occurrence.
      const again = await call("PATCH", `/api/tasks/${n}`, { completed: true });
      assert.equal(again.json().due.date, "2031-01-13");
    });
  });
}
