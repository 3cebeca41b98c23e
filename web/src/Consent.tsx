import { useEffect, useState } from "react";
import { api, errorText, type User } from "./api.ts";
import { Logo } from "./icons.tsx";

/** What each scope lets the connected app do, in the user's words. */
const SCOPE_TEXT: Record<string, string> = {
  "tasks:read": "See your tasks and lists",
  "tasks:write": "Add, change, complete and delete your tasks",
  offline_access: "Stay connected without asking you again each hour",
};

/** The parameters Better Auth signs onto the consent page's URL (not the client's). */
const SIGNATURE_PARAMS = ["sig", "exp", "ba_iat", "ba_param", "ba_pl"];

/** The authorization request as the client sent it: to start over once signed in. */
export function authorizeUrl(search: string): string {
  const params = new URLSearchParams(search);
  for (const name of SIGNATURE_PARAMS) params.delete(name);
  return `/api/auth/oauth2/authorize?${params.toString()}`;
}

/**
 * The OAuth consent screen (MCP connectors: claude.ai, ChatGPT, LibreChat…): which app asks,
 * for what, as whom; Allow, Allow read-only (when writing was asked), or Deny. The answer
 * goes to Better Auth's /oauth2/consent with the signed query; the browser then goes back
 * to the app with a code (or an access_denied error).
 */
export function ConsentScreen(props: { user: User; onSignOut: () => void }) {
  const search = location.search;
  const params = new URLSearchParams(search);
  const clientId = params.get("client_id") ?? "";
  const requested = (params.get("scope") ?? "").split(" ").filter(Boolean);
  // Where the answer goes: the one thing a look-alike app cannot fake (its name it can).
  const redirect = params.get("redirect_uri");
  const returnsTo = redirect && URL.canParse(redirect) ? new URL(redirect).host : null;
  const [clientName, setClientName] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!clientId) return;
    api<{ client_name?: string }>(
      "GET",
      `/api/auth/oauth2/public-client?client_id=${encodeURIComponent(clientId)}`,
    )
      .then((client) => setClientName(client.client_name || null))
      .catch(() => setClientName(null));
  }, [clientId]);

  const answer = async (accept: boolean, scope?: string[]) => {
    setBusy(true);
    setError(null);
    try {
      const result = await api<{ redirect_uri?: string; url?: string }>(
        "POST",
        "/api/auth/oauth2/consent",
        {
          accept,
          oauth_query: search.replace(/^\?/, ""),
          ...(scope ? { scope: scope.join(" ") } : {}),
        },
      );
      const target = result.redirect_uri ?? result.url;
      if (!target) throw new Error("The server did not say where to go next.");
      location.assign(target);
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  };

  const name = clientName ?? "An application";
  const canWrite = requested.includes("tasks:write");
  const readOnly = requested.filter((scope) => scope !== "tasks:write");

  return (
    <main className="auth">
      <div className="auth-card card consent">
        <div className="brand">
          <Logo />
          <span>Tasktalk</span>
        </div>
        <h1>Connect {name}?</h1>
        {!clientId ? (
          <p className="alert" role="alert">
            This page is opened by an app asking to connect to Tasktalk; it was opened without one.
          </p>
        ) : (
          <>
            <p className="muted">
              <strong>{name}</strong> is asking to use your Tasktalk account ({props.user.email}
              ). It will be able to:
            </p>
            <ul className="consent-scopes">
              {requested.map((scope) => (
                <li key={scope}>{SCOPE_TEXT[scope] ?? scope}</li>
              ))}
            </ul>
            <p className="muted">
              {returnsTo ? (
                <>
                  You will be sent back to <strong>{returnsTo}</strong>.{" "}
                </>
              ) : null}
              Only allow apps you trust.
            </p>
            {error && (
              <p className="alert" role="alert">
                {error}
              </p>
            )}
            <div className="consent-actions">
              <button
                type="button"
                className="btn primary"
                disabled={busy}
                onClick={() => void answer(true)}
              >
                Allow
              </button>
              {canWrite && (
                <button
                  type="button"
                  className="btn"
                  disabled={busy}
                  onClick={() => void answer(true, readOnly)}
                >
                  Allow read-only
                </button>
              )}
              <button
                type="button"
                className="btn ghost"
                disabled={busy}
                onClick={() => void answer(false)}
              >
                Deny
              </button>
            </div>
          </>
        )}
        <p className="switch">
          Not {props.user.email}?{" "}
          <button type="button" className="link" onClick={props.onSignOut}>
            Sign in as someone else
          </button>
        </p>
      </div>
    </main>
  );
}
