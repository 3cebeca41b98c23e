import { type FormEvent, useState } from "react";
import { errorText, type SearchHit, search } from "./api.ts";

// Issue 19 item 5: search across chats and tasks. A message result opens its
// conversation at its seq; matched words come marked «…» (shown highlighted).

type State =
  | { state: "idle" }
  | { state: "loading" }
  | { state: "error"; message: string }
  | { state: "ready"; q: string; items: SearchHit[]; cursor: string | null };

export function SearchBox(props: { onOpen: (conversationId: string, seq: number) => void }) {
  const [q, setQ] = useState("");
  const [result, setResult] = useState<State>({ state: "idle" });

  const run = async (event: FormEvent) => {
    event.preventDefault();
    const query = q.trim();
    if (!query) return;
    setResult({ state: "loading" });
    try {
      const page = await search(query);
      setResult({ state: "ready", q: query, items: page.items, cursor: cursorOf(page) });
    } catch (error) {
      setResult({ state: "error", message: errorText(error) });
    }
  };

  const more = async () => {
    if (result.state !== "ready" || !result.cursor) return;
    try {
      const page = await search(result.q, result.cursor);
      setResult({ ...result, items: [...result.items, ...page.items], cursor: cursorOf(page) });
    } catch (error) {
      setResult({ state: "error", message: errorText(error) });
    }
  };

  return (
    <search className="search">
      <form onSubmit={run}>
        <label htmlFor="search-input" className="sr-only">
          Search chats and tasks
        </label>
        <input
          id="search-input"
          type="search"
          value={q}
          maxLength={200}
          placeholder="Search chats and tasks"
          onChange={(e) => setQ(e.target.value)}
        />
      </form>
      {result.state !== "idle" && (
        <section className="search-results" aria-label="Search results">
          <button
            type="button"
            className="link search-close"
            onClick={() => setResult({ state: "idle" })}
          >
            Close
          </button>
          {result.state === "loading" && <p role="status">Searching…</p>}
          {result.state === "error" && <p role="alert">{result.message}</p>}
          {result.state === "ready" && (
            <>
              <p role="status" className="muted">
                {result.items.length === 0 ? `Nothing found for “${result.q}”.` : ""}
              </p>
              <ul>
                {result.items.map((hit) => (
                  <li key={`${hit.type}-${hit.id}`}>
                    {hit.type === "message" && hit.conversation_id && hit.seq !== null ? (
                      <button
                        type="button"
                        className="search-hit"
                        onClick={() => {
                          props.onOpen(hit.conversation_id as string, hit.seq as number);
                          setResult({ state: "idle" });
                        }}
                      >
                        <span className="search-where">
                          {hit.conversation_title} · {hit.role === "user" ? "you" : "assistant"}
                        </span>
                        <Snippet text={hit.snippet} />
                      </button>
                    ) : (
                      <div className="search-hit">
                        <span className="search-where">
                          Task {hit.task_id}
                          {hit.completed ? " · done" : ""}
                        </span>
                        <Snippet text={hit.snippet} />
                      </div>
                    )}
                  </li>
                ))}
              </ul>
              {result.cursor && (
                <button type="button" className="btn ghost small" onClick={() => void more()}>
                  More results
                </button>
              )}
            </>
          )}
        </section>
      )}
    </search>
  );
}

const cursorOf = (page: { next_cursor: string | number | null }) =>
  page.next_cursor === null ? null : String(page.next_cursor);

/** The snippet as text, the words between « and » marked (never HTML from the server). */
function Snippet(props: { text: string }) {
  const pieces = props.text.split(/[«»]/);
  return (
    <span className="search-snippet">
      {pieces.map((piece, i) =>
        // biome-ignore lint/suspicious/noArrayIndexKey: the pieces of one fixed string
        i % 2 === 1 ? <mark key={i}>{piece}</mark> : <span key={i}>{piece}</span>,
      )}
    </span>
  );
}
