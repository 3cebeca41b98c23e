/**
 * The benchmark's model: the test suite's fake OpenAI-protocol server, in its own process
 * so its work does not share the event loop with the server being measured.
 *
 * A user message containing "#tool" gets one add_task call, then (after the tool result)
 * a short text answer; any other message gets the text answer at once. The last two request
 * bodies are kept so the bench can replay exactly what the server sent (the "model
 * directly" baseline). Control over IPC: {pace} sets the delay between chunks, {last}
 * returns the kept bodies.
 */
import { lastUserText, type RecordedRequest, startFakeLlm } from "../../test/support/fake-llm.ts";

export const TOOL_MARK = "#tool";
export const ANSWER = "Done: I added it to your list, and it is waiting for you there.";

const fake = await startFakeLlm({ port: 0, paceMs: 0, record: false });
const bodies: unknown[] = [];
fake.setDefault((req: RecordedRequest) => {
  bodies.push(req.body);
  if (bodies.length > 2) bodies.shift();
  if (req.body.messages.at(-1)?.role === "tool") return { text: ANSWER, chunkSize: 8 };
  if (lastUserText(req).includes(TOOL_MARK)) {
    return { toolCalls: [{ name: "add_task", arguments: { title: "bench task" } }] };
  }
  return { text: ANSWER, chunkSize: 8 };
});

interface Control {
  pace?: number;
  last?: boolean;
  stop?: boolean;
}

process.on("message", (msg: Control) => {
  if (typeof msg.pace === "number") {
    fake.setPace(msg.pace);
    process.send?.({ ok: true });
  }
  if (msg.last) process.send?.({ bodies: [...bodies] });
  if (msg.stop) void fake.close().then(() => process.exit(0));
});
process.send?.({ url: fake.url });
