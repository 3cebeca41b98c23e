import { type FormEvent, useEffect, useRef, useState } from "react";
import { conversations as api, type Conversation, errorText } from "./api.ts";
import { PencilIcon, PlusIcon, TrashIcon } from "./icons.tsx";
import { relativeTime } from "./time.ts";
import type { Loadable } from "./Workspace.tsx";

interface Props {
  list: Loadable<{ items: Conversation[]; cursor: string | null }>;
  activeId: string | null;
  onSelect: (id: string) => void;
  onNew: () => void;
  onRenamed: (c: Conversation) => void;
  onDeleted: (id: string) => void;
  onRetry: () => void;
  onLoadMore: () => Promise<void>;
}

export function ConversationList(props: Props) {
  const { list } = props;
  const [error, setError] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);

  return (
    <aside className="panel conversations" aria-labelledby="conversations-heading">
      <div className="panel-head">
        <h2 id="conversations-heading">Conversations</h2>
        <button type="button" className="btn primary small" onClick={props.onNew}>
          <PlusIcon /> New
        </button>
      </div>
      {error && (
        <p className="alert small" role="alert">
          {error}
        </p>
      )}
      {list.state === "loading" && (
        <p className="empty" role="status">
          <span className="spinner" aria-hidden="true" /> Loading conversations…
        </p>
      )}
      {list.state === "error" && (
        <div className="empty">
          <p className="alert" role="alert">
            {list.message}
          </p>
          <button type="button" className="btn small" onClick={props.onRetry}>
            Try again
          </button>
        </div>
      )}
      {list.state === "ready" && list.value.items.length === 0 && (
        <p className="empty">No conversations yet. Say hello to start one.</p>
      )}
      {list.state === "ready" && list.value.items.length > 0 && (
        <ul className="conversation-list">
          {list.value.items.map((c) => (
            <ConversationItem
              key={c.id}
              conversation={c}
              active={c.id === props.activeId}
              onSelect={() => props.onSelect(c.id)}
              onRenamed={props.onRenamed}
              onDeleted={() => props.onDeleted(c.id)}
              onError={setError}
            />
          ))}
        </ul>
      )}
      {list.state === "ready" && list.value.cursor && (
        <button
          type="button"
          className="btn ghost small more"
          disabled={loadingMore}
          onClick={async () => {
            setLoadingMore(true);
            try {
              await props.onLoadMore();
            } catch (err) {
              setError(errorText(err));
            } finally {
              setLoadingMore(false);
            }
          }}
        >
          {loadingMore ? "Loading…" : "Show older conversations"}
        </button>
      )}
    </aside>
  );
}

function ConversationItem(props: {
  conversation: Conversation;
  active: boolean;
  onSelect: () => void;
  onRenamed: (c: Conversation) => void;
  onDeleted: () => void;
  onError: (message: string | null) => void;
}) {
  const c = props.conversation;
  const [mode, setMode] = useState<"view" | "rename" | "confirm-delete">("view");
  const [title, setTitle] = useState(c.title);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (mode === "rename") input.current?.select();
  }, [mode]);

  const rename = async (event: FormEvent) => {
    event.preventDefault();
    const next = title.trim();
    if (!next || next === c.title) {
      setMode("view");
      return;
    }
    setBusy(true);
    try {
      props.onRenamed(await api.rename(c.id, next));
      props.onError(null);
      setMode("view");
    } catch (err) {
      props.onError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  const remove = async () => {
    setBusy(true);
    try {
      await api.remove(c.id);
      props.onError(null);
      props.onDeleted();
    } catch (err) {
      props.onError(errorText(err));
      setBusy(false);
      setMode("view");
    }
  };

  if (mode === "rename") {
    return (
      <li className="conversation editing">
        <form onSubmit={rename} className="inline-form">
          <label className="sr-only" htmlFor={`rename-${c.id}`}>
            Conversation title
          </label>
          <input
            id={`rename-${c.id}`}
            ref={input}
            value={title}
            maxLength={200}
            disabled={busy}
            onChange={(e) => setTitle(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === "Escape") {
                setTitle(c.title);
                setMode("view");
              }
            }}
          />
          <button type="submit" className="btn primary small" disabled={busy}>
            Save
          </button>
        </form>
      </li>
    );
  }

  if (mode === "confirm-delete") {
    return (
      <li className="conversation confirming">
        <p>
          Delete “{c.title}” and its messages?
          <span className="sr-only"> Tasks are kept.</span>
        </p>
        <div className="row">
          <button type="button" className="btn danger small" disabled={busy} onClick={remove}>
            Delete
          </button>
          <button type="button" className="btn ghost small" onClick={() => setMode("view")}>
            Cancel
          </button>
        </div>
      </li>
    );
  }

  return (
    <li className={`conversation${props.active ? " active" : ""}`}>
      <button
        type="button"
        className="conversation-open"
        aria-current={props.active ? "page" : undefined}
        onClick={props.onSelect}
      >
        <span className="conversation-title">{c.title}</span>
        <time className="conversation-time" dateTime={c.updated_at}>
          {relativeTime(c.updated_at)}
        </time>
      </button>
      <div className="conversation-actions">
        <button
          type="button"
          className="icon-btn"
          aria-label={`Rename “${c.title}”`}
          title="Rename"
          onClick={() => {
            setTitle(c.title);
            setMode("rename");
          }}
        >
          <PencilIcon />
        </button>
        <button
          type="button"
          className="icon-btn"
          aria-label={`Delete “${c.title}”`}
          title="Delete"
          onClick={() => setMode("confirm-delete")}
        >
          <TrashIcon />
        </button>
      </div>
    </li>
  );
}
