import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { describe, test } from "node:test";
import { promisify } from "node:util";
import { signUp, startTestApp } from "../support/app.ts";
import { availableBackends, createTestDatabase } from "../support/databases.ts";

// `npm run admin -- promote <email>`: the real script, on the configured database.

const run = promisify(execFile);
const SCRIPT = join(import.meta.dirname, "../../scripts/admin.ts");

for (const backend of await availableBackends()) {
  describe(`npm run admin -- promote [${backend}]`, () => {
    test("promotes an account by e-mail; unknown e-mails and commands fail with a message", async () => {
      const testDb = await createTestDatabase(backend, { onDisk: true });
      const env = {
        PATH: process.env.PATH ?? "",
        NODE_ENV: "test",
        LOG_LEVEL: "silent",
        DATA_DIR: testDb.dataDir,
        ...(testDb.url ? { DATABASE_URL: testDb.url } : {}),
      };
      try {
        let t = await startTestApp(backend, {}, { testDb });
        await signUp(t.app, "First");
        const second = await signUp(t.app, "Second");
        // PGlite is one process per directory: the server steps aside while the script runs.
        await t.server.close();

        const ok = await run(process.execPath, [SCRIPT, "promote", second.email.toUpperCase()], {
          env,
        });
        assert.match(ok.stdout, /is now an admin/);
        for (const args of [["promote", "nobody@example.com"], ["demolish", second.email], []]) {
          await assert.rejects(run(process.execPath, [SCRIPT, ...args], { env }), (error) => {
            const { code, stderr } = error as { code: number; stderr: string };
            assert.equal(code, 1);
            assert.match(stderr, /tasktalk admin: (No account|usage)/);
            return true;
          });
        }

        t = await startTestApp(backend, {}, { testDb });
        try {
          const signIn = await t.app.inject({
            method: "POST",
            url: "/api/auth/sign-in/email",
            payload: { email: second.email, password: "correct horse battery" },
          });
          const token = signIn.headers["set-auth-token"] as string;
          const me = await t.app.inject({
            url: "/api/me",
            headers: { authorization: `Bearer ${token}` },
          });
          assert.equal(me.json().role, "admin");
        } finally {
          await t.server.close();
        }
      } finally {
        await testDb.drop();
      }
    });
  });
}
