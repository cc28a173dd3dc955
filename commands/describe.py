"""Text views of requests, shared by /orc status, /orc list, the shell and App Home: one
heading per status, so what a message says always matches the state."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from orcoursetrion import times
from orcoursetrion.audit import AuditEntry
from orcoursetrion.lifecycle import RequestType, Status
from orcoursetrion.naming import shown
from orcoursetrion.store import ItemView, RequestView

ICONS = {
    Status.DRAFT: ":memo:",
    Status.PENDING_APPROVAL: ":hourglass_flowing_sand:",
    Status.SCHEDULED: ":calendar:",
    Status.APPROVED: ":white_check_mark:",
    Status.IN_PROGRESS: ":gear:",
    Status.COMPLETED: ":tada:",
    Status.FAILED: ":x:",
    Status.REJECTED: ":no_entry:",
    Status.CANCELLED: ":heavy_multiplication_x:",
}


def when(moment: datetime | None, tz: str | None = None) -> str:
    if moment is None:
        return "—"
    zone = ZoneInfo(tz or "UTC")
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def mention(user: str | None) -> str:
    """Who did it, for Slack: a mention for a Slack user; a Zendesk ticket or a command-line
    user in words (`<@zendesk:ticket/7>` would render as a broken mention)."""
    if not user:
        return "someone"
    if user.startswith("zendesk:ticket/"):
        return f"Zendesk (ticket #{user.split('/', 1)[1]})"
    if user.startswith("cli:"):
        return f"{shown(user[4:])} (command line)"
    if user[:1] in ("U", "W") and user.isalnum():
        return f"<@{user}>"
    return shown(user)


def heading(
    req: RequestView, progress: dict | None = None, approvers: Sequence[str] = (), tz: str | None = None
) -> str:
    """The one line that says where a request is, worded for its status."""
    state = req.state
    icon = ICONS[state]
    if state == Status.DRAFT:
        return f"{icon} *Plan* — check it, then *Confirm*. Nothing has changed yet."
    if state == Status.PENDING_APPROVAL:
        who = ", ".join(mention(a) for a in approvers[:10]) or "an approver"
        return f"{icon} *Waiting for approval* by {who}"
    if state == Status.SCHEDULED:
        by = f" (approved by {mention(req.decided_by)})" if req.decided_by and req.decided_by != req.requester else ""
        return (
            f"{icon} *Scheduled*{by} — runs {scheduled_time(req, tz)}. "
            "The plan is checked again then; *Cancel* stops it before."
        )
    if state == Status.APPROVED:
        if req.decided_by:
            return f"{icon} *Approved* by {mention(req.decided_by)} — starting…"
        return f"{icon} *Confirmed* — starting…"
    if state == Status.IN_PROGRESS:
        line = f"{icon} *Running*"
        if progress and progress.get("total"):
            line += f" — step {progress['index']} of {progress['total']}: {progress.get('text') or ''}".rstrip(": ")
        if progress and progress.get("wait"):
            line += (
                f"\n:double_vertical_bar: Waiting {progress['wait']:.0f} s: {progress.get('wait_reason') or 'GitHub'}"
            )
        if req.stop_requested_by:
            line += f"\nStop requested by {mention(req.stop_requested_by)}: it stops after the current course."
        return line
    if state == Status.COMPLETED:
        return f"{icon} *Done*: {(req.result or {}).get('message') or req.summary}"
    if state == Status.FAILED:
        at = f" at {req.error_step}" if req.error_step else ""
        return f"{icon} *Failed*{at}: {req.error}\nFinished steps are kept; *Retry* continues from here."
    if state == Status.REJECTED:
        return f"{icon} *Rejected* by {mention(req.decided_by)}: {shown(req.reason or 'no reason given', 500)}"
    return f"{icon} *Cancelled* by {mention(req.decided_by)}" if req.decided_by else f"{icon} *Cancelled*"


def status_line(req: RequestView) -> str:
    return f"{ICONS[req.state]} *#{req.id}* {shown(req.summary, 150)} — {req.state.label}"


def links(req: RequestView) -> list[str]:
    return list((req.result or {}).get("links") or [])


def facts(req: RequestView, tz: str | None = None) -> list[str]:
    """Who asked, when, for when, and the title: the lines under a plan's heading."""
    out = [f"Request #{req.id} by {mention(req.requester)} on {when(req.created_at, tz)}"]
    title = (req.params or {}).get("title")
    if title:
        out.append(f"Title: {shown(title, 200)}")
    if req.desired_at:
        out.append(f"Needed by {req.desired_at:%Y-%m-%d}")
    if req.scheduled_for:
        out.append(f"Runs {scheduled_time(req, tz)}")
    return out


def detail(
    req: RequestView, tz: str | None = None, items: list[ItemView] | None = None, ticket: str | None = None
) -> str:
    """Everything a requester wants to know about one request (`ticket`: its Zendesk link)."""
    lines = [status_line(req), *facts(req, tz), heading(req, tz=tz)]
    if req.plan:
        shown_plan = req.plan[:15]
        lines.append("Plan:\n" + "\n".join(f"  {n}. {step}" for n, step in enumerate(shown_plan, 1)))
        if len(req.plan) > len(shown_plan):
            lines.append(f"  … and {len(req.plan) - len(shown_plan)} more")
    if items:
        done = sum(1 for i in items if i.status == "done")
        failed = [i for i in items if i.status == "failed"]
        lines.append(f"Courses: {done} of {len(items)} done, {len(failed)} failed")
        lines.extend(f"  • {i.course}: {i.error}" for i in failed[:10])
    lines.extend(f"  <{url}>" for url in links(req))
    if req.finished_at:
        lines.append(f"Finished {when(req.finished_at, tz)}")
    if ticket:
        lines.append(f"Zendesk ticket: <{ticket}|#{req.ticket_id}>")
    return "\n".join(lines)


def changes_made(req: RequestView, changes: list[AuditEntry], limit: int = 20) -> str:
    """The GitHub changes a request made, each with its address, and where the full trail is."""
    lines = []
    if changes:
        lines.append("GitHub changes:")
        for change in changes[:limit]:
            where = f" — <{change.url}>" if change.url else ""
            lines.append(f"  • {change.detail or change.event}{where}")
        if len(changes) > limit:
            lines.append(f"  … and {len(changes) - limit} more")
    lines.append(f"Full audit trail: `orcoursetrion audit --request {req.id}`")
    return "\n".join(lines)


def scheduled_time(req: RequestView, tz: str | None = None) -> str:
    """When a scheduled request runs: the Slack date token (each reader's own zone) and the
    time in the zone it was scheduled in."""
    return times.shown(req.scheduled_for, (req.params.get("schedule") or {}).get("tz") or tz)


def schedule_line(req: RequestView, tz: str | None = None, requester: bool = False) -> str:
    """One scheduled request in a list: what, when, where it stands (and who asked)."""
    who = f" — {mention(req.requester)}" if requester else ""
    return (
        f"{ICONS[req.state]} *#{req.id}* {shown(req.summary, 150)} — {scheduled_time(req, tz)} · {req.state.label}{who}"
    )


def listing(requests: list[RequestView], empty: str) -> str:
    if not requests:
        return empty
    return "\n".join(status_line(r) for r in requests)


def is_batch(req: RequestView) -> bool:
    return req.type == RequestType.ROLLOVER
