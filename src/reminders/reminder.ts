import { z } from "zod";

/** At most this many reminders per task. */
export const REMINDERS_MAX = 10;
/** "before_minutes" up to four weeks. */
export const BEFORE_MINUTES_MAX = 40_320;

/**
 * One reminder as REST and the tools take it: `{before_minutes: 30}` (30 minutes before
 * the task's due time; 0 = at it) or `{at: "2026-12-01T09:00:00Z"}` (an instant, with
 * its offset).
 */
export const reminderInput = z.union([
  z.strictObject({
    before_minutes: z
      .number()
      .int()
      .min(0)
      .max(BEFORE_MINUTES_MAX)
      .describe("Minutes before the task's due time (0 = at the due time)"),
  }),
  z.strictObject({
    at: z.iso.datetime({ offset: true }).describe("An exact instant, ISO 8601 with offset"),
  }),
]);
export type ReminderInput = z.infer<typeof reminderInput>;

/** The whole set of a task's reminders: replaces what it had; [] removes them all. */
export const remindersInput = z
  .array(reminderInput)
  .max(REMINDERS_MAX, `at most ${REMINDERS_MAX} reminders`);

export interface Reminder {
  id: string;
  taskId: string;
  at: Date | null;
  beforeMinutes: number | null;
  isDefault: boolean;
  fireAt: Date | null;
  firedAt: Date | null;
}

export const ReminderJson = z.object({
  id: z.string(),
  at: z.string().nullable(),
  before_minutes: z.number().nullable(),
  default: z.boolean(),
  /** When it fires; null while a relative reminder's task has no due time. */
  fire_at: z.string().nullable(),
  fired_at: z.string().nullable(),
});
export type ReminderJson = z.infer<typeof ReminderJson>;

export function toReminderJson(r: Reminder): ReminderJson {
  return {
    id: r.id,
    at: r.at?.toISOString() ?? null,
    before_minutes: r.beforeMinutes,
    default: r.isDefault,
    fire_at: r.fireAt?.toISOString() ?? null,
    fired_at: r.firedAt?.toISOString() ?? null,
  };
}
