import { type SQL, sql } from "drizzle-orm";
import { type Executor, rowsOf } from "../db/client.ts";

// Search across chats (issue 19 item 5): PostgreSQL full-text search over message text and
// task titles and descriptions, with the 'simple' configuration (no stemming, no stop
// words: it works the same in every language). The match expressions are exactly those of
// the GIN indexes messages_search_idx and tasks_search_idx, so the planner can use them.

/** A hit, newest first; `at` is created_at to the microsecond (the page cursor). */
export interface SearchRow {
  kind: "message" | "task";
  id: string;
  at: string;
  conversation_id: string | null;
  conversation_title: string | null;
  seq: number | null;
  role: string | null;
  task_number: number | null;
  task_title: string | null;
  completed: boolean | null;
  snippet: string;
}

/** ts_headline's marks around matched words (the page shows them highlighted). */
export const MARK_START = "\u00ab";
export const MARK_STOP = "\u00bb";
const HEADLINE = `StartSel=${MARK_START}, StopSel=${MARK_STOP}, MaxWords=20, MinWords=8, MaxFragments=2, FragmentDelimiter=" … "`;
/** Characters of a message or task a snippet is cut from: bounds ts_headline's work. */
const HEADLINE_CHARS = 20_000;

const AT = (column: SQL) =>
  sql`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/**
 * One page of the user's hits, newest first, after the cursor (created_at, id). Only the
 * user's rows; replies replaced by Regenerate and tasks in the trash are left out.
 * Snippets are made for the page's rows only.
 */
export function searchQuery(input: {
  userId: string;
  q: string;
  limit: number;
  after?: { at: string; id: string } | undefined;
}): SQL {
  const query = sql`websearch_to_tsquery('simple', ${input.q})`;
  const afterMessage = input.after
    ? sql`and (m.created_at, m.id::text) < (${input.after.at}::timestamptz, ${input.after.id})`
    : sql``;
  const afterTask = input.after
    ? sql`and (t.created_at, t.id::text) < (${input.after.at}::timestamptz, ${input.after.id})`
    : sql``;
  return sql`
    with hits as (
      (select 'message' as kind, m.id::text as id, m.created_at
         from messages m
        where m.user_id = ${input.userId}
          and to_tsvector('simple', m.content) @@ ${query}
          and m.replaced_by is null
          ${afterMessage}
        order by m.created_at desc, m.id::text desc
        limit ${input.limit})
      union all
      (select 'task', t.id::text, t.created_at
         from tasks t
        where t.user_id = ${input.userId}
          and to_tsvector('simple', t.title || ' ' || t.description) @@ ${query}
          and t.deleted_at is null
          ${afterTask}
        order by t.created_at desc, t.id::text desc
        limit ${input.limit})
      order by created_at desc, id desc
      limit ${input.limit}
    )
    select h.kind, h.id, ${AT(sql`h.created_at`)} as at,
           m.conversation_id, c.title as conversation_title, m.seq, m.role,
           t.number as task_number, t.title as task_title, t.completed,
           ts_headline('simple',
             left(coalesce(m.content, t.title || ' — ' || t.description), ${HEADLINE_CHARS}),
             ${query}, ${HEADLINE}) as snippet
      from hits h
      left join messages m on h.kind = 'message' and m.id::text = h.id and m.user_id = ${input.userId}
      left join conversations c on c.id = m.conversation_id and c.user_id = ${input.userId}
      left join tasks t on h.kind = 'task' and t.id::text = h.id and t.user_id = ${input.userId}
     order by h.created_at desc, h.id desc`;
}

export async function search(
  db: Executor,
  input: Parameters<typeof searchQuery>[0],
): Promise<SearchRow[]> {
  const rows = rowsOf<SearchRow>(await db.execute(searchQuery(input)));
  return rows.map((r) => ({ ...r, seq: r.seq === null ? null : Number(r.seq) }));
}
