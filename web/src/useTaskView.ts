import { useCallback, useEffect, useRef, useState } from "react";
import {
  tasks as api,
  errorText,
  lists as listApi,
  type Task,
  type TaskList,
  type TaskQuery,
} from "./api.ts";
import { type Filters, merge, queriesOf } from "./taskViews.ts";
import type { Loadable } from "./Workspace.tsx";

// The tasks panel's data: the shown view's tasks (paged), the lists, and the Today count.

export interface Shown {
  items: Task[];
  /** The queries of the view still to page through, with their cursors. */
  more: { query: TaskQuery; cursor: string }[];
}

interface Options {
  filters: Filters;
  /** The user's zone; null until known (nothing loads before: "today" is the server's). */
  timeZone: string | null;
  /** A reload signal (the assistant changed tasks). */
  version: number;
  onDueCount: (count: number) => void;
  onError: (message: string) => void;
}

export function useTaskView(options: Options) {
  const { filters, timeZone, version, onDueCount, onError } = options;
  const [shown, setShown] = useState<Loadable<Shown>>({ state: "loading" });
  const [lists, setLists] = useState<TaskList[]>([]);
  // Each load takes a ticket: an answer for filters no longer shown is dropped.
  const ticket = useRef(0);

  const loadCounts = useCallback(async () => {
    try {
      const [listed, overdue, today] = await Promise.all([
        listApi.list(),
        api.list({ status: "pending", due: "overdue", limit: 200 }),
        api.list({ status: "pending", due: "today", limit: 200 }),
      ]);
      setLists(listed.items);
      onDueCount(merge(overdue.items, today.items).length);
    } catch {
      // The counts are a nicety; the view below reports its own errors.
    }
  }, [onDueCount]);

  const load = useCallback(async (next: Filters) => {
    const mine = ++ticket.current;
    try {
      const queries = queriesOf(next);
      const pages = await Promise.all(queries.map((query) => api.list(query)));
      if (mine !== ticket.current) return;
      setShown({
        state: "ready",
        value: {
          items: pages.reduce<Task[]>((all, page) => merge(all, page.items), []),
          more: pages.flatMap((page, i) =>
            page.next_cursor && queries[i]
              ? [{ query: queries[i], cursor: String(page.next_cursor) }]
              : [],
          ),
        },
      });
    } catch (err) {
      if (mine === ticket.current) setShown({ state: "error", message: errorText(err) });
    }
  }, []);

  const reload = useCallback(() => {
    void load(filters);
    void loadCounts();
  }, [filters, load, loadCounts]);

  // Waits for the user's zone: "today" on the server is the zone the page may just have set.
  // biome-ignore lint/correctness/useExhaustiveDependencies: version is a reload signal
  useEffect(() => {
    if (timeZone !== null) reload();
  }, [timeZone, reload, version]);

  const loadMore = async () => {
    if (shown.state !== "ready") return;
    const mine = ticket.current;
    try {
      const pages = await Promise.all(
        shown.value.more.map(({ query, cursor }) => api.list({ ...query, cursor })),
      );
      if (mine !== ticket.current) return;
      setShown((current) =>
        current.state !== "ready"
          ? current
          : {
              state: "ready",
              value: {
                items: pages.reduce((all, page) => merge(all, page.items), current.value.items),
                more: pages.flatMap((page, i) => {
                  const query = shown.value.more[i]?.query;
                  return page.next_cursor && query
                    ? [{ query, cursor: String(page.next_cursor) }]
                    : [];
                }),
              },
            },
      );
    } catch (err) {
      onError(errorText(err));
    }
  };

  /** Puts one task (as the server answered it) in place. */
  const put = (task: Task) =>
    setShown((current) =>
      current.state === "ready"
        ? {
            state: "ready",
            value: {
              ...current.value,
              items: current.value.items.map((t) => (t.id === task.id ? task : t)),
            },
          }
        : current,
    );
  /** Deleting a parent deletes its subtasks too: both leave the list. */
  const drop = (id: number) =>
    setShown((current) =>
      current.state === "ready"
        ? {
            state: "ready",
            value: {
              ...current.value,
              items: current.value.items.filter((t) => t.id !== id && t.parent_id !== id),
            },
          }
        : current,
    );

  return { shown, lists, reload, loadMore, loadCounts, put, drop };
}
