/**
 * The one door from the offline assistant to the date library (src/tasks/due.ts, shared
 * with the server, so the assistant finds exactly the phrases the server will parse).
 */
export {
  addDays,
  type Due,
  dueLabel,
  findDuePhrase,
  isValidTimeZone,
  todayIn,
  zonedInstant,
} from "../../tasks/due.ts";
export { findRecurrence } from "../../tasks/recurrence-phrases.ts";
