import type { RequestContext } from "../context.ts";
import { retryingRead } from "../db/transaction.ts";
import { AppError } from "../errors.ts";
import * as repo from "./search.repository.ts";

export type SearchHit = repo.SearchRow;

/**
 * The caller's messages and tasks that match `q` (websearch syntax: words, "a phrase",
 * -not, or), newest first, a page at a time by an opaque cursor.
 */
export async function searchEverything(
  ctx: RequestContext,
  input: { q: string; limit: number; cursor?: string | undefined },
): Promise<{ items: SearchHit[]; nextCursor: string | null }> {
  const after = input.cursor ? decodeCursor(input.cursor) : undefined;
  const rows = await retryingRead(() =>
    repo.search(ctx.db, { userId: ctx.userId, q: input.q, limit: input.limit + 1, after }),
  );
  const items = rows.slice(0, input.limit);
  const last = items.at(-1);
  const more = rows.length > input.limit && last;
  return { items, nextCursor: more ? encodeCursor(last) : null };
}

function encodeCursor(hit: { at: string; id: string }): string {
  return Buffer.from(JSON.stringify([hit.at, hit.id])).toString("base64url");
}

const AT = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function decodeCursor(cursor: string): { at: string; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown[];
    if (
      typeof at === "string" &&
      AT.test(at) &&
      !Number.isNaN(Date.parse(at)) &&
      typeof id === "string" &&
      UUID.test(id)
    ) {
      return { at, id };
    }
  } catch {
    // fall through
  }
  throw new AppError(
    "validation_failed",
    "The cursor is not valid; use next_cursor from a previous page",
  );
}
