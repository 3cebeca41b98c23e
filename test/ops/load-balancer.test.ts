import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { availableBackends, createTestDatabase, type TestDatabase } from "../support/databases.ts";
import { type FakeLlm, lastUserText, startFakeLlm } from "../support/fake-llm.ts";
import { freePort, type ServerProcess, startServerProcess } from "../support/process.ts";
import { type Balancer, haproxyAvailable, startHaproxy } from "./haproxy.ts";

// Three real server processes on one PostgreSQL database behind a real HAProxy (issue 18).
const runs = (await availableBackends()).includes("pg") && haproxyAvailable();

interface Turn {
  status: number;
  body: Record<string, unknown>;
  type: string;
}

describe("three instances behind HAProxy on one PostgreSQL", {
  skip: !runs,
  timeout: 300_000,
}, () => {
  let db: TestDatabase;
  let llm: FakeLlm;
  let lb: Balancer;
  const ports: number[] = [];
  const instances: ServerProcess[] = [];
  const dirs: string[] = [];
  let bearer = "";

  const env = (port: number): Record<string, string> => {
    const dir = mkdtempSync(join(tmpdir(), "tasktalk-lb-"));
    dirs.push(dir);
    return {
      PORT: String(port),
      DATA_DIR: dir,
      DATABASE_URL: db.url ?? "",
      LLM_PROVIDER: "openai-compatible",
      LLM_BASE_URL: `${llm.url}/v1`,
      LLM_MODEL: "fake",
      LLM_MAX_RETRIES: "0",
      // Longer than HAProxy's inter 500 × fall 3 (haproxy.ts), with room for a slow machine:
      // the instance is marked down before its port closes.
      SHUTDOWN_GRACE_MS: "4000",
      // Every connection comes from the balancer's address.
      HTTP_MAX_CONNECTIONS_PER_IP: "0",
      // Quotas on, in the shared database; the defaults high enough for the load tests,
      // the quota test sets a low one for its own user.
      RATE_LIMITS: "true",
      RATE_LIMIT_CHAT_PER_MINUTE: "100000",
      RATE_LIMIT_CHAT_PER_DAY: "1000000",
    };
  };

  before(async () => {
    db = await createTestDatabase("pg");
    llm = await startFakeLlm();
    // The model echoes the user's message: each reply proves which message it answered.
    llm.setDefault((req) => ({ text: `echo:${lastUserText(req)}` }));
    for (let i = 0; i < 3; i++) ports.push(await freePort());
    // The first migrates; the others find the schema (and the shared auth secret) there.
    instances.push(await startServerProcess(env(ports[0] as number)));
    instances.push(...(await Promise.all(ports.slice(1).map((p) => startServerProcess(env(p))))));
    lb = await startHaproxy(ports);
    for (const s of ["s0", "s1", "s2"]) await lb.waitFor(s, "UP");
  });

  after(async () => {
    await lb?.close();
    for (const s of instances) {
      s.kill();
      await s.exited;
    }
    await llm?.close();
    await db?.drop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  async function turn(base: string, body: Record<string, unknown>): Promise<Turn> {
    const res = await fetch(`${base}/api/chat`, {
      method: "POST",
      headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return {
      status: res.status,
      body: (await res.json()) as Record<string, unknown>,
      type: res.headers.get("content-type") ?? "",
    };
  }

  interface Message {
    id: string;
    seq: number;
    role: string;
    content: string;
    reply_to: string | null;
  }

  /** The whole history, page by page (200 a page). */
  async function messages(conversationId: string): Promise<Message[]> {
    const all: Message[] = [];
    for (;;) {
      const after = all.at(-1)?.seq ?? 0;
      const res = await fetch(
        `${lb.url}/api/conversations/${conversationId}/messages?limit=200&after_seq=${after}`,
        { headers: { authorization: `Bearer ${bearer}` } },
      );
      assert.equal(res.status, 200);
      const page = ((await res.json()) as { items: Message[] }).items;
      all.push(...page);
      if (page.length < 200) return all;
    }
  }

  /** Every acknowledged turn stored once, seq gap-free, each reply right after its message. */
  function assertHistory(items: Message[], acked: Map<string, string>) {
    assert.deepEqual(
      items.map((m) => m.seq),
      items.map((_, i) => i + 1),
      "seq gap-free",
    );
    const users = items.filter((m) => m.role === "user");
    assert.equal(users.length, acked.size, "no message lost or stored twice");
    const byId = new Map(items.map((m) => [m.id, m]));
    for (const [payload, userMessageId] of acked) {
      const message = byId.get(userMessageId);
      assert.equal(message?.content, payload);
      const reply = items.find((m) => m.reply_to === userMessageId);
      assert.equal(reply?.content, `echo:${payload}`);
      assert.equal(reply?.seq, (message?.seq ?? 0) + 1);
    }
  }

  test("sign in once through the balancer; the bearer token works on every instance", async () => {
    const email = `lb-${randomUUID()}@example.com`;
    const password = "correct horse battery";
    const up = await fetch(`${lb.url}/api/auth/sign-up/email`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "LB", email, password }),
    });
    assert.equal(up.status, 200, await up.text());
    const signIn = await fetch(`${lb.url}/api/auth/sign-in/email`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email, password }),
    });
    assert.equal(signIn.status, 200, await signIn.text());
    bearer = signIn.headers.get("set-auth-token") ?? "";
    assert.ok(bearer);
    for (const s of instances) {
      const res = await fetch(`${s.url}/api/conversations`, {
        headers: { authorization: `Bearer ${bearer}` },
      });
      assert.equal(res.status, 200, `${s.url}: ${await res.text()}`);
    }
  });

  test("concurrent turns on one conversation across instances: the lease holds", async () => {
    const first = await turn(lb.url, { message: "begin" });
    assert.equal(first.status, 200);
    const conversation_id = String(first.body.conversation_id);
    const acked = new Map<string, string>([["begin", String(first.body.user_message_id)]]);
    await Promise.all(
      [0, 1, 2, 3].map(async (c) => {
        for (let i = 0; i < 5; i++) {
          const payload = `client ${c} turn ${i} ${randomUUID()}`;
          const client_message_id = randomUUID();
          // Straight to an instance, round robin: the four clients hit different processes.
          const base = (instances[(c + i) % 3] as ServerProcess).url;
          let res = await turn(base, { message: payload, conversation_id, client_message_id });
          for (let a = 0; res.status === 409 && a < 200; a++) {
            await sleep(5 + Math.random() * 20);
            res = await turn(base, { message: payload, conversation_id, client_message_id });
          }
          assert.equal(res.status, 200, JSON.stringify(res.body));
          assert.equal(res.body.response, `echo:${payload}`);
          acked.set(payload, String(res.body.user_message_id));
        }
      }),
    );
    assertHistory(await messages(conversation_id), acked);
  });

  test("an idempotent retry landing on another instance returns the same turn", async () => {
    const client_message_id = randomUUID();
    const a = await turn((instances[0] as ServerProcess).url, {
      message: "once",
      client_message_id,
    });
    const b = await turn((instances[1] as ServerProcess).url, {
      message: "once",
      client_message_id,
    });
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    assert.deepEqual(b.body, a.body);
    const items = await messages(String(a.body.conversation_id));
    assert.deepEqual(
      items.map((m) => [m.seq, m.role, m.content]),
      [
        [1, "user", "once"],
        [2, "assistant", "echo:once"],
      ],
    );
  });

  test("a quota is shared: over it, 429 with Retry-After on every instance; the first user (admin) disables another everywhere", async () => {
    const call = (base: string, path: string, token: string, init: RequestInit = {}) =>
      fetch(`${base}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      });
    const me = await call(lb.url, "/api/me", bearer);
    assert.equal(((await me.json()) as { role: string }).role, "admin");
    const email = `quota-${randomUUID()}@example.com`;
    const up = await fetch(`${lb.url}/api/auth/sign-up/email`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "Quota", email, password: "correct horse battery" }),
    });
    assert.equal(up.status, 200);
    const token = up.headers.get("set-auth-token") ?? "";
    const userId = ((await up.json()) as { user: { id: string } }).user.id;
    const set = await call(lb.url, `/api/admin/users/${userId}/features`, bearer, {
      method: "PUT",
      body: JSON.stringify({ quotas: { chat_per_minute: 3 } }),
    });
    assert.equal(set.status, 200, await set.text());
    // One send per instance uses the quota up…
    for (const s of instances) {
      const res = await call(s.url, "/api/chat", token, {
        method: "POST",
        body: JSON.stringify({ message: "counted" }),
      });
      assert.equal(res.status, 200, await res.text());
    }
    // …and every instance knows it.
    for (const s of instances) {
      const res = await call(s.url, "/api/chat", token, {
        method: "POST",
        body: JSON.stringify({ message: "over" }),
      });
      assert.equal(res.status, 429, `${s.url}: ${await res.text()}`);
      assert.ok(Number(res.headers.get("retry-after")) >= 1);
      assert.match(res.headers.get("ratelimit-policy") ?? "", /"chat_per_minute";q=3;w=60/);
    }

    const key = await call(lb.url, "/api/api-keys", token, {
      method: "POST",
      body: JSON.stringify({ name: "k" }),
    });
    assert.equal(key.status, 201);
    const apiKey = ((await key.json()) as { key: string }).key;
    const ban = await call(
      (instances[0] as ServerProcess).url,
      `/api/admin/users/${userId}/ban`,
      bearer,
      {
        method: "POST",
        body: "{}",
      },
    );
    assert.equal(ban.status, 200, await ban.text());
    for (const s of instances) {
      assert.equal((await call(s.url, "/api/tasks", token)).status, 401, s.url);
      const byKey = await call(s.url, "/api/tasks", apiKey);
      assert.equal(byKey.status, 403, s.url);
      assert.equal(((await byKey.json()) as { code: string }).code, "account_disabled");
    }
  });

  test("rolling restart under load: 4 clients, each instance in turn SIGTERM'd and restarted; no request fails, nothing lost or duplicated", async (t) => {
    let stop = false;
    const failures: string[] = [];
    const foreign503: string[] = [];
    let clientRetries = 0;
    const acked: Map<string, string>[] = [];
    const conversations: string[] = [];
    const sentIds: string[] = [];

    const client = async (c: number) => {
      const mine = new Map<string, string>();
      acked[c] = mine;
      let conversation_id: string | undefined;
      for (let i = 0; !stop; i++) {
        const payload = `rolling ${c}.${i} ${randomUUID()}`;
        const client_message_id = randomUUID();
        sentIds.push(client_message_id);
        const body = {
          message: payload,
          client_message_id,
          ...(conversation_id ? { conversation_id } : {}),
        };
        let done = false;
        // The client's own retry: network errors and 503 only, always with the same id.
        for (let attempt = 0; attempt < 30 && !done; attempt++) {
          const res = await turn(lb.url, body).catch(
            (e: unknown): Turn => ({
              status: 0,
              body: { error: String(e) },
              type: "",
            }),
          );
          if (res.status === 200) {
            conversation_id ??= String(res.body.conversation_id);
            mine.set(payload, String(res.body.user_message_id));
            done = true;
          } else if (res.status === 0 || res.status === 503) {
            if (res.status === 503 && !res.type.startsWith("application/problem+json"))
              foreign503.push(JSON.stringify(res.body));
            clientRetries++;
            await sleep(200);
          } else {
            failures.push(`${res.status} ${JSON.stringify(res.body)}`);
            done = true;
          }
        }
        if (!done) failures.push(`gave up on ${client_message_id}`);
        // Steady, not flat out: the machine running the suite is shared.
        await sleep(50);
      }
      if (conversation_id) conversations[c] = conversation_id;
    };

    const load = [0, 1, 2, 3].map(client);
    try {
      await sleep(1000);
      for (let i = 0; i < 3; i++) {
        const old = instances[i] as ServerProcess;
        const before = old.output().length;
        old.kill("SIGTERM");
        // Readiness fails first: the balancer takes the instance out while it still serves
        // (a request sent to it now would be answered, not refused).
        await lb.waitFor(`s${i}`, "DOWN", 10_000);
        const live = await fetch(`${old.url}/health/live`).then(
          (r) => r.status,
          (e: unknown) => String(e),
        );
        assert.equal(live, 200, "marked down by the balancer before it stopped serving");
        assert.equal(await old.exited, 0, old.output());
        const draining = old.output().slice(before);
        assert.match(draining, /readiness fails, still serving/);
        const errors = draining.split("\n").filter((l) => /"level":(50|60)/.test(l));
        assert.deepEqual(errors, [], "no error logged while draining");
        instances[i] = await startServerProcess(env(ports[i] as number));
        await lb.waitFor(`s${i}`, "UP");
      }
      await sleep(1000);
    } finally {
      stop = true;
      await Promise.all(load);
    }

    const total = acked.reduce((n, m) => n + m.size, 0);
    const resent = await lb.resent();
    t.diagnostic(
      `${total} turns acknowledged, ${clientRetries} client-side retries, balancer: ${JSON.stringify(resent)}`,
    );
    assert.deepEqual(foreign503, [], "every 503 is our problem+json");
    // Each instance was out of rotation before it closed: the balancer never had to send a
    // request again (without the grace period it redispatches dozens).
    assert.deepEqual(resent, { retries: 0, redispatches: 0 });
    assert.deepEqual(failures, [], "no request failed at the client");
    assert.ok(total >= 20, `only ${total} turns under load`);

    // In the database: each client_message_id sent is stored at most once, each
    // acknowledged one exactly once.
    const client2 = new pg.Client({ connectionString: db.url });
    await client2.connect();
    try {
      const { rows } = await client2.query<{ id: string; n: number }>(
        `select client_message_id::text as id, count(*)::int as n from messages
          where client_message_id = any($1::uuid[]) group by 1`,
        [sentIds],
      );
      assert.ok(
        rows.every((r) => r.n === 1),
        "a client_message_id stored twice",
      );
      assert.equal(rows.length, total, "stored = acknowledged");
    } finally {
      await client2.end();
    }
    for (let c = 0; c < 4; c++) {
      assertHistory(await messages(conversations[c] as string), acked[c] as Map<string, string>);
    }
  });
});
