"""The Zendesk outbox: ticket operations waiting to be done at Zendesk, kept in the store so
they survive restarts and can be shared by several replicas.

Operations of one request are done one at a time, in the order they were queued: only the
oldest pending row of a request can be claimed. A claim is a compare-and-set on the row
(`claimed_until` in the past or unset), preceded on PostgreSQL by `FOR UPDATE SKIP LOCKED`
so replicas polling at once do not queue up on each other's rows. A claim expires: a worker
that died mid-operation leaves its row to the next one. Times come from the database's clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.orm import aliased

from orcoursetrion.redact import redact
from orcoursetrion.store.db import Store
from orcoursetrion.store.models import Request, ZendeskOutbox

PENDING, DEAD = "pending", "dead"


@dataclass(frozen=True)
class OutboxRow:
    """One claimed operation; `attempts` counts this claim too (1 on the first try)."""

    id: int
    request_id: int
    kind: str
    payload: dict
    attempts: int
    owner: str


@dataclass(frozen=True)
class OutboxStats:
    pending: int
    dead: int
    oldest: datetime | None
    last_error: str | None
    last_error_at: datetime | None


class Outbox:
    """The outbox table's operations; each opens and commits its own short transaction."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def add(self, request_id: int, kind: str, payload: dict | None = None) -> int:
        with self.store.session() as s:
            now = self.store.db_now(s)
            row = ZendeskOutbox(
                request_id=request_id,
                kind=kind,
                payload=payload or {},
                state=PENDING,
                attempts=0,
                next_at=now,
                created_at=now,
            )
            s.add(row)
            s.flush()
            return row.id

    def known(self, request_id: int) -> bool:
        """Whether this request has a ticket, or ticket work queued (or given up)."""
        with self.store.session() as s:
            if s.scalar(select(Request.ticket_id).where(Request.id == request_id)) is not None:
                return True
            return s.scalar(select(func.count()).where(ZendeskOutbox.request_id == request_id)) > 0

    def claim(self, owner: str, lease_seconds: float) -> OutboxRow | None:
        """Take the next due operation whose request has nothing older pending; None if none."""
        row, prior = ZendeskOutbox, aliased(ZendeskOutbox)
        with self.store.session() as s:
            now = self.store.db_now(s)
            free = or_(row.claimed_until.is_(None), row.claimed_until < now)
            query = (
                select(row.id)
                .where(
                    row.state == PENDING,
                    row.next_at <= now,
                    free,
                    ~exists().where(prior.request_id == row.request_id, prior.id < row.id, prior.state == PENDING),
                )
                .order_by(row.next_at, row.id)
                .limit(5)
            )
            if not self.store.is_sqlite:
                query = query.with_for_update(skip_locked=True, of=row)
            for row_id in s.scalars(query).all():
                taken = s.execute(
                    update(row)
                    .where(row.id == row_id, row.state == PENDING, free)
                    .values(
                        claimed_by=owner,
                        claimed_until=now + timedelta(seconds=lease_seconds),
                        attempts=row.attempts + 1,
                        last_attempt_at=now,
                    )
                    .execution_options(synchronize_session=False)
                )
                if taken.rowcount == 1:
                    got = s.get(row, row_id)
                    s.refresh(got)
                    return OutboxRow(got.id, got.request_id, got.kind, dict(got.payload or {}), got.attempts, owner)
            return None

    def done(self, item: OutboxRow) -> bool:
        """The operation took effect: remove it (False if our claim had been taken over)."""
        with self.store.session() as s:
            gone = s.execute(
                delete(ZendeskOutbox).where(*self._mine(item)).execution_options(synchronize_session=False)
            )
            return gone.rowcount == 1

    def retry(self, item: OutboxRow, delay: float, error: str) -> None:
        """Try again after `delay` seconds; the claim is released."""
        with self.store.session() as s:
            now = self.store.db_now(s)
            s.execute(
                update(ZendeskOutbox)
                .where(*self._mine(item))
                .values(
                    next_at=now + timedelta(seconds=max(0.0, delay)),
                    claimed_by=None,
                    claimed_until=None,
                    last_error=redact(error)[:2000],
                )
                .execution_options(synchronize_session=False)
            )

    def give_up(self, item: OutboxRow, error: str) -> None:
        """Keep the row as `dead` (for the operator) so the request's later operations go on."""
        with self.store.session() as s:
            s.execute(
                update(ZendeskOutbox)
                .where(*self._mine(item))
                .values(state=DEAD, claimed_by=None, claimed_until=None, last_error=redact(error)[:2000])
                .execution_options(synchronize_session=False)
            )

    def wake(self) -> int:
        """Zendesk answers again: every operation waiting out a backoff is due now."""
        with self.store.session() as s:
            now = self.store.db_now(s)
            woken = s.execute(
                update(ZendeskOutbox)
                .where(ZendeskOutbox.state == PENDING, ZendeskOutbox.next_at > now)
                .values(next_at=now)
                .execution_options(synchronize_session=False)
            )
            return woken.rowcount

    def release(self, owner: str) -> None:
        """Give back this worker's claims (shutdown), so another worker need not wait them out."""
        with self.store.session() as s:
            s.execute(
                update(ZendeskOutbox)
                .where(ZendeskOutbox.claimed_by == owner, ZendeskOutbox.state == PENDING)
                .values(claimed_by=None, claimed_until=None)
                .execution_options(synchronize_session=False)
            )

    def pending(self, request_id: int | None = None) -> int:
        with self.store.session() as s:
            query = select(func.count()).where(ZendeskOutbox.state == PENDING)
            if request_id is not None:
                query = query.where(ZendeskOutbox.request_id == request_id)
            return s.scalar(query)

    def stats(self) -> OutboxStats:
        with self.store.session() as s:
            counts = dict(s.execute(select(ZendeskOutbox.state, func.count()).group_by(ZendeskOutbox.state)).all())
            oldest = s.scalar(select(func.min(ZendeskOutbox.created_at)).where(ZendeskOutbox.state == PENDING))
            last = s.execute(
                select(ZendeskOutbox.last_error, ZendeskOutbox.last_attempt_at)
                .where(ZendeskOutbox.last_error.is_not(None))
                .order_by(ZendeskOutbox.last_attempt_at.desc())
                .limit(1)
            ).first()
            return OutboxStats(
                counts.get(PENDING, 0),
                counts.get(DEAD, 0),
                oldest,
                last[0] if last else None,
                last[1] if last else None,
            )

    @staticmethod
    def _mine(item: OutboxRow) -> list:
        """Still claimed by this worker, for this very attempt (a take-over fences us out)."""
        return [
            ZendeskOutbox.id == item.id,
            ZendeskOutbox.claimed_by == item.owner,
            ZendeskOutbox.attempts == item.attempts,
        ]


def request_by_ticket(store: Store, ticket_id: int) -> int | None:
    """The id of the request whose stored Zendesk ticket this is (the newest, if several)."""
    with store.session() as s:
        return s.scalar(select(Request.id).where(Request.ticket_id == ticket_id).order_by(Request.id.desc()).limit(1))
