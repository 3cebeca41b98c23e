/**
 * The assistant's judgement (issue 13): a question or a negation never acts; typos in the
 * command verb and in "task" are read through; "undo" and "restore" are understood; a
 * yes or no after a confirmation question is read as the answer; and a request about tasks
 * that is still not understood says what was not understood instead of a generic sorry.
 * Every function here is linear in the (bounded) message.
 */
import { parseRef } from "./phrases.ts";
import type { AskMode, ChatTopic, Intent, Ref } from "./types.ts";

// ---- typos ----

/** Command verbs a typo is corrected to (at the start of a request only). */
const VERBS = [
  "delete",
  "remove",
  "complete",
  "finish",
  "create",
  "rename",
  "update",
  "change",
  "restore",
  "reopen",
  "show",
  "list",
  "mark",
  "undo",
  "add",
  "erase",
  "cancel",
];

/** Words one edit from a verb or "task" that are words of their own: never "corrected". */
const REAL_WORDS = new Set([
  "tank",
  "tack",
  "talk",
  "mask",
  "bask",
  "cask",
  "tusk",
  "ask",
  "tanks",
  "tacks",
  "talks",
  "masks",
  "take",
  "tax",
  "tasty",
  "slow",
  "snow",
  "shot",
  "shoe",
  "show",
  "lost",
  "last",
  "lest",
  "mark",
  "park",
  "dark",
  "bark",
  "lark",
  "market",
  "marks",
  "marry",
  "change",
  "charge",
  "changes",
  "finished",
  "finish",
  "cancel",
  "camel",
  "create",
  "crate",
  "creates",
  "update",
  "updated",
  "remove",
  "removed",
  "remote",
  "delete",
  "deleted",
  "complete",
  "compete",
  "completed",
  "reopen",
  "restore",
  "restored",
  "rename",
  "erase",
  "erased",
  "undo",
  "and",
  "ad",
  "odd",
  "aid",
  "adds",
  "list",
  "lint",
  "lift",
  "lust",
  "mist",
  "fist",
  "gist",
  "listen",
  "shows",
  "lists",
  "marked",
  "shown",
  "listed",
]);

/** Damerau–Levenshtein distance, stopping early past `max` (words are short: ≤ 40). */
export function distance(a: string, b: string, max = 2): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) d.push([i]);
  for (let j = 1; j <= b.length; j++) (d[0] as number[])[j] = j;
  for (let i = 1; i <= a.length; i++) {
    const row = d[i] as number[];
    let best = Infinity;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const up = d[i - 1] as number[];
      let v = Math.min(
        (up[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (up[j - 1] as number) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        v = Math.min(v, ((d[i - 2] as number[])[j - 2] as number) + 1);
      }
      row[j] = v;
      best = Math.min(best, v);
    }
    if (best > max) return max + 1;
  }
  return (d[a.length] as number[])[b.length] as number;
}

/** The verb a mistyped first word stands for ("delte" → "delete"), if exactly one fits. */
function verbFor(word: string): string | undefined {
  const w = word.toLowerCase();
  if (w.length < 4 || w.length > 12 || REAL_WORDS.has(w) || VERBS.includes(w)) return undefined;
  const near = VERBS.filter((v) => {
    const d = distance(w, v, 2);
    if (d === 1) {
      // A 4-letter word is only taken when two letters are swapped ("shwo", "mrak"):
      // one changed letter makes a real word too often ("slow", "park").
      return (
        v.length > 4 || w.length > v.length || [...w].sort().join("") === [...v].sort().join("")
      );
    }
    return d === 2 && v.length >= 7 && w.length >= 6;
  });
  return near.length === 1 ? near[0] : undefined;
}

function taskFor(word: string): string | undefined {
  const w = word.toLowerCase();
  if (REAL_WORDS.has(w) || w === "task" || w === "tasks") return undefined;
  if (w.length >= 3 && w.length <= 5 && /^[a-z]+$/u.test(w)) {
    if (distance(w, "task", 1) === 1 && w.length >= 4) return "task";
    if (distance(w, "tasks", 1) === 1 && w.length >= 5) return "tasks";
  }
  return undefined;
}

const LEAD =
  /^((?:(?:please|pls|plz|can you|could you|would you|will you|now|then|ok|okay|so),?\s+)*)(\S+)/iu;

/** The message with a mistyped command verb and mistyped "task(s)" corrected. */
export function fixTypos(text: string): string {
  const m = LEAD.exec(text);
  let out = text;
  if (m) {
    const lead = m[1] ?? "";
    const word = m[2] ?? "";
    const verb = verbFor(word.replace(/[.,!?:]+$/u, ""));
    if (verb)
      out = `${lead}${verb}${out.slice(lead.length + word.replace(/[.,!?:]+$/u, "").length)}`;
  }
  return out.replace(/\b[a-z]{4,5}\b/giu, (w) => taskFor(w) ?? w);
}

// ---- questions and negations ----

const POLITE = /^(?:please\s+)?(?:can|could|would|will) (?:you|u)\b/iu;
const QUESTION_LEAD =
  /^(?:did|didn't|have|haven't|has|hasn't|had|is|isn't|are|aren't|was|wasn't|were|am|should|shall|do|does|must|need|can i|may i|is it|any chance)\b/iu;

/** A yes/no question about the tasks (not a polite request such as "can you add …?"). */
export function isQuestion(cleaned: string): boolean {
  if (POLITE.test(cleaned)) return false;
  return /\?\s*$/u.test(cleaned) || QUESTION_LEAD.test(cleaned);
}

/** What a question asks about, with the task named in it (words or number). */
export function readQuestion(text: string, base: Intent): Intent | undefined {
  // "What can I ask you?" is not about a task: only a yes/no question is read for one.
  if (base.kind === "chat" && !QUESTION_LEAD.test(text)) return undefined;
  const ref = "ref" in base && base.ref ? base.ref : questionRef(text);
  const mode: AskMode = /\b(?:delete|remove|drop|cancel|get rid of|erase|scrap|bin|trash)\b/iu.test(
    text,
  )
    ? "delete"
    : "done";
  return { kind: "ask", mode, ...(ref ? { ref } : {}) };
}

const ASK_HEAD =
  /^(?:did|didn't|have|haven't|has|hasn't|had|is|isn't|are|aren't|was|wasn't|were|am|should|shall|do|does|must|need|can|may|any chance)\s+(?:(?:i|we|you|it|that|there)\s+)?(?:(?:already|ever|yet|really|actually|still|even|finally|just|maybe|also)\s+)*(?:(?:need|have|got|want) to\s+|(?:be\s+)?(?:delete|remove|drop|cancel|erase|scrap|bin|trash|get rid of|finish|complete|do|mark)\s+)?/iu;
const ASK_TAIL =
  /\s+(?:(?:already|yet|still|now|then|too|or not|again)|(?:done|finished|complete|completed|checked off|ticked off|paid|sorted|handled|pending|open|open still|still open|still pending|on (?:my|the) list|there))$/iu;

/** "Did I finish the report?" read as a list request: a question about that one task. */
export function askedAbout(text: string): Intent | undefined {
  if (!/^(?:did|didn't|have|haven't|has|hasn't|had|is|isn't|was|wasn't|were|are)\s/iu.test(text)) {
    return undefined;
  }
  const ref = questionRef(text);
  return ref?.kind === "words" || ref?.kind === "numbers"
    ? { kind: "ask", mode: "done", ref }
    : undefined;
}

function questionRef(text: string): Ref | undefined {
  let body = text.replace(/\?+\s*$/u, "").replace(ASK_HEAD, "");
  for (let i = 0; i < 4; i++) body = body.replace(ASK_TAIL, "");
  if (body.trim() === "") return undefined;
  return parseRef(body);
}

const DONT =
  /^(?:please\s+)?(?:don't|do not|dont|never|no need to|you don't need to|you do not need to)\s+(?:(?:delete|remove|drop|cancel|erase|scrap|bin|trash|get rid of|touch|throw away|clear)|(?<done>complete|finish|mark(?: off)?|check off|tick off|close))\s+(?<ref>.+?)(?:\s+(?:as (?:done|complete|completed|finished)|yet|please|off))?$/iu;
const NOT_DONE =
  /^(?:i|we)\s+(?:still\s+)?(?:haven't|have not|havent|didn't|did not|didnt|never|hasn't)\s+(?:(?:actually|really|yet|even)\s+)*(?<ref>.+?)(?:\s+(?:yet|so far|at all|still))*$/iu;
const NOT_YET =
  /^(?<ref>.+?)\s+(?:is not|isn't|isnt|are not|aren't|hasn't been|has not been|haven't been|have not been|wasn't|was not|weren't|were not)\s+(?:(?:actually|really|even)\s+)?(?:done|finished|paid|complete|completed|sorted|handled|\S+(?:ed|en|ne))(?:\s+(?:yet|so far|at all))*$/iu;
const NOTHING =
  /^(?:anything|any of (?:them|these|those|my tasks)|any tasks?|everything|all of (?:them|it)|all|them|it|that|a thing)$/iu;

/** "Don't delete the dentist task", "I haven't paid the bill yet": nothing is changed. */
export function readNegation(text: string, base: Intent): Intent | undefined {
  const dont = DONT.exec(text);
  if (dont?.groups) {
    const raw = (dont.groups.ref ?? "").trim();
    const mode = dont.groups.done ? "keep_open" : "keep";
    if (NOTHING.test(raw)) return { kind: "ask", mode };
    const ref = parseRef(raw);
    return { kind: "ask", mode, ...(ref ? { ref } : {}) };
  }
  // Only when nothing else was read: "I didn't water the ferns, reopen it" is a request.
  // ("I have not paid the rent" reads like "I have to …": a negation is no new task.)
  const unread = base.kind === "chat" && base.topic === "unknown";
  if (!unread && base.kind !== "add") return undefined;
  const not = NOT_DONE.exec(text) ?? NOT_YET.exec(text);
  if (!not?.groups) return undefined;
  const ref = parseRef(not.groups.ref ?? "");
  return ref ? { kind: "ask", mode: "not_done", ref } : undefined;
}

// ---- undo and restore ----

const UNDO =
  /^(?:(?:oops|oh no|whoops|wait|no|hmm|argh|damn|ugh|sorry)[,!.]?\s+)*(?:undo|revert|reverse|roll back|rollback|take back|put back|restore)(?:\s+(?:it|that|this|them|those|everything|the last (?:change|thing|action|one|step)|what you (?:just )?did|my last (?:change|message|request)|the (?:change|changes|delete|deletion)))?(?:\s+(?:back|please|now|again))*$|^(?:(?:oops|whoops|oh no)[,!.]?\s+)*(?:put|bring|get|give) (?:it|that|them|those|everything) back(?: please)?$|^(?:take|put) (?:that|it) back$|^(?:(?:oops|whoops|oh no)[,!.]?\s+)?(?:i )?(?:didn't|did not) mean (?:to do )?that(?:[,.]?\s+(?:undo|revert)(?: it| that)?)?$/iu;

const RESTORE =
  /^(?:(?:oops|whoops|oh no)[,!.]?\s+)?(?:restore|undelete|un-delete|recover|bring back|get back|retrieve|resurrect)\s+(?<ref>.+)$|^(?:(?:oops|whoops|oh no)[,!.]?\s+)?(?:bring|get|put)\s+(?<ref2>.+?)\s+back(?:\s+(?:please|on (?:my|the) list|from the trash))?$/iu;

export function readUndo(text: string): Intent | undefined {
  if (UNDO.test(text)) return { kind: "undo" };
  const m = RESTORE.exec(text);
  if (!m?.groups) return undefined;
  const raw = (m.groups.ref ?? m.groups.ref2 ?? "")
    .replace(/\s+(?:from (?:the )?(?:trash|bin)|please)$/iu, "")
    .trim();
  if (/^(?:it|that|this|them|those|everything)$/iu.test(raw)) return { kind: "undo" };
  const ref = parseRef(raw);
  return ref ? { kind: "restore", ref } : undefined;
}

// ---- the answer to a confirmation question ----

const YES_HEAD =
  /^(?:y|yes|yeah|yep|yup|ya|yea|yes please|sure|sure thing|ok|okay|k|alright|all right|confirm|confirmed|correct|right|absolutely|definitely|of course|please do|do it|go ahead|go for it|proceed|affirmative|that's right|that is right|sounds good|fine|why not|let's do it|lets do it|do that|go on|i'm sure|i am sure|please)(?=$|[\s,!.])/u;
const NO_HEAD =
  /^(?:n|no|nope|nah|no way|don't|do not|dont|cancel|cancel that|stop|wait|never ?mind|nvm|forget it|abort|keep (?:them|it|those|everything|all)|leave (?:them|it|those|everything)|not now|hold on|actually no|oops no|no thanks|no thank you|changed my mind|i changed my mind)(?=$|[\s,!.])/u;
/** Words that may follow a yes without making it another request ("yes, delete them all"). */
const AFTER_YES = new Set(
  (
    "yes yeah yep please do it go ahead delete remove complete mark them all those everything " +
    "of i'm im sure thanks thank you that's right fine correct proceed for yep ok okay " +
    "absolutely definitely now both the tasks as done just confirm confirmed let's lets is " +
    "good sounds perfect great that these go on and thing"
  ).split(" "),
);
/** Words that may follow a no ("no, keep them"). */
const AFTER_NO = new Set(
  (
    "no don't dont do not it that them those keep leave alone thanks thank you never mind " +
    "i changed my mind please stop cancel wait forget all everything as is they are fine " +
    "actually sorry"
  ).split(" "),
);

/** "yes" / "no" (or undefined) as the answer to a confirmation question. */
export function yesOrNo(text: string): "yes" | "no" | undefined {
  const t = text
    .toLowerCase()
    .replace(/[.!?]+$/u, "")
    .trim();
  if (t.length > 80) return undefined;
  const only = (rest: string, words: Set<string>) =>
    (rest.match(/[\p{L}']+/gu) ?? []).every((w) => words.has(w));
  const yes = YES_HEAD.exec(t);
  if (yes && only(t.slice(yes[0].length), AFTER_YES)) return "yes";
  const no = NO_HEAD.exec(t);
  if (no && only(t.slice(no[0].length), AFTER_NO)) return "no";
  return undefined;
}

// ---- what was not understood ----

const FOREIGN =
  /\b(?:la|el|los|las|una|tarea|tareas|borra|borrar|elimina|añade|añadir|agrega|hacer|mañana|der|die|das|und|nicht|aufgabe|aufgaben|lösche|hinzufügen|morgen|le|les|une|tâche|tâches|supprime|ajoute|demain|il|della|compito|cancella|aggiungi|domani|por favor|bitte|merci|gracias|tarefa|amanhã|taak|verwijder)\b|[¿¡äöüßñ]|[\u0400-\u04ff\u0600-\u06ff\u3040-\u30ff\u4e00-\u9fff]/iu;
const ENGLISH = /\b(?:the|my|task|tasks|please|add|delete|show|and|to|is|it|what)\b/iu;
const REPEAT =
  /\b(?:every (?:day|week|month|year|morning|evening|night|monday|tuesday|wednesday|thursday|friday|saturday|sunday|weekday|weekend|other)|daily|weekly|monthly|yearly|annually|each (?:day|week|month|year)|repeat(?:ing|s)?|recurring|recur)\b/iu;
const SCHEDULE =
  /\b(?:schedule|calendar|meeting invite|invite|book (?:a|the) (?:slot|time)|share|assign|send|email|e-mail|notify|alarm|ring|notification|sync)\b/iu;
const TASKISH =
  /\b(?:task|tasks|todo|to-do|to do|list|remind|reminder|due|deadline|priority|label|tag|complete|finish|delete|remove|done|item|items)\b/iu;

/** The topic of a reply to a message nothing else understood. */
export function notUnderstood(text: string): ChatTopic {
  if (yesOrNo(text)) return "no_question";
  if (FOREIGN.test(text) && !ENGLISH.test(text)) return "not_english";
  if (REPEAT.test(text)) return "cant_repeat";
  if (SCHEDULE.test(text) && TASKISH.test(text)) return "cant_schedule";
  if (TASKISH.test(text)) return "unclear_task";
  return "unknown";
}
