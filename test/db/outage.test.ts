import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { signUp, startTestApp, type TestApp } from "../support/app.ts";
import { availableBackends } from "../support/databases.ts";
import { type ProxiedDatabase, proxiedTestDatabase } from "../support/tcp-proxy.ts";

const backends = await availableBackends();

describe("database outage under load (D3) [pg]", { skip: !backends.includes("pg") }, () => {
  let t: TestApp;
  let db: ProxiedDatabase;
  before(async () => {
    db = await proxiedTestDatabase();
    t = await startTestApp(
      "pg",
      { DATABASE_URL: db.url, PG_CONNECT_TIMEOUT_MS: "500" },
      { testDb: db.testDb },
    );
  });
  after(async () => {
    await t.close();
    await db.close();
  });

  test("503 while the database is gone, recovery without a restart, every acknowledged write kept", async () => {
    const user = await signUp(t.app);
    const acknowledged: string[] = [];
    const statuses = new Map<number, number>();
    let stop = false;
    const writers = Array.from({ length: 4 }, (_, w) =>
      (async () => {
        for (let i = 0; i < 400 && !stop; i++) {
          const title = `w${w}-${i}`;
          const res = await t.app.inject({
            method: "POST",
            url: "/api/tasks",
            headers: user.headers,
            payload: { title },
          });
          statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
          if (res.statusCode === 201) acknowledged.push(title);
          else assert.equal(res.statusCode, 503, res.body);
          await sleep(5);
        }
      })(),
    );
    await sleep(300);
    await db.proxy.down(); // the server goes away: open connections cut, new ones refused
    await sleep(1000);
    await db.proxy.up();
    await sleep(700);
    stop = true;
    await Promise.all(writers);
    assert.ok(
      (statuses.get(503) ?? 0) > 0,
      `some requests saw the outage: ${JSON.stringify([...statuses])}`,
    );
    assert.ok(acknowledged.length > 0);
    const ready = await t.app.inject({ url: "/health/ready" });
    assert.equal(ready.statusCode, 200, "recovered without a restart");
    // Every page (GET /api/tasks answers 100 at a time).
    const stored: { id: number; title: string }[] = [];
    for (let cursor: string | null = ""; cursor !== null; ) {
      const page = (
        await t.app.inject({
          url: `/api/tasks?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
          headers: user.headers,
        })
      ).json() as { items: { id: number; title: string }[]; next_cursor: string | null };
      stored.push(...page.items);
      cursor = page.next_cursor;
    }
    const titles = new Set(stored.map((s) => s.title));
    for (const title of acknowledged)
      assert.ok(titles.has(title), `acknowledged write lost: ${title}`);
    assert.equal(new Set(stored.map((s) => s.id)).size, stored.length, "task numbers unique");
  });
});
