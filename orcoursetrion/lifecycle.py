"""A request's lifecycle: its types, statuses and the transitions allowed between them.

    draft --confirm--> pending_approval --approve--> approved --claim--> in_progress
      |                      |                          |                  |  \\
      +--cancel--> cancelled <+--reject--> rejected      |             completed failed
                                                        +-----retry--------------+

A request with a scheduled time (`scheduled_for`) waits in `scheduled` once confirmed (and
approved, where approval is needed) and becomes `approved` when the scheduler finds it due:

    draft / pending_approval --confirm / approve--> scheduled --due--> approved
                                                        |  \\--missed--> failed
                                                        +--cancel--> cancelled
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from orcoursetrion.errors import LeaseLost, NotAuthorized, RequestStateError, ShuttingDown
from orcoursetrion.events import Event, EventBus
from orcoursetrion.times import local_text

if TYPE_CHECKING:
    from orcoursetrion.config import Settings
    from orcoursetrion.store import RequestView, Store

__all__ = ["LeaseLost", "Lifecycle", "RequestType", "ShuttingDown", "Status", "allowed"]


class RequestType(StrEnum):
    NEW = "new"
    RERUN = "rerun"
    RELEASE = "release"
    TEAM = "team"
    ROLLOVER = "rollover"
    ACTION = "action"  # a CLI action of the original tool, run through the same lifecycle


class Status(StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    SCHEDULED = "scheduled"
    APPROVED = "approved"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return LABELS[self]

    @property
    def final(self) -> bool:
        return self in (Status.COMPLETED, Status.REJECTED, Status.CANCELLED)


LABELS = {
    Status.DRAFT: "Awaiting confirmation",
    Status.PENDING_APPROVAL: "Pending Approval",
    Status.SCHEDULED: "Scheduled",
    Status.APPROVED: "Approved",
    Status.IN_PROGRESS: "In Progress",
    Status.COMPLETED: "Completed",
    Status.FAILED: "Failed",
    Status.REJECTED: "Rejected",
    Status.CANCELLED: "Cancelled",
}

TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.DRAFT: frozenset({Status.PENDING_APPROVAL, Status.SCHEDULED, Status.APPROVED, Status.CANCELLED}),
    Status.PENDING_APPROVAL: frozenset({Status.SCHEDULED, Status.APPROVED, Status.REJECTED, Status.CANCELLED}),
    Status.SCHEDULED: frozenset({Status.APPROVED, Status.CANCELLED, Status.FAILED}),
    Status.APPROVED: frozenset({Status.IN_PROGRESS, Status.CANCELLED}),
    Status.IN_PROGRESS: frozenset({Status.COMPLETED, Status.FAILED}),
    Status.FAILED: frozenset({Status.APPROVED, Status.CANCELLED}),
    Status.COMPLETED: frozenset(),
    Status.REJECTED: frozenset(),
    Status.CANCELLED: frozenset(),
}


def allowed(src: Status, dst: Status) -> bool:
    return dst in TRANSITIONS[src]


class Lifecycle:
    """Moves requests between statuses and decides who may move them; every move is a
    compare-and-set in the store, announced on the bus. Running belongs to the runner
    (`start`), what a type means to the job types (`describe`)."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        bus: EventBus,
        start: Callable[[int], object],
        describe: Callable[[str, dict], str],
    ) -> None:
        self.settings, self.store, self.bus = settings, store, bus
        self._start, self._describe = start, describe

    def emit(self, kind: str, request: RequestView, actor: str | None = None, text: str | None = None, **data) -> None:
        self.bus.emit(Event(kind, request, actor, text, data))

    # -- who may do what -------------------------------------------------------------------------
    def is_approver(self, user: str | None) -> bool:
        return self.settings.is_approver(user)

    def needs_approval(self, req: RequestView) -> bool:
        if not self.settings.approvers:
            return False
        return not (self.settings.auto_approve and self.is_approver(req.requester))

    def _owner_or_approver(self, req: RequestView, actor: str, verb: str) -> None:
        if actor != req.requester and not self.is_approver(actor):
            raise NotAuthorized(f"Only the requester or an approver can {verb} request #{req.id}.")

    def _approver(self, req: RequestView, actor: str, verb: str) -> None:
        if not self.is_approver(actor):
            raise NotAuthorized(f"Only approvers can {verb} requests.")
        if actor == req.requester and len(self.settings.approvers) > 1:
            raise NotAuthorized(f"Another approver must {verb} your own request #{req.id}.")

    def _moved(self, req_id: int, verb: str) -> RequestStateError:
        current = self.store.get(req_id)
        return RequestStateError(f"Request #{req_id} is already {current.state.label}; nothing to {verb}.")

    # -- moves -------------------------------------------------------------------------------------
    def create(
        self,
        type: str,
        requester: str,
        params: dict,
        plan: list[str] | None = None,
        channel: str | None = None,
        requester_name: str | None = None,
        summary: str | None = None,
        notes: list[str] | None = None,
        confirm_warning: str | None = None,
        requester_email: str | None = None,
    ) -> RequestView:
        """Record a request (awaiting confirmation) before anything runs; the requester's
        e-mail (from Slack) becomes the Zendesk ticket's requester."""
        req = self.store.create_request(
            type,
            requester,
            params,
            summary or self._describe(type, params),
            plan=plan,
            requester_name=requester_name,
            channel=channel,
            desired_at=_desired(params.get("desired")),
            scheduled_for=scheduled_for(params),
            notes=notes,
            confirm_warning=confirm_warning,
            requester_email=requester_email,
        )
        if type == RequestType.ROLLOVER:
            self.store.add_items(req.id, [(c, None) for c in params.get("courses") or []])
        self.emit("created", req, requester)
        return req

    def confirm(self, req_id: int, actor: str) -> RequestView:
        req = self.store.get(req_id)
        self._owner_or_approver(req, actor, "confirm")
        if req.state != Status.DRAFT:
            raise self._moved(req_id, "confirm")
        if req.scheduled_for is not None and req.scheduled_for <= self.store.now():
            raise RequestStateError(
                f"Request #{req_id} was to run at {self._when(req)}, which has passed; schedule it again."
            )
        if self.needs_approval(req):
            moved = self.store.transition(req_id, Status.DRAFT, Status.PENDING_APPROVAL, actor, "confirmed")
            if moved is None:
                raise self._moved(req_id, "confirm")
            self.emit("pending_approval", moved, actor)
            return moved
        if req.scheduled_for is not None:
            return self._into_schedule(req, Status.DRAFT, actor, "confirmed", "confirm")
        moved = self.store.transition(req_id, Status.DRAFT, Status.APPROVED, actor, "confirmed; no approval needed")
        if moved is None:
            raise self._moved(req_id, "confirm")
        self.emit("approved", moved, actor, auto=True)
        self._start(req_id)
        return moved

    def check_can_decide(self, req_id: int, actor: str, verb: str = "reject") -> RequestView:
        """Raise unless `actor` may approve/reject this request now (for forms, before acting)."""
        req = self.store.get(req_id)
        self._approver(req, actor, verb)
        if req.state != Status.PENDING_APPROVAL:
            raise self._moved(req_id, verb)
        return req

    def approve(self, req_id: int, actor: str, *, authorized: bool = False) -> RequestView:
        """Pending -> Approved, then run (or Scheduled, to run at its time). `authorized`: the
        caller has already established that `actor` may decide (a signed Zendesk webhook call;
        see docs/zendesk.md)."""
        req = self.store.get(req_id)
        if not authorized:
            self._approver(req, actor, "approve")
        if req.scheduled_for is not None:
            return self._into_schedule(req, Status.PENDING_APPROVAL, actor, "approved", "approve", decided_by=actor)
        moved = self.store.transition(
            req_id, Status.PENDING_APPROVAL, Status.APPROVED, actor, "approved", decided_by=actor
        )
        if moved is None:
            raise self._moved(req_id, "approve")
        self.emit("approved", moved, actor)
        self._start(req_id)
        return moved

    def reject(self, req_id: int, actor: str, reason: str, *, authorized: bool = False) -> RequestView:
        """Pending -> Rejected with the reason (`authorized` as for `approve`)."""
        req = self.store.get(req_id)
        if not authorized:
            self._approver(req, actor, "reject")
        reason = " ".join((reason or "").split())[:2000] or "No reason given."
        moved = self.store.transition(
            req_id, Status.PENDING_APPROVAL, Status.REJECTED, actor, reason, decided_by=actor, reason=reason
        )
        if moved is None:
            raise self._moved(req_id, "reject")
        self.emit("rejected", moved, actor, reason)
        return moved

    def cancel(self, req_id: int, actor: str) -> RequestView:
        req = self.store.get(req_id)
        self._owner_or_approver(req, actor, "cancel")
        return self._cancel(req_id, actor, CANCELLABLE)

    def cancel_scheduled(self, req_id: int, actor: str, direct: bool = False) -> RequestView:
        """`/orc schedule cancel`: cancel a scheduled request and its task before it runs.
        `direct` is the command line's operator, like `approve_direct`."""
        req = self.store.get(req_id)
        if not direct:
            self._owner_or_approver(req, actor, "cancel")
        if req.scheduled_for is None:
            raise RequestStateError(f"Request #{req_id} is not scheduled; `/orc cancel {req_id}` cancels a request.")
        return self._cancel(req_id, actor, (Status.DRAFT, Status.PENDING_APPROVAL, Status.SCHEDULED))

    def _cancel(self, req_id: int, actor: str, expected: tuple[Status, ...]) -> RequestView:
        moved = self.store.transition(
            req_id,
            expected,
            Status.CANCELLED,
            actor,
            "cancelled",
            also=self.store.cancel_tasks_of(req_id),
            lease_owner=None,
            decided_by=actor,
        )
        if moved is None:
            raise self._moved(req_id, "cancel")
        self.emit("cancelled", moved, actor)
        return moved

    def check_can_change(self, req_id: int, actor: str) -> RequestView:
        """Raise unless `actor` may still change this request's plan (requester or approver, draft)."""
        req = self.store.get(req_id)
        self._owner_or_approver(req, actor, "change")
        if req.state != Status.DRAFT:
            raise self._moved(req_id, "change")
        return req

    def replan(
        self,
        req_id: int,
        actor: str,
        params: dict,
        plan: list[str],
        notes: list[str] | None = None,
        confirm_warning: str | None = None,
    ) -> RequestView:
        """A draft's changed plan ("Change term/team"), kept under the same request number."""
        req = self.check_can_change(req_id, actor)
        moved = self.store.update_draft(
            req_id,
            req.version,
            params=params,
            plan=plan,
            notes=notes,
            confirm_warning=confirm_warning,
            summary=self._describe(req.type, params)[:300],
        )
        if moved is None:
            raise self._moved(req_id, "change")
        self.store.audit(req_id, actor, "note", "replanned", moved.summary)
        self.emit("replanned", moved, actor)
        return moved

    def supersede(self, req_id: int, new_id: int, actor: str) -> RequestView | None:
        """Cancel a draft that a changed plan (request `new_id`) replaces, handing over its
        message; None when it was confirmed (or cancelled) first and must be left alone."""
        req = self.store.get(req_id)
        self._owner_or_approver(req, actor, "change")
        moved = self.store.transition(
            req_id, Status.DRAFT, Status.CANCELLED, actor, f"replaced by request #{new_id}", message_ts=None
        )
        if moved is not None:
            self.emit("cancelled", moved, actor)
        return moved

    def reapprove(self, req_id: int, actor: str) -> RequestView:
        """Failed -> Approved for a retry; a batch's failed courses are reset in the same
        transaction, so a refused retry leaves everything as it was."""
        req = self.store.get(req_id)
        self._owner_or_approver(req, actor, "retry")
        also = self.store.reset_failed_items(req_id) if req.type == RequestType.ROLLOVER else None
        moved = self.store.transition(
            req_id,
            Status.FAILED,
            Status.APPROVED,
            actor,
            "retry",
            also=also,
            error=None,
            error_step=None,
            stop_requested_by=None,
        )
        if moved is None:
            raise self._moved(req_id, "retry")
        self.emit("approved", moved, actor, retry=True)
        return moved

    def retry(self, req_id: int, actor: str) -> RequestView:
        """Failed -> Approved -> run again; finished steps are skipped, created repos reused."""
        moved = self.reapprove(req_id, actor)
        self._start(req_id)
        return moved

    def request_stop(self, req_id: int, actor: str) -> RequestView:
        """Ask a running batch to stop after the current course (Retry continues it)."""
        req = self.store.get(req_id)
        self._owner_or_approver(req, actor, "stop")
        if req.state != Status.IN_PROGRESS:
            raise self._moved(req_id, "stop")
        self.store.update_fields(req_id, stop_requested_by=actor)
        self.store.audit(req_id, actor, "note", "stop_requested", "stop after the current course")
        req = self.store.get(req_id)
        self.emit("stopping", req, actor)
        return req

    def approve_direct(self, req_id: int, actor: str, why: str) -> RequestView:
        """Draft -> Approved without the approval step (operators at the command line)."""
        moved = self.store.transition(req_id, Status.DRAFT, Status.APPROVED, actor, why, decided_by=actor)
        if moved is None:
            raise self._moved(req_id, "approve")
        return moved

    # -- scheduled requests ------------------------------------------------------------------------
    def _when(self, req: RequestView) -> str:
        return local_text(req.scheduled_for, (req.params.get("schedule") or {}).get("tz"))

    def _into_schedule(self, req: RequestView, src: Status, actor: str, what: str, verb: str, **values) -> RequestView:
        """Confirmed (or approved): wait for the scheduled time, with the due task created in
        the same transaction, so a scheduled request always has exactly one task."""
        task = self.store.add_task_in(
            "request",
            req.scheduled_for,
            request_id=req.id,
            timezone=(req.params.get("schedule") or {}).get("tz"),
            created_by=actor,
        )
        moved = self.store.transition(
            req.id, src, Status.SCHEDULED, actor, f"{what}; runs at {self._when(req)}", also=task, **values
        )
        if moved is None:
            raise self._moved(req.id, verb)
        self.emit("scheduled", moved, actor)
        return moved

    def schedule_direct(self, req_id: int, actor: str, why: str) -> RequestView:
        """Draft -> Scheduled without the approval step (operators at the command line)."""
        return self._into_schedule(self.store.get(req_id), Status.DRAFT, actor, why, "schedule", decided_by=actor)

    def run_scheduled(self, req_id: int, actor: str, note: str | None = None) -> RequestView | None:
        """The scheduled time came: Scheduled -> Approved, then run, the same path as a
        confirmed request (so its preflight checks the plan again). None when it is no
        longer scheduled (cancelled, or already moved by another replica)."""
        moved = self.store.transition(
            req_id, Status.SCHEDULED, Status.APPROVED, actor, note or "scheduled time: starting"
        )
        if moved is None:
            return None
        if note:
            self.store.audit(req_id, actor, "note", "ran_late", note)
        self.emit("approved", moved, actor, note, scheduled=True)
        self._start(req_id)
        return moved

    def miss(self, req_id: int, actor: str, message: str) -> RequestView | None:
        """Too late to run: Scheduled -> Failed with the reason; nothing was changed, and
        Retry runs it now. None when it is no longer scheduled."""
        step = "scheduled start (nothing was changed)"
        moved = self.store.transition(
            req_id, Status.SCHEDULED, Status.FAILED, actor, message, error=message, error_step=step
        )
        if moved is not None:
            self.emit("failed", moved, actor, message, step=step, missed=True)
        return moved


CANCELLABLE = (Status.DRAFT, Status.PENDING_APPROVAL, Status.SCHEDULED, Status.APPROVED, Status.FAILED)


def scheduled_for(params: dict) -> datetime | None:
    """When a scheduled request runs (the schedule verb's `params["schedule"]["at"]`, UTC)."""
    at = (params.get("schedule") or {}).get("at")
    if not at:
        return None
    moment = datetime.fromisoformat(at)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _desired(day: str | None) -> datetime | None:
    """The requester's needed-by date (a form's YYYY-MM-DD) as midnight UTC."""
    if not day:
        return None
    try:
        return datetime.combine(date.fromisoformat(day), datetime.min.time(), UTC)
    except ValueError:
        return None
