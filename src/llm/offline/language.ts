/**
 * The NLP layer, on top of compromise: lemmas (bought → buy, bills → bill), number words
 * (three → 3, third → 3) and "is this a report of something done?" (I paid the bill).
 * Everything else in the offline assistant works on these, so tense and inflection never
 * have to be spelled out in the grammar tables.
 */
import nlp from "compromise";
import { lead, NLP_MAX_CHARS, NUMBER_WORDS_MAX, trimEnd, WORD_MAX_CHARS } from "./bounds.ts";
import { NUMBER_FILLER, STOPWORDS } from "./lexicon.ts";

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

/** compromise on at most NLP_MAX_CHARS of `text`: it is superlinear on some inputs. */
function parsed(text: string) {
  return nlp(lead(text, NLP_MAX_CHARS));
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

const normalOf = (word: string): string => word.replace(/'s$/, "").replace(/[^\p{L}\p{N}']/gu, "");

/** compromise's lemmas of a short phrase (at most NLP_MAX_CHARS). */
function taggedLemmas(text: string): Lemma[] {
  const cached = LEMMA_CACHE.get(text);
  if (cached) return cached;
  const out: Lemma[] = [];
  const doc = nlp(text);
  doc.compute("root");
  for (const term of doc.docs.flat() as Term[]) {
    const normal = normalOf(term.normal);
    if (normal === "" || STOPWORDS.has(normal)) continue;
    const root = (term.root ?? normal).replace(/[^\p{L}\p{N}']/gu, "") || normal;
    if (STOPWORDS.has(root)) continue;
    out.push({ root, stem: stem(root), verb: term.tags?.has("Verb") === true });
  }
  if (LEMMA_CACHE.size >= LEMMA_CACHE_MAX) {
    const oldest = LEMMA_CACHE.keys().next().value;
    if (oldest !== undefined) LEMMA_CACHE.delete(oldest);
  }
  LEMMA_CACHE.set(text, out);
  return out;
}

/** Lemmas without compromise: each word is its own root (titles are mostly base forms). */
function plainLemmas(text: string): Lemma[] {
  const out: Lemma[] = [];
  for (const word of text.toLowerCase().split(/\s+/u)) {
    const root = normalOf(word);
    if (root !== "" && !STOPWORDS.has(root)) out.push({ root, stem: stem(root), verb: false });
  }
  return out;
}

/**
 * Content words of a phrase as lemmas, without stop words and task-list filler. compromise
 * reads the first `tagged` characters (at most NLP_MAX_CHARS); words after them are
 * compared by their stem alone, so the cost stays linear however long the phrase is.
 */
export function lemmas(text: string, tagged = NLP_MAX_CHARS): Lemma[] {
  const spaced = text.replace(/[-_/]/g, " ");
  const head = lead(spaced, Math.min(tagged, NLP_MAX_CHARS));
  const tail = plainLemmas(spaced.slice(head.length));
  return head.trim() === "" ? tail : [...taggedLemmas(head), ...tail];
}

/** Tagging the same titles again on every step and turn is most of the work: remember some. */
const LEMMA_CACHE = new Map<string, Lemma[]>();
const LEMMA_CACHE_MAX = 2000;

/** "Adding a task: …" → "add a task: …": a leading gerund read as the command it names. */
export function gerundToCommand(text: string): string {
  const m = /^(\p{L}+ing)\b/iu.exec(text);
  if (!m?.[1] || m[1].length > WORD_MAX_CHARS) return text;
  const doc = nlp(m[1]);
  if (!doc.has("#Gerund")) return text;
  const base = doc.verbs().toInfinitive().text("normal");
  return base ? base + text.slice(m[1].length) : text;
}

/** A number in digits, maybe with the comma of a list ("2," in "tasks 2, 5"). */
const DIGITS = /^(\d+),?$/u;
/** Filler that never reads as a number ("one" does, so it is not here). */
const PLAIN_FILLER = new Set([...NUMBER_FILLER].filter((w) => w !== "one" && w !== "ones"));

/**
 * Numbers written in a phrase ("task three", "#4", "the 2nd one", "tasks 2 and 5") and
 * the phrase with them removed, so callers can tell "task 3" from "call 3 clients".
 * Digits and filler alone ("tasks 2, 5 and 7") are read in one pass; compromise reads
 * number words only in a short phrase, since it is superlinear in the number of numbers.
 * A longer phrase with number words is not a list of numbers.
 */
export function numbersIn(text: string): { values: number[]; rest: string } {
  const prepared = text.replace(/#\s*(\d)/g, " $1");
  const words = prepared.split(/\s+/u).filter((w) => w !== "");
  const digits: number[] = [];
  const rest: string[] = [];
  for (const word of words) {
    const m = DIGITS.exec(word);
    if (m?.[1]) digits.push(Number(m[1]));
    else if (PLAIN_FILLER.has(word.toLowerCase())) rest.push(word);
    else break;
  }
  if (digits.length + rest.length === words.length) {
    return { values: digits.filter((n) => Number.isInteger(n) && n > 0), rest: rest.join(" ") };
  }
  if (words.length > NUMBER_WORDS_MAX || prepared.length > NLP_MAX_CHARS) {
    return { values: [], rest: text };
  }
  const doc = nlp(prepared);
  const found = doc.numbers();
  const raw = found.get();
  const values = (Array.isArray(raw) ? raw : [raw]).filter((n) => Number.isInteger(n) && n > 0);
  // doc.not() builds the rest in one pass; doc.remove() repairs punctuation per match.
  return { values, rest: doc.not(found).text("normal") };
}

/**
 * "I paid the bill", "bought the groceries", "I've called mom": a report of a finished
 * action, told in the past tense — which, for a to-do list, means "complete it".
 * Verbs that report intentions or troubles rather than results don't count.
 */
export function isDoneStatement(text: string): boolean {
  const opening =
    /^(?:(?:i|we)(?:'ve|'d| have| had)?\s+)?(?:(?:just|already|finally|now|also|actually|totally)\s+)*(\p{L}+)\b/iu.exec(
      text,
    );
  const word = opening?.[1];
  if (!word || word.length > WORD_MAX_CHARS) return false;
  // Tag the verb alone as well as in context: "I bought Sara's present" confuses the
  // sentence tagger (it reads "Sara's" as "Sara is"), the word on its own does not.
  const alone = nlp(word);
  alone.compute("root");
  const term = alone.docs[0]?.[0] as Term | undefined;
  const root = term?.root ?? word.toLowerCase();
  if (NOT_DONE_VERBS.has(root)) return false;
  const inContext = parsed(text).match(
    `^(i|we)? (have|had)? (just|already|finally|now|also|actually)? ${word}`,
  );
  // "Picked up the prescription": without a subject, a phrasal verb reads as an imperative
  // and "Picked" alone as an adjective; with "I" in front, the past tense is plain.
  const phrasal = new RegExp(`^(?:\\S+\\s+)*?${word}\\s+(${PARTICLES})\\b`, "iu").exec(
    lead(text, NLP_MAX_CHARS),
  );
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
  const w = trimEnd(word.toLowerCase(), /[.!?,]/u);
  if (NOT_DONE_STATES.has(w)) return false;
  if (/^(?:done|complete|completed|finished|over|sorted|handled|ready|✅|✔️|✔|✓)$/u.test(w))
    return true;
  if (w.length > WORD_MAX_CHARS) return /^[a-z]{3,}ed$/u.test(w);
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
