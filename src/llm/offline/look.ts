/**
 * Answering a look at the list: which list_tasks calls a view needs (the tool pages: at
 * most LIST_PAGE_SIZE a call), and the answer, which says what was looked at and, when the
 * tool holds more than it returned, how many more and how to narrow it down.
 */
import { LIST_PAGE_SIZE, MAX_LIST_PAGES } from "./bounds.ts";
import { type Clock, instantAt } from "./clock.ts";
import { addDays, todayIn } from "./dates.ts";
import { taskLine } from "./describe.ts";
import type { Period, Status, TaskView, ToolStep, View } from "./types.ts";

export interface Page {
  items: TaskView[];
  total: number;
  next_cursor?: string;
  /** Some tools also name the user's lists. */
  lists?: string[];
}

function isTask(value: unknown): value is TaskView {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.id === "number" && typeof v.title === "string";
}

/** A list_tasks result in any shape: {items, total, next_cursor}, {tasks}, or a bare array. */
export function pageOf(step: ToolStep): Page {
  const value = step.result;
  const obj =
    typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  const raw = Array.isArray(value)
    ? value
    : Array.isArray(obj.items)
      ? obj.items
      : Array.isArray(obj.tasks)
        ? obj.tasks
        : [];
  const items = raw.filter(isTask).map((t) => ({ ...t, completed: t.completed === true }));
  const total = typeof obj.total === "number" ? obj.total : items.length;
  const cursor =
    typeof obj.next_cursor === "string" && obj.next_cursor ? obj.next_cursor : undefined;
  const lists = Array.isArray(obj.lists)
    ? obj.lists
        .map((l) => (typeof l === "string" ? l : (l as { name?: unknown })?.name))
        .filter((n): n is string => typeof n === "string")
    : undefined;
  return { items, total, ...(cursor ? { next_cursor: cursor } : {}), ...(lists ? { lists } : {}) };
}

/** The list_tasks inputs a view needs (several calls run in one step). */
export function viewCalls(status: Status, view: View): Array<Record<string, unknown>> {
  if (view.finished) return [{ status: "completed", limit: LIST_PAGE_SIZE }];
  if (view.inDays !== undefined) return [{ status, due: "upcoming", limit: LIST_PAGE_SIZE }];
  if (view.due === "today") {
    return [
      { status: "pending", due: "today" },
      { status: "pending", due: "overdue" },
    ];
  }
  const filters = {
    status,
    ...(view.due ? { due: view.due } : {}),
    ...(view.list ? { list: view.list } : {}),
    ...(view.label ? { label: view.label } : {}),
    ...(view.priority ? { priority: view.priority } : {}),
    ...(view.q ? { q: view.q } : {}),
  };
  return [filters];
}

/** The next page to read for "what did I finish …", if the period may hold more. */
export function nextPage(steps: ToolStep[], view: View): Record<string, unknown> | undefined {
  if (view.due === "today" && steps.length === 2 && steps.every((s) => pageOf(s).total === 0)) {
    // Nothing dated: "what do I have to do today?" still deserves the open tasks.
    return { status: "pending" };
  }
  if (!view.finished && view.inDays === undefined) return undefined;
  const last = steps.at(-1);
  const cursor = last && !last.error ? pageOf(last).next_cursor : undefined;
  if (!last || !cursor || steps.length >= MAX_LIST_PAGES) return undefined;
  return { ...last.input, cursor };
}

/** [start, end) of a period in the user's zone, as instants. */
export function periodRange(period: Period, clock: Clock): [Date, Date] {
  const today = todayIn(clock.timezone, clock.now);
  const weekday = (new Date(`${today}T00:00:00Z`).getUTCDay() + 6) % 7; // Monday = 0
  const monday = addDays(today, -weekday);
  const [from, to] =
    period === "today"
      ? [today, addDays(today, 1)]
      : period === "yesterday"
        ? [addDays(today, -1), today]
        : period === "this_week"
          ? [monday, addDays(monday, 7)]
          : period === "last_week"
            ? [addDays(monday, -7), monday]
            : [`${today.slice(0, 8)}01`, addDays(today, 1)];
  const at = (d: string) => instantAt(d, 0, 0, clock.timezone);
  return [at(from), at(to)];
}

const PERIOD_WORDS: Record<Period, string> = {
  today: "today",
  yesterday: "yesterday",
  this_week: "this week",
  last_week: "last week",
  this_month: "this month",
};

/** What a page leaves out, and the two ways on: the next page, or a narrower question. */
export function moreNote(shown: number, total: number): string {
  const rest = total - shown;
  return rest > 0
    ? `\n…and ${rest} more (${total} in all). Say "show more" for the next ones, or give me a word from the title, a list or a #label to narrow it down.`
    : "";
}

const more = moreNote;

const MORE =
  /^(?:(?:show|list|give|see|display|read|tell)(?: me)? )?(?:the )?(?:more|next(?: page| ones| few| batch)?|the rest|rest of them|remaining ones|what else|keep going|continue|go on|and the others)(?: (?:tasks|ones|of them|please))?$/iu;
const YES = /^(?:yes|yeah|yep|sure|ok|okay|please|yes please|go ahead)$/iu;

/** "Show more" after a page that had more: the same list_tasks call, from its cursor. */
export function moreCall(
  text: string,
  previous: ToolStep | undefined,
  askedMore: boolean,
): Record<string, unknown> | undefined {
  if (!previous || !(MORE.test(text) || (askedMore && YES.test(text)))) return undefined;
  const cursor = pageOf(previous).next_cursor;
  return cursor ? { ...previous.input, cursor } : undefined;
}

/** The answer to "show more". */
export function answerMore(step: ToolStep): string {
  const page = pageOf(step);
  if (page.items.length === 0) return "That's all of them.";
  const tail = page.next_cursor
    ? '\nThere are more: say "show more" again, or narrow it down with a word, a list or a #label.'
    : "\nThat's all of them.";
  return `Here are the next ones:\n${lines(page.items, step.input.status !== "pending" && step.input.status !== "completed")}${tail}`;
}

function lines(tasks: TaskView[], showDone: boolean): string {
  return tasks.map((t) => taskLine(t, showDone)).join("\n");
}

const plural = (n: number, what: string): string => `${n} ${what}${n === 1 ? "" : "s"}`;

/** The answer to a look at the list, from this turn's list_tasks results. */
export function answerView(status: Status, view: View, steps: ToolStep[], clock: Clock): string {
  const pages = steps.map(pageOf);
  const first = pages[0] ?? { items: [], total: 0 };
  if (view.finished) {
    const all = pages.flatMap((p) => p.items).filter((t) => t.completed);
    const when = PERIOD_WORDS[view.finished];
    if (!all.some((t) => typeof t.completed_at === "string")) {
      return all.length === 0
        ? `You haven't completed any tasks ${when}.`
        : `I can't tell when each was finished, so here is everything you've completed:\n${lines(all, false)}`;
    }
    const [from, to] = periodRange(view.finished, clock);
    const inside = all.filter((t) => {
      const at = Date.parse(t.completed_at ?? "");
      return at >= from.getTime() && at < to.getTime();
    });
    if (inside.length === 0) return `You haven't completed any tasks ${when}.`;
    return `You completed ${plural(inside.length, "task")} ${when}:\n${lines(inside, false)}`;
  }
  if (view.due === "today") {
    const overdue = pages[1] ?? { items: [], total: 0 };
    const open = pages[2];
    if (first.total === 0 && overdue.total === 0) {
      const none = "Nothing is due today, and nothing is overdue.";
      if (!open || open.total === 0) return none;
      return `${none} Still to do, with no date today:\n${lines(open.items, false)}${more(open.items.length, open.total)}`;
    }
    const parts: string[] = [];
    parts.push(
      first.total === 0
        ? "Nothing is due today."
        : `Due today (${first.total}):\n${lines(first.items, false)}${more(first.items.length, first.total)}`,
    );
    if (overdue.total > 0) {
      parts.push(
        `Overdue (${overdue.total}):\n${lines(overdue.items, false)}${more(overdue.items.length, overdue.total)}`,
      );
    }
    return parts.join("\n");
  }
  if (view.inDays !== undefined) {
    const day = addDays(todayIn(clock.timezone, clock.now), view.inDays);
    const due = pages.flatMap((p) => p.items).filter((t) => t.due?.startsWith(day));
    if (due.length === 0) return "Nothing is due tomorrow.";
    return `Due tomorrow (${due.length}):\n${lines(due, false)}`;
  }
  const what = view.q
    ? `matching "${view.q}"`
    : view.due === "overdue"
      ? "overdue"
      : view.due === "upcoming"
        ? "coming up"
        : view.list
          ? `in your ${view.list} list`
          : view.label
            ? `labelled #${view.label}`
            : view.priority
              ? `with ${view.priority} priority`
              : "";
  const kind =
    status === "completed" ? "completed task" : status === "pending" ? "pending task" : "task";
  if (view.count) {
    const n = first.total;
    const head = `You have ${plural(n, kind)}${what ? ` ${what}` : ""}${status === "pending" ? " left" : ""}: ${n}.`;
    return n === 0
      ? head
      : `${head}\n${lines(first.items, status === "all")}${more(first.items.length, n)}`;
  }
  if (first.total === 0) {
    if (view.list) return `There's nothing in a list called "${view.list}".`;
    return `You have no ${kind}s ${what || "there"}.`;
  }
  return `Here ${first.total === 1 ? "is" : "are"} your ${plural(first.total, kind)} ${what}:\n${lines(first.items, status === "all")}${more(first.items.length, first.total)}`;
}
