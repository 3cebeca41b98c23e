import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { TextStreamPart, ToolSet } from "ai";
import { emptyFold, finishFold, foldPart } from "../../src/chat/generate.ts";
import { REPLY_CALLS_MAX, storable, storableCalls, withoutNul } from "../../src/chat/tool-calls.ts";
import { AppError } from "../../src/errors.ts";

// The generation fold and what a reply stores, without HTTP, a model or a database.

type Part = TextStreamPart<ToolSet>;
const limits = { maxSteps: 3, maxChars: 20 };
const text = (t: string) => ({ type: "text-delta", id: "t", text: t }) as Part;
const call = (id: string, input: unknown) =>
  ({ type: "tool-call", toolCallId: id, toolName: "add_task", input }) as Part;

describe("the generation fold", () => {
  test("text and tool calls fold into the reply to store", () => {
    const fold = emptyFold();
    const roomy = { ...limits, maxChars: 1000 };
    foldPart(fold, call("c1", { title: "milk" }), roomy);
    foldPart(
      fold,
      { type: "tool-result", toolCallId: "c1", output: { task_id: 1 } } as Part,
      limits,
    );
    foldPart(fold, { type: "finish-step" } as Part, roomy);
    foldPart(fold, text("Added."), roomy);
    const g = finishFold(fold, roomy);
    assert.equal(g.text, "Added.");
    assert.equal(g.status, "complete");
    assert.deepEqual(g.toolCalls, [
      { id: "c1", name: "add_task", arguments: { title: "milk" }, result: { task_id: 1 } },
    ]);
  });

  test("one huge chunk is cut at the limit, and the stream is stopped", () => {
    const fold = emptyFold();
    assert.equal(foldPart(fold, text("x".repeat(3_000_000)), limits), true);
    assert.equal(foldPart(fold, text("more"), limits), false, "nothing after the cut");
    const g = finishFold(fold, limits);
    assert.equal(g.text.length, limits.maxChars);
    assert.equal(g.status, "truncated");
  });

  test("tool arguments count against the limit; the step's tools finish, then it stops", () => {
    const fold = emptyFold();
    assert.equal(foldPart(fold, call("c1", { title: "y".repeat(100) }), limits), false);
    assert.equal(foldPart(fold, { type: "finish-step" } as Part, limits), true);
    assert.equal(finishFold(fold, limits).status, "truncated");
  });

  test("a failed tool reads as the one tool-failure shape; a model error is kept", () => {
    const fold = emptyFold();
    foldPart(fold, call("c1", {}), limits);
    foldPart(
      fold,
      { type: "tool-error", toolCallId: "c1", error: new Error("boom: secret") } as Part,
      limits,
    );
    foldPart(fold, { type: "error", error: new Error("upstream") } as Part, limits);
    const g = finishFold(fold, limits);
    assert.deepEqual(g.toolCalls[0]?.result, {
      error: { code: "internal_error", message: "Internal error" },
    });
    assert.ok(g.error instanceof AppError);
    assert.equal(g.error.code, "model_error");
    assert.equal(g.status, "error");
  });

  test("a model still calling tools at the step limit is told so", () => {
    const fold = emptyFold();
    foldPart(fold, { type: "finish", finishReason: "tool-calls", totalUsage: {} } as Part, limits);
    const g = finishFold(fold, limits);
    assert.equal(g.status, "truncated");
    assert.match(g.text, /stopped after 3 steps/);
  });
});

describe("what a reply stores", () => {
  test("U+0000 is removed everywhere, keys included", () => {
    assert.deepEqual(withoutNul({ "a\u0000": ["b\u0000c", 1, null] }), { a: ["bc", 1, null] });
  });

  test("a long list keeps the items that fit and says how many there were", () => {
    const list = Array.from({ length: 1000 }, (_, i) => ({ id: i, title: `task ${i}` }));
    const kept = storable(list, 2000) as { truncated: boolean; total: number; items: unknown[] };
    assert.equal(kept.truncated, true);
    assert.equal(kept.total, 1000);
    assert.ok(kept.items.length > 10 && JSON.stringify(kept).length <= 2000);
    assert.deepEqual(storable("x".repeat(50), 10), { truncated: true, characters: 52 });
  });

  test("all the calls of one reply together stay within the budget", () => {
    const calls = Array.from({ length: 40 }, (_, i) => ({
      id: `c${i}`,
      name: "list_tasks",
      arguments: {},
      result: Array.from({ length: 400 }, (_, j) => ({ id: j, title: "t".repeat(30) })),
    }));
    const stored = storableCalls(calls);
    assert.equal(stored.length, 40, "every call is still listed");
    assert.ok(JSON.stringify(stored).length <= REPLY_CALLS_MAX + 40 * 2);
  });
});
