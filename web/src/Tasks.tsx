import {
  type Dispatch,
  type FormEvent,
  type SetStateAction,
  useEffect,
  useRef,
  useState,
} from "react";
import { tasks as api, errorText, type Task } from "./api.ts";
import { PencilIcon, PlusIcon, TrashIcon } from "./icons.tsx";
import type { Loadable } from "./Workspace.tsx";

type Filter = "all" | "pending" | "completed";
const FILTERS: { value: Filter; label: string }[] = [
  { value: "all", label: "All" },
  { value: "pending", label: "Pending" },
  { value: "completed", label: "Completed" },
];

interface Props {
  tasks: Loadable<Task[]>;
  reload: () => Promise<void>;
  setTasks: Dispatch<SetStateAction<Loadable<Task[]>>>;
}

export function TasksPanel(props: Props) {
  const { tasks } = props;
  const [filter, setFilter] = useState<Filter>("all");
  const [title, setTitle] = useState("");
  const [adding, setAdding] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const all = tasks.state === "ready" ? tasks.value : [];
  const counts = {
    all: all.length,
    pending: all.filter((t) => !t.completed).length,
    completed: all.filter((t) => t.completed).length,
  };
  const shown = all.filter((t) =>
    filter === "all" ? true : filter === "pending" ? !t.completed : t.completed,
  );

  /** Puts one task (as the server answered it) into the list. */
  const put = (task: Task) =>
    props.setTasks((current) =>
      current.state === "ready"
        ? {
            state: "ready",
            value: current.value.some((t) => t.id === task.id)
              ? current.value.map((t) => (t.id === task.id ? task : t))
              : [...current.value, task].sort((a, b) => a.id - b.id),
          }
        : current,
    );
  const drop = (id: number) =>
    props.setTasks((current) =>
      current.state === "ready"
        ? { state: "ready", value: current.value.filter((t) => t.id !== id) }
        : current,
    );

  const add = async (event: FormEvent) => {
    event.preventDefault();
    const next = title.trim();
    if (!next) return;
    setAdding(true);
    setError(null);
    try {
      put(await api.create(next));
      setTitle("");
    } catch (err) {
      setError(errorText(err));
    } finally {
      setAdding(false);
    }
  };

  const act = async (work: () => Promise<void>, undo?: () => void) => {
    setError(null);
    try {
      await work();
    } catch (err) {
      undo?.();
      setError(errorText(err));
    }
  };

  return (
    <aside className="panel tasks" aria-labelledby="tasks-heading">
      <div className="panel-head">
        <h2 id="tasks-heading">Tasks</h2>
        {tasks.state === "ready" && (
          <span className="muted small">
            {counts.pending} pending · {counts.completed} done
          </span>
        )}
      </div>
      <form className="add-task" onSubmit={add}>
        <label htmlFor="new-task" className="sr-only">
          New task
        </label>
        <input
          id="new-task"
          placeholder="Add a task…"
          value={title}
          maxLength={200}
          disabled={adding}
          onChange={(e) => setTitle(e.target.value)}
        />
        <button type="submit" className="btn small" disabled={adding || !title.trim()}>
          <PlusIcon /> <span className="sr-only">Add task</span>
        </button>
      </form>
      <fieldset className="segmented">
        <legend className="sr-only">Show</legend>
        {FILTERS.map((f) => (
          <button
            key={f.value}
            type="button"
            aria-pressed={filter === f.value}
            onClick={() => setFilter(f.value)}
          >
            {f.label}
            <span className="count">{counts[f.value]}</span>
          </button>
        ))}
      </fieldset>
      {error && (
        <p className="alert small" role="alert">
          {error}
        </p>
      )}
      {tasks.state === "loading" && (
        <p className="empty" role="status">
          <span className="spinner" aria-hidden="true" /> Loading tasks…
        </p>
      )}
      {tasks.state === "error" && (
        <div className="empty">
          <p className="alert" role="alert">
            {tasks.message}
          </p>
          <button type="button" className="btn small" onClick={() => void props.reload()}>
            Try again
          </button>
        </div>
      )}
      {tasks.state === "ready" && shown.length === 0 && (
        <p className="empty">
          {filter === "all"
            ? "No tasks yet. Ask the assistant, or add one above."
            : filter === "pending"
              ? "Nothing pending. Nice work."
              : "No completed tasks yet."}
        </p>
      )}
      {shown.length > 0 && (
        <ul className="task-list" aria-label="Tasks">
          {shown.map((task) => (
            <TaskItem
              key={task.id}
              task={task}
              onToggle={() =>
                act(
                  async () => {
                    put({ ...task, completed: !task.completed });
                    put(await api.update(task.id, { completed: !task.completed }));
                  },
                  () => put(task),
                )
              }
              onRename={(next) =>
                act(
                  async () => {
                    put({ ...task, title: next });
                    put(await api.update(task.id, { title: next }));
                  },
                  () => put(task),
                )
              }
              onDelete={() =>
                act(
                  async () => {
                    drop(task.id);
                    await api.remove(task.id);
                  },
                  () => put(task),
                )
              }
            />
          ))}
        </ul>
      )}
    </aside>
  );
}

function TaskItem(props: {
  task: Task;
  onToggle: () => void;
  onRename: (title: string) => void;
  onDelete: () => void;
}) {
  const { task } = props;
  const [editing, setEditing] = useState(false);
  const [title, setTitle] = useState(task.title);
  const input = useRef<HTMLInputElement>(null);
  const checkboxId = `task-${task.id}-done`;

  useEffect(() => {
    if (editing) input.current?.select();
  }, [editing]);

  const save = (event?: FormEvent) => {
    event?.preventDefault();
    const next = title.trim();
    setEditing(false);
    if (next && next !== task.title) props.onRename(next);
    else setTitle(task.title);
  };

  return (
    <li className={`task${task.completed ? " done" : ""}`} data-task-id={task.id}>
      <input
        type="checkbox"
        id={checkboxId}
        checked={task.completed}
        onChange={props.onToggle}
        aria-label={`${task.completed ? "Mark pending" : "Complete"}: task ${task.id} · ${task.title}`}
      />
      {editing ? (
        <form className="inline-form grow" onSubmit={save}>
          <label className="sr-only" htmlFor={`task-${task.id}-title`}>
            Title of task {task.id}
          </label>
          <input
            id={`task-${task.id}-title`}
            ref={input}
            value={title}
            maxLength={200}
            onChange={(e) => setTitle(e.target.value)}
            onBlur={() => save()}
            onKeyDown={(e) => {
              if (e.key === "Escape") {
                setTitle(task.title);
                setEditing(false);
              }
            }}
          />
        </form>
      ) : (
        <span className="task-body grow">
          <span className="task-number">#{task.id}</span>
          <span className="task-title">{task.title}</span>
          {task.description && <span className="task-description">{task.description}</span>}
        </span>
      )}
      {!editing && (
        <div className="task-actions">
          <button
            type="button"
            className="icon-btn"
            aria-label={`Edit task ${task.id}`}
            title="Edit"
            onClick={() => {
              setTitle(task.title);
              setEditing(true);
            }}
          >
            <PencilIcon />
          </button>
          <button
            type="button"
            className="icon-btn danger"
            aria-label={`Delete task ${task.id}`}
            title="Delete"
            onClick={props.onDelete}
          >
            <TrashIcon />
          </button>
        </div>
      )}
    </li>
  );
}
