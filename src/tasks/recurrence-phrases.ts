import { RRuleTemporal } from "rrule-temporal";
import { toText } from "rrule-temporal/totext";
import { AppError } from "../errors.ts";
import { type Due, dueLabel, findDuePhrase } from "./due.ts";
import { normalizeRule, type Pattern, RECURRENCE_MAX, type RepeatFrom } from "./recurrence.ts";

/**
 * Recurrence in English words → an RRULE: "every Monday", "every weekday at 9", "every 2
 * weeks", "every other day", "on the 1st of every month", "the last day of every month",
 * "the 3rd Tuesday of every month", "every year", "every 2 weeks after I finish it",
 * "every day until Dec 31", "every week for 5 times". Each pattern is one bounded regex over
 * at most a few words (no nested quantifiers over the whole text).
 *
 * Month days 29–31 in words clamp to shorter months ("the 31st of every month" is the last
 * day of February): written as `BYMONTHDAY=28,29,30,31;BYSETPOS=-1`, which every RFC 5545
 * reader understands the same way. A raw `BYMONTHDAY=31` RRULE keeps the RFC meaning (months
 * without a 31st are skipped).
 */

const DAYS: Record<string, string> = {
  mon: "MO",
  monday: "MO",
  tue: "TU",
  tues: "TU",
  tuesday: "TU",
  wed: "WE",
  weds: "WE",
  wednesday: "WE",
  thu: "TH",
  thur: "TH",
  thurs: "TH",
  thursday: "TH",
  fri: "FR",
  friday: "FR",
  sat: "SA",
  saturday: "SA",
  sun: "SU",
  sunday: "SU",
};
const DAY_NAMES: Record<string, string> = {
  MO: "Monday",
  TU: "Tuesday",
  WE: "Wednesday",
  TH: "Thursday",
  FR: "Friday",
  SA: "Saturday",
  SU: "Sunday",
};
const NUMBERS: Record<string, number> = {
  other: 2,
  second: 2,
  two: 2,
  three: 3,
  third: 3,
  four: 4,
  fourth: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
};
const ORDINALS: Record<string, number> = {
  first: 1,
  "1st": 1,
  second: 2,
  "2nd": 2,
  third: 3,
  "3rd": 3,
  fourth: 4,
  "4th": 4,
  fifth: 5,
  "5th": 5,
  last: -1,
};
const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

const DAY = "(?:mon|tue|tues|wed|weds|thu|thur|thurs|fri|sat|sun)(?:day)?";
const DAYS_LIST = `${DAY}s?(?:(?:\\s*,\\s*|\\s+and\\s+|\\s*,\\s*and\\s+)${DAY}s?){0,6}`;
const N = "(?:\\d{1,3}|other|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)";
const EVERY = "(?:every|each)";
/** "daily", "weekly"… mean a recurrence only at the end ("water the plants daily"), not in
 * a title ("daily standup"). */
const END = "(?=\\s*(?:$|[,.;!?]|at\\s|@))";
const MDAY = "(?<mday>[1-9]|[12]\\d|3[01])(?:st|nd|rd|th)";
const NTH = "(?<nth>first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th|last)";
const MONTH =
  "(?<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)";

type Build = (g: Record<string, string | undefined>) => string;

const nOf = (word: string | undefined): number =>
  word === undefined ? 1 : /^\d+$/.test(word) ? Number(word) : (NUMBERS[word.toLowerCase()] ?? 1);
const interval = (n: number) => (n > 1 ? `;INTERVAL=${n}` : "");
const dayCodes = (list: string): string =>
  [
    ...new Set(
      list
        .toLowerCase()
        .split(/\s*,\s*and\s+|\s*,\s*|\s+and\s+/)
        .map((d) => DAYS[d.replace(/s$/, "").replace(/day$/, "")] ?? DAYS[d.replace(/s$/, "")])
        .filter((d): d is string => d !== undefined),
    ),
  ].join(",");
/** Day 29–31 of a month in words: that day, or the month's last day when it is shorter. */
const monthDay = (day: number): string =>
  day <= 28
    ? `BYMONTHDAY=${day}`
    : `BYMONTHDAY=${Array.from({ length: day - 27 }, (_, i) => 28 + i).join(",")};BYSETPOS=-1`;

/** Core patterns, most specific first. */
const CORES: Array<[RegExp, Build]> = [
  [
    new RegExp(
      `(?:on )?the ${NTH} (?<day>${DAY}) of ${EVERY} (?:(?<n>${N}) )?months?|${EVERY} (?<nth2>first|1st|second|2nd|third|3rd|fourth|4th|last) (?<day2>${DAY})(?: of (?:the|every|each) month)?`,
      "iu",
    ),
    (g) => {
      const nth = ORDINALS[(g.nth ?? g.nth2 ?? "").toLowerCase()] ?? 1;
      const day = dayCodes(g.day ?? g.day2 ?? "");
      return `FREQ=MONTHLY${interval(nOf(g.n))};BYDAY=${nth}${day}`;
    },
  ],
  [
    new RegExp(
      `(?:on )?the last day of ${EVERY} (?:(?<n>${N}) )?months?|${EVERY} (?:(?<n2>${N}) )?months? on the last day|(?:at the )?end of ${EVERY} month`,
      "iu",
    ),
    (g) => `FREQ=MONTHLY${interval(nOf(g.n ?? g.n2))};BYMONTHDAY=-1`,
  ],
  [
    new RegExp(
      `(?:on )?(?:the )?${MDAY} (?:day )?of ${EVERY} (?:(?<n>${N}) )?months?|${EVERY} (?:(?<n2>${N}) )?months? on the (?<mday2>[1-9]|[12]\\d|3[01])(?:st|nd|rd|th)|monthly on the (?<mday3>[1-9]|[12]\\d|3[01])(?:st|nd|rd|th)|${EVERY} (?<mday4>[1-9]|[12]\\d|3[01])(?:st|nd|rd|th)(?! (?:of )?${MONTH})`,
      "iu",
    ),
    (g) =>
      `FREQ=MONTHLY${interval(nOf(g.n ?? g.n2))};${monthDay(Number(g.mday ?? g.mday2 ?? g.mday3 ?? g.mday4))}`,
  ],
  [
    new RegExp(
      `${EVERY} (?:year on )?${MONTH} (?<yday>[1-9]|[12]\\d|3[01])(?:st|nd|rd|th)?\\b|${EVERY} (?<yday2>[1-9]|[12]\\d|3[01])(?:st|nd|rd|th)? (?:of )?(?<month2>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\\b`,
      "iu",
    ),
    (g) => {
      const month = MONTHS.indexOf((g.month ?? g.month2 ?? "").toLowerCase().slice(0, 3)) + 1;
      return `FREQ=YEARLY;BYMONTH=${month};BYMONTHDAY=${Number(g.yday ?? g.yday2)}`;
    },
  ],
  [
    /(?:every|each) (?:single )?(?:week ?day|work ?day|business day)|on weekdays/iu,
    () => "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
  ],
  [/(?:every|each) weekend|on weekends/iu, () => "FREQ=WEEKLY;BYDAY=SA,SU"],
  [
    new RegExp(
      `${EVERY} (?:(?<n>${N}) )?(?<days>${DAYS_LIST})\\b|${EVERY} (?:(?<n2>${N}) )?weeks? on (?<days2>${DAYS_LIST})\\b|on (?<plural>${DAY}s)\\b`,
      "iu",
    ),
    (g) =>
      `FREQ=WEEKLY${interval(nOf(g.n ?? g.n2))};BYDAY=${dayCodes(g.days ?? g.days2 ?? g.plural ?? "")}`,
  ],
  [
    new RegExp(
      `${EVERY} (?:(?<n>${N}) )?days?\\b|daily${END}|every (?:night|morning|evening)`,
      "iu",
    ),
    (g) => `FREQ=DAILY${interval(nOf(g.n))}`,
  ],
  [
    new RegExp(
      `${EVERY} (?:(?<n>${N}) )?(?:weeks?|wks?)\\b|(?:bi-?)?weekly${END}|fortnightly${END}|every fortnight`,
      "iu",
    ),
    (g) => `FREQ=WEEKLY${interval(/bi-?weekly|fortnight/i.test(g.all ?? "") ? 2 : nOf(g.n))}`,
  ],
  [
    new RegExp(`${EVERY} (?:(?<n>${N}) )?months?\\b|(?:bi-?)?monthly${END}`, "iu"),
    (g) => `FREQ=MONTHLY${interval(/bi-?monthly/i.test(g.all ?? "") ? 2 : nOf(g.n))}`,
  ],
  [
    new RegExp(`${EVERY} (?:(?<n>${N}) )?years?\\b|(?:yearly|annually)${END}`, "iu"),
    (g) => `FREQ=YEARLY${interval(nOf(g.n))}`,
  ],
];

const TIME =
  /^(?:,\s*)?\s*(?:at|@)\s+(?:(?<noon>noon|midday|midnight)|(?<h>\d{1,2})(?:[:.](?<m>[0-5]\d))?\s*(?<ap>[ap]\.?m\.?)?)(?![\w:])/iu;
const TIME_BARE = /^\s+(?<h>\d{1,2})(?:[:.](?<m>[0-5]\d))?\s*(?<ap>[ap]\.?m\.?)(?!\w)/iu;
const TIME_BEFORE =
  /(?:^|\s)(?:at|@)\s+(?:(?<noon>noon|midday|midnight)|(?<h>\d{1,2})(?:[:.](?<m>[0-5]\d))?\s*(?<ap>[ap]\.?m\.?)?)\s*,?\s*$/iu;
const FROM_COMPLETION =
  /^,?\s+(?:(?:counting |counted )?(?:from|after) (?:(?:the )?(?:last )?completion|(?:i|we) (?:finish|complete|do|did|finished|completed)(?: it| that)?|(?:it'?s|it is|it was) (?:done|completed|finished)|done|finishing(?: it)?|completing(?: it)?))/iu;
const COUNT =
  /^,?\s+(?:for )?(?<c>\d{1,3}|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve) times\b/iu;
const UNTIL = /^,?\s+(?:until|till|through|up to|ending(?: on)?) /iu;

function timeOf(g: Record<string, string | undefined>): string | undefined {
  if (g.noon) return g.noon.toLowerCase() === "midnight" ? "00:00" : "12:00";
  let h = Number(g.h);
  const m = Number(g.m ?? 0);
  const ap = g.ap?.toLowerCase().replaceAll(".", "");
  if (ap) {
    if (h < 1 || h > 12) return undefined;
    if (ap === "pm" && h < 12) h += 12;
    if (ap === "am" && h === 12) h = 0;
  } else if (!g.m && h >= 1 && h <= 6) {
    // "at 5" on its own: people mean the afternoon.
    h += 12;
  }
  if (h > 23) return undefined;
  return `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}`;
}

export interface FoundPattern {
  /** The words, as they are in the text (to take out of a title). */
  phrase: string;
  index: number;
  pattern: Pattern;
}

/**
 * The first recurrence phrase in `text` with its time ("at 9", before or after), an end
 * ("until Dec 31", "5 times") and "after I finish it"; undefined if there is none. `now`
 * and `timezone` read an UNTIL date in the user's zone.
 */
export function findRecurrence(
  text: string,
  timezone = "UTC",
  now = new Date(),
): FoundPattern | undefined {
  let best: { index: number; end: number; rule: string } | undefined;
  for (const [re, build] of CORES) {
    const m = new RegExp(`(?<![\\p{L}\\p{N}'])(?:${re.source})(?![\\p{L}\\p{N}])`, "iu").exec(text);
    if (!m || (best && m.index >= best.index)) continue;
    const rule = build({ ...m.groups, all: m[0] });
    if (/BYDAY=(?:;|$)/.test(rule)) continue;
    best = { index: m.index, end: m.index + m[0].length, rule };
  }
  if (!best) return undefined;
  let { index, end, rule } = best;
  let time: string | undefined;
  let from: RepeatFrom | undefined;
  const lead = Math.max(0, index - 20);
  const before = TIME_BEFORE.exec(text.slice(lead, index));
  if (before?.groups) {
    time = timeOf(before.groups);
    if (time) index = lead + before.index + (before[0].length - before[0].trimStart().length);
  }
  for (let pass = 0; pass < 4; pass++) {
    const rest = text.slice(end);
    const t = time === undefined ? (TIME.exec(rest) ?? TIME_BARE.exec(rest)) : null;
    if (t?.groups && timeOf(t.groups)) {
      time = timeOf(t.groups);
      end += t[0].length;
      continue;
    }
    const f = from === undefined ? FROM_COMPLETION.exec(rest) : null;
    if (f) {
      from = "completion";
      end += f[0].length;
      continue;
    }
    const c = /COUNT|UNTIL/.test(rule) ? null : COUNT.exec(rest);
    if (c?.groups?.c) {
      rule += `;COUNT=${nOf(c.groups.c)}`;
      end += c[0].length;
      continue;
    }
    const u = /COUNT|UNTIL/.test(rule) ? null : UNTIL.exec(rest);
    if (u) {
      const words = rest.slice(u[0].length, u[0].length + 40);
      const date = findDuePhrase(words, timezone, now);
      if (date && date.index === 0) {
        rule += `;UNTIL=${date.due.date.replaceAll("-", "")}`;
        end += u[0].length + date.phrase.length;
        continue;
      }
    }
    break;
  }
  const phrase = text.slice(index, end).trim();
  const start = text.indexOf(phrase, index);
  return {
    phrase,
    index: start,
    pattern: {
      rule: normalizeRule(rule),
      ...(time ? { time } : {}),
      ...(from ? { from } : {}),
      text: phrase,
    },
  };
}

/**
 * A recurrence as a client gives it: an RRULE (`FREQ=…`, `RRULE:FREQ=…`) or words ("every
 * monday at 9"). Anything else is 422 invalid_recurrence.
 */
export function readPattern(input: string, timezone = "UTC", now = new Date()): Pattern {
  const text = input.trim();
  if (text.length === 0 || text.length > RECURRENCE_MAX) {
    throw new AppError(
      "invalid_recurrence",
      `recurrence: give an RRULE (FREQ=WEEKLY;BYDAY=MO) or words ("every monday"), at most ${RECURRENCE_MAX} characters`,
    );
  }
  if (/^(?:RRULE:)?\s*[A-Z]+=/i.test(text)) {
    const rule = normalizeRule(text);
    return { rule, text: describeRule(rule), described: true };
  }
  const found = findRecurrence(text, timezone, now);
  if (!found) {
    throw new AppError(
      "invalid_recurrence",
      `recurrence: "${text.slice(0, 40)}" is not a repeat pattern I understand; try "every monday", "every 2 weeks", "on the 1st of every month" or an RRULE like FREQ=WEEKLY;BYDAY=MO`,
    );
  }
  return found.pattern;
}

/** "every week on Monday", "every 2 weeks", "every month on the 1st", … for an RRULE. */
export function describeRule(rule: string, time: string | null = null): string {
  const at = time ? ` at ${time}` : "";
  const parts = new Map(rule.split(";").map((p) => p.split("=") as [string, string]));
  const n = Number(parts.get("INTERVAL") ?? 1);
  const keys = [...parts.keys()].filter((k) => k !== "FREQ" && k !== "INTERVAL").join(",");
  const unit = { DAILY: "day", WEEKLY: "week", MONTHLY: "month", YEARLY: "year" }[
    parts.get("FREQ") ?? ""
  ];
  const every = unit ? (n > 1 ? `every ${n} ${unit}s` : `every ${unit}`) : "";
  if (unit && keys === "") return `${every}${at}`;
  const byday = parts.get("BYDAY");
  if (unit === "week" && keys === "BYDAY" && byday && /^[A-Z]{2}(,[A-Z]{2})*$/.test(byday)) {
    if (byday === "MO,TU,WE,TH,FR" && n === 1) return `every weekday${at}`;
    const names = byday.split(",").map((d) => DAY_NAMES[d] ?? d);
    const list =
      names.length > 1 ? `${names.slice(0, -1).join(", ")} and ${names.at(-1)}` : names[0];
    return n > 1 ? `${every} on ${list}${at}` : `every ${list}${at}`;
  }
  const mday = parts.get("BYMONTHDAY");
  if (unit === "month" && mday && (keys === "BYMONTHDAY" || keys === "BYMONTHDAY,BYSETPOS")) {
    const clamp = /^28(?:,(29|30|31))+$/.test(mday) && parts.get("BYSETPOS") === "-1";
    const days = mday.split(",");
    if (clamp)
      return `${every} on the ${ordinal(Number(days.at(-1)))} (the last day in shorter months)${at}`;
    if (keys === "BYMONTHDAY" && days.length === 1) {
      return mday === "-1"
        ? `${every} on the last day${at}`
        : `${every} on the ${ordinal(Number(mday))}${at}`;
    }
  }
  try {
    const text = toText(
      new RRuleTemporal({ rruleString: `DTSTART;TZID=UTC:20260101T000000\nRRULE:${rule}` }),
      "en",
    );
    return `${text}${at}`;
  } catch {
    return `${rule}${at}`;
  }
}

function ordinal(n: number): string {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? "th" : ({ 1: "st", 2: "nd", 3: "rd" }[n % 10] ?? "th");
  return `${n}${suffix}`;
}

/** "Mon 7 Dec, 08:00, repeats every monday at 8am": a due label that says the pattern too. */
export function repeatingLabel(due: Due, now = new Date()): string {
  if (!due.recurrence) return dueLabel(due, now);
  return `${dueLabel(due, now)}, repeats ${due.string ?? describeRule(due.recurrence, due.time)}`;
}
