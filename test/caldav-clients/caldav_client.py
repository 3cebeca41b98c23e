"""A CalDAV client session with python3-caldav (Debian's python3-caldav, 0.11).

Run by test/caldav-clients/*.test.ts against Tasktalk and against Radicale; it asserts
nothing itself and prints one JSON object of what it observed as its last line, so the
node test states what each server should do and a difference shows up side by side.

    python3 caldav_client.py walk URL USER PASSWORD [CALENDAR_NAME]
    python3 caldav_client.py calendars URL USER PASSWORD
"""

import json
import sys
import uuid
from datetime import date, datetime, timezone

import caldav
from caldav.lib import error


def todo_ical(uid, summary, due=None, rrule=None, extra=()):
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//tasktalk tests//python3-caldav//EN",
        "BEGIN:VTODO",
        f"UID:{uid}",
        "DTSTAMP:" + datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ"),
        f"SUMMARY:{summary}",
        "STATUS:NEEDS-ACTION",
    ]
    if due:
        lines.append(f"DUE;VALUE=DATE:{due}")
    if rrule:
        lines.append(f"RRULE:{rrule}")
    lines.extend(extra)
    lines += ["END:VTODO", "END:VCALENDAR", ""]
    return "\r\n".join(lines)


def prop(todo, name):
    """A property of the object's VTODO as text, or None."""
    component = todo.icalendar_component
    value = component.get(name)
    if value is None:
        return None
    if hasattr(value, "dt"):
        dt = value.dt
        return dt.isoformat() if isinstance(dt, (date, datetime)) else str(dt)
    if hasattr(value, "to_ical"):
        raw = value.to_ical()
        return raw.decode() if isinstance(raw, bytes) else str(raw)
    return str(value)


def summaries(todos, run):
    """This run's summaries: the calendar may hold other items (a list of the user's)."""
    return sorted(s for s in (prop(t, "SUMMARY") for t in todos) if s and run in s)


def etag_of(client, url):
    return client.request(str(url), "GET").headers.get("etag")


def calendars(client):
    principal = client.principal()
    out = []
    for cal in principal.calendars():
        try:
            components = cal.get_supported_components()
        except Exception as e:  # noqa: BLE001 - reported, not hidden
            components = f"error: {e}"
        out.append({"name": cal.name, "url": str(cal.url), "components": components})
    return principal, out


def walk(client, calendar_name):
    obs = {}
    principal, cals = calendars(client)
    obs["principal"] = str(principal.url)
    obs["calendars"] = cals
    cal = next((c for c in principal.calendars() if c.name == calendar_name), None)
    if cal is None:
        obs["error"] = f"no calendar named {calendar_name!r}"
        return obs

    start = cal.objects_by_sync_token(load_objects=True)
    obs["initial_objects"] = len(list(start))
    token0 = start.sync_token
    obs["sync_token_0"] = token0

    run = uuid.uuid4().hex[:8]
    plain_uid = f"plain-{run}"
    cal.save_todo(
        todo_ical(
            plain_uid,
            f"water plants {run}",
            due="20261215",
            extra=("PRIORITY:1", "LOCATION:balcony", "CATEGORIES:home", "X-TASKTALK-TEST:kept?"),
        )
    )
    monthly_uid = f"monthly-{run}"
    cal.save_todo(todo_ical(monthly_uid, f"pay rent {run}", due="20261201", rrule="FREQ=MONTHLY;BYMONTHDAY=1"))

    pending = cal.todos()
    obs["search_pending"] = summaries(pending, run)
    plain = cal.todo_by_uid(plain_uid)
    obs["plain_as_stored"] = {
        k: prop(plain, k) for k in ("SUMMARY", "DUE", "PRIORITY", "LOCATION", "CATEGORIES", "X-TASKTALK-TEST", "STATUS")
    }

    changes = start.sync()
    obs["sync_after_add"] = {
        "updated": sorted(prop(o, "SUMMARY") for o in changes[0]),
        "deleted": len(changes[1]),
        "token_changed": start.sync_token != token0,
    }

    # A PUT carrying the ETag the object had before someone else changed it: 412 expected.
    stale = etag_of(client, plain.url)
    plain.icalendar_component["SUMMARY"] = f"water plants and herbs {run}"
    plain.save()
    fresh = etag_of(client, plain.url)
    r = client.put(str(plain.url), plain.data, {"Content-Type": "text/calendar; charset=utf-8", "If-Match": stale})
    obs["stale_if_match_put"] = {"status": r.status, "etag_changed": stale != fresh}
    r = client.put(
        str(plain.url),
        todo_ical(plain_uid, f"must not be created {run}"),
        {"Content-Type": "text/calendar; charset=utf-8", "If-None-Match": "*"},
    )
    obs["if_none_match_put_on_existing"] = r.status

    plain = cal.todo_by_uid(plain_uid)
    plain.complete()
    obs["search_after_complete"] = summaries(cal.todos(), run)
    obs["search_including_completed"] = summaries(cal.todos(include_completed=True), run)

    # Completed in place (STATUS:COMPLETED, RRULE kept), as most task apps send it.
    monthly = cal.todo_by_uid(monthly_uid)
    monthly.complete()
    monthly = cal.todo_by_uid(monthly_uid)
    obs["recurring_after_complete"] = {k: prop(monthly, k) for k in ("STATUS", "DUE", "RRULE", "COMPLETED")}

    changes = start.sync()
    obs["sync_after_complete"] = {
        "updated": sorted(prop(o, "SUMMARY") for o in changes[0]),
        "deleted": len(changes[1]),
    }

    cal.todo_by_uid(plain_uid).delete()
    try:
        cal.todo_by_uid(plain_uid)
        obs["found_after_delete"] = True
    except error.NotFoundError:
        obs["found_after_delete"] = False
    changes = start.sync()
    obs["sync_after_delete"] = {"updated": len(changes[0]), "deleted": len(changes[1])}
    quiet = start.sync()
    obs["sync_when_nothing_changed"] = {"updated": len(quiet[0]), "deleted": len(quiet[1])}

    try:
        everything = cal.objects_by_sync_token("http://example.com/not-a-token-of-yours", load_objects=False)
        obs["unknown_sync_token"] = {"answer": "full listing", "objects": len(list(everything))}
    except Exception as e:  # noqa: BLE001 - the server's answer is the observation
        obs["unknown_sync_token"] = {"answer": "error", "error": type(e).__name__, "text": str(e)[:300]}

    cal.todo_by_uid(monthly_uid).delete()
    return obs


def main():
    scenario, url, user, password = sys.argv[1:5]
    client = caldav.DAVClient(url=url, username=user, password=password, timeout=30)
    if scenario == "walk":
        out = walk(client, sys.argv[5] if len(sys.argv) > 5 else "Inbox")
    elif scenario == "calendars":
        try:
            out = {"calendars": calendars(client)[1]}
        except Exception as e:  # noqa: BLE001 - an auth failure is an answer here
            out = {"error": type(e).__name__, "text": str(e)[:300]}
    else:
        raise SystemExit(f"unknown scenario {scenario}")
    print(json.dumps(out, default=str))


if __name__ == "__main__":
    main()
