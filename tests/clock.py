"""Clocks the test moves by hand: for the scheduler (injected as `clock=`) and for the
GitHub pacer (`ManualClock`)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from orcoursetrion.pacing import Clock


class FakeClock:
    """Aware UTC time that only moves when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, moment: datetime) -> None:
        with self._lock:
            self._now = moment

    def advance(self, **delta: float) -> datetime:
        with self._lock:
            self._now += timedelta(**delta)
            return self._now


class ManualClock(Clock):
    """A pacing clock tests move by hand; waits advance it instead of sleeping."""

    def __init__(self) -> None:
        super().__init__()
        self.t = 0.0

    def now(self) -> float:
        return self.t

    def real(self, seconds: float) -> float:
        self.t += max(0.0, seconds)  # the wait "takes" this long
        return 0.0

    def sleep(self, seconds: float) -> None:
        self.t += seconds
