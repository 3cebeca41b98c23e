import { and, eq, sql } from "drizzle-orm";
import { recordActivity } from "../activity/activity.repository.ts";
import { type Door, systemContext } from "../context.ts";
import type { Db } from "../db/client.ts";
import { activity } from "../db/schema.ts";
import { inTransaction } from "../db/transaction.ts";

const MAX_AGENT = 300;

/**
 * Records `session.new_client` when a session is created for a user agent this account has
 * no such entry for (sign-up and sign-in alike): "signed in from a new client". Serialized
 * per user by a transaction-scoped advisory lock, so two sign-ins from one new client make
 * one entry.
 */
export async function recordSignInClient(
  db: Db,
  session: {
    userId: string;
    userAgent?: string | null | undefined;
    ipAddress?: string | null | undefined;
  },
  headers: Headers | undefined,
): Promise<void> {
  const agent = (session.userAgent ?? "").replaceAll("\u0000", "").slice(0, MAX_AGENT) || "unknown";
  const door: Door = headers?.get("x-tasktalk-door") === "web" ? "web" : "rest";
  const ctx = systemContext(db, session.userId, {
    door,
    requestId: headers?.get("x-tasktalk-request-id") ?? "auth",
  });
  await inTransaction(db, async (tx) => {
    await tx.execute(
      sql`select pg_advisory_xact_lock(hashtext(${`new-client:${session.userId}`}))`,
    );
    const seen = await tx
      .select({ id: activity.id })
      .from(activity)
      .where(
        and(
          eq(activity.userId, session.userId),
          eq(activity.kind, "session.new_client"),
          sql`${activity.after}->>'user_agent' = ${agent}`,
        ),
      )
      .limit(1);
    if (seen.length > 0) return;
    await recordActivity(tx, ctx, {
      kind: "session.new_client",
      subjectType: "session",
      subject: session.userId,
      summary: `Signed in from a new client: ${agent.slice(0, 80)}`,
      before: null,
      after: { user_agent: agent, ip_address: session.ipAddress ?? null },
    });
  });
}
