"""Verbs that move an existing request by number: approve, reject, retry, cancel, stop.
They do what the buttons do, for the shell and for people who prefer typing."""

from __future__ import annotations

from commands.base import Invocation, Reply, Services, Verb
from commands.text import UsageError, extra, request_id


def _one_id(inv: Invocation, more: bool = False) -> int:
    if not inv.args:
        raise UsageError("Give the request number, e.g. 12.")
    if len(inv.args) > 1 and not more:
        raise extra(inv.args[1:], "only the request number")
    return request_id(inv.args[0])


def approve(inv: Invocation, services: Services) -> Reply:
    req = services.workflow.approve(_one_id(inv), inv.user)
    return Reply(f"Approved request #{req.id}; it runs now.")


def reject(inv: Invocation, services: Services) -> Reply:
    req_id = _one_id(inv, more=True)
    reason = " ".join(inv.args[1:]).strip()
    if not reason:
        raise UsageError("Say why, e.g. `/orc reject 12 duplicate of #11`.")
    services.workflow.reject(req_id, inv.user, reason)
    return Reply(f"Rejected request #{req_id}; the requester has been told why.")


def retry(inv: Invocation, services: Services) -> Reply:
    req = services.workflow.retry(_one_id(inv), inv.user)
    return Reply(f"Retrying request #{req.id}; finished steps are skipped.")


def cancel(inv: Invocation, services: Services) -> Reply:
    req = services.workflow.cancel(_one_id(inv), inv.user)
    return Reply(f"Cancelled request #{req.id}.")


def stop(inv: Invocation, services: Services) -> Reply:
    req = services.workflow.request_stop(_one_id(inv), inv.user)
    return Reply(f"Request #{req.id} stops after the current course; Retry continues it.")


VERBS = [
    Verb("approve", "approve ID", "/orc approve 12", "approve a pending request", approve, approvers_only=True),
    Verb(
        "reject",
        "reject ID REASON",
        "/orc reject 12 wrong term",
        "reject a pending request, with the reason",
        reject,
        approvers_only=True,
    ),
    Verb("retry", "retry ID", "/orc retry 12", "run a failed request again from where it stopped", retry),
    Verb("cancel", "cancel ID", "/orc cancel 12", "cancel a request that has not run", cancel),
    Verb("stop", "stop ID", "/orc stop 12", "stop a running rollover after the current course", stop),
]
