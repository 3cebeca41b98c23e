/**
 * The 24 judged examples (shared/examples/assistant-commands.jsonl), copied here so the
 * suite runs without shared/ beside the repository.
 */
import { test } from "node:test";
import { type Case, check } from "./offline-expect.test.ts";
import { converse } from "./offline-harness.test.ts";

const EXAMPLES: Case[] = [
  {
    id: "p01",
    tasks: [],
    say: "Add a task to buy groceries",
    expect: { added: { title: "buy groceries" } },
  },
  {
    id: "p02",
    tasks: [{ title: "Buy groceries" }, { title: "Call mom", completed: true }],
    say: "Show me all my tasks",
    expect: { listed: "all" },
  },
  {
    id: "p03",
    tasks: [{ title: "Buy groceries" }, { title: "Call mom", completed: true }],
    say: "What's pending?",
    expect: { listed: "pending" },
  },
  {
    id: "p04",
    tasks: [{ title: "Buy groceries" }, { title: "Pay bills" }, { title: "Call mom" }],
    say: "Mark task 3 as complete",
    expect: { completed: [3] },
  },
  {
    id: "p05",
    tasks: [{ title: "Buy groceries" }, { title: "Team meeting prep" }, { title: "Call mom" }],
    say: "Delete the meeting task",
    expect: { deleted: [2] },
  },
  {
    id: "p06",
    tasks: [{ title: "Call mom" }],
    say: "Change task 1 to 'Call mom tonight'",
    expect: { updated: { task: 1, title: "call mom tonight" } },
  },
  {
    id: "p07",
    tasks: [],
    say: "I need to remember to pay bills",
    expect: { added: { title: "pay bills" } },
  },
  {
    id: "p08",
    tasks: [{ title: "Buy groceries" }, { title: "Call mom", completed: true }],
    say: "What have I completed?",
    expect: { listed: "completed" },
  },
  {
    id: "p09",
    tasks: [],
    say: "Remind me to water the plants",
    expect: { added: { title: "water the plants" } },
  },
  {
    id: "p10",
    tasks: [],
    say: "Add 'Book dentist appointment' with description 'before Friday'",
    expect: { added: { title: "book dentist appointment", description_contains: "before friday" } },
  },
  {
    id: "p11",
    tasks: [],
    say: "Can you add call the bank to my list?",
    expect: { added: { title: "call the bank" } },
  },
  {
    id: "p12",
    tasks: [{ title: "Buy groceries" }, { title: "Call mom" }],
    say: "List my tasks",
    expect: { listed: "all" },
  },
  {
    id: "p13",
    tasks: [{ title: "Buy groceries" }, { title: "Call mom", completed: true }],
    say: "What do I still have to do?",
    expect: { listed: "pending" },
  },
  {
    id: "p14",
    tasks: [{ title: "Buy groceries" }, { title: "Pay bills" }],
    say: "Task 2 is done",
    expect: { completed: [2] },
  },
  {
    id: "p15",
    tasks: [{ title: "Buy groceries" }, { title: "Pay bills" }],
    say: "I finished buying groceries",
    expect: { completed: [1] },
  },
  {
    id: "p16",
    tasks: [{ title: "A" }, { title: "B" }, { title: "C" }, { title: "D" }],
    say: "Remove task 4",
    expect: { deleted: [4] },
  },
  {
    id: "p17",
    tasks: [{ title: "Buy groceries" }, { title: "Renew ID" }],
    say: "Rename task 2 to Renew passport",
    expect: { updated: { task: 2, title: "renew passport" } },
  },
  {
    id: "p18",
    tasks: [{ title: "File the tax form" }],
    say: "Set the description of task 1 to 'use the blue form'",
    expect: { updated: { task: 1, title: "file the tax form", description_contains: "blue form" } },
  },
  {
    id: "p19",
    tasks: [{ title: "Buy groceries" }],
    say: "Hi",
    expect: { unchanged: true, reply_matches: "." },
  },
  {
    id: "p20",
    tasks: [],
    say: "What can you do?",
    expect: { unchanged: true, reply_matches: "(?i)add" },
  },
  {
    id: "p21",
    tasks: [{ title: "Buy groceries" }],
    say: "Complete task 99",
    expect: {
      unchanged: true,
      reply_matches:
        "(?i)(not find|couldn't find|could not find|no task|not found|doesn't exist|does not exist)",
    },
  },
  {
    id: "p22",
    tasks: [
      { title: "Write the quarterly report" },
      { title: "Send the report to Ana" },
      { title: "Buy milk" },
    ],
    say: "Delete the report task",
    expect: { unchanged: true, reply_matches: "(?i)(which|more than one|several|multiple)" },
  },
  {
    id: "p23",
    tasks: [{ title: "Buy groceries" }, { title: "Call mom", completed: true }],
    say: "Show completed tasks",
    expect: { listed: "completed" },
  },
  {
    id: "p24",
    tasks: [],
    say: "todo: renew the library card",
    expect: { added: { title: "renew the library card" } },
  },
];

for (const c of EXAMPLES) {
  test(`example ${c.id}: ${c.say}`, async () => check(c, await converse(c.tasks, c.say)));
}
