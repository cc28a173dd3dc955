"""`/orc list [mine|pending|failed]`: requests by owner or state."""

from __future__ import annotations

from commands.base import Invocation, Reply, Services, Verb
from commands.describe import listing
from commands.text import UsageError, extra, shown
from orcoursetrion.lifecycle import Status

FILTERS = {
    "mine": ("Your requests", None),
    "pending": ("Pending approval", (Status.PENDING_APPROVAL,)),
    "failed": ("Failed requests", (Status.FAILED,)),
    "running": ("Running now", (Status.APPROVED, Status.IN_PROGRESS)),
}


def handle(inv: Invocation, services: Services) -> Reply:
    which = inv.args[0].lower() if inv.args else "mine"
    if len(inv.args) > 1:
        raise extra(inv.args[1:], "one of " + ", ".join(FILTERS))
    if which not in FILTERS:
        raise UsageError(f"{shown(inv.args[0])} is not a list; say one of: {', '.join(FILTERS)}.")
    title, statuses = FILTERS[which]
    requester = inv.user if which == "mine" else None
    found = services.store.list_requests(requester=requester, statuses=statuses, limit=25)
    return Reply(listing(found, f"{title}: none."), title=title, request_ids=[r.id for r in found])


VERB = Verb(
    name="list",
    usage="list [mine|pending|failed|running]",
    example="/orc list pending",
    summary="list requests: yours, pending approval, failed or running",
    handle=handle,
    mutating=False,
)
