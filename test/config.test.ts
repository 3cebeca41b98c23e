import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ConfigError, loadConfig } from "../src/config.ts";

const dataDir = () => mkdtempSync(join(tmpdir(), "tasktalk-cfg-"));

test("defaults: PGlite in ./data-like DATA_DIR, 127.0.0.1:3000, offline model", () => {
  const dir = dataDir();
  const c = loadConfig({ DATA_DIR: dir });
  assert.equal(c.port, 3000);
  assert.equal(c.host, "127.0.0.1");
  assert.equal(c.database.kind, "pglite");
  assert.equal(c.llm.provider, "offline");
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.database));
  rmSync(dir, { recursive: true });
});

test("a generated development secret is persisted and reused", () => {
  const dir = dataDir();
  const a = loadConfig({ DATA_DIR: dir }).auth.secret;
  const b = loadConfig({ DATA_DIR: dir }).auth.secret;
  assert.equal(a, b);
  assert.equal(readFileSync(join(dir, ".auth-secret"), "utf8").trim(), a);
  rmSync(dir, { recursive: true });
});

test("DATABASE_URL selects PostgreSQL with bounded pool settings", () => {
  const c = loadConfig({ DATA_DIR: dataDir(), DATABASE_URL: "postgres://u@127.0.0.1:5432/db" });
  assert.equal(c.database.kind, "pg");
  if (c.database.kind === "pg") {
    assert.ok(c.database.connectTimeoutMs > 0, "never wait forever for a connection");
    assert.ok(c.database.poolMax > 0);
  }
});

test("every bad variable is reported at once", () => {
  const error = (() => {
    try {
      loadConfig({
        PORT: "99999",
        DATABASE_URL: "mysql://x",
        LOG_LEVEL: "chatty",
        PG_CONNECT_TIMEOUT_MS: "0",
      });
    } catch (e) {
      return e;
    }
  })();
  assert.ok(error instanceof ConfigError);
  const names = error.issues.map((i) => i.split(":")[0]);
  assert.deepEqual(names.sort(), ["DATABASE_URL", "LOG_LEVEL", "PG_CONNECT_TIMEOUT_MS", "PORT"]);
});

test("production requires BETTER_AUTH_SECRET; openai-compatible requires a base URL and model", () => {
  assert.throws(
    () => loadConfig({ NODE_ENV: "production", DATA_DIR: dataDir() }),
    /BETTER_AUTH_SECRET/,
  );
  assert.throws(
    () => loadConfig({ DATA_DIR: dataDir(), LLM_PROVIDER: "openai-compatible" }),
    (e: unknown) => e instanceof ConfigError && e.issues.length === 2,
  );
  const ok = loadConfig({
    NODE_ENV: "production",
    BETTER_AUTH_SECRET: "x".repeat(32),
    DATA_DIR: dataDir(),
    LLM_PROVIDER: "openai-compatible",
    LLM_BASE_URL: "http://127.0.0.1:11434/v1",
    LLM_MODEL: "llama3.2",
  });
  assert.equal(ok.llm.model, "llama3.2");
});

test("quotas: defaults, overrides, 0 = no limit, REDIS_URL must be redis://", () => {
  const base = { NODE_ENV: "test", DATA_DIR: "memory://" } as const;
  const dflt = loadConfig(base).quotas;
  assert.equal(dflt.enabled, true);
  assert.deepEqual(dflt.limits, {
    chat_per_minute: 20,
    chat_per_day: 500,
    task_writes_per_minute: 120,
    mcp_calls_per_minute: 120,
    api_keys_per_day: 20,
    tokens_per_day: 0,
  });
  assert.equal(dflt.redisUrl, undefined);
  const set = loadConfig({
    ...base,
    RATE_LIMITS: "false",
    RATE_LIMIT_CHAT_PER_MINUTE: "0",
    REDIS_URL: "redis://127.0.0.1:6379",
  }).quotas;
  assert.equal(set.enabled, false);
  assert.equal(set.limits.chat_per_minute, 0);
  assert.equal(set.redisUrl, "redis://127.0.0.1:6379");
  assert.throws(
    () => loadConfig({ ...base, REDIS_URL: "http://x", RATE_LIMIT_CHAT_PER_DAY: "-1" }),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.issues.some((i) => i.startsWith("REDIS_URL")) &&
      e.issues.some((i) => i.startsWith("RATE_LIMIT_CHAT_PER_DAY")),
  );
});
