/** What the seeded benchmark database contains, and the deterministic ids of its rows. */
import { createHash } from "node:crypto";

/**
 * How much data a run seeds. The full scale is what BENCHMARKS.md asks for; the smoke
 * scale (`npm run bench -- --smoke`) exercises every code path in seconds, and its figures
 * mean nothing.
 */
export interface Scale {
  /** Conversation lengths measured by B1 and B2, shortest first. */
  lengths: readonly number[];
  /** Background: bgUsers users × bgConvs conversations × bgMsgs messages. */
  bgUsers: number;
  bgConvs: number;
  bgMsgs: number;
  /** B3 clients: one user each (own session, own conversation, own task counter). */
  maxClients: number;
}

export const FULL_SCALE: Scale = {
  lengths: [10, 1_000, 10_000],
  bgUsers: 200,
  bgConvs: 10,
  bgMsgs: 100,
  maxClients: 128,
};

export const SMOKE_SCALE: Scale = {
  lengths: [10, 60],
  bgUsers: 2,
  bgConvs: 2,
  bgMsgs: 10,
  maxClients: 4,
};

/** Conversation lengths of the full run (the report's columns). */
export const LENGTHS = FULL_SCALE.lengths;

export const backgroundMessages = (s: Scale) => s.bgUsers * s.bgConvs * s.bgMsgs;

/** B3 conversations start with this many messages. */
export const B3_LENGTH = 10;

/** Bump when the seed changes: a reused database with another fingerprint is rebuilt. */
export const SEED_VERSION = "5";

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
  /** B1: the protocol floor's own copy (it takes leases and seqs as Tasktalk does). */
  pfloor: (n: number) => `pfloor-${n}`,
  /** B3: client i's conversation through the app, and its floor copy. */
  b3app: (i: number) => `b3app-${i}`,
  b3floor: (i: number) => `b3floor-${i}`,
  b3pfloor: (i: number) => `b3pfloor-${i}`,
};

/** Content of seeded message `s` (odd = user, even = assistant), ~100 characters. */
export const SEED_USER_SQL = `'please add a task number ' || s || ' to my list, ' || repeat('lorem ipsum ', 6)`;
export const SEED_ASSISTANT_SQL = `'Added task ' || s || ' to your list. ' || repeat('dolor sit amet ', 5)`;
/** Seeded rows are dated 2000-01-01 + s ms: anything a benchmark adds is later. */
export const SEED_TIME_SQL = `timestamp '2000-01-01' + s * interval '1 millisecond'`;
export const SEED_CUTOFF = "2001-01-01";
