"""Where a live run records its steps, so a resumed request knows what it did.

A step is recorded as `applying` before its write (fenced: only the lease holder may
write) and as `done` only after GitHub confirmed it, with its evidence (the created
repo's id, the commit sha, the hook id). A write GitHub refused leaves nothing behind,
so a retry can never read it as "ours"."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from orcoursetrion.changes import Change, RepoOwner, StepRecord


class Journal(Protocol):
    def record(self, key: str) -> StepRecord | None: ...
    def intend(self, key: str, change: Change) -> None: ...
    def done(self, key: str, change: Change, evidence: dict) -> None: ...
    def abandon(self, key: str, change: Change, reason: str) -> None: ...
    def owner_of_repo(self, github_id: int) -> RepoOwner | None: ...
    def check(self) -> None: ...


class MemoryJournal:
    """A journal for one library call without a store: nothing outlives the process."""

    def __init__(self) -> None:
        self.steps: dict[str, StepRecord] = {}

    def record(self, key: str) -> StepRecord | None:
        return self.steps.get(key)

    def intend(self, key: str, change: Change) -> None:
        self.steps[key] = StepRecord(key, "applying", {}, datetime.now(UTC))

    def done(self, key: str, change: Change, evidence: dict) -> None:
        self.steps[key] = StepRecord(key, "done", dict(evidence), datetime.now(UTC))

    def abandon(self, key: str, change: Change, reason: str) -> None:
        self.steps.pop(key, None)

    def owner_of_repo(self, github_id: int) -> RepoOwner | None:
        return None

    def check(self) -> None:
        return None


class StoreJournal:
    """The journal of one request in the store; every write is fenced by the run's lease."""

    def __init__(self, store, lease) -> None:
        self.store, self.lease = store, lease
        self._records = store.step_records(lease.request_id)

    def record(self, key: str) -> StepRecord | None:
        return self._records.get(key)

    def _fenced(self, write):
        from orcoursetrion.errors import LeaseLost

        try:
            return write()
        except LeaseLost:
            self.lease.lost.set()
            raise

    def intend(self, key: str, change: Change) -> None:
        lease = self.lease
        self._records[key] = self._fenced(
            lambda: self.store.step_intend(lease.request_id, key, lease.owner, lease.attempt, change)
        )

    def done(self, key: str, change: Change, evidence: dict) -> None:
        lease = self.lease
        self._records[key] = self._fenced(
            lambda: self.store.step_done(lease.request_id, key, lease.owner, lease.attempt, change, evidence)
        )

    def abandon(self, key: str, change: Change, reason: str) -> None:
        lease = self.lease
        self._fenced(lambda: self.store.step_abandon(lease.request_id, key, lease.owner, lease.attempt, change, reason))
        self._records.pop(key, None)

    def owner_of_repo(self, github_id: int) -> RepoOwner | None:
        return self.store.owner_of_repo(github_id)

    def check(self) -> None:
        self.lease.check()


class PlanJournal(MemoryJournal):
    """A plan's journal: writes nothing, but knows from the store which request made a repo."""

    def __init__(self, store) -> None:
        super().__init__()
        self.store = store

    def owner_of_repo(self, github_id: int) -> RepoOwner | None:
        return self.store.owner_of_repo(github_id)
