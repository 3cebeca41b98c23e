import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Tool, ToolSet } from "ai";
import { buildManifest, PARTS_MAX, seqRanges, TOOLS_MAX } from "../../src/chat/manifest.ts";
import type { Message } from "../../src/conversations/conversation.ts";

// The context manifest stays small whatever the turn: bounded parts and tool names.

const message = (seq: number, content: string): Message => ({
  id: `00000000-0000-4000-8000-${String(seq).padStart(12, "0")}`,
  conversationId: "c",
  seq,
  role: seq % 2 ? "user" : "assistant",
  content,
  toolCalls: null,
  replyTo: null,
  status: "complete",
  clientMessageId: null,
  usage: null,
  createdAt: new Date(),
  errorCode: null,
  replacedBy: null,
  model: null,
  costMicros: null,
});

describe("context manifest", () => {
  test("seq ranges", () => {
    assert.deepEqual(seqRanges([5, 1, 2, 3, 7, 8]), [
      [1, 3],
      [5, 5],
      [7, 8],
    ]);
    assert.deepEqual(seqRanges([]), []);
  });

  test("bounded: at most PARTS_MAX parts and TOOLS_MAX names, no text, a few KB", () => {
    const secret = "do-not-copy-me ".repeat(500);
    const given = Array.from({ length: 300 }, (_, i) => message(i + 1, secret));
    const tools: ToolSet = Object.fromEntries(
      Array.from({ length: 90 }, (_, i) => [`tool_${i}`, { description: "d" } as Tool]),
    );
    const manifest = buildManifest({
      modelName: "m",
      llm: { maxSteps: 5, maxOutputTokens: 1000 } as never,
      history: { maxMessages: 300, maxChars: 10_000_000 },
      systemChars: 2000,
      read: given,
      given,
      earlier: [],
      note: undefined,
      tools,
      usage: { inputTokens: 10, outputTokens: 2, totalTokens: 12 },
    });
    assert.equal(manifest.parts.length, PARTS_MAX);
    assert.equal(manifest.parts_omitted, 300 - PARTS_MAX);
    assert.equal(manifest.parts.at(-1)?.seq, 300, "the newest parts are kept");
    assert.equal(manifest.tools.names.length, TOOLS_MAX);
    assert.equal(manifest.tools.count, 90);
    assert.deepEqual(manifest.window.seqs, [[1, 300]]);
    assert.equal(manifest.window.chars, 300 * (secret.length + 2));
    const json = JSON.stringify(manifest);
    assert.ok(!json.includes("do-not-copy"));
    assert.ok(json.length < 10_000, `${json.length} bytes`);
  });
});
