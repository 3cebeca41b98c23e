import { useCallback, useEffect, useState } from "react";
import { type AdminUser, admin as adminApi, errorText } from "./api.ts";

/**
 * The admin page: every account with its usage, and what an admin may do to one —
 * disable or re-enable, end its sessions, change its role, delete it with all its data.
 * It shows counts only: an admin never sees another user's tasks or conversations.
 */
export function AdminPanel(props: { selfId: string; onClose: () => void }) {
  const [users, setUsers] = useState<AdminUser[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      const page = await adminApi.users();
      setUsers(page.items);
      setCursor(page.next_cursor ? String(page.next_cursor) : null);
    } catch (error) {
      setMessage({ text: errorText(error), error: true });
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  const more = async () => {
    if (!cursor) return;
    const page = await adminApi.users(cursor);
    setUsers((current) => [...(current ?? []), ...page.items]);
    setCursor(page.next_cursor ? String(page.next_cursor) : null);
  };

  const act = async (user: AdminUser, work: () => Promise<AdminUser | string | undefined>) => {
    setBusy(user.id);
    setMessage(null);
    try {
      const result = await work();
      if (typeof result === "string") {
        setMessage({ text: result, error: false });
        setUsers((current) =>
          (current ?? []).filter((u) => u.id !== user.id || result !== "deleted"),
        );
      } else if (result) {
        setUsers((current) => (current ?? []).map((u) => (u.id === result.id ? result : u)));
      }
    } catch (error) {
      setMessage({ text: errorText(error), error: true });
    } finally {
      setBusy(null);
    }
  };

  return (
    <section className="admin-page" aria-label="Administration">
      <div className="admin-head">
        <h1>Users</h1>
        <button type="button" className="btn ghost small" onClick={props.onClose}>
          Back to chat
        </button>
      </div>
      {message && (
        <p className={message.error ? "alert" : "notice"} role={message.error ? "alert" : "status"}>
          {message.text}
        </p>
      )}
      {users === null ? (
        <p role="status">Loading…</p>
      ) : (
        <table className="admin-users">
          <thead>
            <tr>
              <th scope="col">User</th>
              <th scope="col">Role</th>
              <th scope="col">Status</th>
              <th scope="col">Tasks</th>
              <th scope="col">Chats</th>
              <th scope="col">Turns today</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {users.map((user) => {
              const self = user.id === props.selfId;
              const disabled = busy === user.id || self;
              return (
                <tr key={user.id} data-user={user.email}>
                  <td>
                    <div>{user.name}</div>
                    <div className="muted">{user.email}</div>
                  </td>
                  <td>{user.role}</td>
                  <td>{user.banned ? "disabled" : "active"}</td>
                  <td>{user.usage.tasks}</td>
                  <td>{user.usage.conversations}</td>
                  <td>{user.usage.turns_today}</td>
                  <td>
                    <div className="admin-actions">
                      {user.banned ? (
                        <button
                          type="button"
                          className="btn small"
                          disabled={disabled}
                          onClick={() => void act(user, () => adminApi.unban(user.id))}
                        >
                          Enable
                        </button>
                      ) : (
                        <button
                          type="button"
                          className="btn small"
                          disabled={disabled}
                          onClick={() => void act(user, () => adminApi.ban(user.id))}
                        >
                          Disable
                        </button>
                      )}
                      <button
                        type="button"
                        className="btn small"
                        disabled={busy === user.id}
                        onClick={() =>
                          void act(user, async () => {
                            const { sessions_revoked } = await adminApi.revokeSessions(user.id);
                            return `${user.email}: ${sessions_revoked} session(s) ended`;
                          })
                        }
                      >
                        Sign out everywhere
                      </button>
                      <button
                        type="button"
                        className="btn small"
                        disabled={disabled}
                        onClick={() =>
                          void act(user, () =>
                            adminApi.setRole(user.id, user.role === "admin" ? "user" : "admin"),
                          )
                        }
                      >
                        {user.role === "admin" ? "Make user" : "Make admin"}
                      </button>
                      <button
                        type="button"
                        className="btn small danger"
                        disabled={disabled}
                        onClick={() => {
                          if (
                            !confirm(
                              `Delete ${user.email} and all their data? This cannot be undone.`,
                            )
                          )
                            return;
                          void act(user, async () => {
                            await adminApi.remove(user.id);
                            return "deleted";
                          });
                        }}
                      >
                        Delete
                      </button>
                    </div>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {cursor && (
        <button type="button" className="btn small" onClick={() => void more()}>
          Show more
        </button>
      )}
    </section>
  );
}
