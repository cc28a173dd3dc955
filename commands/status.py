"""`/orc status [ID]`: one request in detail, or your latest ones."""

from __future__ import annotations

from commands.base import Invocation, Reply, Services, Verb
from commands.describe import changes_made, detail, listing
from commands.text import extra, request_id
from orcoursetrion.audit import github_changes
from orcoursetrion.changes import web_base
from orcoursetrion.lifecycle import RequestType
from orcoursetrion.zendesk import ticket_link


def handle(inv: Invocation, services: Services) -> Reply:
    if len(inv.args) > 1:
        raise extra(inv.args[1:], "at most one request number")
    if inv.args:
        req = services.store.get(request_id(inv.args[0]))
        items = services.store.items(req.id) if req.type == RequestType.ROLLOVER else None
        ticket = ticket_link(services.settings, req)
        changes = github_changes(services.store, web_base(services.settings.gh_api_url), req.id)
        text = detail(req, inv.timezone, items, ticket) + "\n" + changes_made(req, changes)
        return Reply(text, title=f"Request #{req.id}", request_ids=[req.id])
    mine = services.store.list_requests(requester=inv.user, limit=10)
    return Reply(
        listing(mine, "You have no requests yet. Try `/orc help`."),
        title="Your latest requests",
        request_ids=[r.id for r in mine],
    )


VERB = Verb(
    name="status",
    usage="status [ID]",
    example="/orc status 12",
    summary="show one request (plan, progress, result) or your latest requests",
    handle=handle,
    mutating=False,
)
