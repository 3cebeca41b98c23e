import { useCallback, useEffect, useState } from "react";
import { AdminPanel } from "./Admin.tsx";
import { ApiKeysPanel } from "./ApiKeys.tsx";
import {
  activity as activityApi,
  type Conversation,
  conversations as conversationApi,
  errorText,
  me as meApi,
  type User,
} from "./api.ts";
import { ChatPanel } from "./Chat.tsx";
import { ConversationList } from "./Conversations.tsx";
import { browserTimeZone } from "./due.ts";
import { Inbox } from "./Inbox.tsx";
import { ChatIcon, ListIcon, Logo, TaskIcon } from "./icons.tsx";
import { Portability } from "./Portability.tsx";
import { SearchBox } from "./Search.tsx";
import { TasksPanel } from "./Tasks.tsx";
import { UndoToast } from "./Undo.tsx";
import { offerOf, turnEntries, type UndoOffer } from "./undoOffer.ts";
import { useLiveTasks } from "./useLiveTasks.ts";

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
  const [role, setRole] = useState<"admin" | "user">("user");
  const [adminOpen, setAdminOpen] = useState(false);
  const [keysOpen, setKeysOpen] = useState(false);
  const [focus, setFocus] = useState<{ conversationId: string; seq: number; at: number } | null>(
    null,
  );

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
  // Changes made elsewhere (REST, MCP, CalDAV, another tab) show without a reload.
  useLiveTasks(loadTasks);

  // The Undo toast: what the last change was, and a way back.
  const [offer, setOffer] = useState<UndoOffer | null>(null);
  const [undoing, setUndoing] = useState(false);
  const dismiss = useCallback(() => setOffer(null), []);

  /** After the panel changed a task: its newest activity entry. */
  const offerTaskUndo = useCallback(async (taskId: number) => {
    try {
      const page = await activityApi.list({ task: taskId, limit: 1 });
      setOffer(offerOf(page.items));
    } catch {
      // The toast is a nicety: the change itself succeeded.
    }
  }, []);

  /** After an assistant's turn changed tasks: every entry of that turn. */
  const offerTurnUndo = useCallback(async (userMessageId: string) => {
    try {
      const page = await activityApi.list({ limit: 50 });
      setOffer(offerOf(turnEntries(page.items, userMessageId), "Assistant: "));
    } catch {
      // As above.
    }
  }, []);

  const undo = async () => {
    if (!offer) return;
    setUndoing(true);
    const failed: string[] = [];
    for (const id of offer.ids) {
      try {
        await activityApi.undo(id);
      } catch (error) {
        failed.push(errorText(error));
      }
    }
    setUndoing(false);
    loadTasks();
    setOffer({ text: failed.length > 0 ? `Not undone: ${failed.join("; ")}` : "Undone", ids: [] });
  };

  // The user's time zone: a user who never chose one gets the browser's (once, here, on
  // sign-in), so "today" and "tomorrow" mean theirs. Tasks wait for it (see TasksPanel).
  const loadTimeZone = useCallback(async () => {
    try {
      const current = await meApi.get();
      setRole(current.role);
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
          <h1 className="brand-name">Tasktalk</h1>
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
        <SearchBox
          onOpen={(id, seq) => {
            setFocus({ conversationId: id, seq, at: Date.now() });
            if (id !== activeId) open(id);
            setAdminOpen(false);
            setTab("chat");
          }}
        />
        <div className="account">
          <Inbox timeZone={timeZone} />
          <span className="who" title={props.user.email}>
            {props.user.name || props.user.email}
          </span>
          {role === "admin" && (
            <button
              type="button"
              className="btn ghost small"
              aria-pressed={adminOpen}
              onClick={() => {
                setKeysOpen(false);
                setAdminOpen((open) => !open);
              }}
            >
              Admin
            </button>
          )}
          <button
            type="button"
            className="btn ghost small"
            aria-pressed={keysOpen}
            onClick={() => {
              setAdminOpen(false);
              setKeysOpen((open) => !open);
            }}
          >
            API keys
          </button>
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
      {adminOpen && <AdminPanel selfId={props.user.id} onClose={() => setAdminOpen(false)} />}
      {keysOpen && <ApiKeysPanel onClose={() => setKeysOpen(false)} />}
      <main className="panels" hidden={adminOpen || keysOpen}>
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
          onTurnChanged={offerTurnUndo}
          onTurnDone={loadConversations}
          focus={focus}
        />
        <TasksPanel
          timeZone={timeZone}
          version={tasksVersion}
          onDueCount={setDueCount}
          onChanged={offerTaskUndo}
        />
      </main>
      {offer && (
        <UndoToast offer={offer} busy={undoing} onUndo={() => void undo()} onDismiss={dismiss} />
      )}
    </div>
  );
}
