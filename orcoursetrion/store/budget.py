"""The GitHub write budget kept in the store, so that every replica and CLI process on the
same database shares one account's limits (`orcoursetrion.pacing.WriteRule`).

A reservation is one short transaction: the budget row is locked (PostgreSQL: `SELECT …
FOR UPDATE`; SQLite: the first statement writes, which takes the database's write lock),
the send time is computed from the row and the reserved sends of the last hour, and both
are updated. The caller sleeps until its send time outside the transaction, so a process
that dies after reserving wastes its own slot and blocks nothing else.

One clock for everyone: PostgreSQL's `clock_timestamp()` (the real time of the statement,
not of the transaction's start) on PostgreSQL, where replicas may run on several machines;
the wall clock on SQLite, which is one machine's file. Each process only ever sleeps the
*difference* between its send time and that clock, so skew between machines cannot bunch
writes together.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from sqlalchemy import delete, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from orcoursetrion.pacing import BUDGET_REASON, Clock, Reservation, WriteRule
from orcoursetrion.store.db import Store
from orcoursetrion.store.models import WriteBudget, WriteSend

PAUSE_CACHE_SECONDS = 1.0  # reads see another process's new pause within this long


def budget_key(api_url: str) -> str:
    """The account's budget name: GitHub's API URL without credentials or scheme."""
    parts = urlsplit(api_url.strip())
    host = parts.hostname or parts.path
    port = f":{parts.port}" if parts.port else ""
    return f"{host}{port}{parts.path.rstrip('/') if parts.hostname else ''}".lower()[:200]


class StoreBucket:
    """A `pacing.Bucket` in the store. `clock` replaces the store's clock (tests only)."""

    def __init__(self, store: Store, key: str, clock: Clock | None = None) -> None:
        self.store = store
        self.key = key
        self._injected = clock
        self.clock = clock or Clock()
        self._cached: tuple[float, float, str] | None = None  # (monotonic seen, until-monotonic, reason)

    def reserve(self, rule: WriteRule) -> Reservation:
        with self.store.session() as s:
            row = self._locked_row(s)
            now = self._now(s)
            s.execute(delete(WriteSend).where(WriteSend.key == self.key, WriteSend.at < rule.horizon(now)))
            at = rule.send_time(
                now, row.tat, row.paused_until, self._mark(s, rule.per_minute), self._mark(s, rule.per_hour)
            )
            row.tat = rule.next_tat(row.tat, at)
            s.add(WriteSend(key=self.key, at=at))
            paused = at > now and at == row.paused_until
            self._remember(now, row.paused_until, row.pause_reason or "")
            return Reservation(at, now, paused, (row.pause_reason or "") if paused else BUDGET_REASON)

    def pause(self, seconds: float, reason: str) -> bool:
        with self.store.session() as s:
            self._ensure_row(s)
            now = self._now(s)
            until = now + max(0.0, seconds)
            done = s.execute(
                update(WriteBudget)
                .where(WriteBudget.key == self.key, WriteBudget.paused_until < until)
                .values(paused_until=until, pause_reason=reason[:200])
            )
            row = s.get(WriteBudget, self.key)
            self._remember(now, row.paused_until, row.pause_reason or "")
            return done.rowcount > 0

    def pause_state(self, fresh: bool = True) -> tuple[float, str]:
        cached = self._cached
        if not fresh and cached is not None and time.monotonic() - cached[0] < PAUSE_CACHE_SECONDS:
            return max(0.0, cached[1] - time.monotonic()), cached[2]
        with self.store.session() as s:
            now = self._now(s)
            row = s.get(WriteBudget, self.key)
            until, reason = (row.paused_until, row.pause_reason or "") if row else (0.0, "")
            self._remember(now, until, reason)
        return max(0.0, until - now), reason

    def paused_until(self) -> float:
        with self.store.session() as s:
            until = s.execute(select(WriteBudget.paused_until).where(WriteBudget.key == self.key)).scalar_one_or_none()
        return until or 0.0

    # -- internals ------------------------------------------------------------------------
    def _now(self, s: Session) -> float:
        if self._injected is not None:
            return self._injected.now()
        if self.store.is_sqlite:
            return time.time()
        return float(s.execute(text("SELECT extract(epoch FROM clock_timestamp())")).scalar_one())

    def _ensure_row(self, s: Session) -> None:
        """Create the row if missing; on SQLite this write also takes the write lock."""
        insert = sqlite_insert if self.store.is_sqlite else postgresql_insert
        s.execute(
            insert(WriteBudget)
            .values(key=self.key, tat=0.0, paused_until=0.0)
            .on_conflict_do_nothing(index_elements=["key"])
        )

    def _locked_row(self, s: Session) -> WriteBudget:
        self._ensure_row(s)
        query = select(WriteBudget).where(WriteBudget.key == self.key).with_for_update()
        return s.execute(query).scalar_one()

    def _mark(self, s: Session, n: int) -> float | None:
        """The n-th latest reserved send, or None when there are fewer."""
        query = (
            select(WriteSend.at).where(WriteSend.key == self.key).order_by(WriteSend.at.desc()).offset(n - 1).limit(1)
        )
        return s.execute(query).scalar_one_or_none()

    def _remember(self, now: float, until: float, reason: str) -> None:
        """Keep the pause in this process's terms (monotonic), for reads that may be stale;
        never with an injected clock, whose seconds are not real ones."""
        if self._injected is None:
            mono = time.monotonic()
            self._cached = (mono, mono + (until - now), reason)
