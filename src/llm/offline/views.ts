/**
 * Looks at the list beyond "all / pending / completed": what's due today or overdue, one
 * list, one label, one priority, a count, or what was finished in a period. Each reads one
 * cleaned message (at most MAX_REQUEST_CHARS) with anchored, linear patterns.
 */
import { lead, MAX_SEARCH_CHARS } from "./bounds.ts";
import { statusOf } from "./phrases.ts";
import type { Intent, Period, Priority, Status, View } from "./types.ts";

/** Words that name the task list itself, not one of the user's lists. */
export const GENERIC_LIST =
  /^(?:(?:my|the|our|your|whole|full|entire|complete|current|main|default|to-?do|todo|to do|task|tasks|reminder|reminders|check|checklist|pending|open|completed|finished|done|remaining|outstanding|active|today's|inbox)\s*)*$/iu;

/** Starts of a request that changes something: such a message is not a look at the list. */
const ACTION =
  /^(?:add|create|make|put|remind|remember|note|jot|write|schedule|set|delete|remove|drop|cancel|complete|finish|mark|check off|tick|move|reschedule|postpone|push|rename|change|update|edit|i (?:need|have|want|must|should)|don't forget)\b/iu;
const LOOK =
  /^(?:what(?:'s| is| are|s)?|which|show|list|display|view|see|give|tell|read|get|check|pull up|bring up|open|go to|switch to|any|anything|is there|are there|is anything|do i have|have i got|how many|how much|my|today|tomorrow|overdue|whats|search|find|look for)\b/iu;

const PRIORITY_WORD: Record<string, Priority> = {
  high: "high",
  top: "high",
  urgent: "high",
  important: "high",
  medium: "medium",
  normal: "medium",
  low: "low",
};

function period(text: string): Period | undefined {
  if (/\b(?:this|current) month\b|\bin the last month\b/iu.test(text)) return "this_month";
  if (/\blast week\b|\bprevious week\b/iu.test(text)) return "last_week";
  if (/\b(?:this|current|past) week\b|\bsince monday\b|\bso far this week\b/iu.test(text)) {
    return "this_week";
  }
  if (/\byesterday\b/iu.test(text)) return "yesterday";
  if (/\btoday\b|\bthis (?:morning|afternoon|evening)\b|\bso far today\b/iu.test(text)) {
    return "today";
  }
  return undefined;
}

const FINISHED =
  /\b(?:finish(?:ed)?|complet(?:e|ed)|done|did|accomplish(?:ed)?|achiev(?:e|ed)|got done|get done|tick(?:ed)? off|check(?:ed)? off|cross(?:ed)? off|wrap(?:ped)? up)\b/iu;
/** Work done, not work to do: "what did I finish", "what have I done" — not "need to get done". */
const FINISHED_PAST =
  /\b(?:finished|completed|did|accomplished|achieved|got done|ticked off|checked off|crossed off|wrapped up|(?:have|i've|we've|has|'ve) (?:i |we |you )?(?:\w+ )?done)\b/iu;

const list = (status: Status, view: View): Intent => ({ kind: "list", status, view });

/** A view of the list the user asked for, or undefined when the message is something else. */
export function readView(text: string, question: boolean): Intent | undefined {
  const t = text.toLowerCase();
  if (ACTION.test(t) || !(LOOK.test(t) || question)) return undefined;
  const asked = period(t);
  if (
    asked &&
    FINISHED.test(t) &&
    !/\b(?:left|remaining|still|pending|to do|due|need|needs|have to|has to|must|should)\b/iu.test(
      t,
    )
  ) {
    return list("completed", { finished: asked, count: /^how many\b/iu.test(t) });
  }
  if (/^how many\b/iu.test(t)) return list(statusOf(t, "all"), { count: true });
  if (
    /\boverdue\b|\bpast due\b|\blate\b|\bmissed (?:the |a |my )?(?:deadline|due date)s?\b|\bbehind on\b/iu.test(
      t,
    ) &&
    !/\btoday\b/iu.test(t)
  ) {
    return list("pending", { due: "overdue" });
  }
  if (
    (/\btoday\b/iu.test(t) && !FINISHED_PAST.test(t)) ||
    /^(?:what(?:'s| is|s)?|anything|is anything|is there anything) (?:that's |that is )?due$/iu.test(
      t,
    )
  ) {
    return list("pending", { due: "today" });
  }
  if (
    /\b(?:due|for|on|do|have|got|scheduled|planned) tomorrow\b|\btomorrow'?s\b|^tomorrow$/iu.test(t)
  ) {
    return list("pending", { due: "upcoming", inDays: 1 });
  }
  const search =
    /^(?:search(?: for)?|look for|find)(?: (?:my |the |all )?(?:tasks?|todos?|items?))? (?:about|with|mentioning|containing|matching|called|named|that mention|for|on) (?<q>.+)$/iu.exec(
      t,
    ) ?? /^search(?: for)? (?<q>.+)$/iu.exec(t);
  const q = search?.groups?.q
    ?.replace(/^["']|["']$/gu, "")
    .replace(/^(?:the|a|an|my|some) /iu, "")
    .trim();
  if (q) return list("all", { q: lead(q, MAX_SEARCH_CHARS) });
  if (
    /\b(?:upcoming|coming up|later this week|this week|next week|in the next few days)\b/iu.test(t)
  ) {
    return list("pending", { due: "upcoming" });
  }
  const label =
    /#([a-z][\w-]{0,39})/iu.exec(t) ??
    /\b(?:labell?ed|tagged)(?: (?:with|as))? #?([a-z][\w-]{0,39})/iu.exec(t);
  if (label?.[1]) return list("all", { label: label[1] });
  const prio =
    /\b(high|top|low|medium|normal)[- ]priority\b/iu.exec(t) ??
    /\b(urgent|important)\b(?: (?:tasks?|things|items|stuff|ones))?/iu.exec(t);
  if (prio?.[1]) {
    return list("pending", { priority: PRIORITY_WORD[prio[1]] ?? "high" });
  }
  const named =
    /\b(?:on|in|from|of) (?:my |the |our )?(?<name>[\p{L}\p{N}'][\p{L}\p{N}' -]{0,30}?) list\b/iu.exec(
      t,
    ) ??
    /^(?:show|open|view|display|see|read|list|get|check|pull up|bring up|go to|switch to|give)(?: me)? (?:my |the |our )?(?<name>[\p{L}\p{N}'][\p{L}\p{N}' -]{0,30}?) list$/iu.exec(
      t.replace(/[?.!]+$/u, ""),
    );
  const name = named?.groups?.name?.trim();
  if (name && !GENERIC_LIST.test(name)) return list(statusOf(t, "all"), { list: name });
  return undefined;
}
