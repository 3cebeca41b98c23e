import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import type { LanguageModelV4, LanguageModelV4CallOptions } from "@ai-sdk/provider";
import { createLanguageModel } from "../../src/llm/provider.ts";
import { placeToolsJson, spliceToolsJson } from "../../src/llm/tools-json.ts";
import { inputJsonSchema } from "../../src/tools/ai-sdk.ts";
import { TASK_TOOLS } from "../../src/tools/task-tools.ts";

// The model's request body carries the tools' kept JSON text (src/llm/tools-json.ts): the
// bytes a model receives must be exactly those the provider sends without it.

/** A model endpoint that keeps every raw request body and answers one short stream. */
async function rawModel(): Promise<{ server: Server; url: string; bodies: string[] }> {
  const bodies: string[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    bodies.push(Buffer.concat(chunks).toString());
    res.writeHead(200, { "content-type": "text/event-stream" });
    const chunk = (delta: object, finish: string | null = null) =>
      `data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    res.end(`${chunk({ role: "assistant", content: "hi" })}${chunk({}, "stop")}data: [DONE]\n\n`);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, bodies };
}

async function drain(model: LanguageModelV4, options: LanguageModelV4CallOptions) {
  const { stream } = await model.doStream(options);
  const reader = stream.getReader();
  while (!(await reader.read()).done) {}
}

const tools = TASK_TOOLS.map((definition) => ({
  type: "function" as const,
  name: definition.name,
  description: definition.description,
  inputSchema: inputJsonSchema(definition),
}));

describe("the tools' kept JSON text", () => {
  let model: Awaited<ReturnType<typeof rawModel>>;
  before(async () => {
    model = await rawModel();
  });
  after(() => {
    model.server.closeAllConnections();
    model.server.close();
  });

  test("a model receives the same bytes as from the provider without it", async () => {
    const ours = (await createLanguageModel({
      id: "m",
      label: "m",
      provider: "openai-compatible",
      baseURL: model.url,
      apiKey: undefined,
      providerModel: "m",
      prices: null,
    })) as LanguageModelV4;
    const plain = createOpenAICompatible({
      name: "llm",
      baseURL: model.url,
      includeUsage: true,
    }).chatModel("m");
    // A user's text that looks like the placeholder stays text.
    const tricky = `"tools":"\u0001tools:abc:1" and \\"tools\\":\\"\u0001`;
    const options: LanguageModelV4CallOptions = {
      prompt: [
        { role: "system", content: "You help." },
        { role: "user", content: [{ type: "text", text: tricky }] },
      ],
      tools,
      toolChoice: { type: "auto" },
      maxOutputTokens: 100,
    };
    for (let i = 0; i < 3; i++) {
      await drain(ours, options);
      await drain(plain, options);
    }
    assert.equal(model.bodies.length, 6);
    for (let i = 0; i < 6; i += 2) {
      assert.equal(model.bodies[i], model.bodies[i + 1]);
    }
    const sent = JSON.parse(model.bodies[0] as string);
    assert.equal(sent.tools.length, TASK_TOOLS.length);
    assert.equal(sent.messages[1].content, tricky);
    // Without tools, nothing to keep: the same bytes too.
    const bare = { ...options, tools: undefined, toolChoice: undefined };
    await drain(ours, bare);
    await drain(plain, bare);
    assert.equal(model.bodies[6], model.bodies[7]);
    assert.equal(JSON.parse(model.bodies[6] as string).tools, undefined);
  });

  test("a changed description or schema is sent as changed, never from an older text", () => {
    const schema = { type: "object", properties: {} };
    const tool = (description: string, parameters: object) => ({
      type: "function",
      function: { name: "t", description, parameters },
    });
    const body = (args: Record<string, unknown>) => spliceToolsJson(JSON.stringify(args));
    const expect = (args: Record<string, unknown>) =>
      assert.equal(body(placeToolsJson(args)), JSON.stringify(args));
    // The tools are a placeholder in the object the provider serializes.
    assert.equal(typeof placeToolsJson({ tools: [tool("one", schema)] }).tools, "string");
    expect({ model: "m", tools: [tool("one", schema)] });
    expect({ model: "m", tools: [tool("two", schema)] });
    expect({ model: "m", tools: [tool("one", { ...schema, required: [] })] });
    expect({ model: "m", tools: [tool("one", schema), tool("two", schema)] });
    // Not the usual shape: left as it is.
    const odd = { model: "m", tools: [{ type: "function", function: { name: "x" } }] };
    assert.equal(placeToolsJson(odd), odd);
    assert.equal(spliceToolsJson('{"tools":"plain"}'), '{"tools":"plain"}');
  });

  test("many different tool sets: each request still gets its own", () => {
    const placed = Array.from({ length: 300 }, (_, i) => {
      const args = {
        tools: [{ type: "function", function: { name: `t${i}`, parameters: { i } } }],
      };
      return { args, text: JSON.stringify(placeToolsJson(args)) };
    });
    // The newest are always there; a placeholder made long before is sent microseconds
    // later in practice, so only the last ones are checked.
    for (const { args, text } of placed.slice(-128)) {
      assert.equal(spliceToolsJson(text), JSON.stringify(args));
    }
  });
});
