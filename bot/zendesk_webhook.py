"""A Zendesk trigger's call, after its signature was checked: an agent's `orc_approve` /
`orc_reject` tag moves the request exactly as the Approve / Reject buttons do.

The body is the trigger JSON of SPEC §4 (docs/zendesk.md): placeholders arrive as strings
(`"id": "1001"`, `"tags": "orcoursetrion orc_approve"`), numbers and lists are accepted too.
Authorization: the webhook's signing secret is the credential (only the Zendesk account's
webhook holds it, and only its agents can tag tickets), so a signed call may decide as an
approver; the actor recorded is the ticket (`zendesk:ticket/1001`). Unknown requests and
calls that change nothing are answered 2xx (Zendesk retries errors); malformed bodies 400.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from commands.base import Services
from orcoursetrion.errors import RequestStateError
from orcoursetrion.zendesk import APPROVE_TAG, MARKER, REJECT_TAG, find_request, zendesk_actor

log = logging.getLogger(__name__)
_SEPARATORS = re.compile(r"[\s,]+")
_MAX_ID = 2**63 - 1


def handle(services: Services, body: bytes) -> tuple[str, dict]:
    """(HTTP status line, JSON answer) for one verified webhook call."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return "400 Bad Request", {"error": "the body is not JSON"}
    ticket = data.get("ticket") if isinstance(data, dict) else None
    if not isinstance(ticket, dict):
        return "400 Bad Request", {"error": "the body has no ticket object"}
    ticket_id = _number(ticket.get("id"))
    tags = _tags(ticket.get("tags"))
    req = find_request(services.store, _text(ticket.get("external_id")), ticket_id)
    if req is None:
        log.info("Zendesk webhook for ticket %s names no known request; ignored", ticket_id)
        return "202 Accepted", {"status": "ignored", "reason": "no such request"}
    approve, reject = APPROVE_TAG in tags, REJECT_TAG in tags
    if approve == reject:
        log.info("Zendesk webhook for request %s: %s; ignored", req.id, "both tags" if approve else "no decision tag")
        return "202 Accepted", {"status": "ignored", "request": req.id, "reason": "no single decision tag"}
    actor = zendesk_actor(ticket_id if ticket_id is not None else req.ticket_id)
    workflow = services.workflow
    try:
        if approve:
            workflow.approve(req.id, actor, authorized=True)
        else:
            workflow.reject(req.id, actor, _reason(ticket.get("latest_comment")), authorized=True)
    except RequestStateError as exc:
        log.info("Zendesk webhook for request %s changed nothing: %s", req.id, exc)
        return "200 OK", {"status": "unchanged", "request": req.id, "detail": str(exc)}
    except Exception:
        log.exception("Zendesk webhook for request %s failed", req.id)
        return "503 Service Unavailable", {"error": "try again"}
    decided = "approved" if approve else "rejected"
    log.info("request %s %s from Zendesk (%s)", req.id, decided, actor)
    return "200 OK", {"status": decided, "request": req.id}


def _number(value: Any) -> int | None:
    """A ticket id as Zendesk renders it ("1001") or as a number; ids are 64-bit, so a
    larger number (`1e20`, 30 digits) names no ticket rather than overflowing the store."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit() and len(value.strip()) <= 19:
        value = int(value.strip())
    if isinstance(value, int) and 0 < value <= _MAX_ID:
        return value
    return None


def _text(value: Any) -> str:
    if value is None or isinstance(value, (dict, list, bool)):
        return ""
    return str(value)


def _reason(value: Any) -> str:
    """The agent's latest comment; the bot's own (tag added without a comment) is no reason."""
    text = _text(value).strip()
    if not text or MARKER in text:
        return "No reason given in Zendesk."
    return text


def _tags(value: Any) -> set[str]:
    """Tags space-separated (Zendesk's rendering), comma-separated, or a list."""
    words = value if isinstance(value, list) else [value]
    out: set[str] = set()
    for word in words:
        if isinstance(word, (str, int)) and not isinstance(word, bool):
            out.update(w.lower() for w in _SEPARATORS.split(str(word)) if w)
    return out
