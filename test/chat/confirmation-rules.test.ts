import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { LanguageModelV4Prompt } from "@ai-sdk/provider";
import { gateCalls, heldQuestion } from "../../src/chat/confirmation.ts";

// The middleware's rules, without a model or a database (the HTTP path is in
// confirmation.test.ts).

const call = (toolName: string, input: Record<string, unknown>, id = toolName) => ({
  toolCallId: `${id}-${String(input.task_id ?? "")}`,
  toolName,
  input: JSON.stringify(input),
});

const listed = (items: Array<[number, string]>) =>
  ({
    type: "json",
    value: {
      items: items.map(([id, title]) => ({ id, title, completed: false })),
      total: items.length,
      next_cursor: null,
    },
  }) as const;

/** A prompt: the user's message, then this turn's list_tasks call and its result. */
function prompt(
  say: string,
  tasks: Array<[number, string]> = [],
  before: LanguageModelV4Prompt = [],
): LanguageModelV4Prompt {
  return [
    ...before,
    { role: "user", content: [{ type: "text", text: say }] },
    {
      role: "assistant",
      content: [{ type: "tool-call", toolCallId: "l1", toolName: "list_tasks", input: {} }],
    },
    {
      role: "tool",
      content: [
        { type: "tool-result", toolCallId: "l1", toolName: "list_tasks", output: listed(tasks) },
      ],
    },
  ];
}

const TASKS: Array<[number, string]> = [
  [1, "Buy milk"],
  [2, "Schedule a dentist cleaning"],
  [3, "Call mom"],
];

describe("confirmation rules", () => {
  test("one delete of a named task, or of a task by number, runs as asked", () => {
    assert.equal(
      gateCalls([call("delete_task", { task_id: 1 })], prompt("delete the milk task", TASKS)),
      undefined,
    );
    assert.equal(
      gateCalls([call("delete_task", { task_id: 3 })], prompt("remove task 3", TASKS)),
      undefined,
    );
    assert.equal(
      gateCalls([call("delete_task", { task_id: 3 })], prompt("delete the last one", TASKS)),
      undefined,
    );
    assert.equal(
      gateCalls([call("complete_task", { task_id: 2 })], prompt("I did it", TASKS)),
      undefined,
    );
    assert.equal(gateCalls([call("add_task", { title: "x" })], prompt("add x")), undefined);
  });

  test("two or more deletes or completions are held, other calls of the step kept", () => {
    const gated = gateCalls(
      [
        call("add_task", { title: "bread" }),
        call("delete_task", { task_id: 1 }),
        call("update_task", { task_id: 3, completed: true }),
      ],
      prompt("clean up", TASKS),
    );
    assert.deepEqual(
      gated?.map((c) => c.toolName),
      ["add_task", "hold_for_confirmation"],
    );
    assert.deepEqual(JSON.parse(gated?.[1]?.input ?? "{}"), {
      reason: "bulk",
      calls: [
        { name: "delete_task", input: { task_id: 1 } },
        { name: "update_task", input: { task_id: 3, completed: true } },
      ],
    });
  });

  test("a second destructive call in a later step of the same turn is held", () => {
    const done: LanguageModelV4Prompt = [
      { role: "user", content: [{ type: "text", text: "tidy up" }] },
      {
        role: "assistant",
        content: [
          { type: "tool-call", toolCallId: "d1", toolName: "delete_task", input: { task_id: 1 } },
        ],
      },
    ];
    const gated = gateCalls([call("delete_task", { task_id: 2 })], done);
    assert.equal(gated?.[0]?.toolName, "hold_for_confirmation");
  });

  test("a delete of a task whose title shares no word with the message is held as fuzzy", () => {
    const gated = gateCalls(
      [call("delete_task", { task_id: 2 })],
      prompt("delete the dentst thing", TASKS),
    );
    assert.equal(JSON.parse(gated?.[0]?.input ?? "{}").reason, "fuzzy");
    // …unless the previous reply offered it ("which one?").
    const offered: LanguageModelV4Prompt = [
      { role: "user", content: [{ type: "text", text: "delete the appointment" }] },
      { role: "assistant", content: [{ type: "text", text: "Which one? task 2 · …" }] },
    ];
    assert.equal(
      gateCalls([call("delete_task", { task_id: 2 })], prompt("that one", TASKS, offered)),
      undefined,
    );
  });

  test("asking again for exactly the held calls after the question is the confirmation", () => {
    const asked: LanguageModelV4Prompt = [
      { role: "user", content: [{ type: "text", text: "delete all" }] },
      {
        role: "assistant",
        content: [
          {
            type: "tool-call",
            toolCallId: "h1",
            toolName: "hold_for_confirmation",
            input: {
              reason: "bulk",
              calls: [
                { name: "delete_task", input: { task_id: 1 } },
                { name: "delete_task", input: { task_id: 3 } },
              ],
            },
          },
        ],
      },
      { role: "assistant", content: [{ type: "text", text: "Delete these 2 tasks…? (yes / no)" }] },
    ];
    const yes = [{ role: "user" as const, content: [{ type: "text" as const, text: "yes" }] }];
    const again = [call("delete_task", { task_id: 3 }), call("delete_task", { task_id: 1 })];
    assert.deepEqual(
      gateCalls(again, [...asked, ...yes])?.map((c) => c.toolName),
      ["confirm_pending_action"],
    );
    // Other tasks than the ones asked about: a new question.
    const other = [call("delete_task", { task_id: 2 }), call("delete_task", { task_id: 1 })];
    assert.equal(gateCalls(other, [...asked, ...yes])?.[0]?.toolName, "hold_for_confirmation");
  });

  test("after a hold's result the reply is its question", () => {
    const p: LanguageModelV4Prompt = [
      { role: "user", content: [{ type: "text", text: "delete all" }] },
      {
        role: "tool",
        content: [
          {
            type: "tool-result",
            toolCallId: "h1",
            toolName: "hold_for_confirmation",
            output: { type: "json", value: { question: "Delete these 2 tasks: …? (yes / no)" } },
          },
        ],
      },
    ];
    assert.equal(heldQuestion(p), "Delete these 2 tasks: …? (yes / no)");
    assert.equal(heldQuestion(prompt("hi")), undefined);
  });
});
