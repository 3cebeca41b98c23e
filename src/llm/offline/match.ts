/**
 * Finding the task(s) a reference points at, in the list that list_tasks returned.
 * Word references compare lemmas, so "I finished buying groceries" meets "Buy groceries"
 * and "I've paid the bill" meets "Pay bills". Nouns count double: "called the plumber"
 * must not land on "Call mom" just because both call someone.
 */
import { TITLES_NLP_BUDGET } from "./bounds.ts";
import { distance } from "./judgement.ts";
import { type Lemma, lemmas } from "./language.ts";
import type { ActionKind, Ref, TaskView } from "./types.ts";

export type Resolution =
  | { kind: "found"; tasks: TaskView[] }
  | { kind: "ambiguous"; candidates: TaskView[] }
  | { kind: "none"; missing?: number[] };

function normal(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s]/gu, "")
    .replace(/\s+/gu, " ")
    .trim();
}

/**
 * For each wanted lemma, the first of `have` naming the same word (same root or same stem,
 * any tense/number/derivation), found by lookup: O(|want| + |have|), not the product.
 */
function firstHits(want: Lemma[], have: Lemma[]): Array<Lemma | undefined> {
  const byRoot = new Map<string, number>();
  const byStem = new Map<string, number>();
  have.forEach((h, i) => {
    if (!byRoot.has(h.root)) byRoot.set(h.root, i);
    if (!byStem.has(h.stem)) byStem.set(h.stem, i);
  });
  return want.map((w) => {
    const i = Math.min(byRoot.get(w.root) ?? Infinity, byStem.get(w.stem) ?? Infinity);
    return Number.isFinite(i) ? have[i] : undefined;
  });
}

function score(want: Lemma[], have: Lemma[]): number {
  // A shared word is weak evidence when it reads as a verb on either side: tagging short
  // fragments is unreliable ("Call mom" may come out as a noun phrase).
  const hits = firstHits(want, have);
  const weights: number[] = want.map((w, i) => {
    const hit = hits[i];
    return hit ? (hit.verb || w.verb ? 1 : 2) : 0;
  });
  const total = weights.reduce((a, b) => a + b, 0);
  // Evidence must include a non-verb, or every word the user gave ("the call task");
  // otherwise "called the plumber" would land on "Call mom".
  const strong = weights.includes(2) || (total > 0 && weights.every((w) => w > 0));
  return strong ? total : 0;
}

/** Among equally good matches, completing prefers the task that is still pending. */
function narrow(candidates: TaskView[], action: ActionKind): TaskView[] {
  if ((action !== "complete" && action !== "reopen") || candidates.length < 2) return candidates;
  const pending = candidates.filter((t) => t.completed === (action === "reopen"));
  return pending.length > 0 ? pending : candidates;
}

function byWords(text: string, tasks: TaskView[], action: ActionKind): Resolution {
  const wanted = normal(text);
  const exact = tasks.filter((t) => normal(t.title) === wanted);
  if (exact.length === 1) return { kind: "found", tasks: exact };
  const want = lemmas(text);
  if (want.length === 0) return { kind: "none" };
  let best = 0;
  let candidates: TaskView[] = [];
  // compromise reads the titles up to a budget, in list order (so the same list always
  // gives the same answer); a very long list is compared by stems after that.
  let budget = TITLES_NLP_BUDGET;
  for (const task of tasks) {
    const title = lemmas(task.title, budget);
    budget = Math.max(0, budget - task.title.length);
    const s = score(want, title);
    if (s > best) {
      best = s;
      candidates = [task];
    } else if (s === best && s > 0) {
      candidates.push(task);
    }
  }
  if (candidates.length === 0) candidates = byTypos(text, tasks);
  const narrowed = narrow(candidates, action);
  if (narrowed.length === 0) return { kind: "none" };
  if (narrowed.length === 1) return { kind: "found", tasks: narrowed };
  return { kind: "ambiguous", candidates: narrowed };
}

const TYPO_STOP = new Set([
  "task",
  "tasks",
  "that",
  "this",
  "with",
  "from",
  "about",
  "item",
  "todo",
  "list",
  "thing",
]);
/** Words of a reference tried for typos, and title characters read for them. */
const TYPO_WORDS_MAX = 8;

const wordsOf = (text: string): string[] =>
  (text.toLowerCase().match(/\p{L}+/gu) ?? []).filter((w) => w.length >= 4 && !TYPO_STOP.has(w));

/**
 * When no word matched: the tasks whose title has a word one typo away from a word of the
 * reference ("dentst" → "dentist"; two for words of 7 letters or more). Bounded: the first
 * TYPO_WORDS_MAX words of the reference, titles up to TITLES_NLP_BUDGET characters in all.
 * A delete found this way is a fuzzy pick: the chat turn asks before it runs.
 */
function byTypos(text: string, tasks: TaskView[]): TaskView[] {
  const want = wordsOf(text).slice(0, TYPO_WORDS_MAX);
  if (want.length === 0) return [];
  let best = 0;
  let found: TaskView[] = [];
  let budget = TITLES_NLP_BUDGET;
  for (const task of tasks) {
    if (budget <= 0) break;
    budget -= task.title.length;
    const have = wordsOf(task.title);
    const hits = want.filter((w) =>
      have.some((h) => distance(w, h, 2) <= (Math.min(w.length, h.length) >= 7 ? 2 : 1)),
    ).length;
    if (hits > best) {
      best = hits;
      found = [task];
    } else if (hits === best && hits > 0) {
      found.push(task);
    }
  }
  return found;
}

/** Which tasks an action should apply to, given the user's reference and the task list. */
export function resolveRef(ref: Ref, tasks: TaskView[], action: ActionKind): Resolution {
  switch (ref.kind) {
    case "numbers": {
      const found = tasks.filter((t) => ref.numbers.includes(t.id));
      const missing = ref.numbers.filter((n) => !tasks.some((t) => t.id === n));
      return missing.length > 0 ? { kind: "none", missing } : { kind: "found", tasks: found };
    }
    case "last": {
      const last = tasks.reduce<TaskView | undefined>(
        (a, t) => (!a || t.id > a.id ? t : a),
        undefined,
      );
      return last ? { kind: "found", tasks: [last] } : { kind: "none" };
    }
    case "all": {
      // "complete everything" means the open ones; "delete all" means what it says.
      const status =
        ref.status !== "all"
          ? ref.status
          : action === "complete"
            ? "pending"
            : action === "reopen"
              ? "completed"
              : "all";
      const chosen = tasks.filter((t) =>
        status === "all" ? true : status === "pending" ? !t.completed : t.completed,
      );
      return chosen.length > 0 ? { kind: "found", tasks: chosen } : { kind: "none" };
    }
    case "words":
      return byWords(ref.text, tasks, action);
  }
}
