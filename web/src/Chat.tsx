import {
  type KeyboardEvent,
  useCallback,
  useEffect,
  useLayoutEffect,
  useRef,
  useState,
} from "react";
import {
  ApiError,
  conversations as api,
  errorText,
  type Message,
  type Usage,
  uuid,
} from "./api.ts";
import { SendIcon } from "./icons.tsx";
import { ModelPicker, ReplyUsage, UsageSummary, useModels } from "./Models.tsx";
import { ContextPanel } from "./ReplyTools.tsx";
import { streamTurn, type UiChunk } from "./stream.ts";
import { TASK_CHANGING_TOOLS, type ToolView, toolSummary } from "./tools.ts";

interface ChatMessage {
  key: string;
  role: "user" | "assistant";
  text: string;
  tools: ToolView[];
  status: "complete" | "truncated" | "error" | "streaming" | "failed";
  /** What went wrong, in the server's words (a problem's `detail`). */
  error?: string;
  /** A send that can be repeated safely: the same client_message_id is stored once. */
  retry?: { message: string; clientMessageId: string };
  /** A stored reply's tokens and cost. */
  usage?: Usage | null;
  /** The stored message's id and seq (a reply's context, Regenerate, search focus). */
  id?: string;
  seq?: number;
  /** Earlier answers to the same message, replaced by Regenerate (oldest first). */
  versions?: ChatMessage[];
  /** After Regenerate: what the replaced answer had already done (not done again). */
  effects?: string[];
}

const SUGGESTIONS = [
  "Remind me to call mom tomorrow at 5pm",
  "Add a task to buy groceries",
  "What's due today?",
  "I finished buying groceries",
  "What can you do?",
];

/** A page of stored messages as shown: replaced replies become versions of the current one. */
function storedList(items: Message[]): ChatMessage[] {
  const replaced = items.filter((m) => m.role === "assistant" && m.replaced_by);
  return items
    .filter((m) => (m.role === "user" || m.role === "assistant") && !m.replaced_by)
    .map((m) => {
      const versions = replaced.filter((o) => m.role === "assistant" && o.reply_to === m.reply_to);
      return versions.length > 0
        ? { ...fromStored(m), versions: versions.sort((a, b) => a.seq - b.seq).map(fromStored) }
        : fromStored(m);
    });
}

function fromStored(m: Message): ChatMessage {
  return {
    key: m.id,
    id: m.id,
    seq: m.seq,
    role: m.role === "user" ? "user" : "assistant",
    text: m.content,
    tools: m.tool_calls.map((call, i) => ({
      id: `${m.id}-${i}`,
      name: call.name,
      input: call.arguments,
      state: "done",
      output: call.result,
    })),
    status: m.status,
    usage: m.usage,
  };
}

interface Props {
  conversationId: string | null;
  title: string | undefined;
  onConversationStarted: (id: string) => void;
  onMissing: () => void;
  onTasksChanged: () => void;
  /** A finished turn changed tasks: the page offers to undo them (by its user message). */
  onTurnChanged?: (userMessageId: string) => void;
  onTurnDone: () => void;
  /** A search result to show: the message at this seq (`at` makes each click new). */
  focus?: { conversationId: string; seq: number; at: number } | null;
}

type Load = { state: "idle" | "loading" } | { state: "error"; message: string };

export function ChatPanel(props: Props) {
  const { conversationId } = props;
  // A search result in this conversation (another conversation's is not ours to show).
  const focus = props.focus?.conversationId === conversationId ? props.focus : null;
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  const [load, setLoad] = useState<Load>({ state: conversationId ? "loading" : "idle" });
  const [olderCursor, setOlderCursor] = useState<number | null>(null);
  const [draft, setDraft] = useState("");
  const [streaming, setStreaming] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const choice = useModels();
  /** The conversation's model, or a new conversation's choice (null: the default). */
  const [model, setModel] = useState<string | null>(null);
  const [usageVersion, setUsageVersion] = useState(0);
  const scroller = useRef<HTMLDivElement>(null);
  const composer = useRef<HTMLTextAreaElement>(null);
  const stickToBottom = useRef(true);
  /** The conversation this panel's own stream just created: already on screen, not reloaded. */
  const startedHere = useRef<string | null>(null);
  const abort = useRef<AbortController | null>(null);
  const loadTicket = useRef(0);
  const propsRef = useRef(props);
  propsRef.current = props;

  const loadMessages = useCallback(async (id: string, focusSeq?: number) => {
    const ticket = ++loadTicket.current;
    setLoad({ state: "loading" });
    setMessages([]);
    setOlderCursor(null);
    try {
      let page = await api.messages(id);
      // A search result older than the last page: the page from just before it.
      if (focusSeq !== undefined && !page.items.some((m) => m.seq === focusSeq)) {
        page = await api.messages(id, undefined, Math.max(0, focusSeq - 3));
        page = {
          ...page,
          next_cursor: (page.items[0]?.seq ?? 1) > 1 ? (page.items[0]?.seq ?? null) : null,
        };
      }
      if (ticket !== loadTicket.current) return;
      const loaded = storedList(page.items);
      const last = page.items.at(-1);
      // A message the assistant never answered (the model failed, or the reply was lost).
      if (last?.role === "user" && loaded.length > 0) {
        loaded[loaded.length - 1] = {
          ...(loaded.at(-1) as ChatMessage),
          error: "No reply to this message yet.",
          ...(last.client_message_id
            ? { retry: { message: last.content, clientMessageId: last.client_message_id } }
            : {}),
        };
      }
      setMessages(loaded);
      setOlderCursor(typeof page.next_cursor === "number" ? page.next_cursor : null);
      setLoad({ state: "idle" });
      stickToBottom.current = true;
    } catch (error) {
      if (ticket !== loadTicket.current) return;
      if (error instanceof ApiError && error.status === 404) {
        setLoad({ state: "idle" });
        setNotice("That conversation doesn't exist any more.");
        propsRef.current.onMissing();
        return;
      }
      setLoad({ state: "error", message: errorText(error) });
    }
  }, []);

  useEffect(() => {
    if (conversationId && conversationId === startedHere.current && !focus) return;
    // Another conversation: a reply still streaming here finishes and is stored server-side.
    abort.current?.abort();
    abort.current = null;
    setStreaming(false);
    startedHere.current = null;
    if (conversationId) {
      setNotice(null);
      void loadMessages(conversationId, focus?.seq);
      setModel(null);
      api.get(conversationId).then(
        (c) => setModel(c.model),
        () => {}, // loadMessages reports a missing conversation
      );
    } else {
      loadTicket.current++;
      setMessages([]);
      setOlderCursor(null);
      setLoad({ state: "idle" });
    }
  }, [conversationId, focus, loadMessages]);

  useEffect(() => () => abort.current?.abort(), []);

  // Bring a search result into view once its page is on screen.
  const focused = useRef<number | null>(null);
  useEffect(() => {
    if (!focus || focused.current === focus.at) return;
    const el = scroller.current?.querySelector(`[data-seq="${focus.seq}"]`);
    if (!el) return;
    focused.current = focus.at;
    stickToBottom.current = false;
    el.scrollIntoView({ block: "center" });
  });

  const [regenerating, setRegenerating] = useState(false);
  /** Regenerate the last reply: the old one stays as an earlier version. */
  const regenerate = async (reply: ChatMessage) => {
    if (!conversationId || !reply.id || streaming || regenerating) return;
    setRegenerating(true);
    setNotice(null);
    try {
      const res = await api.regenerate(conversationId, reply.id);
      await loadMessages(conversationId);
      const effects = res.previous_effects.map((e) => e.summary);
      setMessages((current) =>
        current.map((m) => (m.key === res.message_id ? { ...m, effects } : m)),
      );
      propsRef.current.onTasksChanged();
    } catch (error) {
      setNotice(errorText(error));
    } finally {
      setRegenerating(false);
    }
  };

  // Follow the conversation as it grows, unless the reader scrolled up.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && stickToBottom.current) el.scrollTop = el.scrollHeight;
  });

  const onScroll = () => {
    const el = scroller.current;
    if (el) stickToBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
  };

  const loadOlder = async () => {
    if (!conversationId || olderCursor === null) return;
    const el = scroller.current;
    const before = el ? el.scrollHeight - el.scrollTop : 0;
    try {
      const page = await api.messages(conversationId, olderCursor);
      stickToBottom.current = false;
      setMessages((current) => [
        ...storedList(page.items).filter((m) => !current.some((c) => c.key === m.key)),
        ...current,
      ]);
      setOlderCursor(typeof page.next_cursor === "number" ? page.next_cursor : null);
      requestAnimationFrame(() => {
        if (el) el.scrollTop = el.scrollHeight - before;
      });
    } catch (error) {
      setNotice(errorText(error));
    }
  };

  const send = async (text: string, clientMessageId = uuid(), userKey?: string) => {
    const message = text.trim();
    if (!message || streaming) return;
    setNotice(null);
    const controller = new AbortController();
    abort.current = controller;
    const replyKey = `reply-${clientMessageId}-${Date.now()}`;
    const ownKey = userKey ?? `user-${clientMessageId}`;
    stickToBottom.current = true;
    setStreaming(true);
    setMessages((current) =>
      withPendingTurn(current, { message, clientMessageId, ownKey, replyKey, isRetry: !!userKey }),
    );
    const patchUser = (patch: Partial<ChatMessage>) =>
      setMessages((current) => current.map((m) => (m.key === ownKey ? { ...m, ...patch } : m)));
    const patchReply = (update: (m: ChatMessage) => ChatMessage) =>
      setMessages((current) => current.map((m) => (m.key === replyKey ? update(m) : m)));

    let tasksChanged = false;
    const toolNames = new Map<string, string>();
    let conversation = conversationId;
    let finished = false;
    const retry = { message, clientMessageId };
    patchUser({ status: "complete", error: undefined, retry: undefined });

    const onChunk = (chunk: UiChunk) => {
      switch (chunk.type) {
        case "start": {
          const id = chunk.messageMetadata?.conversation_id;
          if (typeof id === "string" && id !== conversation) {
            conversation = id;
            startedHere.current = id;
            propsRef.current.onConversationStarted(id);
            propsRef.current.onTurnDone();
          }
          break;
        }
        case "text-delta":
          patchReply((m) => ({ ...m, text: m.text + chunk.delta }));
          break;
        case "tool-input-start":
        case "tool-input-available":
          toolNames.set(chunk.toolCallId, chunk.toolName);
          patchReply((m) => withToolInput(m, chunk));
          break;
        case "tool-output-available":
        case "tool-output-error": {
          const failed =
            chunk.type === "tool-output-error" ||
            (typeof chunk.output === "object" && chunk.output !== null && "error" in chunk.output);
          if (!failed && TASK_CHANGING_TOOLS.has(toolNames.get(chunk.toolCallId) ?? "")) {
            tasksChanged = true;
            // The panel follows the assistant as it works, not only at the end.
            propsRef.current.onTasksChanged();
          }
          patchReply((m) => withToolOutput(m, chunk));
          break;
        }
        case "error":
          patchReply((m) => ({ ...m, error: m.error ?? chunk.errorText }));
          break;
        case "data-error":
          patchReply((m) => ({ ...m, error: chunk.data.detail || chunk.data.title }));
          break;
        case "data-turn":
          finished = true;
          if (tasksChanged && chunk.data.user_message_id) {
            propsRef.current.onTurnChanged?.(chunk.data.user_message_id);
          }
          patchReply((m) => ({
            ...m,
            key: chunk.data.message_id ?? m.key,
            ...(chunk.data.message_id ? { id: chunk.data.message_id } : {}),
            text: chunk.data.response || m.text,
            status: chunk.data.status,
            usage: chunk.data.usage,
            ...(chunk.data.status === "error" ? { retry } : {}),
          }));
          break;
        default:
          break;
      }
    };

    try {
      await streamTurn(
        {
          message,
          conversationId: conversation,
          clientMessageId,
          model: model ?? undefined,
          signal: controller.signal,
        },
        onChunk,
      );
      if (!finished && !controller.signal.aborted) {
        patchReply((m) => ({
          ...m,
          status: "error",
          error: m.error ?? "The reply was cut off. Retry to fetch it: nothing is stored twice.",
          retry,
        }));
      }
    } catch (error) {
      if (controller.signal.aborted) return;
      const detail = errorText(error);
      setMessages((current) => withFailedSend(current, { ownKey, replyKey, detail, retry }));
    } finally {
      if (abort.current === controller) {
        abort.current = null;
        setStreaming(false);
        if (tasksChanged) propsRef.current.onTasksChanged();
        propsRef.current.onTurnDone();
        setUsageVersion((v) => v + 1);
      }
    }
  };

  const submit = () => {
    const text = draft;
    if (!text.trim() || streaming) return;
    setDraft("");
    void send(text);
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      submit();
    }
  };

  // Grow the composer with its text, up to a limit.
  // biome-ignore lint/correctness/useExhaustiveDependencies: re-measure whenever the text changes
  useLayoutEffect(() => {
    const el = composer.current;
    if (!el) return;
    el.style.height = "auto";
    el.style.height = `${Math.min(el.scrollHeight, 200)}px`;
  }, [draft]);

  const heading = conversationId ? (props.title ?? "Conversation") : "New conversation";
  const labels = new Map((choice?.models ?? []).map((m) => [m.id, m.label]));

  const switchModel = async (id: string) => {
    const previous = model;
    setModel(id);
    if (!conversationId) return; // sent with the first message
    try {
      const updated = await api.setModel(conversationId, id);
      setModel(updated.model);
      setNotice(`Replies now come from ${labels.get(id) ?? id}.`);
    } catch (error) {
      setModel(previous);
      setNotice(errorText(error));
    }
  };

  return (
    <section className="panel chat" aria-labelledby="chat-heading">
      <div className="panel-head">
        <h2 id="chat-heading" className="chat-title">
          {heading}
        </h2>
        {choice && (
          <ModelPicker
            choice={choice}
            value={model}
            disabled={streaming}
            onChange={(id) => void switchModel(id)}
          />
        )}
      </div>
      <UsageSummary version={usageVersion} />
      <div className="messages" ref={scroller} onScroll={onScroll}>
        {notice && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        {load.state === "loading" && (
          <p className="empty" role="status">
            <span className="spinner" aria-hidden="true" /> Loading messages…
          </p>
        )}
        {load.state === "error" && (
          <div className="empty">
            <p className="alert" role="alert">
              {load.message}
            </p>
            <button
              type="button"
              className="btn small"
              onClick={() => conversationId && void loadMessages(conversationId)}
            >
              Try again
            </button>
          </div>
        )}
        {load.state === "idle" && messages.length === 0 && (
          <div className="welcome">
            <h2 className="welcome-title">What needs doing?</h2>
            <p className="muted">
              Tell the assistant in your own words. It can add tasks with due dates, priorities,
              lists and labels, and list, complete, reopen, change and delete them.
            </p>
            <ul className="suggestions">
              {SUGGESTIONS.map((s) => (
                <li key={s}>
                  <button
                    type="button"
                    className="chip"
                    onClick={() => {
                      setDraft(s);
                      composer.current?.focus();
                    }}
                  >
                    {s}
                  </button>
                </li>
              ))}
            </ul>
          </div>
        )}
        {olderCursor !== null && (
          <button type="button" className="btn ghost small more" onClick={loadOlder}>
            Show earlier messages
          </button>
        )}
        <div className="message-log" role="log" aria-live="polite" aria-relevant="additions">
          <ol className="message-list">
            {messages.map((m, i) => (
              <MessageItem
                key={m.key}
                message={m}
                labels={labels}
                disabled={streaming || regenerating}
                conversationId={conversationId}
                focused={focus?.seq !== undefined && m.seq === focus.seq}
                onRegenerate={
                  i === messages.length - 1 && m.role === "assistant" && m.id
                    ? () => void regenerate(m)
                    : undefined
                }
                regenerating={regenerating && i === messages.length - 1}
                onRetry={() =>
                  m.retry &&
                  void send(
                    m.retry.message,
                    m.retry.clientMessageId,
                    m.role === "user" ? m.key : userKeyFor(messages, m),
                  )
                }
              />
            ))}
          </ol>
        </div>
      </div>
      <form
        className="composer"
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        <label htmlFor="composer-input" className="sr-only">
          Message the assistant
        </label>
        <textarea
          id="composer-input"
          ref={composer}
          rows={1}
          value={draft}
          maxLength={8000}
          placeholder="Message the assistant…"
          onChange={(e) => setDraft(e.target.value)}
          onKeyDown={onKeyDown}
          aria-describedby="composer-hint"
        />
        <button
          type="submit"
          className="btn primary send"
          disabled={streaming || !draft.trim()}
          aria-label="Send message"
        >
          {streaming ? <span className="spinner light" aria-hidden="true" /> : <SendIcon />}
        </button>
        <p id="composer-hint" className="hint composer-hint">
          Enter to send · Shift+Enter for a new line
        </p>
      </form>
    </section>
  );
}

/** The user message a failed reply answers (the one just before it). */
function userKeyFor(messages: ChatMessage[], reply: ChatMessage): string | undefined {
  const index = messages.indexOf(reply);
  for (let i = index - 1; i >= 0; i--) {
    if (messages[i]?.role === "user") return messages[i]?.key;
  }
  return undefined;
}

function MessageItem(props: {
  message: ChatMessage;
  labels: Map<string, string>;
  disabled: boolean;
  onRetry: () => void;
  conversationId: string | null;
  focused: boolean;
  onRegenerate: (() => void) | undefined;
  regenerating: boolean;
}) {
  const current = props.message;
  const versions = [...(current.versions ?? []), current];
  // Which answer is shown: the current one (the last), or an earlier one (Regenerate).
  const [shown, setShown] = useState<number | null>(null);
  const index = Math.min(shown ?? versions.length - 1, versions.length - 1);
  const m = versions[index] ?? current;
  const [contextOpen, setContextOpen] = useState(false);
  const thinking = m.status === "streaming" && !m.text && m.tools.length === 0;
  const stored = m.role === "assistant" && m.id && props.conversationId;
  return (
    <li
      className={`message ${m.role}${m.status === "failed" ? " failed" : ""}${props.focused ? " search-focus" : ""}`}
      data-seq={current.seq}
    >
      <span className="sr-only">{m.role === "user" ? "You:" : "Assistant:"}</span>
      {m.tools.length > 0 && (
        <ul className="tools" aria-label="Actions">
          {m.tools.map((tool) => {
            const summary = toolSummary(tool);
            return (
              <li
                key={tool.id}
                className={`tool ${summary.ok === null ? "running" : summary.ok ? "ok" : "bad"}`}
              >
                {summary.ok === null ? (
                  <span className="spinner tiny" aria-hidden="true" />
                ) : (
                  <span className="tool-mark" aria-hidden="true">
                    {summary.ok ? "✓ " : "✗ "}
                  </span>
                )}
                {summary.ok === false && <span className="sr-only">Failed: </span>}
                <span className="tool-text">{summary.text}</span>
              </li>
            );
          })}
        </ul>
      )}
      {(m.text || thinking) && (
        <div className="bubble">
          {thinking ? (
            <span className="typing" role="status" aria-label="The assistant is replying">
              <span />
              <span />
              <span />
            </span>
          ) : (
            m.text
          )}
          {m.status === "streaming" && m.text && <span className="caret" aria-hidden="true" />}
        </div>
      )}
      {m.role === "assistant" && m.usage && (
        <ReplyUsage usage={m.usage} label={props.labels.get(m.usage.model ?? "")} />
      )}
      {m.status === "truncated" && <p className="note">The reply was cut short.</p>}
      {index === versions.length - 1 && current.effects && (
        <p className="note" role="status">
          {current.effects.length === 0
            ? "The previous answer changed nothing."
            : `The previous answer had already done this (not done again): ${current.effects.join("; ")}`}
        </p>
      )}
      {stored && (
        <div className="reply-tools">
          {versions.length > 1 && (
            <span className="versions">
              <button
                type="button"
                className="link"
                disabled={index === 0}
                aria-label="Previous answer"
                onClick={() => setShown(index - 1)}
              >
                ‹
              </button>
              <span aria-live="polite">
                Answer {index + 1}/{versions.length}
              </span>
              <button
                type="button"
                className="link"
                disabled={index === versions.length - 1}
                aria-label="Next answer"
                onClick={() => setShown(index + 1)}
              >
                ›
              </button>
            </span>
          )}
          <button
            type="button"
            className="link"
            aria-expanded={contextOpen}
            onClick={() => setContextOpen((open) => !open)}
          >
            Context
          </button>
          {props.onRegenerate && index === versions.length - 1 && (
            <button
              type="button"
              className="link"
              disabled={props.disabled}
              onClick={props.onRegenerate}
            >
              {props.regenerating ? "Regenerating…" : "Regenerate"}
            </button>
          )}
        </div>
      )}
      {stored && contextOpen && m.id && props.conversationId && (
        <ContextPanel conversationId={props.conversationId} messageId={m.id} />
      )}
      {(m.error || m.status === "error") && (
        <div className="note error" role="alert">
          <span>{m.error ?? "The assistant could not finish this reply."}</span>
          {m.retry && (
            <button
              type="button"
              className="link"
              disabled={props.disabled}
              onClick={props.onRetry}
            >
              Retry
            </button>
          )}
        </div>
      )}
    </li>
  );
}

// ---- what a send does to the message list (pure: each returns the new list or message) ----

/** The user's message (unless it is a retry of one shown already) and an empty reply. */
function withPendingTurn(
  current: ChatMessage[],
  t: {
    message: string;
    clientMessageId: string;
    ownKey: string;
    replyKey: string;
    isRetry: boolean;
  },
): ChatMessage[] {
  const reply: ChatMessage = {
    key: t.replyKey,
    role: "assistant",
    text: "",
    tools: [],
    status: "streaming",
  };
  if (t.isRetry) {
    // A retry keeps its user message and drops the failed reply after it.
    const kept = current.filter(
      (m) => !(m.retry?.clientMessageId === t.clientMessageId && m.role === "assistant"),
    );
    return [...kept, reply];
  }
  const own: ChatMessage = {
    key: t.ownKey,
    role: "user",
    text: t.message,
    tools: [],
    status: "complete",
  };
  return [...current, own, reply];
}

type ToolInputChunk = Extract<UiChunk, { type: "tool-input-start" | "tool-input-available" }>;
type ToolOutputChunk = Extract<UiChunk, { type: "tool-output-available" | "tool-output-error" }>;

function withToolInput(m: ChatMessage, chunk: ToolInputChunk): ChatMessage {
  const existing = m.tools.find((t) => t.id === chunk.toolCallId);
  const input = chunk.type === "tool-input-available" ? chunk.input : existing?.input;
  const tool: ToolView = {
    id: chunk.toolCallId,
    name: chunk.toolName,
    input,
    state: existing?.state ?? "running",
    ...(existing?.output !== undefined ? { output: existing.output } : {}),
  };
  return {
    ...m,
    tools: existing ? m.tools.map((t) => (t.id === tool.id ? tool : t)) : [...m.tools, tool],
  };
}

function withToolOutput(m: ChatMessage, chunk: ToolOutputChunk): ChatMessage {
  return {
    ...m,
    tools: m.tools.map((t) => {
      if (t.id !== chunk.toolCallId) return t;
      return chunk.type === "tool-output-available"
        ? { ...t, state: "done", output: chunk.output }
        : { ...t, state: "error", errorText: chunk.errorText };
    }),
  };
}

/**
 * A send that failed: a reply that already shows something keeps it, marked failed; with
 * nothing streamed the send failed as a whole — keep the text and offer to repeat it.
 */
function withFailedSend(
  current: ChatMessage[],
  f: { ownKey: string; replyKey: string; detail: string; retry: ChatMessage["retry"] },
): ChatMessage[] {
  const reply = current.find((m) => m.key === f.replyKey);
  if (reply && (reply.text || reply.tools.length > 0)) {
    return current.map((m) =>
      m.key === f.replyKey ? { ...m, status: "error", error: f.detail, retry: f.retry } : m,
    );
  }
  return current
    .filter((m) => m.key !== f.replyKey)
    .map((m) =>
      m.key === f.ownKey ? { ...m, status: "failed", error: f.detail, retry: f.retry } : m,
    );
}
