"""A request's lifecycle: its types, statuses and the transitions allowed between them.

    draft --confirm--> pending_approval --approve--> approved --claim--> in_progress
      |                      |                          |                  |  \\
      +--cancel--> cancelled <+--reject--> rejected      |             completed failed
                                                        +-----retry--------------+
"""

from __future__ import annotations

from enum import StrEnum


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
    Status.APPROVED: "Approved",
    Status.IN_PROGRESS: "In Progress",
    Status.COMPLETED: "Completed",
    Status.FAILED: "Failed",
    Status.REJECTED: "Rejected",
    Status.CANCELLED: "Cancelled",
}

TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.DRAFT: frozenset({Status.PENDING_APPROVAL, Status.APPROVED, Status.CANCELLED}),
    Status.PENDING_APPROVAL: frozenset({Status.APPROVED, Status.REJECTED, Status.CANCELLED}),
    Status.APPROVED: frozenset({Status.IN_PROGRESS, Status.CANCELLED}),
    Status.IN_PROGRESS: frozenset({Status.COMPLETED, Status.FAILED}),
    Status.FAILED: frozenset({Status.APPROVED, Status.CANCELLED}),
    Status.COMPLETED: frozenset(),
    Status.REJECTED: frozenset(),
    Status.CANCELLED: frozenset(),
}


def allowed(src: Status, dst: Status) -> bool:
    return dst in TRANSITIONS[src]


class LeaseLost(Exception):
    """Another process took this request over (our lease expired); stop quietly."""


class ShuttingDown(Exception):
    """This process is stopping: leave the request in progress for the next one to resume."""
