"""`/orc schedule release|rerun … DATE TIME`, `/orc schedule list`, `/orc schedule cancel ID`.

A scheduled release or rerun is planned like `/orc release` / `/orc rerun` (Confirm/Cancel;
approval, where configured, happens now) and then waits as a Scheduled request until its
time, read on the requester's clock (their Slack time zone, else ORC_TIMEZONE). When it is
due, the scheduler starts it like any confirmed request, and its plan is checked again.
"""

from __future__ import annotations

from commands import release, rerun
from commands.base import Draft, Invocation, OpenModal, Reply, Services, Verb
from commands.describe import schedule_line, scheduled_time
from commands.text import UsageError, request_id
from orcoursetrion.times import parse_local, shown, zone

USAGE = "schedule release|rerun COURSE TERM [NEW_TERM] YYYY-MM-DD HH:MM | schedule list | schedule cancel ID"
PLANNED = {"release": release, "rerun": rerun}


def timezone_of(inv: Invocation, services: Services) -> str:
    """The requester's time zone (from Slack), else ORC_TIMEZONE."""
    return zone(inv.timezone, services.settings.timezone).key


def schedule_params(day: str, clock: str, tz: str, services: Services) -> dict:
    """`params["schedule"]` of a request that runs at `day clock` in `tz` (checked: a real,
    unambiguous local time in the future)."""
    at = parse_local(day, clock, tz, services.store.now())
    return {"at": at.isoformat(), "tz": tz}


def plan(inv: Invocation, services: Services) -> Draft:
    kind, words = inv.args[0].lower(), inv.args[1:]
    if len(words) < 4:
        raise UsageError(
            f"Give the course, its term and when, e.g. `/orc schedule {kind} 8.01r Fall_2030 2030-09-01 09:00`."
        )
    *what, day, clock = words
    schedule = schedule_params(day, clock, timezone_of(inv, services), services)
    draft = PLANNED[kind].handle(Invocation(inv.user, what, inv.channel, inv.user_name, inv.timezone), services)
    if isinstance(draft, OpenModal):
        raise UsageError(
            "Name the new term too, e.g. `/orc schedule rerun 8.01r Fall_2030 Spring_2031 2030-12-20 17:00`."
        )
    draft.params["schedule"] = schedule
    return draft


def listing(inv: Invocation, services: Services) -> Reply:
    """Upcoming scheduled requests: mine, or everyone's for approvers (and the next reminder)."""
    approver = services.is_approver(inv.user)
    found = services.store.scheduled_requests(requester=None if approver else inv.user)
    lines = [schedule_line(r, inv.timezone, requester=approver) for r in found]
    if approver:
        nxt = services.store.tasks(kind="reminder", statuses=("scheduled",), limit=1)
        if nxt:
            lines.append(f":bell: Next reminder of pending approvals: {shown(nxt[0].due_at, nxt[0].timezone)}")
    title = "Scheduled requests" if approver else "Your scheduled requests"
    empty = "Nothing is scheduled. Try `/orc schedule release 8.01r Fall_2030 2030-09-01 09:00`."
    return Reply("\n".join(lines) or empty, title=title, request_ids=[r.id for r in found])


def cancel(inv: Invocation, services: Services) -> Reply:
    if len(inv.args) != 2:
        raise UsageError("Give the request number, e.g. `/orc schedule cancel 12`.")
    req = services.workflow.cancel_scheduled(request_id(inv.args[1]), inv.user)
    return Reply(f"Cancelled request #{req.id} ({req.summary}); it was due {scheduled_time(req, inv.timezone)}.")


def handle(inv: Invocation, services: Services) -> Draft | Reply:
    which = inv.args[0].lower() if inv.args else ""
    if which in PLANNED:
        return plan(inv, services)
    if which == "list" and len(inv.args) == 1:
        return listing(inv, services)
    if which == "cancel":
        return cancel(inv, services)
    raise UsageError("Say what to schedule (release or rerun), or `list`, or `cancel ID`.")


VERB = Verb(
    name="schedule",
    usage=USAGE,
    example="/orc schedule release 8.01r Fall_2030 2030-09-01 09:00",
    summary="release or rerun at a given time (your Slack time zone); list or cancel what is scheduled",
    handle=handle,
)
