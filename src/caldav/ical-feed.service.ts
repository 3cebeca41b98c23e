import { createHash, randomBytes } from "node:crypto";
import ICAL from "ical.js";
import { isBanned } from "../admin/access.repository.ts";
import { effectiveTimeZone, type RequestContext } from "../context.ts";
import type { Db } from "../db/client.ts";
import { retryingRead, retryingWrite } from "../db/transaction.ts";
import { addDays } from "../tasks/due.ts";
import * as caldav from "./caldav.repository.ts";
import * as repo from "./ical-feed.repository.ts";
import { addDue, newCalendar, todoOf, utc, vtimezone } from "./ical-task.ts";

// The read-only calendar feed: one secret URL per user (/ical/<token>.ics) that calendar
// apps subscribe to. Only the token's SHA-256 is stored; issuing a new one revokes the old.

const hashToken = (token: string) => createHash("sha256").update(token).digest("hex");
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** Issues the user's feed token (the old one stops working) and returns it, shown once. */
export async function issueFeedToken(ctx: RequestContext): Promise<string> {
  const token = randomBytes(32).toString("base64url");
  await retryingWrite(() => repo.upsertFeed(ctx.db, ctx.userId, hashToken(token)));
  return token;
}

/** Turns the feed off; false when there was none. */
export async function revokeFeed(ctx: RequestContext): Promise<boolean> {
  return retryingWrite(() => repo.deleteFeed(ctx.db, ctx.userId));
}

/**
 * The feed of a token: each live task with a due date as a VTODO and as a VEVENT (all
 * day, or at its time), so calendars that show only events show tasks too. Undefined for
 * an unknown or revoked token (404) and for a disabled account.
 */
export async function renderFeed(db: Db, token: string): Promise<string | undefined> {
  if (!TOKEN.test(token)) return undefined;
  const owner = await retryingRead(() => repo.findFeedOwner(db, hashToken(token)));
  if (!owner || isBanned(owner)) return undefined;
  const resources = await retryingRead(() => caldav.listDueTasks(db, owner.userId));
  const reminders = await retryingRead(() =>
    caldav.listReminders(
      db,
      owner.userId,
      resources.map((r) => r.task.id),
    ),
  );
  const calendar = newCalendar("Tasktalk");
  calendar.addPropertyWithValue("x-wr-timezone", effectiveTimeZone(owner.timezone));
  const zones = new Set<string>();
  for (const r of resources) {
    const due = r.task.due;
    if (!due) continue;
    if (due.time && due.at && due.timezone !== "UTC" && !zones.has(due.timezone)) {
      zones.add(due.timezone);
      calendar.addSubcomponent(vtimezone(due.timezone, new Date(due.at)));
    }
    const uid = caldav.uidOf(r);
    calendar.addSubcomponent(
      todoOf(r.task, {
        uid,
        parentUid: r.parentUid,
        extra: r.object?.extra ?? "",
        reminders: reminders.get(r.task.id) ?? [],
      }),
    );
    calendar.addSubcomponent(eventOf(r.task, `event-${uid}`));
  }
  return calendar.toString();
}

function eventOf(task: caldav.TaskResource["task"], uid: string): ICAL.Component {
  const vevent = new ICAL.Component("vevent");
  const due = task.due;
  vevent.addPropertyWithValue("uid", uid);
  vevent.addPropertyWithValue("dtstamp", utc(task.updatedAt));
  vevent.addPropertyWithValue("summary", task.completed ? `✓ ${task.title}` : task.title);
  if (task.description) vevent.addPropertyWithValue("description", task.description);
  if (due) {
    addDue(vevent, "dtstart", due);
    // An all-day event ends the next day (DTEND is exclusive); a timed one is a moment.
    if (!due.time) addDue(vevent, "dtend", { ...due, date: addDays(due.date, 1) });
  }
  if (due?.recurrence) vevent.addPropertyWithValue("rrule", ICAL.Recur.fromString(due.recurrence));
  vevent.addPropertyWithValue("transp", "TRANSPARENT");
  return vevent;
}
