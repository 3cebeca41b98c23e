/**
 * Issue 16 item 6: a first start loads the migrated PGlite template `npm ci` built
 * (src/db/pglite-template.ts) instead of running initdb and every migration — and the
 * directory it makes is a normal one: users, tasks and a restart work, and a template of
 * other migrations is never used.
 */
import assert from "node:assert/strict";
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { PGlite } from "@electric-sql/pglite";
import { EXPECTED_MIGRATIONS } from "../../src/db/migrate.ts";
import {
  buildTemplate,
  copyTemplate,
  findTemplate,
  isFreshDataDir,
} from "../../src/db/pglite-template.ts";
import { startServerProcess } from "../support/process.ts";

describe("PGlite first start from the migrated template", () => {
  let root: string;
  before(async () => {
    root = mkdtempSync(join(tmpdir(), "tasktalk-template-"));
    // npm ci's prepare script builds it; a checkout without it builds it here.
    await buildTemplate();
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  test("the template holds every migration, pg-boss's schema and no user, session or secret", async () => {
    const template = findTemplate();
    assert.ok(template, "a template for this PGlite, this pg-boss and these migrations");
    const dir = join(root, "inspect");
    copyTemplate(template, dir);
    assert.ok(!isFreshDataDir(dir));
    const db = await PGlite.create(dir);
    try {
      const migrations = await db.query<{ n: number }>(
        "select count(*)::int as n from drizzle.__drizzle_migrations",
      );
      assert.equal(migrations.rows[0]?.n, EXPECTED_MIGRATIONS);
      // pg-boss's schema, at the installed pg-boss's version, and no queue yet.
      const boss = await db.query<{ version: number }>("select version from pgboss.version");
      assert.equal(boss.rows.length, 1);
      const queues = await db.query<{ n: number }>("select count(*)::int as n from pgboss.queue");
      assert.equal(queues.rows[0]?.n, 0);
      for (const table of ['"user"', "session", "app_settings", "tasks", "api_keys"]) {
        const rows = await db.query<{ n: number }>(`select count(*)::int as n from ${table}`);
        assert.equal(rows.rows[0]?.n, 0, `${table} is empty`);
      }
    } finally {
      await db.close();
    }
  });

  test("npm start on an empty DATA_DIR loads it, serves, and restarts on what it wrote", async () => {
    const dataDir = join(root, "data");
    // A copy cut short (no PG_VERSION yet) is still a fresh directory: copied again.
    const template = findTemplate();
    assert.ok(template);
    cpSync(join(template, "global"), join(dataDir, "global"), { recursive: true });
    writeFileSync(join(dataDir, "global", "pg_control"), "cut short");
    assert.ok(isFreshDataDir(dataDir));
    const env = { DATA_DIR: dataDir, LLM_PROVIDER: "offline", AUTH_RATE_LIMIT: "false" };
    const first = await startServerProcess(env, 60_000);
    let token: string;
    try {
      assert.match(first.output(), /"dataDir":"template"/);
      const signUp = await fetch(`${first.url}/api/auth/sign-up/email`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: first.url },
        body: JSON.stringify({
          email: "t@example.com",
          password: "correct horse battery",
          name: "T",
        }),
      });
      assert.equal(signUp.status, 200, await signUp.clone().text());
      token = signUp.headers.get("set-auth-token") ?? "";
      assert.ok(token, "a bearer token");
      const added = await fetch(`${first.url}/api/tasks`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ title: "from the template" }),
      });
      assert.equal(added.status, 201, await added.clone().text());
    } finally {
      first.kill();
      await first.exited;
    }
    assert.ok(existsSync(join(dataDir, "PG_VERSION")));
    const second = await startServerProcess(env, 60_000);
    try {
      assert.match(second.output(), /"dataDir":"existed"/);
      const list = await fetch(`${second.url}/api/tasks`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(list.status, 200);
      const body = (await list.json()) as { items: { title: string }[] };
      assert.deepEqual(
        body.items.map((t) => t.title),
        ["from the template"],
      );
    } finally {
      second.kill();
      await second.exited;
    }
  });
});
