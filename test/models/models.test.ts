import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ConfigError, loadConfig } from "../../src/config.ts";
import { startTestApp, type TestApp, type TestUser } from "../support/app.ts";
import { chat, messagesOf, signUp } from "../support/chat.ts";
import { availableBackends } from "../support/databases.ts";
import { type FakeLlm, startFakeLlm, toolCallThenText } from "../support/fake-llm.ts";

// Issue 19 (items 1, 2, 6): models chosen per conversation, usage and cost per reply and
// per day/month, and the provider quirks a real deployment meets — two fake providers.

interface Usage {
  model: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  total_tokens: number | null;
  cost_micros: number | null;
}

function modelsEnv(a: FakeLlm, b: FakeLlm) {
  return {
    LLM_MODELS: JSON.stringify([
      {
        id: "alpha",
        label: "Alpha",
        base_url: `${a.url}/v1`,
        model: "alpha-1",
        prices: { input: 2.5, output: 10 },
      },
      { id: "beta", label: "Beta", base_url: `${b.url}/v1`, prices: { input: 0.15, output: 0.6 } },
      { id: "gamma", base_url: `${a.url}/v1`, model: "gamma-big" },
    ]),
    LLM_DEFAULT_MODEL: "beta",
    LLM_MAX_RETRIES: "0",
  };
}

describe("LLM_MODELS configuration", () => {
  const base = { NODE_ENV: "test", DATA_DIR: "memory://" };
  test("a bad entry is named in the error, with its index and id", () => {
    const bad = JSON.stringify([
      { id: "ok", base_url: "http://127.0.0.1:1/v1" },
      { id: "b", prices: { input: -1, output: 1 } },
    ]);
    assert.throws(
      () => loadConfig({ ...base, LLM_MODELS: bad }),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        const text = e.issues.join("\n");
        assert.match(text, /LLM_MODELS\[1\] \(id "b"\): base_url: base_url is required/);
        assert.match(text, /LLM_MODELS\[1\] \(id "b"\): prices\.input/);
        assert.doesNotMatch(text, /LLM_MODELS\[0\]/);
        return true;
      },
    );
    assert.throws(() => loadConfig({ ...base, LLM_MODELS: "[" }), /LLM_MODELS: not valid JSON/);
    assert.throws(
      () =>
        loadConfig({
          ...base,
          LLM_MODELS: JSON.stringify([
            { id: "x", provider: "offline" },
            { id: "x", provider: "offline" },
          ]),
        }),
      /LLM_MODELS\[1\] \(id "x"\): .*id: used by an earlier entry/s,
    );
    assert.throws(
      () => loadConfig({ ...base, LLM_DEFAULT_MODEL: "nope" }),
      /LLM_DEFAULT_MODEL: "nope" is not a configured model \(offline\)/,
    );
  });

  test("the single-model variables still work, and the offline assistant is always offered", () => {
    const single = loadConfig({
      ...base,
      LLM_PROVIDER: "openai-compatible",
      LLM_BASE_URL: "http://127.0.0.1:1/v1",
      LLM_MODEL: "llama3",
    });
    assert.deepEqual(
      single.llm.models.map((m) => [m.id, m.provider, m.providerModel]),
      [
        ["llama3", "openai-compatible", "llama3"],
        ["offline", "offline", "offline"],
      ],
    );
    assert.equal(single.llm.defaultModel, "llama3");
    const offline = loadConfig(base);
    assert.deepEqual(
      offline.llm.models.map((m) => m.id),
      ["offline"],
    );
    const priced = loadConfig({
      ...base,
      LLM_MODELS: JSON.stringify([
        { id: "p", base_url: "http://127.0.0.1:1/v1", prices: { input: 0.15, output: 0.000001 } },
      ]),
    });
    // Integer micro-units per million tokens: no float ever holds money.
    assert.deepEqual(priced.llm.models[0]?.prices, { input: 150_000, output: 1 });
  });
});

for (const backend of await availableBackends()) {
  describe(`models and usage [${backend}]`, () => {
    let a: FakeLlm;
    let b: FakeLlm;
    let t: TestApp;
    let admin: TestUser;
    const call = (user: TestUser, opts: { method?: string; url: string; payload?: unknown }) =>
      t.app.inject({
        method: (opts.method ?? "GET") as "GET",
        url: opts.url,
        headers: user.headers,
        ...(opts.payload !== undefined ? { payload: opts.payload as object } : {}),
      });
    const lastUsage = async (user: TestUser, conversationId: string): Promise<Usage> => {
      const items = (await messagesOf(t, user, conversationId)).items as unknown as {
        role: string;
        usage: Usage | null;
      }[];
      const reply = items.at(-1);
      assert.equal(reply?.role, "assistant");
      assert.ok(reply?.usage);
      return reply.usage;
    };

    before(async () => {
      a = await startFakeLlm();
      b = await startFakeLlm();
      t = await startTestApp(backend, modelsEnv(a, b));
      admin = await signUp(t.app, "Admin");
    });
    after(async () => {
      await t.close();
      await a.close();
      await b.close();
    });

    test("GET /api/models: every configured model, the offline one too, prices and the default", async () => {
      const user = await signUp(t.app);
      const res = await call(user, { url: "/api/models" });
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json();
      assert.deepEqual(
        body.items.map((m: { id: string }) => m.id),
        ["alpha", "beta", "gamma", "offline"],
      );
      assert.deepEqual(body.items[0], {
        id: "alpha",
        label: "Alpha",
        provider: "openai-compatible",
        prices: { input_micros: 2_500_000, output_micros: 10_000_000 },
      });
      assert.equal(body.items[2].prices, null);
      assert.equal(body.default, "beta");
      assert.equal(body.my_default, null);
      // Nothing about the provider's address or key is shown.
      assert.doesNotMatch(res.body, /127\.0\.0\.1|api_key|base_url/);
    });

    test("two conversations on two models: each reply's tokens and cost, and the day's total", async () => {
      const user = await signUp(t.app);
      a.script({ text: "Alpha here.", usage: { input: 1000, output: 200 } });
      const first = await chat(t, user, { message: "Hello alpha", model: "alpha" });
      assert.equal(first.statusCode, 200, first.body);
      assert.equal(a.requests.at(-1)?.body.model, "alpha-1");
      b.script({ text: "Beta here.", usage: { input: 1000, output: 500 } });
      const second = await chat(t, user, { message: "Hello default" });
      assert.equal(second.statusCode, 200, second.body);
      assert.equal(b.requests.at(-1)?.body.model, "beta");

      // The turn's own answer carries the same usage as the stored reply.
      assert.equal(first.json().usage.cost_micros, 4500);
      assert.equal(first.json().usage.model, "alpha");
      const c1 = first.json().conversation_id as string;
      const c2 = second.json().conversation_id as string;
      assert.equal((await call(user, { url: `/api/conversations/${c1}` })).json().model, "alpha");
      assert.equal((await call(user, { url: `/api/conversations/${c2}` })).json().model, "beta");
      // 1000 × 2.5 + 200 × 10 per million = 0.0045; 1000 × 0.15 + 500 × 0.6 = 0.00045.
      assert.deepEqual(await lastUsage(user, c1), {
        model: "alpha",
        input_tokens: 1000,
        output_tokens: 200,
        total_tokens: 1200,
        cost_micros: 4500,
      });
      assert.deepEqual(await lastUsage(user, c2), {
        model: "beta",
        input_tokens: 1000,
        output_tokens: 500,
        total_tokens: 1500,
        cost_micros: 450,
      });
      const user1 = (await messagesOf(t, user, c1)).items[0] as unknown as { usage: unknown };
      assert.equal(user1.usage, null, "a user message has no usage");

      const usage = await call(user, { url: "/api/usage" });
      assert.equal(usage.statusCode, 200, usage.body);
      const u = usage.json();
      assert.equal(u.timezone, "UTC");
      assert.equal(u.date, new Date().toISOString().slice(0, 10));
      for (const period of [u.day, u.month]) {
        assert.equal(period.replies, 2);
        assert.equal(period.input_tokens, 2000);
        assert.equal(period.output_tokens, 700);
        assert.equal(period.total_tokens, 2700);
        assert.equal(period.cost_micros, 4950);
        assert.deepEqual(
          period.models.map((m: { model: string; cost_micros: number }) => [
            m.model,
            m.cost_micros,
          ]),
          [
            ["alpha", 4500],
            ["beta", 450],
          ],
        );
      }
      assert.equal(u.conversation, null);
      const one = await call(user, { url: `/api/usage?conversation_id=${c1}` });
      assert.equal(one.json().conversation.total_tokens, 1200);
      assert.equal(one.json().conversation.cost_micros, 4500);
      // Another day has nothing; another user's conversation is not found.
      const yesterday = await call(user, { url: "/api/usage?date=2020-01-01" });
      assert.equal(yesterday.json().day.replies, 0);
      assert.equal(yesterday.json().day.cost_micros, null);
      const other = await signUp(t.app);
      const theirs = await call(other, { url: `/api/usage?conversation_id=${c1}` });
      assert.equal(theirs.statusCode, 404);
      assert.equal((await call(other, { url: "/api/usage" })).json().day.replies, 0);
    });

    test("PATCH switches the model: the next reply comes from the new one; unknown → 400, not mine → 404", async () => {
      const user = await signUp(t.app);
      const first = await chat(t, user, { message: "Start" });
      const id = first.json().conversation_id as string;
      const switched = await call(user, {
        method: "PATCH",
        url: `/api/conversations/${id}`,
        payload: { model: "gamma" },
      });
      assert.equal(switched.statusCode, 200, switched.body);
      assert.equal(switched.json().model, "gamma");
      a.script({ text: "Gamma speaking.", usage: { input: 10, output: 5 } });
      const next = await chat(t, user, { message: "Who are you?", conversation_id: id });
      assert.equal(next.statusCode, 200, next.body);
      assert.equal(a.requests.at(-1)?.body.model, "gamma-big");
      assert.deepEqual(await lastUsage(user, id), {
        model: "gamma",
        input_tokens: 10,
        output_tokens: 5,
        total_tokens: 15,
        cost_micros: null,
      });
      const unknown = await call(user, {
        method: "PATCH",
        url: `/api/conversations/${id}`,
        payload: { model: "delta" },
      });
      assert.equal(unknown.statusCode, 400);
      assert.equal(unknown.json().code, "unknown_model");
      const both = await call(user, {
        method: "PATCH",
        url: `/api/conversations/${id}`,
        payload: { model: "alpha", title: "Renamed" },
      });
      assert.equal(both.json().title, "Renamed");
      assert.equal(both.json().model, "alpha");
      const empty = await call(user, {
        method: "PATCH",
        url: `/api/conversations/${id}`,
        payload: {},
      });
      assert.equal(empty.statusCode, 400);
      const other = await signUp(t.app);
      const theirs = await call(other, {
        method: "PATCH",
        url: `/api/conversations/${id}`,
        payload: { model: "beta" },
      });
      assert.equal(theirs.statusCode, 404);
      // A model in the body of a send to an existing conversation is not a silent switch.
      const mismatch = await chat(t, user, { message: "x", conversation_id: id, model: "beta" });
      assert.equal(mismatch.statusCode, 400);
      const unknownNew = await chat(t, user, { message: "x", model: "delta" });
      assert.equal(unknownNew.statusCode, 400);
      assert.equal(unknownNew.json().code, "unknown_model");
    });

    test("an AI SDK client names the model of the chat it creates in its body", async () => {
      const user = await signUp(t.app);
      const chatId = `chat-${Date.now()}`;
      const sdk = (text: string, n: number, model: string) =>
        t.app.inject({
          method: "POST",
          url: "/api/chat",
          headers: user.headers,
          payload: {
            id: chatId,
            messages: [{ id: `m${n}`, role: "user", parts: [{ type: "text", text }] }],
            model,
          },
        });
      const res = await sdk("hello", 1, "gamma");
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(a.requests.at(-1)?.body.model, "gamma-big");
      // Sent again on every request of that chat: it does not switch it afterwards.
      const again = await sdk("again", 2, "beta");
      assert.equal(again.statusCode, 200, again.body);
      assert.equal(a.requests.at(-1)?.body.model, "gamma-big");
    });

    test("the offline assistant is one of the models (no provider is called)", async () => {
      const user = await signUp(t.app);
      const before = a.requests.length + b.requests.length;
      const res = await chat(t, user, { message: "add buy milk", model: "offline" });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(a.requests.length + b.requests.length, before);
      const tasks = await call(user, { url: "/api/tasks?status=all" });
      assert.equal(tasks.json().items[0]?.title, "buy milk");
      const usage = await lastUsage(user, res.json().conversation_id);
      assert.equal(usage.model, "offline");
      assert.equal(usage.cost_micros, null);
    });

    test("my default model, and models an admin restricts (403 model_not_allowed)", async () => {
      const user = await signUp(t.app);
      const set = await call(user, {
        method: "PUT",
        url: "/api/models/default",
        payload: { model: "gamma" },
      });
      assert.equal(set.statusCode, 200, set.body);
      assert.equal(set.json().default, "gamma");
      assert.equal(set.json().my_default, "gamma");
      const onGamma = await chat(t, user, { message: "hi" });
      assert.equal(onGamma.statusCode, 200, onGamma.body);
      assert.equal(a.requests.at(-1)?.body.model, "gamma-big");
      const unknown = await call(user, {
        method: "PUT",
        url: "/api/models/default",
        payload: { model: "delta" },
      });
      assert.equal(unknown.json().code, "unknown_model");

      const restrict = await call(admin, {
        method: "PUT",
        url: `/api/admin/users/${user.id}/features`,
        payload: { models: ["beta", "offline"] },
      });
      assert.equal(restrict.statusCode, 200, restrict.body);
      const listed = (await call(user, { url: "/api/models" })).json();
      assert.deepEqual(
        listed.items.map((m: { id: string }) => m.id),
        ["beta", "offline"],
      );
      // The default they chose is no longer theirs to use: the server's applies.
      assert.equal(listed.default, "beta");
      const refused = await chat(t, user, { message: "x", model: "alpha" });
      assert.equal(refused.statusCode, 403);
      assert.equal(refused.json().code, "model_not_allowed");
      const sent = a.requests.length;
      const old = await chat(t, user, {
        message: "again",
        conversation_id: onGamma.json().conversation_id,
      });
      assert.equal(old.statusCode, 403, "a conversation on a model no longer allowed");
      assert.equal(old.json().code, "model_not_allowed");
      assert.equal(a.requests.length, sent, "the provider was not called");
      const patch = await call(user, {
        method: "PATCH",
        url: `/api/conversations/${onGamma.json().conversation_id}`,
        payload: { model: "alpha" },
      });
      assert.equal(patch.statusCode, 403);
      const setRefused = await call(user, {
        method: "PUT",
        url: "/api/models/default",
        payload: { model: "alpha" },
      });
      assert.equal(setRefused.statusCode, 403);
      const cleared = await call(user, {
        method: "PUT",
        url: "/api/models/default",
        payload: { model: null },
      });
      assert.equal(cleared.json().my_default, null);
      const onBeta = await chat(t, user, { message: "hello" });
      assert.equal(onBeta.statusCode, 200, onBeta.body);
      assert.equal(
        (await call(user, { url: `/api/conversations/${onBeta.json().conversation_id}` })).json()
          .model,
        "beta",
      );
    });

    describe("provider quirks, replayed as the providers stream them", () => {
      const send = async (message: string) => {
        const user = await signUp(t.app);
        const res = await chat(t, user, { message, model: "alpha" });
        assert.equal(res.statusCode, 200, res.body);
        return { user, res, id: res.json().conversation_id as string };
      };

      test("usage only on the last chunk (with the finish reason), or never", async () => {
        a.script({ text: "Counted.", usageIn: "last-chunk", usage: { input: 40, output: 2 } });
        const { user, id } = await send("count me");
        const usage = await lastUsage(user, id);
        assert.equal(usage.input_tokens, 40);
        assert.equal(usage.output_tokens, 2);
        assert.equal(usage.cost_micros, 120); // 40 × 2.5 + 2 × 10
        a.script({ text: "Uncounted.", usageIn: "none" });
        const none = await send("no usage");
        const missing = await lastUsage(none.user, none.id);
        assert.equal(missing.input_tokens, null);
        assert.equal(missing.cost_micros, null, "no tokens reported: the cost is unknown");
        assert.equal(none.res.json().response, "Uncounted.");
      });

      test("reasoning in <think> tags, or in reasoning_content, never becomes the reply", async () => {
        a.script({ text: "The answer.", reasoning: "secret thoughts", reasoningAs: "think-tags" });
        const tags = await send("think inline");
        assert.equal(tags.res.json().response, "The answer.");
        a.script({
          text: "Another answer.",
          reasoning: "more thoughts",
          reasoningAs: "reasoning_content",
        });
        const field = await send("think apart");
        assert.equal(field.res.json().response, "Another answer.");
        for (const { user, id } of [tags, field]) {
          const stored = (await messagesOf(t, user, id)).items.at(-1);
          assert.doesNotMatch(stored?.content ?? "", /thoughts|think>/);
        }
      });

      test("tool calls whole in one chunk (Ollama), and parallel tool calls in one step", async () => {
        a.script(
          {
            toolCalls: [
              { name: "add_task", arguments: { title: "Buy milk" } },
              { name: "add_task", arguments: { title: "Call mom" } },
            ],
            toolCallsInOneChunk: true,
          },
          { text: "Added both." },
        );
        const ollama = await send("add two");
        assert.equal(ollama.res.json().response, "Added both.");
        a.script(
          {
            toolCalls: [
              { name: "add_task", arguments: { title: "Water plants" } },
              { name: "add_task", arguments: { title: "Pay rent" } },
            ],
          },
          toolCallThenText("list_tasks", {}, "Done, two more."),
        );
        const parallel = await send("add two more");
        assert.equal(parallel.res.json().response, "Done, two more.");
        for (const [{ user }, titles] of [
          [ollama, ["Buy milk", "Call mom"]],
          [parallel, ["Pay rent", "Water plants"]],
        ] as const) {
          const tasks = (await call(user, { url: "/api/tasks?status=all" })).json();
          assert.deepEqual(tasks.items.map((x: { title: string }) => x.title).sort(), titles);
        }
        const tool = a.requests.at(-1)?.body.messages.filter((m) => m.role === "tool") ?? [];
        assert.equal(tool.length, 2, "both results went back to the model in one step");
      });
    });
  });
}

for (const backend of await availableBackends()) {
  describe(`the tokens_per_day quota, and models restricted per role [${backend}]`, () => {
    let a: FakeLlm;
    let t: TestApp;
    let admin: TestUser;
    before(async () => {
      a = await startFakeLlm();
      t = await startTestApp(backend, {
        ...modelsEnv(a, a),
        RATE_LIMITS: "true",
        RATE_LIMIT_TOKENS_PER_DAY: "1000",
      });
      admin = await signUp(t.app, "Admin");
    });
    after(async () => {
      await t.close();
      await a.close();
    });

    test("replies over the limit in 24 hours → 429 quota_exceeded; an admin's override lifts it", async () => {
      const user = await signUp(t.app);
      a.setDefault({ text: "Long answer.", usage: { input: 600, output: 500 } });
      const first = await chat(t, user, { message: "one" });
      assert.equal(first.statusCode, 200, first.body);
      const sent = a.requests.length;
      const second = await chat(t, user, { message: "two" });
      assert.equal(second.statusCode, 429, second.body);
      assert.equal(second.json().code, "quota_exceeded");
      assert.equal(second.json().quota, "tokens_per_day");
      const retry = Number(second.headers["retry-after"]);
      assert.ok(retry > 86_000 && retry <= 86_400, `retry-after ${retry}`);
      assert.equal(a.requests.length, sent, "the model was not called");
      // Another user has their own count; the limit shows in GET /api/me.
      const other = await signUp(t.app);
      assert.equal((await chat(t, other, { message: "hi" })).statusCode, 200);
      const me = await t.app.inject({ url: "/api/me", headers: user.headers });
      assert.equal(me.json().access.quotas.tokens_per_day, 1000);
      const raised = await t.app.inject({
        method: "PUT",
        url: `/api/admin/users/${user.id}/features`,
        headers: admin.headers,
        payload: { quotas: { tokens_per_day: 5000 } },
      });
      assert.equal(raised.statusCode, 200, raised.body);
      assert.equal((await chat(t, user, { message: "three" })).statusCode, 200);
    });

    test("an admin restricts the models of a role: its users see and use only those", async () => {
      const user = await signUp(t.app);
      const put = (models: string[] | null) =>
        t.app.inject({
          method: "PUT",
          url: "/api/admin/roles/user/features",
          headers: admin.headers,
          payload: { models },
        });
      assert.equal((await put(["gamma", "offline"])).statusCode, 200);
      try {
        const listed = await t.app.inject({ url: "/api/models", headers: user.headers });
        assert.deepEqual(
          listed.json().items.map((m: { id: string }) => m.id),
          ["gamma", "offline"],
        );
        assert.equal(listed.json().default, "gamma", "the server's default is not allowed");
        const refused = await chat(t, user, { message: "x", model: "beta" });
        assert.equal(refused.statusCode, 403);
        assert.equal(refused.json().code, "model_not_allowed");
        // The admin's own role is not restricted.
        const asAdmin = await chat(t, admin, { message: "x", model: "beta" });
        assert.equal(asAdmin.statusCode, 200, asAdmin.body);
      } finally {
        await put(null);
      }
    });
  });
}
