import { type FormEvent, useEffect, useState } from "react";
import { tasks as api, errorText, type Task, type TaskPatch } from "./api.ts";
import { todayIn } from "./due.ts";
import { PlusIcon } from "./icons.tsx";
import { TaskRow } from "./TaskItem.tsx";
import { type Filters, nest, type Status, VIEWS } from "./taskViews.ts";
import { useTaskView } from "./useTaskView.ts";

interface Props {
  /** The user's zone (from GET /api/me); null until it is known and set. */
  timeZone: string | null;
  /** Changes whenever the assistant changed tasks: the panel reloads. */
  version: number;
  /** How many pending tasks are due today or overdue (the tab's badge). */
  onDueCount: (count: number) => void;
  /** A task was changed here: the page offers to undo it. */
  onChanged?: (taskId: number) => void;
}

export function TasksPanel(props: Props) {
  const { timeZone, onDueCount } = props;
  const [filters, setFilters] = useState<Filters>({ view: "all", list: "", status: "all", q: "" });
  const [search, setSearch] = useState("");
  const [title, setTitle] = useState("");
  const [adding, setAdding] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const { shown, lists, reload, loadMore, loadCounts, put, drop } = useTaskView({
    filters,
    timeZone,
    version: props.version,
    onDueCount,
    onError: setError,
  });

  // Search as one types, after a pause.
  useEffect(() => {
    const timer = setTimeout(
      () => setFilters((f) => (f.q === search ? f : { ...f, q: search })),
      250,
    );
    return () => clearTimeout(timer);
  }, [search]);

  const change = (patch: Partial<Filters>) => setFilters((f) => ({ ...f, ...patch }));

  const act = async (taskId: number, work: () => Promise<void>, undo?: () => void) => {
    setError(null);
    try {
      await work();
      props.onChanged?.(taskId);
    } catch (err) {
      undo?.();
      setError(errorText(err));
    }
    void loadCounts();
  };

  const add = async (event: FormEvent) => {
    event.preventDefault();
    const next = title.trim();
    if (!next || timeZone === null) return;
    setAdding(true);
    setError(null);
    try {
      // A task added in a view belongs there: Today's is due today, a list's goes in it.
      const created = await api.create({
        title: next,
        ...(filters.list ? { list: filters.list } : {}),
        ...(filters.view === "today" && !filters.q ? { due: { date: todayIn(timeZone) } } : {}),
      });
      setTitle("");
      reload();
      props.onChanged?.(created.id);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setAdding(false);
    }
  };

  const rowProps = {
    timeZone: timeZone ?? "UTC",
    listShown: filters.list,
    lists,
    onToggle: (task: Task) =>
      act(
        task.id,
        async () => {
          put({ ...task, completed: !task.completed });
          put(await api.update(task.id, { completed: !task.completed }));
        },
        () => put(task),
      ),
    onSave: (task: Task, patch: TaskPatch) =>
      act(task.id, async () => put(await api.update(task.id, patch))),
    // To the trash: the toast offers Undo, the Trash view Restore.
    onDelete: (task: Task) =>
      act(
        task.id,
        async () => {
          drop(task.id);
          await api.remove(task.id);
        },
        reload,
      ),
  };

  const restore = (task: Task) =>
    act(
      task.id,
      async () => {
        drop(task.id);
        await api.restore(task.id);
      },
      reload,
    );
  const inTrash = filters.status === "deleted";

  const searching = filters.q.trim() !== "";
  const groups = shown.state === "ready" ? nest(shown.value.items) : [];

  return (
    <aside className="panel tasks" aria-labelledby="tasks-heading">
      <div className="panel-head">
        <h2 id="tasks-heading">Tasks</h2>
        {shown.state === "ready" && (
          <span className="muted small">
            {shown.value.items.length}
            {shown.value.more.length > 0 ? "+" : ""} shown
          </span>
        )}
      </div>
      <form className="add-task" onSubmit={add}>
        <label htmlFor="new-task" className="sr-only">
          New task
        </label>
        <input
          id="new-task"
          placeholder={
            filters.view === "today" && !searching ? "Add a task due today…" : "Add a task…"
          }
          value={title}
          maxLength={200}
          disabled={adding}
          onChange={(e) => setTitle(e.target.value)}
        />
        <button type="submit" className="btn small" disabled={adding || !title.trim()}>
          <PlusIcon /> <span className="sr-only">Add task</span>
        </button>
      </form>
      <div className="task-search">
        <label htmlFor="task-search" className="sr-only">
          Search tasks
        </label>
        <input
          id="task-search"
          type="search"
          placeholder="Search tasks…"
          value={search}
          maxLength={200}
          onChange={(e) => setSearch(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Escape") setSearch("");
          }}
        />
      </div>
      <fieldset className="segmented">
        <legend className="sr-only">View</legend>
        {VIEWS.map((v) => (
          <button
            key={v.value}
            type="button"
            aria-pressed={!searching && filters.view === v.value}
            onClick={() => {
              setSearch("");
              change({ view: v.value, q: "" });
            }}
          >
            {v.label}
          </button>
        ))}
      </fieldset>
      <div className="task-filters">
        <label htmlFor="task-list-filter" className="sr-only">
          List
        </label>
        <select
          id="task-list-filter"
          value={filters.list}
          onChange={(e) => change({ list: e.target.value })}
        >
          <option value="">All lists</option>
          {lists.map((l) => (
            <option key={l.name} value={l.name}>
              {l.name} ({l.task_count})
            </option>
          ))}
        </select>
        <label htmlFor="task-status-filter" className="sr-only">
          Status
        </label>
        <select
          id="task-status-filter"
          value={filters.status}
          onChange={(e) => change({ status: e.target.value as Status })}
        >
          <option value="all">Any status</option>
          <option value="pending">Pending</option>
          <option value="completed">Completed</option>
          <option value="deleted">Trash</option>
        </select>
      </div>
      {error && (
        <p className="alert small" role="alert">
          {error}
        </p>
      )}
      {shown.state === "loading" && (
        <p className="empty" role="status">
          <span className="spinner" aria-hidden="true" /> Loading tasks…
        </p>
      )}
      {shown.state === "error" && (
        <div className="empty">
          <p className="alert" role="alert">
            {shown.message}
          </p>
          <button type="button" className="btn small" onClick={reload}>
            Try again
          </button>
        </div>
      )}
      {shown.state === "ready" && groups.length === 0 && (
        <p className="empty">{emptyText(filters)}</p>
      )}
      {inTrash && shown.state === "ready" && shown.value.items.length > 0 && (
        <ul className="task-list" aria-label="Trash">
          {shown.value.items.map((task) => (
            <li key={task.id} className="task-item trashed">
              <div className="task" data-task-id={task.id}>
                <span className="task-body grow">
                  <span className="task-number">#{task.id}</span>
                  <span className="task-title">{task.title}</span>
                </span>
                <button
                  type="button"
                  className="btn small"
                  aria-label={`Restore task ${task.id}`}
                  onClick={() => void restore(task)}
                >
                  Restore
                </button>
              </div>
            </li>
          ))}
        </ul>
      )}
      {!inTrash && groups.length > 0 && (
        <ul className="task-list" aria-label={searching ? `Tasks matching ${filters.q}` : "Tasks"}>
          {groups.map(({ task, subtasks, orphan }) => (
            <li key={task.id} className="task-item">
              <TaskRow task={task} orphan={orphan} {...rowProps} />
              {subtasks.length > 0 && (
                <ul className="subtasks" aria-label={`Subtasks of task ${task.id}`}>
                  {subtasks.map((sub) => (
                    <li key={sub.id} className="task-item">
                      <TaskRow task={sub} orphan={false} {...rowProps} />
                    </li>
                  ))}
                </ul>
              )}
            </li>
          ))}
          {shown.state === "ready" && shown.value.more.length > 0 && (
            <li className="load-more">
              <button type="button" className="btn small" onClick={() => void loadMore()}>
                Show more
              </button>
            </li>
          )}
        </ul>
      )}
    </aside>
  );
}

function emptyText(filters: Filters): string {
  if (filters.q.trim()) return `No task matches “${filters.q.trim()}”.`;
  if (filters.status === "deleted")
    return "The trash is empty. Deleted tasks stay here for 30 days.";
  if (filters.status === "completed") return "No completed tasks here yet.";
  switch (filters.view) {
    case "today":
      return "Nothing due today or overdue. Enjoy the day.";
    case "upcoming":
      return "Nothing coming up.";
    case "all":
      return filters.list
        ? `Nothing in ${filters.list} yet.`
        : filters.status === "pending"
          ? "Nothing pending. Nice work."
          : "No tasks yet. Ask the assistant, or add one above.";
  }
}
