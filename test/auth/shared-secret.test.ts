import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { sql } from "drizzle-orm";
import { rowsOf } from "../../src/db/client.ts";
import { signUp, startTestApp, type TestApp } from "../support/app.ts";
import { availableBackends, createTestDatabase } from "../support/databases.ts";

// Several instances on one PostgreSQL, each with its own DATA_DIR and no BETTER_AUTH_SECRET
// (as an operator starts them): they must share one secret, or a token signed in through
// one instance is refused by the others.

const backends = await availableBackends();

describe("instances on one PostgreSQL share the auth secret [pg]", {
  skip: !backends.includes("pg"),
}, () => {
  const apps: TestApp[] = [];
  const drops: (() => Promise<void>)[] = [];
  after(async () => {
    for (const app of apps) await app.close();
    for (const drop of drops) await drop();
  });

  test("a session from one instance works on another, also after a restart", async () => {
    const testDb = await createTestDatabase("pg");
    const other = await createTestDatabase("pglite", { onDisk: true }); // a second DATA_DIR
    drops.push(
      () => other.drop(),
      () => testDb.drop(),
    );
    const start = (dataDir: string) =>
      startTestApp("pg", { DATA_DIR: dataDir }, { testDb: { ...testDb, dataDir } });
    const [a, b] = await Promise.all([start(testDb.dataDir), start(other.dataDir)]);
    apps.push(a, b);
    const user = await signUp(a.app);
    // A signed session cookie is checked against the secret: use it on the other instance.
    const signedIn = await a.app.inject({
      method: "POST",
      url: "/api/auth/sign-in/email",
      payload: { email: user.email, password: "correct horse battery" },
    });
    const cookie = String(signedIn.headers["set-cookie"]).split(";")[0] ?? "";
    for (const t of [a, b]) {
      const bearer = await t.app.inject({ url: "/api/tasks", headers: user.headers });
      assert.equal(bearer.statusCode, 200, bearer.body);
      const viaCookie = await t.app.inject({ url: "/api/tasks", headers: { cookie } });
      assert.equal(viaCookie.statusCode, 200, viaCookie.body);
    }
    await b.server.close();
    const c = await start(other.dataDir);
    apps.push(c);
    const again = await c.app.inject({ url: "/api/tasks", headers: { cookie } });
    assert.equal(again.statusCode, 200, again.body);
  });

  test("an upgrade keeps the secret an earlier version kept in DATA_DIR (users stay signed in)", async () => {
    const testDb = await createTestDatabase("pg");
    drops.push(() => testDb.drop());
    const legacy = "l".repeat(43);
    writeFileSync(join(testDb.dataDir, ".auth-secret"), `${legacy}\n`);
    const t = await startTestApp("pg", { DATA_DIR: testDb.dataDir }, { testDb });
    apps.push(t);
    const [row] = rowsOf<{ value: string }>(
      await t.server.database.db.execute(
        sql`select value from app_settings where key = 'auth_secret'`,
      ),
    );
    assert.equal(row?.value, legacy);
  });
});
