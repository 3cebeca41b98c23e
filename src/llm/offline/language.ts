/**
 * The NLP layer, on top of compromise: lemmas (bought → buy, bills → bill), number words
 * (three → 3, third → 3) and "is this a report of something done?" (I paid the bill).
 * Everything else in the offline assistant works on these, so tense and inflection never
 * have to be spelled out in the grammar tables.
 */
import nlp from "compromise";
import { STOPWORDS } from "./lexicon.ts";

type Term = { text: string; normal: string; root?: string; tags?: Set<string> };

/** One content word of a phrase, in the forms we compare on. */
export interface Lemma {
  /** Dictionary form from compromise (bought → buy, groceries → grocery). */
  root: string;
  /** Crude suffix-stripped form, so noun/verb pairs meet (meeting ~ meet, renewal ~ renew). */
  stem: string;
  /** Verbs are weak evidence when matching titles ("call" fits many tasks; "plumber" doesn't). */
  verb: boolean;
}

function terms(text: string): Term[] {
  const doc = nlp(text);
  doc.compute("root");
  return doc.docs.flat() as Term[];
}

/** Strip common English suffixes; only used as a second chance after the lemma. */
export function stem(word: string): string {
  const rules: Array<[RegExp, string]> = [
    [/ies$/, "y"],
    [/(ss|sh|ch|x)es$/, "$1"],
    [/([^s])s$/, "$1"],
    [/ing$/, ""],
    [/ed$/, ""],
    [/(al|ment|er)$/, ""],
    [/e$/, ""],
    [/(.)\1$/, "$1"],
  ];
  let out = word;
  for (const [pattern, replacement] of rules) {
    if (out.length > 4) out = out.replace(pattern, replacement);
  }
  return out;
}

/** Content words of a phrase as lemmas, without stop words and task-list filler. */
export function lemmas(text: string): Lemma[] {
  const out: Lemma[] = [];
  for (const term of terms(text.replace(/[-_/]/g, " "))) {
    const normal = term.normal.replace(/'s$/, "").replace(/[^\p{L}\p{N}']/gu, "");
    if (normal === "" || STOPWORDS.has(normal)) continue;
    const root = (term.root ?? normal).replace(/[^\p{L}\p{N}']/gu, "") || normal;
    if (STOPWORDS.has(root)) continue;
    out.push({ root, stem: stem(root), verb: term.tags?.has("Verb") === true });
  }
  return out;
}

/** "Adding a task: …" → "add a task: …": a leading gerund read as the command it names. */
export function gerundToCommand(text: string): string {
  const m = /^(\p{L}+ing)\b/iu.exec(text);
  if (!m?.[1]) return text;
  const doc = nlp(m[1]);
  if (!doc.has("#Gerund")) return text;
  const base = doc.verbs().toInfinitive().text("normal");
  return base ? base + text.slice(m[1].length) : text;
}

/** Do two lemmas name the same word (any tense/number/derivation)? */
export function sameWord(a: Lemma, b: Lemma): boolean {
  return a.root === b.root || a.stem === b.stem;
}

/**
 * Numbers written in a phrase ("task three", "#4", "the 2nd one", "tasks 2 and 5") and
 * the phrase with them removed, so callers can tell "task 3" from "call 3 clients".
 */
export function numbersIn(text: string): { values: number[]; rest: string } {
  const doc = nlp(text.replace(/#\s*(\d)/g, " $1"));
  const found = doc.numbers();
  const raw = found.get();
  const values = (Array.isArray(raw) ? raw : [raw]).filter((n) => Number.isInteger(n) && n > 0);
  doc.remove(found);
  return { values, rest: doc.text("normal") };
}

/**
 * "I paid the bill", "bought the groceries", "I've called mom": a report of a finished
 * action, told in the past tense — which, for a to-do list, means "complete it".
 * Verbs that report intentions or troubles rather than results don't count.
 */
export function isDoneStatement(text: string): boolean {
  const lead =
    /^(?:(?:i|we)(?:'ve|'d| have| had)?\s+)?(?:(?:just|already|finally|now|also|actually|totally)\s+)*(\p{L}+)\b/iu.exec(
      text,
    );
  const word = lead?.[1];
  if (!word) return false;
  // Tag the verb alone as well as in context: "I bought Sara's present" confuses the
  // sentence tagger (it reads "Sara's" as "Sara is"), the word on its own does not.
  const alone = nlp(word);
  alone.compute("root");
  const term = alone.docs[0]?.[0] as Term | undefined;
  const root = term?.root ?? word.toLowerCase();
  if (NOT_DONE_VERBS.has(root)) return false;
  const inContext = nlp(text).match(
    `^(i|we)? (have|had)? (just|already|finally|now|also|actually)? ${word}`,
  );
  // "Picked up the prescription": without a subject, a phrasal verb reads as an imperative
  // and "Picked" alone as an adjective; with "I" in front, the past tense is plain.
  const phrasal = new RegExp(`^(?:\\S+\\s+)*?${word}\\s+(${PARTICLES})\\b`, "iu").exec(text);
  const withSubject =
    /^\p{L}{3,}ed$/iu.test(word) && phrasal?.[1] !== undefined
      ? nlp(`I ${word.toLowerCase()} ${phrasal[1].toLowerCase()}`).match("^i #PastTense").found
      : false;
  return alone.has("#PastTense") || inContext.has("#PastTense") || withSubject;
}

/**
 * Does a state word say "finished"? "paid", "booked", "walked" do; "postponed" or
 * "important" don't. Used for "mark X as booked" and "the dog has been walked".
 */
export function isDoneState(word: string): boolean {
  const w = word.toLowerCase().replace(/[.!?,]+$/u, "");
  if (NOT_DONE_STATES.has(w)) return false;
  if (/^(?:done|complete|completed|finished|over|sorted|handled|ready|✅|✔️|✔|✓)$/u.test(w))
    return true;
  const doc = nlp(w);
  // Regular participles compromise reads as adjectives ("prepared", "fixed") count too.
  return doc.has("#PastTense") || doc.has("#Participle") || /^[a-z]{3,}ed$/u.test(w);
}

/** The particles of phrasal verbs: "picked up", "handed in", "sorted out". */
const PARTICLES = "up|off|out|in|back|down|over|through|away";

const NOT_DONE_STATES = new Set([
  "postponed",
  "delayed",
  "cancelled",
  "canceled",
  "moved",
  "rescheduled",
  "scheduled",
  "needed",
  "required",
  "blocked",
  "stuck",
  "started",
  "planned",
  "assigned",
  "overdue",
  "due",
  "pending",
  "undone",
  "incomplete",
  "unfinished",
  "open",
  "important",
  "urgent",
  "added",
  "renamed",
]);

const NOT_DONE_VERBS = new Set([
  "forget",
  "want",
  "need",
  "try",
  "decide",
  "plan",
  "think",
  "wonder",
  "be",
  "have",
  "add",
  "say",
  "ask",
  "mean",
  "hope",
  "start",
  "begin",
  "fail",
  "miss",
  "lose",
]);
