import { useCallback, useEffect, useState } from "react";
import {
  type Conversation,
  conversations as conversationApi,
  errorText,
  me as meApi,
  type User,
} from "./api.ts";
import { ChatPanel } from "./Chat.tsx";
import { ConversationList } from "./Conversations.tsx";
import { browserTimeZone } from "./due.ts";
import { ChatIcon, ListIcon, Logo, TaskIcon } from "./icons.tsx";
import { Portability } from "./Portability.tsx";
import { TasksPanel } from "./Tasks.tsx";

export type Loadable<T> =
  | { state: "loading" }
  | { state: "error"; message: string }
  | { state: "ready"; value: T };

type Tab = "conversations" | "chat" | "tasks";

const HASH = /^#\/c\/([0-9a-f-]{36})$/i;
const idFromHash = () => HASH.exec(location.hash)?.[1] ?? null;

export function Workspace(props: { user: User; onSignOut: () => void }) {
  const [activeId, setActiveId] = useState<string | null>(idFromHash);
  const [tab, setTab] = useState<Tab>("chat");
  const [list, setList] = useState<Loadable<{ items: Conversation[]; cursor: string | null }>>({
    state: "loading",
  });
  const [timeZone, setTimeZone] = useState<string | null>(null);
  const [tasksVersion, setTasksVersion] = useState(0);
  const [dueCount, setDueCount] = useState(0);
  const [newChatKey, setNewChatKey] = useState(0);

  const loadConversations = useCallback(async () => {
    try {
      const page = await conversationApi.list();
      setList({
        state: "ready",
        value: { items: page.items, cursor: page.next_cursor ? String(page.next_cursor) : null },
      });
    } catch (error) {
      setList({ state: "error", message: errorText(error) });
    }
  }, []);

  const loadMoreConversations = useCallback(async () => {
    if (list.state !== "ready" || !list.value.cursor) return;
    const page = await conversationApi.list(list.value.cursor);
    setList((current) =>
      current.state === "ready"
        ? {
            state: "ready",
            value: {
              items: [
                ...current.value.items,
                ...page.items.filter((c) => !current.value.items.some((x) => x.id === c.id)),
              ],
              cursor: page.next_cursor ? String(page.next_cursor) : null,
            },
          }
        : current,
    );
  }, [list]);

  const loadTasks = useCallback(() => setTasksVersion((v) => v + 1), []);

  // The user's time zone: a user who never chose one gets the browser's (once, here, on
  // sign-in), so "today" and "tomorrow" mean theirs. Tasks wait for it (see TasksPanel).
  const loadTimeZone = useCallback(async () => {
    try {
      const current = await meApi.get();
      const browser = browserTimeZone();
      if (!current.timezone_set && browser) {
        try {
          setTimeZone((await meApi.setTimezone(browser)).timezone);
          return;
        } catch {
          // A zone the server does not know (rare): stay on the stored one.
        }
      }
      setTimeZone(current.timezone);
    } catch {
      // Without /api/me the page still works, in the server's default zone.
      setTimeZone("UTC");
    }
  }, []);

  useEffect(() => {
    void loadConversations();
    void loadTimeZone();
  }, [loadConversations, loadTimeZone]);

  // The open conversation lives in the address (#/c/<id>): reload and back/forward keep it.
  useEffect(() => {
    const onHash = () => setActiveId(idFromHash());
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);

  const open = useCallback((id: string | null, how: "push" | "replace" = "push") => {
    const url = id ? `#/c/${id}` : location.pathname;
    if (how === "push") history.pushState(null, "", url);
    else history.replaceState(null, "", url);
    setActiveId(id);
  }, []);

  const select = (id: string) => {
    open(id);
    setTab("chat");
  };

  const startNew = () => {
    open(null);
    setNewChatKey((k) => k + 1);
    setTab("chat");
  };

  const onRenamed = (updated: Conversation) =>
    setList((current) =>
      current.state === "ready"
        ? {
            state: "ready",
            value: {
              ...current.value,
              items: current.value.items.map((c) => (c.id === updated.id ? updated : c)),
            },
          }
        : current,
    );

  const onDeleted = (id: string) => {
    setList((current) =>
      current.state === "ready"
        ? {
            state: "ready",
            value: { ...current.value, items: current.value.items.filter((c) => c.id !== id) },
          }
        : current,
    );
    if (id === activeId) open(null, "replace");
  };

  const activeTitle =
    list.state === "ready" ? list.value.items.find((c) => c.id === activeId)?.title : undefined;

  return (
    <div className="app" data-tab={tab}>
      <header className="topbar">
        <div className="brand">
          <Logo />
          <span>Tasktalk</span>
        </div>
        <nav className="tabs" aria-label="Panels">
          <button
            type="button"
            aria-pressed={tab === "conversations"}
            onClick={() => setTab("conversations")}
          >
            <ListIcon /> Chats
          </button>
          <button type="button" aria-pressed={tab === "chat"} onClick={() => setTab("chat")}>
            <ChatIcon /> Chat
          </button>
          <button type="button" aria-pressed={tab === "tasks"} onClick={() => setTab("tasks")}>
            <TaskIcon /> Tasks
            {dueCount > 0 && (
              <span className="badge">
                {dueCount}
                <span className="sr-only"> due today or overdue</span>
              </span>
            )}
          </button>
        </nav>
        <div className="account">
          <span className="who" title={props.user.email}>
            {props.user.name || props.user.email}
          </span>
          <Portability
            onImported={() => {
              loadTasks();
              void loadConversations();
            }}
          />
          <button type="button" className="btn ghost small" onClick={props.onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <div className="panels">
        <ConversationList
          list={list}
          activeId={activeId}
          onSelect={select}
          onNew={startNew}
          onRenamed={onRenamed}
          onDeleted={onDeleted}
          onRetry={loadConversations}
          onLoadMore={loadMoreConversations}
        />
        <ChatPanel
          key={`chat-${newChatKey}`}
          conversationId={activeId}
          title={activeTitle}
          onConversationStarted={(id) => open(id, activeId ? "replace" : "push")}
          onMissing={() => open(null, "replace")}
          onTasksChanged={loadTasks}
          onTurnDone={loadConversations}
        />
        <TasksPanel timeZone={timeZone} version={tasksVersion} onDueCount={setDueCount} />
      </div>
    </div>
  );
}
