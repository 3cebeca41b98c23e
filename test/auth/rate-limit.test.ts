import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { sql } from "drizzle-orm";
import { lockoutKey } from "../../src/auth/sign-in-lockout.ts";
import { signUp, startTestApp, type TestApp } from "../support/app.ts";
import { availableBackends } from "../support/databases.ts";

const PASSWORD = "correct horse battery";
const unknownEmail = () => `nobody-${randomBytes(6).toString("hex")}@example.com`;
/** A fresh client address per call: the per-address limit stays out of the way. */
let nextAddress = 0;
const freshAddress = () => `10.9.${Math.floor(++nextAddress / 250)}.${(nextAddress % 250) + 1}`;

function signIn(
  t: TestApp,
  email: string,
  password: string,
  options: { remoteAddress?: string; headers?: Record<string, string> } = {},
) {
  return t.app.inject({
    method: "POST",
    url: "/api/auth/sign-in/email",
    remoteAddress: options.remoteAddress ?? freshAddress(),
    headers: options.headers,
    payload: { email, password },
  });
}

for (const backend of await availableBackends()) {
  describe(`sign-in throttling, no proxy trusted [${backend}]`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(backend, { AUTH_RATE_LIMIT: "true" });
    });
    after(() => t.close());

    test("one address is cut off with 429 after 10 attempts; another is not (A6)", async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 13; i++) {
        // A different e-mail each time: only the per-address limit can stop these.
        const res = await signIn(t, unknownEmail(), "wrong password", {
          remoteAddress: "203.0.113.7",
        });
        statuses.push(res.statusCode);
        if (res.statusCode === 429) {
          assert.equal(res.json().code, "rate_limited");
          const wait = Number(res.headers["retry-after"]);
          assert.ok(wait >= 1 && wait <= 60, String(res.headers["retry-after"]));
        }
      }
      assert.deepEqual(statuses, [...Array(10).fill(401), 429, 429, 429]);
      const user = await signUp(t.app);
      const other = await signIn(t, user.email, PASSWORD, { remoteAddress: "198.51.100.9" });
      assert.equal(other.statusCode, 200);
    });

    test("X-Forwarded-For is ignored: a forged one does not escape the limit", async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) {
        const res = await signIn(t, unknownEmail(), "wrong password", {
          remoteAddress: "203.0.113.8",
          headers: { "x-forwarded-for": `192.0.2.${i + 1}` },
        });
        statuses.push(res.statusCode);
      }
      assert.deepEqual(statuses, [...Array(10).fill(401), 429, 429]);
    });

    test("an account is locked after 5 failures from any addresses; others are not", async () => {
      const victim = await signUp(t.app);
      const bystander = await signUp(t.app);
      for (let i = 0; i < 5; i++) {
        const res = await signIn(t, victim.email, `wrong-${i}-password`);
        assert.equal(res.statusCode, 401, res.body);
      }
      // Now even the right password, from yet another address, waits.
      const locked = await signIn(t, victim.email, PASSWORD);
      assert.equal(locked.statusCode, 429, locked.body);
      assert.equal(locked.json().problem_code, "rate_limited");
      assert.match(locked.headers["content-type"] ?? "", /^application\/problem\+json/);
      const wait = Number(locked.headers["retry-after"]);
      assert.ok(wait >= 1 && wait <= 30, String(locked.headers["retry-after"]));
      // Another account is untouched.
      assert.equal((await signIn(t, bystander.email, PASSWORD)).statusCode, 200);
      // The e-mail is normalised: another spelling of the same address is the same account.
      const spelled = await signIn(t, ` ${victim.email.toUpperCase()} `, PASSWORD);
      assert.equal(spelled.statusCode, 429);
    });

    test("an unknown e-mail is locked out the same way: the lockout reveals nothing", async () => {
      const victim = await signUp(t.app);
      const ghost = unknownEmail();
      const answers = async (email: string) => {
        const out: string[] = [];
        for (let i = 0; i < 6; i++) {
          const res = await signIn(t, email, `wrong-${i}-password`);
          const body = res.json();
          out.push(`${res.statusCode} ${body.code} ${body.detail} ${res.headers["retry-after"]}`);
        }
        return out;
      };
      assert.deepEqual(await answers(ghost), await answers(victim.email));
    });

    test("a successful sign-in resets the count", async () => {
      const user = await signUp(t.app);
      for (const round of [1, 2]) {
        for (let i = 0; i < 4; i++) {
          const res = await signIn(t, user.email, `wrong-${round}-${i}`);
          assert.equal(res.statusCode, 401, `round ${round}, attempt ${i}`);
        }
        assert.equal((await signIn(t, user.email, PASSWORD)).statusCode, 200, `round ${round}`);
      }
    });

    test("the lock grows with each further failure", async () => {
      const user = await signUp(t.app);
      for (let i = 0; i < 5; i++) await signIn(t, user.email, `wrong-${i}-password`);
      const first = await signIn(t, user.email, "wrong again");
      assert.equal(first.statusCode, 429);
      const firstWait = Number(first.headers["retry-after"]);
      // The first lock runs out (moved into the past rather than waited for) ...
      const key = lockoutKey(user.email);
      await t.server.database.db.execute(
        sql`update sign_in_failures set last_attempt_at = last_attempt_at - interval '31 seconds' where key = ${key}`,
      );
      const retried = await signIn(t, user.email, "still wrong");
      assert.equal(retried.statusCode, 401);
      // ... and the failure that follows locks it for longer.
      const second = await signIn(t, user.email, PASSWORD);
      assert.equal(second.statusCode, 429);
      const secondWait = Number(second.headers["retry-after"]);
      assert.ok(secondWait > firstWait && secondWait <= 60, `${firstWait} then ${secondWait}`);
    });

    test("concurrent guesses cannot slip past the count", async () => {
      const user = await signUp(t.app);
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) => signIn(t, user.email, `guess-${i}-password`)),
      );
      const statuses = results.map((r) => r.statusCode).sort();
      assert.deepEqual(statuses, [...Array(5).fill(401), ...Array(7).fill(429)]);
    });
  });

  describe(`sign-in throttling behind a trusted proxy [${backend}]`, () => {
    let t: TestApp;
    const PROXY = "10.0.0.2";
    before(async () => {
      t = await startTestApp(backend, { AUTH_RATE_LIMIT: "true", TRUST_PROXY: PROXY });
    });
    after(() => t.close());

    const viaProxy = (client: string) => ({
      remoteAddress: PROXY,
      headers: { "x-forwarded-for": client },
    });

    test("two clients behind the proxy get separate limits", async () => {
      const first: number[] = [];
      for (let i = 0; i < 11; i++) {
        first.push((await signIn(t, unknownEmail(), "wrong", viaProxy("203.0.113.1"))).statusCode);
      }
      assert.deepEqual(first, [...Array(10).fill(401), 429]);
      const second = await signIn(t, unknownEmail(), "wrong", viaProxy("203.0.113.2"));
      assert.equal(second.statusCode, 401);
      const user = await signUp(t.app);
      const ok = await signIn(t, user.email, PASSWORD, viaProxy("203.0.113.3"));
      assert.equal(ok.statusCode, 200);
    });

    test("a client that is not the proxy cannot forge X-Forwarded-For", async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 11; i++) {
        const res = await signIn(t, unknownEmail(), "wrong", {
          remoteAddress: "198.51.100.77",
          headers: { "x-forwarded-for": `192.0.2.${i + 1}` },
        });
        statuses.push(res.statusCode);
      }
      assert.deepEqual(statuses, [...Array(10).fill(401), 429]);
    });
  });
}
