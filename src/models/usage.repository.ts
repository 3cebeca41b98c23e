import { eq, sql } from "drizzle-orm";
import { type Executor, rowsOf } from "../db/client.ts";
import { messages, user } from "../db/schema.ts";

// The SQL of models and usage: a user's default model, and the sums of their replies'
// tokens and costs (messages.usage, messages.cost_micros) over a day, a month or one
// conversation.

export async function findDefaultModel(db: Executor, userId: string): Promise<string | null> {
  const [row] = await db.select({ model: user.defaultModel }).from(user).where(eq(user.id, userId));
  return row?.model ?? null;
}

export async function updateDefaultModel(
  db: Executor,
  userId: string,
  model: string | null,
): Promise<boolean> {
  const rows = await db
    .update(user)
    .set({ defaultModel: model, updatedAt: new Date() })
    .where(eq(user.id, userId))
    .returning({ id: user.id });
  return rows.length > 0;
}

/**
 * The tokens of a user's replies over the last 24 hours, and when the oldest of them
 * leaves that window (seconds from now; 0 when there is none).
 */
export async function tokensLastDay(
  db: Executor,
  userId: string,
): Promise<{ tokens: number; freesInSeconds: number }> {
  const [row] = rowsOf<{ tokens: string | number; frees: string | number | null }>(
    await db.execute(sql`
      select coalesce(sum(${tokens("totalTokens")}), 0)::bigint as tokens,
        ceil(extract(epoch from min(m.created_at) + interval '1 day' - now())) as frees
      from ${messages} m
      where m.user_id = ${userId} and m.role = 'assistant'
        and m.created_at > now() - interval '1 day'`),
  );
  return { tokens: Number(row?.tokens ?? 0), freesInSeconds: Math.max(0, Number(row?.frees ?? 0)) };
}

/** One model's sums; the day's columns count only replies of that day. */
export interface UsageRow {
  model: string | null;
  replies: number;
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  costMicros: number;
  /** Replies with a cost (the model had prices): a sum of none is "no cost", not 0. */
  priced: number;
}

const tokens = (key: string) =>
  sql.raw(
    `case when jsonb_typeof(m.usage->'${key}') = 'number' then (m.usage->>'${key}')::numeric end`,
  );

/** The sums over the rows matching `filter`, each column named `${p}_…` (p: a fixed prefix). */
const sums = (p: "all" | "day", filter: ReturnType<typeof sql>) => sql`
  count(*) filter (where ${filter})::int as ${sql.raw(`${p}_replies`)},
  coalesce(sum(${tokens("inputTokens")}) filter (where ${filter}), 0)::bigint as ${sql.raw(`${p}_input`)},
  coalesce(sum(${tokens("outputTokens")}) filter (where ${filter}), 0)::bigint as ${sql.raw(`${p}_output`)},
  coalesce(sum(${tokens("totalTokens")}) filter (where ${filter}), 0)::bigint as ${sql.raw(`${p}_total`)},
  coalesce(sum(m.cost_micros) filter (where ${filter}), 0)::bigint as ${sql.raw(`${p}_cost`)},
  count(m.cost_micros) filter (where ${filter})::int as ${sql.raw(`${p}_priced`)}`;

type Raw = Record<string, unknown>;

function toRows(raw: Raw[], p: "all" | "day"): UsageRow[] {
  return raw
    .map((r) => ({
      model: typeof r.model === "string" ? r.model : null,
      replies: Number(r[`${p}_replies`]),
      inputTokens: Number(r[`${p}_input`]),
      outputTokens: Number(r[`${p}_output`]),
      totalTokens: Number(r[`${p}_total`]),
      costMicros: Number(r[`${p}_cost`]),
      priced: Number(r[`${p}_priced`]),
    }))
    .filter((r) => r.replies > 0);
}

/**
 * A user's replies per model over the month holding `date` and over that day, both in the
 * time zone `tz` (an IANA name). Bounded by the (user_id, created_at) index.
 */
export async function sumByPeriod(
  db: Executor,
  input: { userId: string; date: string; tz: string },
): Promise<{ day: UsageRow[]; month: UsageRow[] }> {
  const day = sql`(${input.date}::date)::timestamp at time zone ${input.tz}`;
  const nextDay = sql`(${input.date}::date + 1)::timestamp at time zone ${input.tz}`;
  const month = sql`date_trunc('month', ${input.date}::date)::timestamp at time zone ${input.tz}`;
  const nextMonth = sql`(date_trunc('month', ${input.date}::date) + interval '1 month')::timestamp at time zone ${input.tz}`;
  const result = await db.execute(sql`
    select m.model, ${sums("all", sql`true`)},
      ${sums("day", sql`m.created_at >= ${day} and m.created_at < ${nextDay}`)}
    from ${messages} m
    where m.user_id = ${input.userId} and m.role = 'assistant'
      and m.created_at >= ${month} and m.created_at < ${nextMonth}
    group by m.model
    order by m.model`);
  const raw = rowsOf<Raw>(result);
  return { month: toRows(raw, "all"), day: toRows(raw, "day") };
}

/** A conversation's replies per model (the caller checked it is the user's). */
export async function sumByConversation(
  db: Executor,
  input: { userId: string; conversationId: string },
): Promise<UsageRow[]> {
  const result = await db.execute(sql`
    select m.model, ${sums("all", sql`true`)}
    from ${messages} m
    where m.user_id = ${input.userId} and m.conversation_id = ${input.conversationId}::uuid
      and m.role = 'assistant'
    group by m.model
    order by m.model`);
  return toRows(rowsOf<Raw>(result), "all");
}
