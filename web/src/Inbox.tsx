import { useCallback, useEffect, useRef, useState } from "react";
import { notifications as api } from "./api.ts";
import { type Notification, POLL_MS, reminderText, toToast } from "./reminders.ts";

/**
 * The reminders inbox in the top bar: a bell with the unread count, a list to open, and a
 * toast (plus a browser notification when the user allowed them) for each reminder that
 * fires while the page is open. It polls; a failed poll simply waits for the next.
 */
export function Inbox(props: { timeZone: string | null }) {
  const [items, setItems] = useState<Notification[]>([]);
  const [unread, setUnread] = useState(0);
  const [open, setOpen] = useState(false);
  const [toasts, setToasts] = useState<Notification[]>([]);
  const seen = useRef<Set<string> | null>(null);

  const poll = useCallback(async () => {
    try {
      const page = await api.list();
      const fresh = toToast(seen.current, page.items, new Date());
      seen.current = new Set([...(seen.current ?? []), ...page.items.map((n) => n.id)]);
      setItems(page.items);
      setUnread(page.unread_count);
      if (fresh.length > 0) {
        setToasts((current) => [...current, ...fresh].slice(-3));
        if ("Notification" in window && window.Notification.permission === "granted") {
          for (const n of fresh)
            new window.Notification("Reminder", { body: reminderText(n, props.timeZone) });
        }
      }
    } catch {
      // the next poll tries again
    }
  }, [props.timeZone]);

  useEffect(() => {
    void poll();
    const timer = setInterval(() => void poll(), POLL_MS);
    return () => clearInterval(timer);
  }, [poll]);

  const markRead = async (id: string) => {
    await api.read(id).catch(() => {});
    setToasts((current) => current.filter((t) => t.id !== id));
    void poll();
  };

  const toggle = () => {
    setOpen((o) => !o);
    if ("Notification" in window && window.Notification.permission === "default") {
      void window.Notification.requestPermission();
    }
  };

  return (
    <div className="inbox">
      <button type="button" className="btn ghost small" aria-expanded={open} onClick={toggle}>
        Reminders
        {unread > 0 && (
          <span className="badge">
            {unread}
            <span className="sr-only"> unread</span>
          </span>
        )}
      </button>
      {open && (
        <div className="inbox-list" role="dialog" aria-label="Reminders">
          {items.length === 0 && <p className="note">No reminders yet.</p>}
          <ul>
            {items.map((n) => (
              <li key={n.id} className={n.read ? "read" : "unread"}>
                <span>
                  Task {n.task_id}: {reminderText(n, props.timeZone)}
                </span>
                {!n.read && (
                  <button
                    type="button"
                    className="btn ghost small"
                    onClick={() => void markRead(n.id)}
                  >
                    Mark read
                  </button>
                )}
              </li>
            ))}
          </ul>
        </div>
      )}
      <div className="toasts" aria-live="polite">
        {toasts.map((n) => (
          <div key={n.id} className="reminder-toast" role="status">
            <strong>Reminder</strong> {reminderText(n, props.timeZone)}
            <button type="button" className="btn ghost small" onClick={() => void markRead(n.id)}>
              Dismiss
            </button>
          </div>
        ))}
      </div>
    </div>
  );
}
