/**
 * A fifth batch written before tuning: two-clause messages ("Nevermind the milk, delete
 * it"), terse reports ("ID renewed"), descriptions without separators, and list requests
 * whose status word hides behind "all" ("all the tasks I marked as done").
 */
import { test } from "node:test";
import {
  add,
  addLike,
  CALLS,
  type Case,
  check,
  del,
  done,
  FOUR,
  HOME,
  list,
  NOT_FOUND,
  same,
  upd,
  WHICH,
  WORK,
} from "./offline-expect.test.ts";
import { converse } from "./offline-harness.test.ts";

export const WORDING: Case[] = [
  add("Add buy milk and eggs", "buy milk and eggs"),
  addLike("Add a task for tomorrow: call mom", "call mom"),
  add(
    "Create a task 'Pay the nanny' with the description 'every Friday'",
    "Pay the nanny",
    "every friday",
  ),
  add("Put on my list: replace the light bulb", "replace the light bulb"),
  add("remind me i need to call the council", "call the council"),
  add("I'll need to get a passport photo", "get a passport photo"),
  add("Add a todo item to sort out the attic", "sort out the attic"),
  add("Please add this task: send flowers to grandma", "send flowers to grandma"),
  add("can you put down that I need to wash the windows", "wash the windows"),
  add("Let's add 'Plan the trip to Rome'", "Plan the trip to Rome"),
  add("Add 'Buy tickets' — description: for the concert on Saturday", "Buy tickets", "concert"),
  add('Add task "Call Bob" description "about the invoice"', "Call Bob", "invoice"),
  add("Add something to my list: pay the phone bill", "pay the phone bill"),
  add("Reminder to self: charge the car", "charge the car"),
  add("please create a to-do: clean the fish tank", "clean the fish tank"),
  add("Write down that I have to call the bank", "call the bank"),
  add("remind me to buy a gift for mom's birthday", "buy a gift for mom's birthday"),
  same(HOME, "Add a task please", "(?i)what"),

  // "Today" is the Today view (issue 12): due today + overdue, else what is still open.
  list("So what's on my to-do list today?", "pending"),
  list("Read me my tasks", "all"),
  list("What's on there?", "all"),
  list("Can you list my pending tasks?", "pending"),
  list("What haven't I completed?", "pending"),
  list("Which tasks are still pending?", "pending"),
  list("What do I still need to do?", "pending"),
  list("What's left for me?", "pending"),
  list("Show only the unfinished ones", "pending"),
  list("What's finished?", "completed"),
  list("Show what I've done so far", "completed"),
  list("Which tasks have been completed?", "completed"),
  list("Completed tasks please", "completed"),
  list("Show me all the tasks I marked as done", "completed"),

  done(HOME, "Please mark task 2 as done", 2),
  done(HOME, "Mark as done: task 1", 1),
  done(HOME, "Mark the groceries done", 1),
  done(WORK, "The plants have been watered", 4),
  done(CALLS, "Talked to mom", 1),
  done(HOME, "I finished the groceries", 1),
  done(WORK, "I've just finished writing the quarterly report", 1),
  done(FOUR, "ID renewed", 2),
  done(HOME, "Yes, I paid the bills", 2),
  done(HOME, "I've finished task number 1", 1),
  done(CALLS, "Bank called ✔", 2),
  done(WORK, "Finished task 5", 5),
  done(HOME, "Can you complete the bills one?", 2),
  done(FOUR, "I walked the dog already", 1),
  done(WORK, "Booked the dentist appointment", 2),
  done(HOME, "Groceries are done now", 1),

  del(HOME, "Delete the groceries", 1),
  del(CALLS, "remove the call to the bank", 2),
  del(FOUR, "Remove 'Prepare slides' please", 3),
  del(WORK, "Delete the task 'Do laundry'", 5),
  del(HOME, "Could you delete task 1?", 1),
  del(FOUR, "Delete task no. 2", 2),
  del(CALLS, "Nevermind the milk, delete it", 3),
  del(HOME, "Take 'Pay bills' off my list", 2),
  del(WORK, "Get rid of the plants one", 4),
  del(HOME, "The groceries task can be deleted", 1),

  upd(HOME, "Change task 2 to Pay rent and bills", 2, "Pay rent and bills"),
  upd(
    CALLS,
    "rename 'Call the bank' to 'Call the bank about my card'",
    2,
    "Call the bank about my card",
  ),
  upd(
    FOUR,
    "Change the description of task 1 to 'around the park'",
    1,
    undefined,
    "around the park",
  ),
  upd(WORK, "Update the report task: Write the Q3 report", 1, "Write the Q3 report"),
  upd(
    HOME,
    "Please update the title of task 1 to Buy groceries at Aldi",
    1,
    "Buy groceries at Aldi",
  ),
  upd(CALLS, "Add a note to the milk task: lactose free", 3, undefined, "lactose free"),
  upd(FOUR, "Task 2's title should be Renew passport", 2, "Renew passport"),
  upd(HOME, "Update task 2 description to 'via the app'", 2, undefined, "via the app"),

  same(HOME, "Hi there, how are you?"),
  same(HOME, "cheers"),
  same(HOME, "What are you able to do?", "(?i)add"),
  same(HOME, "Can you order me a pizza?"),
  same(HOME, "mark task 6 as complete", NOT_FOUND),
  same(HOME, "Delete the piano lesson task", NOT_FOUND),
  same(CALLS, "Complete the calls", WHICH),
  same(HOME, "Remove one of my tasks", WHICH),
];

for (const [i, c] of WORDING.entries()) {
  test(`wording ${i + 1}: ${c.say}`, async () => check(c, await converse(c.tasks, c.say)));
}
