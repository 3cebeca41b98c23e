import { eq } from "drizzle-orm";
import nodemailer from "nodemailer";
import type { Config } from "../config.ts";
import type { Db } from "../db/client.ts";
import { user } from "../db/schema.ts";
import { retryingRead } from "../db/transaction.ts";
import { type Jobs, QUEUES } from "../jobs/queue.ts";

/** What a reminder e-mail says (the job's data). */
export interface ReminderEmail {
  userId: string;
  taskNumber: number;
  title: string;
  dueAt: string | null;
  scheduledFor: string;
}

/**
 * The `email-deliver` worker (only when SMTP_URL is set): one message per fired reminder,
 * to the account's e-mail address, through nodemailer. A failed send (server down, a 4xx
 * or 5xx answer) throws, and pg-boss retries it with backoff.
 */
export async function startEmailWorker(jobs: Jobs, db: Db, smtp: Config["smtp"]): Promise<void> {
  if (!smtp.url) return;
  const transport = nodemailer.createTransport(smtp.url);
  await jobs.work<ReminderEmail>(QUEUES.emailDeliver, async (job) => {
    const r = job.data;
    const rows = await retryingRead(() =>
      db.select({ email: user.email, name: user.name }).from(user).where(eq(user.id, r.userId)),
    );
    const to = rows[0];
    if (!to) return; // the account is gone
    const when = r.dueAt ? `due ${r.dueAt}` : "no due time";
    await transport.sendMail({
      from: smtp.from,
      to: { name: to.name, address: to.email },
      subject: `Reminder: ${r.title}`,
      text: [
        `Task ${r.taskNumber}: ${r.title}`,
        `Reminder set for ${r.scheduledFor} (${when}).`,
        "",
        "— Tasktalk",
      ].join("\n"),
    });
  });
}
