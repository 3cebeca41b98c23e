import { type FormEvent, useEffect, useId, useRef, useState } from "react";
import type { Priority, Task, TaskList, TaskPatch } from "./api.ts";
import { dueIn, dueLabel, isDueToday, isOverdue } from "./due.ts";
import { PencilIcon, TrashIcon } from "./icons.tsx";
import { parseLabels } from "./taskViews.ts";

const PRIORITIES: { value: Priority; label: string; mark: string }[] = [
  { value: "none", label: "No priority", mark: "" },
  { value: "low", label: "Low priority", mark: "!" },
  { value: "medium", label: "Medium priority", mark: "!!" },
  { value: "high", label: "High priority", mark: "!!!" },
];

export interface TaskItemProps {
  task: Task;
  timeZone: string;
  /** The list the panel shows, if one: its tasks need no list tag. */
  listShown: string;
  lists: TaskList[];
  /** A subtask listed without its parent: say whose it is. */
  orphan: boolean;
  onToggle: (task: Task) => void;
  onSave: (task: Task, patch: TaskPatch) => void;
  onDelete: (task: Task) => void;
}

/** One task row: tick, title, due chip, priority, list and labels; Edit opens its form. */
export function TaskRow(props: TaskItemProps) {
  const { task, timeZone } = props;
  const [editing, setEditing] = useState(false);
  // Closing the form puts focus back on its Edit button, so a keyboard user stays in place.
  const editButton = useRef<HTMLButtonElement>(null);
  const wasEditing = useRef(false);
  useEffect(() => {
    if (!editing && wasEditing.current) editButton.current?.focus();
    wasEditing.current = editing;
  }, [editing]);
  const overdue = !task.completed && task.due !== null && isOverdue(task.due, timeZone);
  const today = task.due !== null && !overdue && isDueToday(task.due, timeZone);
  const priority = PRIORITIES.find((p) => p.value === task.priority);

  if (editing) {
    return (
      <TaskEditor
        {...props}
        onClose={() => setEditing(false)}
        onSave={(patch) => {
          setEditing(false);
          if (Object.keys(patch).length > 0) props.onSave(task, patch);
        }}
      />
    );
  }

  return (
    <div
      className={`task${task.completed ? " done" : ""}${task.parent_id !== null ? " subtask" : ""}`}
      data-task-id={task.id}
    >
      <input
        type="checkbox"
        id={`task-${task.id}-done`}
        checked={task.completed}
        onChange={() => props.onToggle(task)}
        aria-label={`${task.completed ? "Mark pending" : "Complete"}: task ${task.id} · ${task.title}`}
      />
      <span className="task-body grow">
        <span className="task-number">#{task.id}</span>
        <span className="task-title">{task.title}</span>
        {priority && priority.value !== "none" && (
          <span className={`priority p-${priority.value}`} title={priority.label}>
            <span aria-hidden="true">{priority.mark}</span>
            <span className="sr-only">{priority.label}</span>
          </span>
        )}
        {task.description && <span className="task-description">{task.description}</span>}
        <span className="task-meta">
          {task.due && (
            <span
              className={`tag due${overdue ? " overdue" : ""}${today ? " today" : ""}`}
              title={task.due.string ? `Due “${task.due.string}”` : "Due"}
            >
              <span className="sr-only">{overdue ? "Overdue, due " : "Due "}</span>
              <span className="due-text">{dueLabel(task.due, timeZone)}</span>
            </span>
          )}
          {task.due?.recurrence && (
            <span className="tag repeat" title={`Repeats: ${task.due.recurrence}`}>
              <span aria-hidden="true">↻ </span>
              <span className="sr-only">Repeats </span>
              {task.due.string ?? task.due.recurrence}
            </span>
          )}
          {props.orphan && task.parent_id !== null && (
            <span className="tag parent">subtask of #{task.parent_id}</span>
          )}
          {task.list !== props.listShown && task.list !== "Inbox" && (
            <span className="tag list">
              <span className="sr-only">List </span>
              {task.list}
            </span>
          )}
          {task.labels.map((label) => (
            <span key={label} className="tag label">
              #{label}
            </span>
          ))}
        </span>
      </span>
      <div className="task-actions">
        <button
          ref={editButton}
          type="button"
          className="icon-btn"
          aria-label={`Edit task ${task.id}`}
          title="Edit"
          onClick={() => setEditing(true)}
        >
          <PencilIcon />
        </button>
        <button
          type="button"
          className="icon-btn danger"
          aria-label={`Delete task ${task.id}`}
          title={task.parent_id === null ? "Delete (and its subtasks)" : "Delete"}
          onClick={() => props.onDelete(task)}
        >
          <TrashIcon />
        </button>
      </div>
    </div>
  );
}

/** The edit form: only the fields that changed are sent. */
function TaskEditor(
  props: Omit<TaskItemProps, "onSave"> & {
    onClose: () => void;
    onSave: (patch: TaskPatch) => void;
  },
) {
  const { task } = props;
  const id = useId();
  const shownDue = task.due ? dueIn(task.due, props.timeZone) : null;
  const [title, setTitle] = useState(task.title);
  const [description, setDescription] = useState(task.description);
  const [date, setDate] = useState(shownDue?.date ?? "");
  const [time, setTime] = useState(shownDue?.time ?? "");
  const [priority, setPriority] = useState<Priority>(task.priority);
  const [list, setList] = useState(task.list);
  const [labels, setLabels] = useState(task.labels.join(", "));
  const shownRepeat = task.due?.recurrence ? (task.due.string ?? task.due.recurrence) : "";
  const [repeat, setRepeat] = useState(shownRepeat);
  const first = useRef<HTMLInputElement>(null);

  useEffect(() => first.current?.select(), []);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const patch: TaskPatch = {};
    const nextTitle = title.trim();
    if (nextTitle && nextTitle !== task.title) patch.title = nextTitle;
    if (description.trim() !== task.description) patch.description = description.trim();
    if (date !== (shownDue?.date ?? "") || (date && time !== (shownDue?.time ?? ""))) {
      patch.due = date ? { date, time: time || null } : null;
    }
    if (repeat.trim() !== shownRepeat && (date || repeat.trim())) {
      if (repeat.trim()) patch.recurrence = repeat.trim();
      else if (patch.due !== null) patch.recurrence = null;
    }
    if (priority !== task.priority) patch.priority = priority;
    const nextList = list.trim();
    if (nextList && nextList !== task.list) patch.list = nextList;
    const nextLabels = parseLabels(labels);
    if (nextLabels.join(",") !== task.labels.join(",")) patch.labels = nextLabels;
    props.onSave(patch);
  };

  return (
    <form
      className="task-editor"
      data-task-id={task.id}
      onSubmit={submit}
      onKeyDown={(e) => {
        if (e.key === "Escape") props.onClose();
      }}
      aria-label={`Edit task ${task.id}`}
    >
      <div className="field wide">
        <label htmlFor={`${id}-title`}>Title</label>
        <input
          id={`${id}-title`}
          ref={first}
          value={title}
          maxLength={200}
          required
          onChange={(e) => setTitle(e.target.value)}
        />
      </div>
      <div className="field wide">
        <label htmlFor={`${id}-description`}>Notes</label>
        <textarea
          id={`${id}-description`}
          rows={2}
          value={description}
          onChange={(e) => setDescription(e.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor={`${id}-date`}>Due date</label>
        <input
          id={`${id}-date`}
          type="date"
          value={date}
          onChange={(e) => setDate(e.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor={`${id}-time`}>Time (optional)</label>
        <input
          id={`${id}-time`}
          type="time"
          value={time}
          disabled={!date}
          onChange={(e) => setTime(e.target.value)}
        />
      </div>
      <div className="field wide">
        <label htmlFor={`${id}-repeat`}>Repeats (empty: does not repeat)</label>
        <input
          id={`${id}-repeat`}
          value={repeat}
          maxLength={200}
          placeholder="every monday, every 2 weeks, on the 1st of every month"
          onChange={(e) => setRepeat(e.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor={`${id}-priority`}>Priority</label>
        <select
          id={`${id}-priority`}
          value={priority}
          onChange={(e) => setPriority(e.target.value as Priority)}
        >
          {PRIORITIES.map((p) => (
            <option key={p.value} value={p.value}>
              {p.value === "none" ? "None" : p.label.replace(" priority", "")}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${id}-list`}>List</label>
        <input
          id={`${id}-list`}
          list={`${id}-lists`}
          value={list}
          maxLength={100}
          onChange={(e) => setList(e.target.value)}
        />
        <datalist id={`${id}-lists`}>
          {props.lists.map((l) => (
            <option key={l.name} value={l.name} />
          ))}
        </datalist>
      </div>
      <div className="field wide">
        <label htmlFor={`${id}-labels`}>Labels (comma-separated)</label>
        <input
          id={`${id}-labels`}
          value={labels}
          placeholder="errands, home"
          onChange={(e) => setLabels(e.target.value)}
        />
      </div>
      <div className="editor-actions wide">
        {date && (
          <button
            type="button"
            className="btn ghost small"
            onClick={() => {
              setDate("");
              setTime("");
            }}
          >
            Clear due date
          </button>
        )}
        <span className="grow" />
        <button type="button" className="btn ghost small" onClick={props.onClose}>
          Cancel
        </button>
        <button type="submit" className="btn primary small">
          Save
        </button>
      </div>
    </form>
  );
}
