/** The inbox of fired reminders, as the page polls it (GET /api/notifications). */
export interface Notification {
  id: string;
  type: "reminder";
  task_id: number;
  title: string;
  due_at: string | null;
  scheduled_for: string;
  fired_at: string;
  read: boolean;
}

/** How often the open page asks for new reminders. */
export const POLL_MS = 15_000;

/**
 * The unread notifications to pop up as toasts: those not seen by an earlier poll. The
 * first poll (`seen` null) shows only those fired in the last `recentMs` — a page opened
 * the next morning lists the night's reminders in the inbox rather than as a pile of toasts.
 */
export function toToast(
  seen: ReadonlySet<string> | null,
  items: readonly Notification[],
  now: Date,
  recentMs = 2 * 60_000,
): Notification[] {
  return items.filter(
    (n) =>
      !n.read &&
      (seen === null ? now.getTime() - Date.parse(n.fired_at) <= recentMs : !seen.has(n.id)),
  );
}

/** "Call the plumber — 09:30" (the reminder's own time; "late" when it fired well after it). */
export function reminderText(n: Notification, timeZone: string | null): string {
  // HH:MM, as the task list shows due times.
  const time = new Date(n.scheduled_for).toLocaleTimeString("en-GB", {
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
    ...(timeZone ? { timeZone } : {}),
  });
  const lateMs = Date.parse(n.fired_at) - Date.parse(n.scheduled_for);
  return `${n.title} — ${time}${lateMs > 5 * 60_000 ? " (late)" : ""}`;
}
