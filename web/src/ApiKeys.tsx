import { useCallback, useEffect, useId, useRef, useState } from "react";
import { type ApiKey, type CreatedApiKey, errorText, apiKeys as keysApi } from "./api.ts";

const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : "never");

/**
 * Personal API keys: the list (name, created, last used), a form to create one — its
 * secret shown this once, with a Copy button — and revoking with a confirmation step.
 */
export function ApiKeysPanel(props: { onClose: () => void }) {
  const [keys, setKeys] = useState<ApiKey[] | null>(null);
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<CreatedApiKey | null>(null);
  const [copied, setCopied] = useState(false);
  const [confirming, setConfirming] = useState<string | null>(null);
  const nameId = useId();
  const secretId = useId();
  const secretRef = useRef<HTMLInputElement>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);

  const load = useCallback(async () => {
    try {
      setKeys((await keysApi.list()).items);
    } catch (error) {
      setMessage({ text: errorText(error), error: true });
    }
  }, []);

  useEffect(() => {
    void load();
    headingRef.current?.focus();
  }, [load]);

  useEffect(() => {
    if (created) secretRef.current?.select();
  }, [created]);

  const create = async (event: React.FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setMessage(null);
    setCopied(false);
    try {
      const key = await keysApi.create(name);
      setCreated(key);
      setName("");
      await load();
    } catch (error) {
      setMessage({ text: errorText(error), error: true });
    } finally {
      setBusy(false);
    }
  };

  const copy = async () => {
    if (!created) return;
    try {
      await navigator.clipboard.writeText(created.key);
      setCopied(true);
    } catch {
      // No clipboard (a plain-http origin): the field is selected for Ctrl+C instead.
      secretRef.current?.select();
      setMessage({ text: "Copying is not allowed here: press Ctrl+C (⌘C) instead.", error: false });
    }
  };

  const revoke = async (key: ApiKey) => {
    setBusy(true);
    setMessage(null);
    try {
      await keysApi.revoke(key.id);
      setConfirming(null);
      if (created?.id === key.id) setCreated(null);
      setMessage({ text: `Revoked “${key.name}”: it no longer works.`, error: false });
      await load();
    } catch (error) {
      setMessage({ text: errorText(error), error: true });
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="admin-page api-keys" aria-labelledby={`${nameId}-h`}>
      <div className="admin-head">
        <h1 id={`${nameId}-h`} ref={headingRef} tabIndex={-1}>
          API keys
        </h1>
        <button type="button" className="btn ghost small" onClick={props.onClose}>
          Back to chat
        </button>
      </div>
      <p className="muted">
        A key lets a script or another app use your tasks through the REST API or MCP, sent as{" "}
        <code>Authorization: Bearer tt_…</code>. Revoke a key you no longer use.
      </p>
      <form className="api-key-form" onSubmit={(e) => void create(e)}>
        <label htmlFor={nameId}>Name of a new key</label>
        <input
          id={nameId}
          value={name}
          maxLength={100}
          required
          placeholder="e.g. laptop script"
          onChange={(e) => setName(e.target.value)}
        />
        <button type="submit" className="btn primary small" disabled={busy || !name.trim()}>
          Create key
        </button>
      </form>
      {created && (
        <div className="api-key-secret notice" role="status">
          <p>
            <strong>Key “{created.name}” created.</strong> Copy it now: you won't see it again.
          </p>
          <label htmlFor={secretId}>New API key</label>
          <div className="api-key-secret-row">
            <input id={secretId} ref={secretRef} readOnly value={created.key} spellCheck={false} />
            <button type="button" className="btn small" onClick={() => void copy()}>
              {copied ? "Copied" : "Copy"}
            </button>
            <button type="button" className="btn ghost small" onClick={() => setCreated(null)}>
              Done
            </button>
          </div>
        </div>
      )}
      {message && (
        <p className={message.error ? "alert" : "notice"} role={message.error ? "alert" : "status"}>
          {message.text}
        </p>
      )}
      {keys === null ? (
        <p role="status">Loading…</p>
      ) : keys.length === 0 ? (
        <p>No API keys yet.</p>
      ) : (
        <table className="admin-users">
          <caption className="sr-only">Your API keys</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Key</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {keys.map((key) => (
              <tr key={key.id} data-key={key.name}>
                <td>{key.name}</td>
                <td>
                  <code>{key.prefix}…</code>
                </td>
                <td>{when(key.created_at)}</td>
                <td>{when(key.last_used_at)}</td>
                <td>
                  {confirming === key.id ? (
                    <div className="admin-actions">
                      <span>Revoke “{key.name}”? Apps using it stop working.</span>
                      <button
                        type="button"
                        className="btn small danger"
                        disabled={busy}
                        ref={(el) => el?.focus()}
                        onClick={() => void revoke(key)}
                      >
                        Yes, revoke
                      </button>
                      <button
                        type="button"
                        className="btn small"
                        onClick={() => setConfirming(null)}
                      >
                        Cancel
                      </button>
                    </div>
                  ) : (
                    <button
                      type="button"
                      className="btn small"
                      aria-label={`Revoke ${key.name}`}
                      onClick={() => setConfirming(key.id)}
                    >
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}
