import { randomBytes } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { type Env, loadConfig } from "../../src/config.ts";
import { createServer, type Server } from "../../src/server.ts";
import { type Backend, createTestDatabase, type TestDatabase } from "./databases.ts";

export interface TestApp {
  backend: Backend;
  app: FastifyInstance;
  server: Server;
  testDb: TestDatabase;
  /** Base URL once listen() was called (real HTTP tests). */
  url: string | undefined;
  listen(): Promise<string>;
  close(): Promise<void>;
}

/** The real application on a fresh real database. Only the LLM is ever replaced. */
export async function startTestApp(
  backend: Backend,
  env: Partial<Record<keyof Env, string>> = {},
  options: { onDisk?: boolean; testDb?: TestDatabase } = {},
): Promise<TestApp> {
  const testDb = options.testDb ?? (await createTestDatabase(backend, options));
  const config = loadConfig({
    NODE_ENV: "test",
    LOG_LEVEL: "silent",
    DATA_DIR: testDb.dataDir,
    AUTH_RATE_LIMIT: "false",
    // Per-user quotas are off unless a test turns them on (test/quotas/).
    RATE_LIMITS: "false",
    ...(testDb.url ? { DATABASE_URL: testDb.url } : {}),
    ...env,
  });
  const server = await createServer(config, {
    logger: process.env.TEST_LOG ? { level: process.env.TEST_LOG } : false,
  });
  const t: TestApp = {
    backend,
    app: server.app,
    server,
    testDb,
    url: undefined,
    async listen() {
      const address = await server.app.listen({ port: 0, host: "127.0.0.1" });
      t.url = address;
      return address;
    },
    async close() {
      await server.close();
      if (!options.testDb) await testDb.drop();
    },
  };
  return t;
}

export interface TestUser {
  id: string;
  email: string;
  token: string;
  headers: { authorization: string };
}

/** Signs up a brand-new user through the public auth route (every test makes its own). */
export async function signUp(app: FastifyInstance, name = "Test User"): Promise<TestUser> {
  const email = `user-${randomBytes(6).toString("hex")}@example.com`;
  const res = await app.inject({
    method: "POST",
    url: "/api/auth/sign-up/email",
    payload: { email, password: "correct horse battery", name },
  });
  if (res.statusCode !== 200) throw new Error(`sign-up failed: ${res.statusCode} ${res.body}`);
  const token = res.headers["set-auth-token"];
  if (typeof token !== "string") throw new Error("sign-up returned no set-auth-token header");
  const body = res.json() as { user: { id: string } };
  return { id: body.user.id, email, token, headers: { authorization: `Bearer ${token}` } };
}
