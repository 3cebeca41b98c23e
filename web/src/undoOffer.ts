import type { Activity } from "./api.ts";

// What the Undo toast (Undo.tsx) offers: pure, tested without a browser.

export interface UndoOffer {
  text: string;
  /** Activity ids to undo, newest first; none = a plain notice (after an undo). */
  ids: string[];
}

/** The entries one chat turn (its user message) made that can still be undone. */
export function turnEntries(items: Activity[], userMessageId: string): Activity[] {
  return items.filter((e) => e.message_id === userMessageId && e.undoable);
}

/** What the toast says about these entries (newest first); null when none is undoable. */
export function offerOf(entries: Activity[], prefix = ""): UndoOffer | null {
  const undoable = entries.filter((e) => e.undoable);
  const [first] = undoable;
  if (!first) return null;
  const text = undoable.length === 1 ? first.summary : `${undoable.length} changes`;
  return { text: `${prefix}${text}`, ids: undoable.map((e) => e.id) };
}
