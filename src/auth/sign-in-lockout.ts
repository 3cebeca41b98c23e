import { createHash } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { type Db, rowsOf } from "../db/client.ts";
import { signInFailures } from "../db/schema.ts";

/**
 * Per-account sign-in throttling, shared by every instance through the database.
 *
 * Every attempt is counted BEFORE the password is checked, and a successful sign-in
 * clears the count: so concurrent guesses cannot all slip through while the first ones
 * are still being verified (the count is one atomic upsert). From the `maxFailures`-th
 * unsuccessful attempt on, the account is locked for a backoff that doubles with each
 * further attempt (30 s, 60 s, 120 s … up to 15 min); attempts during a lock are refused
 * without being counted. A streak is forgotten once no attempt came for WINDOW_S.
 * Unknown e-mails are counted exactly like known ones, so the lockout reveals nothing.
 */
export interface LockoutPolicy {
  maxFailures: number;
}

export type AttemptOutcome = { kind: "allowed" } | { kind: "locked"; retryAfterSeconds: number };

const BASE_LOCK_S = 30;
const MAX_LOCK_S = 15 * 60;
/** A streak with no attempt for this long starts over (longer than the longest lock). */
const WINDOW_S = 30 * 60;

/** The stored key: a hash of the normalised e-mail, so the table holds no addresses. */
export function lockoutKey(email: string): string {
  return createHash("sha256").update(email.trim().toLowerCase()).digest("base64url");
}

/** How long the lock after `failures` attempts lasts, in SQL (failures ≥ maxFailures). */
const lockSeconds = (failures: unknown, maxFailures: number) =>
  sql`least(${BASE_LOCK_S} * power(2, greatest(${failures} - ${maxFailures}, 0)), ${MAX_LOCK_S})`;

/**
 * Counts one sign-in attempt for `email`, unless the account is locked: then the attempt
 * is refused and not counted. One statement, so concurrent attempts serialise on the row.
 */
export async function beginSignInAttempt(
  db: Db,
  email: string,
  policy: LockoutPolicy,
): Promise<AttemptOutcome> {
  const key = lockoutKey(email);
  const max = policy.maxFailures;
  const locked = sql`(f.failures >= ${max} and f.last_attempt_at + make_interval(secs => ${lockSeconds(sql`f.failures`, max)}) > now())`;
  const counted = await db.execute(sql`
    insert into ${signInFailures} as f (key, failures, last_attempt_at)
    values (${key}, 1, now())
    on conflict (key) do update set
      failures = case
        when f.last_attempt_at < now() - make_interval(secs => ${WINDOW_S}) then 1
        else f.failures + 1
      end,
      last_attempt_at = now()
    where not ${locked}
    returning f.failures`);
  if (rowsOf(counted).length > 0) {
    if (Math.random() < PRUNE_PROBABILITY) await pruneStale(db);
    return { kind: "allowed" };
  }
  const remaining = await db.execute(sql`
    select ceil(extract(epoch from f.last_attempt_at + make_interval(secs => ${lockSeconds(sql`f.failures`, max)}) - now()))::int as seconds
    from ${signInFailures} as f where f.key = ${key}`);
  const seconds = Number(rowsOf<{ seconds: number }>(remaining)[0]?.seconds ?? 1);
  return { kind: "locked", retryAfterSeconds: Math.max(1, seconds) };
}

/** A successful sign-in: the account's streak is over. */
export async function clearSignInFailures(db: Db, email: string): Promise<void> {
  await db.delete(signInFailures).where(eq(signInFailures.key, lockoutKey(email)));
}

/** Rows of finished streaks (mostly unknown e-mails) are removed now and then. */
const PRUNE_PROBABILITY = 0.02;

async function pruneStale(db: Db): Promise<void> {
  await db.execute(
    sql`delete from ${signInFailures} where last_attempt_at < now() - make_interval(secs => ${WINDOW_S})`,
  );
}
