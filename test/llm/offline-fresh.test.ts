/**
 * A sixth batch, written before tuning, in the plain style of the judged examples but
 * over task lists with other titles, so the matcher meets words it has not seen.
 */
import { test } from "node:test";
import { type Case, check, NOT_FOUND, WHICH } from "./offline-expect.test.ts";
import { converse, type SeedTask } from "./offline-harness.test.ts";

const A: SeedTask[] = [
  { title: "Renew car insurance" },
  { title: "Email the landlord about the leak" },
  { title: "Pick up dry cleaning", completed: true },
  { title: "Schedule vet appointment for Max" },
];
const B: SeedTask[] = [
  { title: "Buy birthday present for Sara" },
  { title: "Book flights to Berlin" },
  { title: "Cancel gym membership" },
  { title: "Read chapter 3", completed: true },
  { title: "Fix the kitchen tap" },
];
const C: SeedTask[] = [
  { title: "Submit expense report" },
  { title: "Prepare quarterly budget" },
  { title: "Review the budget with Tom" },
  { title: "Order office chairs", completed: true },
];
const c = (tasks: SeedTask[], say: string, expect: Case["expect"]): Case => ({
  tasks,
  say,
  expect,
});
export const FRESH: Case[] = [
  c([], "Add a task to renew my passport", { added: { title: "renew my passport" } }),
  c([], "Create a task called Call the plumber", { added: { title: "Call the plumber" } }),
  c([], "Remind me to send the birthday card", { added: { title: "send the birthday card" } }),
  c([], "I need to remember to book the restaurant", { added: { title: "book the restaurant" } }),
  c([], "Don't let me forget to buy dog food", { added: { title: "buy dog food" } }),
  c([], "todo: call the electrician", { added: { title: "call the electrician" } }),
  c([], "Put 'Clean the car' on my list", { added: { title: "Clean the car" } }),
  c([], "Can you add pick up the kids to my list?", { added: { title: "pick up the kids" } }),
  c([], "New task: prepare the presentation", { added: { title: "prepare the presentation" } }),
  c([], "Add 'Write blog post' with description 'about the trip to Japan'", {
    added: { title: "Write blog post", description_contains: "trip to japan" },
  }),
  c([], "Add buy stamps, description: for the wedding invitations", {
    added: { title: "buy stamps", description_contains: "wedding invitations" },
  }),
  c([], "Please add a task to water the garden", { added: { title: "water the garden" } }),
  c([], "Add a task", { unchanged: true, reply_matches: "(?i)what" }),
  c(A, "Show me all my tasks", { listed: "all" }),
  c(A, "What's on my list?", { listed: "all" }),
  c(A, "List everything", { listed: "all" }),
  c(B, "What's still pending?", { listed: "pending" }),
  c(B, "What do I have left to do?", { listed: "pending" }),
  c(B, "Show my open tasks", { listed: "pending" }),
  c(B, "Which tasks are unfinished?", { listed: "pending" }),
  c(A, "What have I finished?", { listed: "completed" }),
  c(A, "Show completed tasks", { listed: "completed" }),
  c(C, "What tasks are done?", { listed: "completed" }),
  c([], "What's pending?", { listed: "pending" }),
  c(A, "Mark task 2 as complete", { completed: [2] }),
  c(A, "Task 4 is done", { completed: [4] }),
  c(A, "I renewed the car insurance", { completed: [1] }),
  c(A, "I've emailed the landlord", { completed: [2] }),
  c(A, "I scheduled the vet appointment", { completed: [4] }),
  c(B, "I bought Sara's present", { completed: [1] }),
  c(B, "Booked the flights", { completed: [2] }),
  c(B, "I fixed the tap", { completed: [5] }),
  c(B, "Mark the gym task as done", { completed: [3] }),
  c(C, "I submitted the expense report", { completed: [1] }),
  c(C, "Finished the budget", { unchanged: true, reply_matches: WHICH }),
  c(C, "I finished preparing the quarterly budget", { completed: [2] }),
  c(C, "Check off task 3", { completed: [3] }),
  c(C, "Complete task 12", { unchanged: true, reply_matches: NOT_FOUND }),
  c(A, "Delete the landlord task", { deleted: [2] }),
  c(A, "Remove task 1", { deleted: [1] }),
  c(B, "Get rid of the gym membership task", { deleted: [3] }),
  c(B, "Delete the Berlin task", { deleted: [2] }),
  c(B, "Cancel the flights task", { deleted: [2] }),
  c(C, "Delete the budget task", { unchanged: true, reply_matches: WHICH }),
  c(C, "Remove the chairs task", { deleted: [4] }),
  c(C, "Delete task 9", { unchanged: true, reply_matches: NOT_FOUND }),
  c(A, "Rename task 1 to Renew home insurance", {
    updated: { task: 1, title: "Renew home insurance" },
  }),
  c(A, "Change task 4 to 'Schedule vet appointment for Luna'", {
    updated: { task: 4, title: "Schedule vet appointment for Luna" },
  }),
  c(A, "Set the description of task 2 to 'mention the bathroom ceiling'", {
    updated: { task: 2, description_contains: "bathroom ceiling" },
  }),
  c(B, "Change the description of the Berlin task to 'window seat'", {
    updated: { task: 2, description_contains: "window seat" },
  }),
  c(B, "Rename the tap task to Fix the bathroom tap", {
    updated: { task: 5, title: "Fix the bathroom tap" },
  }),
  c(C, "Update task 2's title to Prepare annual budget", {
    updated: { task: 2, title: "Prepare annual budget" },
  }),
  c(C, "Rename the budget task to X", { unchanged: true, reply_matches: WHICH }),
  c(A, "Hello!", { unchanged: true, reply_matches: "." }),
  c(A, "What can you do?", { unchanged: true, reply_matches: "(?i)add" }),
  c(A, "Thanks!", { unchanged: true, reply_matches: "." }),
  c(A, "help", { unchanged: true, reply_matches: "(?i)add" }),
  c(A, "What's the time?", { unchanged: true, reply_matches: "." }),
];

for (const [i, x] of FRESH.entries()) {
  test(`fresh ${i + 1}: ${x.say}`, async () => check(x, await converse(x.tasks, x.say)));
}
