import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { experimental_streamTextLowMemory as lowMem, streamText, generateText, stepCountIs, tool, jsonSchema } from "ai";
import { startModel } from "./lib/model.ts";
const model = await startModel(); await model.setPace(0);
const provider = createOpenAICompatible({ name: "llm", baseURL: `${model.url}/v1`, includeUsage: true });
const m = provider.chatModel("fake-model");
const tools = { add_task: tool({ description: "add", inputSchema: jsonSchema<any>({ type: "object", properties: { title: { type: "string" } }, required: ["title"] }), execute: async (i: any) => ({ task_id: 1, title: i.title }) }) };
const messages = Array.from({ length: 50 }, (_, i) => ({ role: i % 2 ? "assistant" : "user", content: "please add a task number " + i + " lorem ipsum lorem ipsum lorem ipsum" })) as any;
messages.push({ role: "user", content: "add a task to buy milk on the way home #tool" });
const opts = () => ({ model: m, system: "sys", messages, tools, stopWhen: stepCountIs(5), maxRetries: 0, onError: () => {} });
const variants: Record<string, () => Promise<unknown>> = {
  "streamText fullStream": async () => { const r = streamText(opts()); for await (const p of r.fullStream) {} },
  "lowMemory fullStream": async () => { const r = lowMem(opts()); for await (const p of r.fullStream) {} },
  "streamText onChunk+consume": async () => { let n=0; const r = streamText({...opts(), onChunk: () => { n++; }}); await r.consumeStream(); await r.steps; },
  "generateText": async () => { await generateText(opts()); },
  "2x raw fetch": async () => { for (let k = 0; k < 2; k++) { const r = await fetch(`${model.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "fake-model", stream: true, messages: [{ role: "user", content: k ? "hi" : "x #tool" }] }) }); await r.text(); } },
};
const res: Record<string, number[]> = {};
for (let round = 0; round < 6; round++) for (const [name, fn] of Object.entries(variants)) {
  const c0 = process.cpuUsage(); for (let i = 0; i < 150; i++) await fn(); const c = process.cpuUsage(c0);
  if (round > 0) (res[name] ??= []).push((c.user + c.system) / 1000 / 150);
}
for (const [k, v] of Object.entries(res)) { v.sort((a,b)=>a-b); console.log(k.padEnd(30), "cpu ms median", v[2]!.toFixed(2), "min", v[0]!.toFixed(2)); }
await model.stop();
