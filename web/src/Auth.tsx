import { type FormEvent, useId, useState } from "react";
import { auth, errorText, type User } from "./api.ts";
import { Logo } from "./icons.tsx";

export function AuthScreen(props: { notice?: string; onSignedIn: (user: User) => void }) {
  const [mode, setMode] = useState<"sign-in" | "sign-up">("sign-in");
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const id = useId();
  const signUp = mode === "sign-up";

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const result = signUp
        ? await auth.signUp(name.trim(), email.trim(), password)
        : await auth.signIn(email.trim(), password);
      props.onSignedIn(result.user);
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  };

  const switchTo = (next: "sign-in" | "sign-up") => {
    setMode(next);
    setError(null);
  };

  return (
    <main className="auth">
      <div className="auth-card card">
        <div className="brand">
          <Logo />
          <span>Tasktalk</span>
        </div>
        <h1>{signUp ? "Create your account" : "Welcome back"}</h1>
        <p className="muted">
          {signUp
            ? "Manage your to-do list by chatting with an assistant."
            : "Sign in to pick up where you left off."}
        </p>
        {props.notice && !error && (
          <p className="notice" role="status">
            {props.notice}
          </p>
        )}
        <form onSubmit={submit} noValidate={false}>
          {signUp && (
            <div className="field">
              <label htmlFor={`${id}-name`}>Name</label>
              <input
                id={`${id}-name`}
                name="name"
                autoComplete="name"
                required
                value={name}
                onChange={(e) => setName(e.target.value)}
              />
            </div>
          )}
          <div className="field">
            <label htmlFor={`${id}-email`}>Email</label>
            <input
              id={`${id}-email`}
              name="email"
              type="email"
              autoComplete="email"
              required
              value={email}
              onChange={(e) => setEmail(e.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor={`${id}-password`}>Password</label>
            <input
              id={`${id}-password`}
              name="password"
              type="password"
              autoComplete={signUp ? "new-password" : "current-password"}
              minLength={signUp ? 8 : undefined}
              required
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              aria-describedby={signUp ? `${id}-password-hint` : undefined}
            />
            {signUp && (
              <p className="hint" id={`${id}-password-hint`}>
                At least 8 characters.
              </p>
            )}
          </div>
          {error && (
            <p className="alert" role="alert">
              {error}
            </p>
          )}
          <button type="submit" className="btn primary block" disabled={busy}>
            {busy ? "Please wait…" : signUp ? "Create account" : "Sign in"}
          </button>
        </form>
        <p className="switch">
          {signUp ? "Already have an account?" : "New to Tasktalk?"}{" "}
          <button
            type="button"
            className="link"
            onClick={() => switchTo(signUp ? "sign-in" : "sign-up")}
          >
            {signUp ? "Sign in" : "Create an account"}
          </button>
        </p>
      </div>
    </main>
  );
}
