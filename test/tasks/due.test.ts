import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  addDays,
  dueLabel,
  findDuePhrase,
  isValidTimeZone,
  resolveDue,
  todayIn,
  zonedInstant,
} from "../../src/tasks/due.ts";

// Due dates are read on the USER's wall clock: "tomorrow" in Tokyo is not tomorrow in Lisbon.
const now = new Date("2026-11-29T23:45:00Z"); // Sunday evening in Lisbon, Monday morning in Tokyo

describe("due dates in the user's time zone", () => {
  test("natural language is read against the user's own today", () => {
    const lisbon = resolveDue({ string: "tomorrow at 5pm" }, "Europe/Lisbon", now);
    assert.deepEqual(lisbon, {
      date: "2026-11-30",
      time: "17:00",
      timezone: "Europe/Lisbon",
      at: "2026-11-30T17:00:00.000Z",
      string: "tomorrow at 5pm",
      recurrence: null,
      repeat_from: null,
    });
    const tokyo = resolveDue({ string: "tomorrow at 5pm" }, "Asia/Tokyo", now);
    assert.equal(tokyo?.date, "2026-12-01");
    assert.equal(tokyo?.at, "2026-12-01T08:00:00.000Z");
    const ny = resolveDue({ string: "next friday 9am" }, "America/New_York", now);
    assert.equal(ny?.date, "2026-12-04");
    assert.equal(ny?.at, "2026-12-04T14:00:00.000Z");
    assert.equal(resolveDue({ string: "in 3 days" }, "UTC", now)?.time, null, "all day");
  });

  test("explicit dates and times are checked; null clears; nonsense is a 400", () => {
    assert.equal(resolveDue(null, "UTC", now), null);
    assert.equal(resolveDue({ date: "2026-12-01" }, "UTC", now)?.at, null);
    assert.equal(
      resolveDue({ date: "2026-12-01", time: "09:30" }, "UTC", now)?.at,
      "2026-12-01T09:30:00.000Z",
    );
    for (const bad of [
      { date: "2026-02-30" },
      { date: "01/12/2026" },
      { date: "2026-12-01", time: "25:00" },
    ]) {
      assert.throws(() => resolveDue(bad, "UTC", now), { code: "validation_failed" });
    }
    assert.throws(() => resolveDue({ string: "whenever" }, "UTC", now), {
      code: "validation_failed",
    });
  });

  test("daylight-saving transitions: the same wall-clock time, a different offset", () => {
    // Europe/Lisbon springs forward on 2026-03-29 (UTC+0 → UTC+1) and falls back on 2026-10-25.
    assert.equal(
      zonedInstant("2026-03-28", "09:00", "Europe/Lisbon").toISOString(),
      "2026-03-28T09:00:00.000Z",
    );
    assert.equal(
      zonedInstant("2026-03-29", "09:00", "Europe/Lisbon").toISOString(),
      "2026-03-29T08:00:00.000Z",
    );
    assert.equal(
      zonedInstant("2026-10-25", "09:00", "Europe/Lisbon").toISOString(),
      "2026-10-25T09:00:00.000Z",
    );
    // America/New_York springs forward on 2026-03-08 (UTC−5 → UTC−4) and falls back on 2026-11-01.
    assert.equal(
      zonedInstant("2026-03-07", "09:00", "America/New_York").toISOString(),
      "2026-03-07T14:00:00.000Z",
    );
    assert.equal(
      zonedInstant("2026-03-08", "09:00", "America/New_York").toISOString(),
      "2026-03-08T13:00:00.000Z",
    );
    assert.equal(
      zonedInstant("2026-11-01", "09:00", "America/New_York").toISOString(),
      "2026-11-01T14:00:00.000Z",
    );
    // A wall time the spring-forward skips lands just after the gap, never an hour early.
    assert.equal(
      zonedInstant("2026-03-29", "01:30", "Europe/Lisbon").toISOString(),
      "2026-03-29T01:30:00.000Z",
    );
    // "tomorrow at 9am" said the evening before a transition.
    const eve = new Date("2026-03-07T23:00:00Z"); // 18:00 in New York, the day before
    assert.equal(
      resolveDue({ string: "tomorrow at 9am" }, "America/New_York", eve)?.at,
      "2026-03-08T13:00:00.000Z",
    );
  });

  test("today is the zone's today", () => {
    assert.equal(todayIn("Asia/Tokyo", now), "2026-11-30");
    assert.equal(todayIn("America/Los_Angeles", now), "2026-11-29");
    assert.equal(addDays("2026-12-31", 1), "2027-01-01");
  });

  test("date words are found where they read as a date, never inside quotes or bare numbers", () => {
    const found = findDuePhrase("remind me to call mom tomorrow at 5pm", "Europe/Lisbon", now);
    assert.equal(found?.phrase, "tomorrow at 5pm");
    assert.equal(found?.index, 22);
    assert.equal(
      findDuePhrase("Remind me tomorrow to submit the form", "UTC", now)?.phrase,
      "tomorrow",
    );
    assert.equal(findDuePhrase("move task 3 to Friday", "UTC", now)?.due.date, "2026-12-04");
    assert.equal(findDuePhrase("add 'The 5th Wave'", "UTC", now), undefined);
    assert.equal(findDuePhrase("complete task 3", "UTC", now), undefined);
    assert.equal(findDuePhrase("buy 2 apples", "UTC", now), undefined);
    // Apostrophes are not quotes: the date between "don't" and "it's" is still found.
    assert.equal(
      findDuePhrase("don't forget it's due tomorrow at 5pm", "UTC", now)?.phrase,
      "tomorrow at 5pm",
    );
  });

  test("a weekday named alone is within the coming seven days", () => {
    const wednesday = new Date("2026-12-02T12:00:00Z");
    assert.equal(findDuePhrase("call on thursday", "UTC", wednesday)?.due.date, "2026-12-03");
    assert.equal(findDuePhrase("next thursday", "UTC", wednesday)?.due.date, "2026-12-03");
    assert.equal(findDuePhrase("next tuesday", "UTC", wednesday)?.due.date, "2026-12-08");
  });

  test("labels say what was understood", () => {
    const due = resolveDue({ string: "tomorrow at 5pm" }, "Asia/Tokyo", now);
    assert.ok(due);
    assert.equal(dueLabel(due, now), "Tue 1 Dec, 17:00");
    assert.equal(dueLabel({ ...due, date: "2027-01-05", time: null }, now), "Tue 5 Jan 2027");
  });

  test("time zones are IANA names", () => {
    assert.ok(isValidTimeZone("Europe/Lisbon"));
    assert.ok(isValidTimeZone("UTC"));
    for (const bad of ["Mars/Base", "+01:00", "", "Europe/Lisbon; drop table", "a".repeat(100)]) {
      assert.equal(isValidTimeZone(bad), false, bad);
    }
  });
});
