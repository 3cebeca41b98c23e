import type { RequestContext } from "../context.ts";
import { retryingRead, retryingWrite } from "../db/transaction.ts";
import { AppError } from "../errors.ts";
import { isValidTimeZone } from "../tasks/due.ts";
import * as repo from "./user.repository.ts";

/** The caller as GET /api/me shows them: the effective zone, and whether they chose it. */
export interface Me {
  id: string;
  name: string;
  email: string;
  timezone: string;
  timezone_set: boolean;
}

const gone = () => new AppError("unauthorized", "The account no longer exists");

function toMe(profile: repo.UserProfile): Me {
  return {
    id: profile.id,
    name: profile.name,
    email: profile.email,
    timezone: profile.timezone ?? "UTC",
    timezone_set: profile.timezone !== null,
  };
}

export async function getMe(ctx: RequestContext): Promise<Me> {
  const profile = await retryingRead(() => repo.findUser(ctx.db, ctx.userId));
  if (!profile) throw gone();
  return toMe(profile);
}

/** Sets the caller's time zone: an IANA name this runtime knows ("Europe/Lisbon", "UTC"). */
export async function updateMe(ctx: RequestContext, changes: { timezone: string }): Promise<Me> {
  const timezone = changes.timezone.trim();
  if (!isValidTimeZone(timezone)) {
    throw new AppError(
      "validation_failed",
      'timezone: must be an IANA time zone name, like "Europe/Lisbon" or "UTC"',
    );
  }
  const profile = await retryingWrite(() => repo.setTimeZone(ctx.db, ctx.userId, timezone));
  if (!profile) throw gone();
  return toMe(profile);
}
