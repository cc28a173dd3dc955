"""One deliberate pacing policy for GitHub: one write budget for the account, spaced
writes instead of bursts, and everyone stops when GitHub asks us to wait.

A write *reserves* its send time from a bucket, then sleeps until then (outside any
lock or transaction). The rule (`WriteRule`) is a GCRA on the minute rate — writes at
least 60/`per_minute` s apart after a burst of `burst` — plus two exact sliding caps
over the reserved send times: at most `per_minute` in any minute and `per_hour` in any
hour. A pause GitHub asked for (`Retry-After`, rate-limit reset) moves every later
slot past it. The bucket is kept in the store when there is one (`StoreBucket` in
`orcoursetrion.store.budget`: every replica and CLI process on the store shares it),
else in this process (`MemoryBucket`); both apply the same rule. Every request (read
or write) also takes one of this process's `max_concurrent` places.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from orcoursetrion.errors import ShuttingDown

MINUTE = 60.0
HOUR = 3600.0
HEADROOM = 0.01  # writes 1 % further apart than 60/limit: sleep and network jitter never add up to more
MARGIN = 0.5  # seconds beyond a window before its oldest write stops counting (arrival jitter)
BUDGET_REASON = "GitHub write budget"
LOOK_AHEAD = 0.1  # seconds before its slot a waiting write looks for a new pause
WAITING = "stopping while waiting for GitHub's limits"


class Clock:
    """Monotonic seconds; `scale` > 1 runs a simulated clock faster (benchmarks)."""

    def __init__(self, scale: float = 1.0) -> None:
        self.scale = scale
        self._origin = time.monotonic()

    def now(self) -> float:
        return (time.monotonic() - self._origin) * self.scale

    def real(self, seconds: float) -> float:
        """Real seconds that `seconds` of this clock take."""
        return max(0.0, seconds / self.scale)

    def sleep(self, seconds: float) -> None:
        time.sleep(self.real(seconds))


@dataclass(frozen=True)
class WriteRule:
    """When the next write may be sent, given the bucket's state (pure: both back-ends)."""

    per_minute: int
    per_hour: int
    burst: int = 1

    @property
    def interval(self) -> float:
        return MINUTE / self.per_minute * (1 + HEADROOM)

    @property
    def tolerance(self) -> float:
        """How far ahead of its theoretical arrival time a write may go: the burst."""
        return (max(1, min(self.burst, self.per_minute)) - 1) * self.interval

    def send_time(
        self, now: float, tat: float, paused_until: float, minute_mark: float | None, hour_mark: float | None
    ) -> float:
        """The earliest send time: not before now, the GCRA's TAT less the burst, the end of
        a pause, nor a window after the `per_minute`-th (`minute_mark`) or `per_hour`-th
        (`hour_mark`) latest reserved send."""
        at = max(now, tat - self.tolerance, paused_until)
        if minute_mark is not None:
            at = max(at, minute_mark + MINUTE + MARGIN)
        if hour_mark is not None:
            at = max(at, hour_mark + HOUR + MARGIN)
        return at

    def next_tat(self, tat: float, sent: float) -> float:
        return max(tat, sent) + self.interval

    def horizon(self, now: float) -> float:
        """Reserved sends before this no longer count for any window."""
        return now - HOUR - MARGIN


@dataclass(frozen=True)
class Reservation:
    send_at: float  # on the bucket's clock
    now: float  # the bucket's clock when reserved
    paused: bool  # the send time is the end of a pause GitHub asked for
    reason: str

    @property
    def delay(self) -> float:
        return max(0.0, self.send_at - self.now)


class Bucket(Protocol):
    """Where the write budget lives: reservations, and the pause every process honours."""

    clock: Clock  # turns the bucket's seconds into real seconds to sleep

    def reserve(self, rule: WriteRule) -> Reservation: ...

    def pause(self, seconds: float, reason: str) -> bool:
        """Nobody sends until `seconds` from now; True if this extended the pause."""

    def pause_state(self, fresh: bool = True) -> tuple[float, str]:
        """Seconds left of the pause and why (0 when none); `fresh=False` may be a second old."""

    def paused_until(self) -> float:
        """When the pause ends, on the bucket's clock (as reservations' `send_at`)."""


class MemoryBucket:
    """The budget in this process only (0.2.1-style library calls, dry runs, tests)."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or Clock()
        self._lock = threading.Lock()
        self._tat = float("-inf")
        self._sends: list[float] = []  # reserved send times, ascending, within the last hour
        self._paused_until = float("-inf")
        self._reason = ""

    def reserve(self, rule: WriteRule) -> Reservation:
        with self._lock:
            now = self.clock.now()
            del self._sends[: bisect.bisect_left(self._sends, rule.horizon(now))]
            at = rule.send_time(
                now,
                self._tat,
                self._paused_until,
                _mark(self._sends, rule.per_minute),
                _mark(self._sends, rule.per_hour),
            )
            self._tat = rule.next_tat(self._tat, at)
            bisect.insort(self._sends, at)
            paused = at > now and at == self._paused_until
            return Reservation(at, now, paused, self._reason if paused else BUDGET_REASON)

    def pause(self, seconds: float, reason: str) -> bool:
        with self._lock:
            until = self.clock.now() + max(0.0, seconds)
            if until <= self._paused_until:
                return False
            self._paused_until, self._reason = until, reason
            return True

    def pause_state(self, fresh: bool = True) -> tuple[float, str]:
        with self._lock:
            return max(0.0, self._paused_until - self.clock.now()), self._reason

    def paused_until(self) -> float:
        with self._lock:
            return self._paused_until


def _mark(sends: list[float], n: int) -> float | None:
    """The n-th latest send time, or None when there are fewer."""
    return sends[-n] if n > 0 and len(sends) >= n else None


@dataclass
class PacerStats:
    writes: int = 0
    reads: int = 0
    waits: int = 0
    waited_seconds: float = 0.0
    pauses: int = 0


class Pacer:
    """Admission control for GitHub requests: the write budget (`bucket`, shared with other
    processes when it is the store's) and this process's concurrency cap (`places`)."""

    def __init__(
        self,
        per_minute: int = 80,
        per_hour: int = 500,
        max_concurrent: int = 10,
        clock: Clock | None = None,
        on_wait: Callable[[float, str], None] | None = None,
        *,
        burst: int = 1,
        bucket: Bucket | None = None,
        places: threading.BoundedSemaphore | None = None,
    ) -> None:
        self.rule = WriteRule(per_minute, per_hour, burst)
        self.bucket: Bucket = bucket or MemoryBucket(clock)
        self.clock = self.bucket.clock
        self.on_wait = on_wait
        self.stats = PacerStats()
        self._stats_lock = threading.Lock()
        self._places = places or threading.BoundedSemaphore(max_concurrent)

    @property
    def per_minute(self) -> int:
        return self.rule.per_minute

    @property
    def per_hour(self) -> int:
        return self.rule.per_hour

    # -- public ---------------------------------------------------------------------------
    @contextmanager
    def slot(self, write: bool, stop: threading.Event | None = None) -> Iterator[None]:
        """Hold a place for one request; a write first waits for its reserved send time.

        Waiting ends with ShuttingDown as soon as `stop` is set (a stopping runner)."""
        if write:
            self._admit_write(stop)
        else:
            self._wait_for_pause(stop)
        self._places.acquire()
        try:
            yield
        finally:
            self._places.release()
            with self._stats_lock:
                if write:
                    self.stats.writes += 1
                else:
                    self.stats.reads += 1

    def pause(self, seconds: float, reason: str) -> None:
        """GitHub asked us to wait: nobody on this budget sends anything for `seconds`."""
        if self.bucket.pause(seconds, reason):
            with self._stats_lock:
                self.stats.pauses += 1

    def sleep(self, seconds: float, reason: str, stop: threading.Event | None = None) -> None:
        """Wait `seconds` (clock seconds) unless `stop` is set first (then ShuttingDown)."""
        if self.on_wait and seconds >= 1.0:
            self.on_wait(seconds, reason)
        self._wait(seconds, stop, reason)

    def paused_for(self) -> tuple[float, str]:
        """Seconds left of a pause GitHub asked for, and why (0 when not paused)."""
        return self.bucket.pause_state(fresh=False)

    # -- internals ------------------------------------------------------------------------
    def _admit_write(self, stop: threading.Event | None) -> None:
        waited = 0.0
        while True:
            _check(stop)
            reservation = self.bucket.reserve(self.rule)
            delay = reservation.delay
            if delay <= 0:
                break
            if waited == 0.0:
                with self._stats_lock:
                    self.stats.waits += 1
                if self.on_wait and delay >= 1.0:
                    self.on_wait(delay, reservation.reason)
            deadline = time.monotonic() + self.clock.real(delay)
            waited += delay
            # Look for a pause GitHub asked for while we slept just before the slot, so the
            # look's own latency never delays the send.
            _sleep_until(deadline - LOOK_AHEAD, stop)
            paused = self.bucket.paused_until() > reservation.send_at
            _sleep_until(deadline, stop)
            if not paused:
                break
            # A pause set while we slept covers the slot: take a new one after it.
        if waited:
            with self._stats_lock:
                self.stats.waited_seconds += waited

    def _wait_for_pause(self, stop: threading.Event | None) -> None:
        fresh = False
        while True:
            left, _ = self.bucket.pause_state(fresh=fresh)
            if left <= 0:
                return
            self._wait(left, stop, WAITING)
            fresh = True

    def _wait(self, seconds: float, stop: threading.Event | None, reason: str) -> None:
        _sleep_until(time.monotonic() + self.clock.real(seconds), stop, reason)


def _sleep_until(deadline: float, stop: threading.Event | None, reason: str = WAITING) -> None:
    """Sleep until `deadline` (monotonic seconds); ShuttingDown at once when `stop` is set."""
    left = deadline - time.monotonic()
    if left <= 0:
        _check(stop, reason)
    elif stop is None:
        time.sleep(left)
    elif stop.wait(left):
        raise ShuttingDown(reason)


def _check(stop: threading.Event | None, reason: str = WAITING) -> None:
    if stop is not None and stop.is_set():
        raise ShuttingDown(reason)
