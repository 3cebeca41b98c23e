/** What every storage pattern of B1 shares: the message texts and the one task tool write. */
import type { Sql } from "../lib/sql.ts";

export const USER_TEXT = "add a task to buy milk on the way home #tool";
export const ASSISTANT_TEXT = "Done: I added it to your list, and it is waiting for you there.";
export const TOOL_CALL = {
  id: "call_bench",
  name: "add_task",
  arguments: { title: "bench task" },
  result: { task_id: 0, status: "created", title: "bench task" },
};

/**
 * The tool's write: Tasktalk's insertTask statement (counter upsert + insert, one
 * statement). Every pattern, floor and peers, issues this same statement.
 */
export async function toolWrite(sql: Sql, userId: string): Promise<number> {
  const [row] = await sql.query<{ number: number }>(
    `with counter as (
       insert into task_counters (user_id, last_number) values ($1, 1)
       on conflict (user_id) do update set last_number = task_counters.last_number + 1
       returning last_number)
     insert into tasks (user_id, number, title, description)
     values ($1, (select last_number from counter), $2, '')
     returning number`,
    [userId, "bench task"],
  );
  return row?.number ?? 0;
}

/**
 * The turn's authentication: a bearer session token resolved to its user in one query,
 * Tasktalk's own statement (src/auth/request-user.ts). BENCHMARKS.md counts it in a turn
 * (authenticate, window read, user insert, tool write, assistant insert), so the floor and
 * every peer issue it too.
 */
export async function authenticate(sql: Sql, token: string): Promise<string> {
  const [row] = await sql.query<{ id: string; expires_at: Date }>(
    `select "user".id, session.expires_at from session
     inner join "user" on "user".id = session.user_id where session.token = $1`,
    [token],
  );
  if (!row || new Date(row.expires_at).getTime() <= Date.now()) {
    throw new Error("bench: session not found or expired");
  }
  return row.id;
}

/** One storage pattern: one turn's storage work for a conversation of `length` messages. */
export interface StoragePattern {
  readonly name: string;
  turn(length: number): Promise<void>;
  /** Back to the seeded conversation (between rounds, not timed). */
  reset(): Promise<void>;
}
