import { useEffect, useState } from "react";
import { conversations as api, type ContextManifest, errorText } from "./api.ts";

// Issue 19: what the model was given for a reply (the context manifest), shown on demand.

type State =
  | { state: "loading" }
  | { state: "error"; message: string }
  | { state: "ready"; context: ContextManifest | null };

const ranges = (seqs: [number, number][]) =>
  seqs.map(([a, b]) => (a === b ? `${a}` : `${a}–${b}`)).join(", ") || "none";

export function ContextPanel(props: { conversationId: string; messageId: string }) {
  const [load, setLoad] = useState<State>({ state: "loading" });
  useEffect(() => {
    let live = true;
    setLoad({ state: "loading" });
    api
      .context(props.conversationId, props.messageId)
      .then((res) => live && setLoad({ state: "ready", context: res.context }))
      .catch((error: unknown) => live && setLoad({ state: "error", message: errorText(error) }));
    return () => {
      live = false;
    };
  }, [props.conversationId, props.messageId]);

  if (load.state === "loading") {
    return (
      <p className="context-panel muted" role="status">
        Loading what the model was given…
      </p>
    );
  }
  if (load.state === "error") {
    return (
      <p className="context-panel alert" role="alert">
        {load.message}
      </p>
    );
  }
  const c = load.context;
  if (!c) return <p className="context-panel muted">No context was recorded for this reply.</p>;
  return (
    <section className="context-panel" aria-label="What the model was given">
      <dl>
        <dt>Model</dt>
        <dd>
          {c.model} · prompt {c.system_prompt.version} ({c.system_prompt.chars} characters)
        </dd>
        <dt>Messages</dt>
        <dd>
          seq {ranges(c.window.seqs)} · {c.window.messages} messages, ~{c.window.tokens_estimate}{" "}
          tokens
        </dd>
        <dt>Tools</dt>
        <dd>
          {c.tools.count}: {c.tools.names.join(", ")}
        </dd>
        {c.earlier_tool_calls.count > 0 && (
          <>
            <dt>Already done</dt>
            <dd>{c.earlier_tool_calls.count} tool calls of this turn shown again</dd>
          </>
        )}
        {c.note && (
          <>
            <dt>Note</dt>
            <dd>told what the previous answer did ({c.note.chars} characters)</dd>
          </>
        )}
        <dt>Usage</dt>
        <dd>
          {c.usage.input_tokens ?? "?"} in · {c.usage.output_tokens ?? "?"} out (provider's count)
        </dd>
      </dl>
      <table className="context-parts">
        <caption className="sr-only">Each message given</caption>
        <thead>
          <tr>
            <th scope="col">seq</th>
            <th scope="col">who</th>
            <th scope="col">characters</th>
            <th scope="col">~tokens</th>
          </tr>
        </thead>
        <tbody>
          {c.parts.map((p) => (
            <tr key={p.id}>
              <td>{p.seq}</td>
              <td>{p.role}</td>
              <td>{p.chars}</td>
              <td>{p.tokens_estimate}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="hint">Token counts per message are estimates ({c.token_estimate}).</p>
    </section>
  );
}
