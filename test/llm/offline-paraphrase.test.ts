/**
 * A seventh batch, written before tuning: three or four paraphrases of each judged
 * example, over the same task lists, in the polished style a paraphrasing model writes.
 */
import { test } from "node:test";
import { type Case, check, NOT_FOUND, WHICH } from "./offline-expect.test.ts";
import { converse, type SeedTask } from "./offline-harness.test.ts";

const G2: SeedTask[] = [{ title: "Buy groceries" }, { title: "Call mom", completed: true }];
const P4: SeedTask[] = [{ title: "Buy groceries" }, { title: "Pay bills" }, { title: "Call mom" }];
const M3: SeedTask[] = [
  { title: "Buy groceries" },
  { title: "Team meeting prep" },
  { title: "Call mom" },
];
const R3: SeedTask[] = [
  { title: "Write the quarterly report" },
  { title: "Send the report to Ana" },
  { title: "Buy milk" },
];
const c = (tasks: SeedTask[], say: string, expect: Case["expect"]): Case => ({
  tasks,
  say,
  expect,
});
export const PARAPHRASES: Case[] = [
  c([], "I'd like a new task: buy groceries", { added: { title: "buy groceries" } }),
  c([], "Could you add 'buy groceries' to my to-do list?", { added: { title: "buy groceries" } }),
  c([], "Please create a task for buying groceries", { added: { title_contains: "groceries" } }),
  c([], "Put buying groceries on my list", { added: { title_contains: "groceries" } }),
  c(G2, "Can you show me everything on my list?", { listed: "all" }),
  c(G2, "Display all of my tasks", { listed: "all" }),
  c(G2, "I'd like to see all my tasks", { listed: "all" }),
  c(G2, "What tasks are on my list?", { listed: "all" }),
  c(G2, "Which of my tasks are still open?", { listed: "pending" }),
  c(G2, "Show me what's not done yet", { listed: "pending" }),
  c(G2, "What's left on my list?", { listed: "pending" }),
  c(G2, "List the tasks I haven't finished", { listed: "pending" }),
  c(P4, "Please mark the third task as done", { completed: [3] }),
  c(P4, "Set task 3 to completed", { completed: [3] }),
  c(P4, "Task 3 is finished", { completed: [3] }),
  c(P4, "Can you complete task number 3?", { completed: [3] }),
  c(M3, "Get rid of the task about the meeting", { deleted: [2] }),
  c(M3, "Remove the meeting prep task", { deleted: [2] }),
  c(M3, "Please delete the team meeting one", { deleted: [2] }),
  c(M3, "I don't need the meeting task anymore, delete it", { deleted: [2] }),
  c([{ title: "Call mom" }], "Update task 1 so it says 'Call mom tonight'", {
    updated: { task: 1, title: "call mom tonight" },
  }),
  c([{ title: "Call mom" }], "Rename task 1 to 'Call mom tonight'", {
    updated: { task: 1, title: "call mom tonight" },
  }),
  c([{ title: "Call mom" }], "Change the title of task 1 to Call mom tonight", {
    updated: { task: 1, title: "call mom tonight" },
  }),
  c([{ title: "Call mom" }], "Edit task 1 to read 'Call mom tonight'", {
    updated: { task: 1, title: "call mom tonight" },
  }),
  c([], "I have to remember to pay bills", { added: { title: "pay bills" } }),
  c([], "Make sure I don't forget to pay bills", { added: { title: "pay bills" } }),
  c([], "I must remember to pay the bills", { added: { title: "pay the bills" } }),
  c(G2, "Which tasks have I completed?", { listed: "completed" }),
  c(G2, "Show me the tasks I've already done", { listed: "completed" }),
  c(G2, "What's been completed?", { listed: "completed" }),
  c(G2, "List my finished tasks", { listed: "completed" }),
  c([], "Please remind me to water the plants", { added: { title: "water the plants" } }),
  c([], "Set a reminder to water the plants", { added: { title: "water the plants" } }),
  c([], "Can you remind me to water the plants?", { added: { title: "water the plants" } }),
  c([], "Create a task 'Book dentist appointment' with the description 'before Friday'", {
    added: { title: "book dentist appointment", description_contains: "before friday" },
  }),
  c([], "Add a task called Book dentist appointment, description: before Friday", {
    added: { title: "book dentist appointment", description_contains: "before friday" },
  }),
  c([], "New task 'Book dentist appointment', description 'before Friday'", {
    added: { title: "book dentist appointment", description_contains: "before friday" },
  }),
  c([], "Please add 'call the bank' to my list", { added: { title: "call the bank" } }),
  c([], "Could you put call the bank on my list?", { added: { title: "call the bank" } }),
  c([], "Add call the bank to my to-do list, please", { added: { title: "call the bank" } }),
  c([{ title: "Buy groceries" }, { title: "Call mom" }], "Show my tasks", { listed: "all" }),
  c([{ title: "Buy groceries" }, { title: "Call mom" }], "Give me a list of my tasks", {
    listed: "all",
  }),
  c([{ title: "Buy groceries" }, { title: "Call mom" }], "What are all my tasks?", {
    listed: "all",
  }),
  c(G2, "What's left for me to do?", { listed: "pending" }),
  c(G2, "What else do I need to do?", { listed: "pending" }),
  c(G2, "What do I still need to get done?", { listed: "pending" }),
  c([{ title: "Buy groceries" }, { title: "Pay bills" }], "Task 2 is complete", { completed: [2] }),
  c([{ title: "Buy groceries" }, { title: "Pay bills" }], "Consider task 2 finished", {
    completed: [2],
  }),
  c([{ title: "Buy groceries" }, { title: "Pay bills" }], "I've done task 2", { completed: [2] }),
  c([{ title: "Buy groceries" }, { title: "Pay bills" }], "I've bought the groceries", {
    completed: [1],
  }),
  c([{ title: "Buy groceries" }, { title: "Pay bills" }], "Just got back from buying groceries", {
    completed: [1],
  }),
  c([{ title: "Buy groceries" }, { title: "Pay bills" }], "Groceries are bought", {
    completed: [1],
  }),
  c([{ title: "Buy groceries" }, { title: "Pay bills" }], "I'm done buying groceries", {
    completed: [1],
  }),
  c([{ title: "A" }, { title: "B" }, { title: "C" }, { title: "D" }], "Delete the fourth task", {
    deleted: [4],
  }),
  c([{ title: "A" }, { title: "B" }, { title: "C" }, { title: "D" }], "Please remove task #4", {
    deleted: [4],
  }),
  c([{ title: "A" }, { title: "B" }, { title: "C" }, { title: "D" }], "Get rid of task four", {
    deleted: [4],
  }),
  c([{ title: "Buy groceries" }, { title: "Renew ID" }], "Change task 2 to Renew passport", {
    updated: { task: 2, title: "renew passport" },
  }),
  c([{ title: "Buy groceries" }, { title: "Renew ID" }], "Rename 'Renew ID' to 'Renew passport'", {
    updated: { task: 2, title: "renew passport" },
  }),
  c(
    [{ title: "Buy groceries" }, { title: "Renew ID" }],
    "Update the second task's title to Renew passport",
    { updated: { task: 2, title: "renew passport" } },
  ),
  c([{ title: "File the tax form" }], "Add the description 'use the blue form' to task 1", {
    updated: { task: 1, description_contains: "blue form" },
  }),
  c([{ title: "File the tax form" }], "Update task 1's description: use the blue form", {
    updated: { task: 1, description_contains: "blue form" },
  }),
  c(
    [{ title: "File the tax form" }],
    "For the tax form task, set the description to 'use the blue form'",
    { updated: { task: 1, description_contains: "blue form" } },
  ),
  c([{ title: "Buy groceries" }], "Hey there", { unchanged: true, reply_matches: "." }),
  c([{ title: "Buy groceries" }], "Good morning!", { unchanged: true, reply_matches: "." }),
  c([], "How can you help me?", { unchanged: true, reply_matches: "(?i)add" }),
  c([], "What are you able to help with?", { unchanged: true, reply_matches: "(?i)add" }),
  c([{ title: "Buy groceries" }], "Mark task 99 as done", {
    unchanged: true,
    reply_matches: NOT_FOUND,
  }),
  c([{ title: "Buy groceries" }], "Delete task 50", { unchanged: true, reply_matches: NOT_FOUND }),
  c(R3, "Remove the report task", { unchanged: true, reply_matches: WHICH }),
  c(R3, "Mark the report as done", { unchanged: true, reply_matches: WHICH }),
  c(G2, "Which tasks are done?", { listed: "completed" }),
  c(G2, "List completed", { listed: "completed" }),
  c([], "Todo: renew the library card", { added: { title: "renew the library card" } }),
  c([], "to-do: renew the library card", { added: { title: "renew the library card" } }),
  c([], "Add to-do: renew the library card", { added: { title: "renew the library card" } }),
];

for (const [i, x] of PARAPHRASES.entries()) {
  test(`paraphrase ${i + 1}: ${x.say}`, async () => check(x, await converse(x.tasks, x.say)));
}
