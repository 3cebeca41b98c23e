import { useCallback, useEffect, useState } from "react";
import { AuthScreen } from "./Auth.tsx";
import { auth, errorText, setUnauthorizedListener, type User } from "./api.ts";
import { authorizeUrl, ConsentScreen } from "./Consent.tsx";
import { Workspace } from "./Workspace.tsx";

/** The OAuth consent screen's path (the authorize endpoint sends the browser there). */
const CONSENT_PATH = "/oauth/consent";

type Session =
  | { state: "loading" }
  | { state: "error"; message: string }
  | { state: "signed-out"; notice?: string }
  | { state: "signed-in"; user: User };

export function App() {
  const [session, setSession] = useState<Session>({ state: "loading" });

  const load = useCallback(async () => {
    setSession({ state: "loading" });
    try {
      const current = await auth.session();
      setSession(
        current?.user ? { state: "signed-in", user: current.user } : { state: "signed-out" },
      );
    } catch (error) {
      setSession({ state: "error", message: errorText(error) });
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  useEffect(() => {
    setUnauthorizedListener(() =>
      setSession({ state: "signed-out", notice: "Your session has ended. Please sign in again." }),
    );
    return () => setUnauthorizedListener(undefined);
  }, []);

  const signOut = useCallback(async () => {
    try {
      await auth.signOut();
    } catch {
      // Signed out locally all the same: the cookie is the server's to expire.
    }
    if (location.pathname !== CONSENT_PATH) history.replaceState(null, "", location.pathname);
    setSession({ state: "signed-out" });
  }, []);
  const consent = location.pathname === CONSENT_PATH;

  switch (session.state) {
    case "loading":
      return (
        <div className="splash" role="status">
          <span className="spinner" aria-hidden="true" /> Loading Tasktalk…
        </div>
      );
    case "error":
      return (
        <div className="splash">
          <div className="card center">
            <h1>Tasktalk is unavailable</h1>
            <p className="alert" role="alert">
              {session.message}
            </p>
            <button type="button" className="btn primary" onClick={() => void load()}>
              Try again
            </button>
          </div>
        </div>
      );
    case "signed-out":
      return (
        <AuthScreen
          {...(session.notice ? { notice: session.notice } : {})}
          onSignedIn={(user) =>
            // Signing in for an app's authorization request: the request starts over, now
            // as this user (Better Auth then shows the consent screen).
            consent
              ? location.assign(authorizeUrl(location.search))
              : setSession({ state: "signed-in", user })
          }
        />
      );
    case "signed-in":
      if (consent) return <ConsentScreen user={session.user} onSignOut={signOut} />;
      return <Workspace key={session.user.id} user={session.user} onSignOut={signOut} />;
  }
}
