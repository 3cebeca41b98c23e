import { useEffect } from "react";
import type { UndoOffer } from "./undoOffer.ts";

// The Undo toast: after each change (from the tasks panel or the assistant's tool calls)
// the page offers to revert it through the activity log (POST /api/activity/:id/undo).

const SHOWN_MS = 12_000;

export function UndoToast(props: {
  offer: UndoOffer;
  busy: boolean;
  onUndo: () => void;
  onDismiss: () => void;
}) {
  const { offer, busy, onDismiss } = props;
  // A notice goes away by itself; an offer stays a while, then too. A new offer starts
  // the time again.
  // biome-ignore lint/correctness/useExhaustiveDependencies: offer restarts the timer
  useEffect(() => {
    if (busy) return;
    const timer = setTimeout(onDismiss, SHOWN_MS);
    return () => clearTimeout(timer);
  }, [offer, busy, onDismiss]);
  return (
    <div className="toast" role="status">
      <span className="toast-text">{offer.text}</span>
      {offer.ids.length > 0 && (
        <button type="button" className="btn small" disabled={busy} onClick={props.onUndo}>
          Undo
        </button>
      )}
      <button type="button" className="btn ghost small" aria-label="Dismiss" onClick={onDismiss}>
        ×
      </button>
    </div>
  );
}
