/**
 * What the model layer alone costs per turn, in CPU of this process: one tool turn (a tool
 * call, then a text answer: two requests to the fake model over loopback HTTP) through our
 * step loop over the AI SDK provider's doStream, as Tasktalk runs it (src/chat/step-loop.ts),
 * and for reference through the SDK's `streamText`, its single-consumer
 * `streamTextLowMemory`, `generateText` (no streaming), and the same two requests made with
 * bare `fetch`. No database, no HTTP server: the floor under any turn that goes through the
 * model layer.
 *
 *   node bench/sdk-cost.ts [--rounds 6] [--per-round 150]
 */
import { parseArgs } from "node:util";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import {
  experimental_streamTextLowMemory,
  generateText,
  jsonSchema,
  type ModelMessage,
  stepCountIs,
  streamText,
  tool,
} from "ai";
import { runSteps } from "../src/chat/step-loop.ts";
import { startModel } from "./lib/model.ts";
import { median } from "./lib/stats.ts";
import { USER_TEXT } from "./peers/common.ts";

/** One tool turn through our step loop, as Tasktalk runs it, against the model at `modelUrl`. */
export function sdkTurn(modelUrl: string): () => Promise<void> {
  const options = sdkOptions(modelUrl);
  return async () => {
    const o = options();
    await runSteps(
      {
        model: o.model,
        system: o.system,
        messages: o.messages,
        tools: o.tools,
        maxSteps: 6,
        maxOutputTokens: 1000,
        maxRetries: 0,
        signal: new AbortController().signal,
      },
      () => {},
    );
  };
}

const tools = {
  add_task: tool({
    description: "Add a task",
    inputSchema: jsonSchema<{ title: string }>({
      type: "object",
      properties: { title: { type: "string" } },
      required: ["title"],
    }),
    execute: async (input) => ({ task_id: 1, title: input.title }),
  }),
};
// A 40-message window like the one a turn sends (HISTORY_MAX_MESSAGES), then the user's.
const messages: ModelMessage[] = Array.from({ length: 39 }, (_, i) =>
  i % 2
    ? { role: "assistant" as const, content: `Added task ${i} to your list. dolor sit amet` }
    : { role: "user" as const, content: `please add a task number ${i} to my list, lorem ipsum` },
);
messages.push({ role: "user", content: USER_TEXT });

/** streamText/generateText options for one tool turn against the fake model at `modelUrl`. */
function sdkOptions(modelUrl: string) {
  const chat = createOpenAICompatible({
    name: "llm",
    baseURL: `${modelUrl}/v1`,
    includeUsage: true,
  }).chatModel("fake-model");
  return () => ({
    model: chat,
    system: "You manage the user's tasks.",
    messages,
    tools,
    stopWhen: stepCountIs(6),
    maxRetries: 0,
    onError: () => {},
  });
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      rounds: { type: "string", default: "6" },
      "per-round": { type: "string", default: "150" },
    },
  });
  const rounds = Number(values.rounds);
  const perRound = Number(values["per-round"]);

  const model = await startModel();
  await model.setPace(0);
  const options = sdkOptions(model.url);

  const variants: Record<string, () => Promise<unknown>> = {
    "our step loop over doStream (as Tasktalk)": sdkTurn(model.url),
    "streamText, fullStream": async () => {
      for await (const _ of streamText(options()).fullStream);
    },
    "streamTextLowMemory, fullStream": async () => {
      for await (const _ of experimental_streamTextLowMemory(options()).fullStream);
    },
    "generateText (no streaming)": () => generateText(options()),
    "2 bare fetch calls (streamed)": async () => {
      for (const content of [USER_TEXT, "thanks"]) {
        const r = await fetch(`${model.url}/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            model: "fake-model",
            stream: true,
            messages: [{ role: "user", content }],
          }),
        });
        await r.text();
      }
    },
  };

  // Round 0 warms the JIT and is dropped; the variants alternate round by round.
  const cpu: Record<string, number[]> = {};
  for (let round = 0; round <= rounds; round++) {
    for (const [name, run] of Object.entries(variants)) {
      const start = process.cpuUsage();
      for (let i = 0; i < perRound; i++) await run();
      const used = process.cpuUsage(start);
      if (round === 0) continue;
      cpu[name] ??= [];
      cpu[name].push((used.user + used.system) / 1000 / perRound);
    }
  }
  console.log(`CPU ms per tool turn (median of ${rounds} rounds × ${perRound}):`);
  for (const [name, samples] of Object.entries(cpu)) {
    console.log(`  ${median(samples).toFixed(2).padStart(6)}  ${name}`);
  }
  await model.stop();
}
