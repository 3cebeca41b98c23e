import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError, loadConfig } from "../../src/config.ts";

const load = (env: Record<string, string>) =>
  loadConfig({ NODE_ENV: "test", DATA_DIR: "memory://", ...env });

test("TRUST_PROXY: off by default; addresses, CIDR ranges and proxy-addr names accepted", () => {
  assert.equal(load({}).http.trustProxy, false);
  assert.equal(load({ TRUST_PROXY: "false" }).http.trustProxy, false);
  assert.deepEqual(
    load({ TRUST_PROXY: " 10.0.0.2, 192.168.0.0/16,::1, fd00::/8 " }).http.trustProxy,
    ["10.0.0.2", "192.168.0.0/16", "::1", "fd00::/8"],
  );
  assert.deepEqual(load({ TRUST_PROXY: "loopback,uniquelocal" }).http.trustProxy, [
    "loopback",
    "uniquelocal",
  ]);
});

test("TRUST_PROXY: trust-everything, hop counts and garbage are refused at boot", () => {
  for (const value of ["true", "1", "2", "proxy.example.com", "10.0.0.0/33", "10.0.0.1/8/1", ","]) {
    assert.throws(
      () => load({ TRUST_PROXY: value }),
      (error: unknown) =>
        error instanceof ConfigError && error.issues.some((i) => i.startsWith("TRUST_PROXY")),
      value,
    );
  }
});

test("SIGN_IN_MAX_FAILURES: 5 by default, configurable, at least 1", () => {
  assert.equal(load({}).auth.signInMaxFailures, 5);
  assert.equal(load({ SIGN_IN_MAX_FAILURES: "8" }).auth.signInMaxFailures, 8);
  assert.throws(() => load({ SIGN_IN_MAX_FAILURES: "0" }), ConfigError);
});
