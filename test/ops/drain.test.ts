import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { type FakeLlm, startFakeLlm } from "../support/fake-llm.ts";
import { startServerProcess } from "../support/process.ts";

/** Signs up through the real server process and returns a bearer token. */
async function token(base: string): Promise<string> {
  const res = await fetch(`${base}/api/auth/sign-up/email`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      name: "D",
      email: `d-${Date.now()}@example.com`,
      password: "correct horse battery",
    }),
  });
  assert.equal(res.status, 200);
  return res.headers.get("set-auth-token") ?? "";
}

describe("graceful shutdown with work in flight (T3, R4)", () => {
  let llm: FakeLlm;
  const dirs: string[] = [];
  before(async () => {
    llm = await startFakeLlm();
  });
  after(async () => {
    await llm.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const env = (dataDir: string) => ({
    DATA_DIR: dataDir,
    LLM_PROVIDER: "openai-compatible",
    LLM_BASE_URL: `${llm.url}/v1`,
    LLM_MODEL: "fake",
    LLM_MAX_RETRIES: "0",
    SHUTDOWN_DRAIN_MS: "8000",
  });

  test("SIGTERM while a reply streams: the stream finishes, the reply is stored, exit 0 in seconds", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "tasktalk-drain-"));
    dirs.push(dataDir);
    const server = await startServerProcess(env(dataDir));
    const bearer = await token(server.url);
    const full = "A reply that takes a couple of seconds to stream out, piece by piece.";
    llm.setPace(40);
    llm.setDefault({ text: full, chunkSize: 2 });
    const res = await fetch(`${server.url}/api/chat`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${bearer}`,
        "content-type": "application/json",
        accept: "text/event-stream",
      },
      body: JSON.stringify({ message: "stream please" }),
    });
    assert.equal(res.status, 200);
    const reading = res.text();
    await sleep(300);
    const t0 = Date.now();
    server.kill("SIGTERM");
    await sleep(100);
    // New work is refused while draining (503 or a refused connection).
    const late = await fetch(`${server.url}/health/live`).then(
      (r) => r.status,
      () => "refused",
    );
    assert.ok(late === 503 || late === "refused", String(late));
    const body = await reading;
    const code = await server.exited;
    llm.setPace(0);
    assert.equal(code, 0, server.output());
    assert.ok(Date.now() - t0 < 8000, `exit took ${Date.now() - t0} ms`);
    assert.ok(body.trimEnd().endsWith("data: [DONE]"), body.slice(-200));
    const text = body
      .split("\n\n")
      .filter((f) => f.startsWith("data: {"))
      .map((f) => JSON.parse(f.slice(6)) as { type: string; delta?: string })
      .filter((c) => c.type === "text-delta")
      .map((c) => c.delta)
      .join("");
    assert.equal(text, full);

    // After a restart the stored reply is there.
    const again = await startServerProcess(env(dataDir));
    try {
      const conversations = (await (
        await fetch(`${again.url}/api/conversations`, {
          headers: { authorization: `Bearer ${bearer}` },
        })
      ).json()) as { items: { id: string }[] };
      const messages = (await (
        await fetch(`${again.url}/api/conversations/${conversations.items[0]?.id}/messages`, {
          headers: { authorization: `Bearer ${bearer}` },
        })
      ).json()) as { items: { role: string; content: string; status: string }[] };
      assert.deepEqual(
        messages.items.map((m) => [m.role, m.status]),
        [
          ["user", "complete"],
          ["assistant", "complete"],
        ],
      );
      assert.equal(messages.items[1]?.content, full);
    } finally {
      again.kill();
      await again.exited;
    }
  });

  test("kill -9 mid-turn on PGlite: restart takes over the lock, history loads, the turn can be re-sent (R4)", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "tasktalk-kill-"));
    dirs.push(dataDir);
    // A short lease: the dead turn's expires 3 s after its last heartbeat.
    const server = await startServerProcess({ ...env(dataDir), TURN_LEASE_MS: "3000" });
    const bearer = await token(server.url);
    const headers = { authorization: `Bearer ${bearer}`, "content-type": "application/json" };
    llm.setDefault({ text: "first answer" });
    const first = (await (
      await fetch(`${server.url}/api/chat`, {
        method: "POST",
        headers,
        body: JSON.stringify({ message: "one" }),
      })
    ).json()) as { conversation_id: string };
    const clientMessageId = crypto.randomUUID();
    llm.setDefault({ hang: true });
    const pending = fetch(`${server.url}/api/chat`, {
      method: "POST",
      headers,
      body: JSON.stringify({
        message: "two",
        conversation_id: first.conversation_id,
        client_message_id: clientMessageId,
      }),
    }).catch(() => "connection lost");
    await sleep(500);
    server.kill("SIGKILL");
    await server.exited;
    assert.equal(await pending, "connection lost");

    llm.reset();
    llm.setDefault({ text: "second answer" });
    const again = await startServerProcess({ ...env(dataDir), TURN_LEASE_MS: "3000" });
    try {
      const list = (await (
        await fetch(`${again.url}/api/conversations/${first.conversation_id}/messages`, { headers })
      ).json()) as { items: { role: string; content: string }[] };
      // Every acknowledged commit survived; the interrupted turn shows as a message without a reply.
      assert.deepEqual(
        list.items.map((m) => [m.role, m.content]),
        [
          ["user", "one"],
          ["assistant", "first answer"],
          ["user", "two"],
        ],
      );
      // The lease of the dead turn expires; re-sending the same client_message_id completes it.
      let status = 0;
      let reply: { response?: string } = {};
      for (let i = 0; i < 40 && status !== 200; i++) {
        const res = await fetch(`${again.url}/api/chat`, {
          method: "POST",
          headers,
          body: JSON.stringify({
            message: "two",
            conversation_id: first.conversation_id,
            client_message_id: clientMessageId,
          }),
        });
        status = res.status;
        reply = (await res.json()) as { response?: string };
        if (status !== 200) await sleep(500);
      }
      assert.equal(status, 200);
      assert.equal(reply.response, "second answer");
      const after = (await (
        await fetch(`${again.url}/api/conversations/${first.conversation_id}/messages`, { headers })
      ).json()) as { items: { seq: number; role: string }[] };
      assert.deepEqual(
        after.items.map((m) => m.seq),
        [1, 2, 3, 4],
      );
    } finally {
      again.kill();
      await again.exited;
    }
  });
});
