"""Text views of requests, shared by /orc status, /orc list, the shell and App Home."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from orcoursetrion.lifecycle import Status
from orcoursetrion.store import ItemView, RequestView
from orcoursetrion.times import shown

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


def status_line(req: RequestView) -> str:
    return f"{ICONS[req.state]} *#{req.id}* {req.summary} — {req.state.label}"


def links(req: RequestView) -> list[str]:
    return list((req.result or {}).get("links") or [])


def detail(req: RequestView, tz: str | None = None, items: list[ItemView] | None = None) -> str:
    """Everything a requester wants to know about one request."""
    lines = [status_line(req), f"Requested by <@{req.requester}> on {when(req.created_at, tz)}"]
    if req.scheduled_for is not None:
        lines.append(f"Scheduled for {scheduled_time(req, tz)}")
    if req.decided_by and req.state not in (Status.DRAFT,):
        verb = {Status.REJECTED: "Rejected"}.get(req.state, "Approved")
        lines.append(f"{verb} by <@{req.decided_by}>")
    if req.reason:
        lines.append(f"Reason: {req.reason}")
    if req.plan:
        shown = req.plan[:15]
        lines.append("Plan:\n" + "\n".join(f"  • {step}" for step in shown))
        if len(req.plan) > len(shown):
            lines.append(f"  … and {len(req.plan) - len(shown)} more")
    if items:
        done = sum(1 for i in items if i.status == "done")
        failed = [i for i in items if i.status == "failed"]
        lines.append(f"Courses: {done} of {len(items)} done, {len(failed)} failed")
        lines.extend(f"  • {i.course}: {i.error}" for i in failed[:10])
    if req.result and req.result.get("message"):
        lines.append(f"Result: {req.result['message']}")
    lines.extend(f"  <{url}>" for url in links(req))
    if req.error:
        lines.append(f"Error: {req.error}" + (f" (at step: {req.error_step})" if req.error_step else ""))
    if req.finished_at:
        lines.append(f"Finished {when(req.finished_at, tz)}")
    return "\n".join(lines)


def scheduled_time(req: RequestView, tz: str | None = None) -> str:
    """When a scheduled request runs: the Slack date token (each reader's own zone) and the
    time in the zone it was scheduled in."""
    return shown(req.scheduled_for, (req.params.get("schedule") or {}).get("tz") or tz)


def schedule_line(req: RequestView, tz: str | None = None, requester: bool = False) -> str:
    who = f" — <@{req.requester}>" if requester else ""
    return f"{ICONS[req.state]} *#{req.id}* {req.summary} — {scheduled_time(req, tz)} · {req.state.label}{who}"


def listing(requests: list[RequestView], empty: str) -> str:
    if not requests:
        return empty
    return "\n".join(status_line(r) for r in requests)
