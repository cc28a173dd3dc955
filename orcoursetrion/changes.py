"""What a step of an action changes on GitHub: the unit of plans, journals and audits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class Change:
    """One GitHub change a step will make (or found already made: `changed=False`).

    `text` is safe to show anywhere (secrets redacted); `data` is what `apply` needs and
    is JSON-serialisable, so the plan can be journaled and compared with the execution."""

    op: str
    target: str
    text: str
    changed: bool = True
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class StepRecord:
    """A journal row: a step this request intended (`applying`) or finished (`done`)."""

    key: str
    state: str
    evidence: dict
    at: datetime | None = None
    attempt: int = 0

    @property
    def done(self) -> bool:
        return self.state == "done"

    @property
    def in_doubt(self) -> bool:
        """The write was sent and its outcome never came back (crash, timeout)."""
        return self.state == "applying"


@dataclass(frozen=True)
class RepoOwner:
    """The request whose journal holds a repository's creation."""

    request_id: int
    type: str
    summary: str
    at: datetime | None
