/** What the seeded benchmark database contains, and the deterministic ids of its rows. */
import { createHash } from "node:crypto";

/** Conversation lengths measured by B1 and B2. */
export const LENGTHS = [10, 1_000, 10_000] as const;
export type Length = (typeof LENGTHS)[number];

/** Background: BG_USERS users × BG_CONVS conversations × BG_MSGS messages = 200,000. */
export const BG_USERS = 200;
export const BG_CONVS = 10;
export const BG_MSGS = 100;
export const BACKGROUND_MESSAGES = BG_USERS * BG_CONVS * BG_MSGS;

/** B3 clients: one user each (own session, own conversation, own task counter). */
export const MAX_CLIENTS = 128;
/** B3 conversations start with this many messages. */
export const B3_LENGTH = 10;

/** Bump when the seed changes: a reused database with another fingerprint is rebuilt. */
export const SEED_VERSION = "4";

export const PASSWORD = "correct horse battery";
export const SECRET = "bench-secret-bench-secret-bench-secret-0123";

/** The seed's `bench_uuid(key)`: md5(key) with the v4 version and variant nibbles set. */
export function uuidOf(key: string): string {
  const h = createHash("md5").update(key).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20)}`;
}

export const benchUser = (i: number) => `bench-u${i}`;
export const benchToken = (i: number) => `bench-token-${i}`;

/** Keys (md5 → uuid) of the measured conversations. */
export const convKey = {
  /** B1/B2: user 0's conversation of `n` messages, driven through the app. */
  app: (n: number) => `app-${n}`,
  /** B1: the raw-SQL floor's own copy (the floor allocates seqs itself). */
  floor: (n: number) => `floor-${n}`,
  /** B3: client i's conversation through the app, and its floor copy. */
  b3app: (i: number) => `b3app-${i}`,
  b3floor: (i: number) => `b3floor-${i}`,
};

/** Content of seeded message `s` (odd = user, even = assistant), ~100 characters. */
export const SEED_USER_SQL = `'please add a task number ' || s || ' to my list, ' || repeat('lorem ipsum ', 6)`;
export const SEED_ASSISTANT_SQL = `'Added task ' || s || ' to your list. ' || repeat('dolor sit amet ', 5)`;
/** Seeded rows are dated 2000-01-01 + s ms: anything a benchmark adds is later. */
export const SEED_TIME_SQL = `timestamp '2000-01-01' + s * interval '1 millisecond'`;
export const SEED_CUTOFF = "2001-01-01";
