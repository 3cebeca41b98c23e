import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { signUp, startTestApp, type TestApp } from "../support/app.ts";
import { availableBackends } from "../support/databases.ts";

for (const backend of await availableBackends()) {
  describe(`sign-in brute force [${backend}]`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(backend, { AUTH_RATE_LIMIT: "true" });
    });
    after(() => t.close());

    test("repeated wrong passwords are cut off with 429 after the limit (A6)", async () => {
      const user = await signUp(t.app);
      const statuses: number[] = [];
      for (let i = 0; i < 14; i++) {
        const res = await t.app.inject({
          method: "POST",
          url: "/api/auth/sign-in/email",
          remoteAddress: "203.0.113.7",
          payload: { email: user.email, password: `wrong-${i}-password` },
        });
        statuses.push(res.statusCode);
        if (res.statusCode === 429) {
          assert.equal(res.json().code, "rate_limited");
          assert.ok(res.headers["retry-after"]);
        }
      }
      assert.deepEqual(statuses.slice(0, 10), Array(10).fill(401));
      assert.ok(
        statuses.slice(10).every((s) => s === 429),
        statuses.join(","),
      );
      // The limit is per client address: another address is not blocked.
      const other = await t.app.inject({
        method: "POST",
        url: "/api/auth/sign-in/email",
        remoteAddress: "198.51.100.9",
        payload: { email: user.email, password: "correct horse battery" },
      });
      assert.equal(other.statusCode, 200);
    });
  });
}
