import { useEffect, useRef } from "react";
import { activity } from "./api.ts";

/** How often an open, visible page asks whether anything changed (docs/architecture.md). */
export const LIVE_POLL_MS = 3000;
/** The newest entries compared each time: a write that commits late still shows among them. */
const WINDOW = 20;

/**
 * Live updates of the tasks panel: every few seconds, while the page is visible, the page
 * reads the newest entries of the activity log (one indexed query) and calls `onChange`
 * when they differ from the last read — a task changed through any door (REST, MCP,
 * CalDAV, another tab). Stateless on the server, so it works across any number of instances.
 */
export function useLiveTasks(onChange: () => void, enabled = true): void {
  const seen = useRef<string | null>(null);
  const callback = useRef(onChange);
  callback.current = onChange;

  useEffect(() => {
    if (!enabled) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let inFlight = false;

    const poll = async () => {
      if (stopped || inFlight || document.visibilityState === "hidden") return;
      inFlight = true;
      try {
        const page = await activity.list({ limit: WINDOW });
        const signature = page.items.map((a) => `${a.id}:${a.undone_by ?? ""}`).join(",");
        if (seen.current !== null && signature !== seen.current) callback.current();
        seen.current = signature;
      } catch {
        // Offline for a moment: the next poll tries again (a 401 signs the page out).
      } finally {
        inFlight = false;
      }
    };
    const loop = async () => {
      await poll();
      if (!stopped) timer = setTimeout(() => void loop(), LIVE_POLL_MS);
    };
    const onVisible = () => {
      if (document.visibilityState === "visible") void poll();
    };
    void loop();
    document.addEventListener("visibilitychange", onVisible);
    return () => {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener("visibilitychange", onVisible);
    };
  }, [enabled]);
}
