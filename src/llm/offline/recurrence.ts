/**
 * Repeating tasks in the offline assistant. A new task's repeat words ("water the plants
 * every Monday at 8am") are found with its date words (dates.ts → findDuePhrase, which
 * reads repeat phrases first) and sent as due.string; this file reads the changes of an
 * existing task's pattern and says what a completed occurrence did.
 *
 * - "stop repeating task 4", "task 4 shouldn't repeat anymore", "don't repeat task 4"
 *   → update_task {recurrence: null} (the due date stays)
 * - "make task 3 repeat every Friday", "set task 3 to repeat weekly", "task 3 should repeat
 *   on the 1st of every month", "repeat task 3 every other day"
 *   → update_task {recurrence: "<the words>"}
 */
import type { Clock } from "./clock.ts";
import { findRecurrence } from "./dates.ts";
import { parseRef } from "./phrases.ts";
import type { Intent } from "./types.ts";

const STOP = [
  /^(?:stop|quit|cease|end|cancel|turn off|disable|remove|clear|drop|delete) (?:the )?(?:repeat(?:ing)?|recurr(?:ing|ence)|repetition)(?: (?:of|for|on))? (?<ref>.+?)(?: from repeating)?$/iu,
  /^(?:stop|quit) (?<ref>.+?) (?:from )?(?:repeating|recurring)(?: anymore| any more)?$/iu,
  /^(?:don't|do not|dont|no longer) repeat (?<ref>.+?)(?: anymore| any more)?$/iu,
  /^(?:make|set|mark) (?<ref>.+?) (?:non-?repeating|non-?recurring|one-?off|a one-?off|not repeat(?:ing)?|not recurring|(?:to )?(?:happen|be due) (?:just )?once)$/iu,
  /^(?<ref>.+?) (?:shouldn't|should not|doesn't|does not|no longer|won't|will not|mustn't|need not|needn't) (?:need to )?(?:repeat|recur)s?(?: anymore| any more)?$/iu,
  /^(?<ref>.+?) (?:is|should be) (?:a )?(?:one-?off|one time|non-?repeating)(?: task)?(?: now)?$/iu,
];

const SET = [
  /^(?:make|set|have|let) (?<ref>.+?) (?:to )?(?:repeat|recur)(?:s)?(?:ring|ing)? (?<when>.+)$/iu,
  /^(?:repeat|recur) (?<ref>.+?) (?<when>(?:every|each|on|daily|weekly|monthly|yearly|annually|the).+)$/iu,
  /^(?<ref>.+?) (?:should|must|will|needs to|has to) (?:repeat|recur)(?: itself)? (?<when>.+)$/iu,
  /^(?<ref>.+?) (?:repeats|recurs) (?<when>.+)$/iu,
];

/** A change of a task's repeat pattern, or undefined if the message is not one. */
export function readRepeatChange(text: string, clock: Clock): Intent | undefined {
  for (const re of STOP) {
    const m = re.exec(text);
    const ref = m?.groups?.ref ? parseRef(m.groups.ref) : undefined;
    if (ref) return { kind: "update", ref, recurrence: null };
  }
  for (const re of SET) {
    const m = re.exec(text);
    const when = m?.groups?.when?.trim();
    if (!m?.groups?.ref || !when) continue;
    const found = findRecurrence(when, clock.timezone, clock.now);
    if (!found || found.index > 0) continue;
    const ref = parseRef(m.groups.ref);
    if (ref) return { kind: "update", ref, recurrence: found.phrase };
  }
  return undefined;
}

/** Whether date words are repeat words ("every day at 7am"): "stretch every day" is a task. */
export function repeats(phrase: string, clock: Clock): boolean {
  return findRecurrence(phrase, clock.timezone, clock.now)?.index === 0;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * "done for Mon 30 Nov; next: Mon 7 Dec" when a completion moved a repeating task on (the
 * tool result's occurrence.note); undefined for an ordinary completion.
 */
export function occurrenceNote(result: unknown): string | undefined {
  if (!isObject(result) || !isObject(result.occurrence)) return undefined;
  const note = result.occurrence.note;
  return typeof note === "string" && note ? note : undefined;
}

/** What a repeat change did, read back from the tool result's due. */
export function repeatChanged(label: string, result: unknown, stopped: boolean): string {
  const due = isObject(result) && isObject(result.due) ? result.due : undefined;
  const dueLabel = isObject(result) && typeof result.due_label === "string" ? result.due_label : "";
  if (stopped) {
    return due
      ? `${label} no longer repeats; it stays due ${dueLabel}.`
      : `${label} no longer repeats.`;
  }
  return dueLabel ? `${label} is now due ${dueLabel}.` : `${label} now repeats.`;
}
