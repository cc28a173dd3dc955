"""One deliberate pacing policy for GitHub: stay under the secondary limits instead of
tripping them, and stop everyone when GitHub asks us to wait.

Writes (content-creating requests) are admitted only while fewer than `per_minute` of
them completed in the last minute and fewer than `per_hour` in the last hour, counting
requests still in flight. A slot is freed a full window after the previous write
*completed*, which is never before GitHub received it, so our count can never be
lower than GitHub's. Every request (read or write) also takes one of `max_concurrent`
places.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from orcoursetrion.errors import ShuttingDown

MINUTE = 60.0
HOUR = 3600.0


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


@dataclass
class PacerStats:
    writes: int = 0
    reads: int = 0
    waits: int = 0
    waited_seconds: float = 0.0
    pauses: int = 0


class Pacer:
    """Admission control for GitHub requests, shared by every thread of the process."""

    def __init__(
        self,
        per_minute: int = 80,
        per_hour: int = 500,
        max_concurrent: int = 10,
        clock: Clock | None = None,
        on_wait: Callable[[float, str], None] | None = None,
    ) -> None:
        self.per_minute = per_minute
        self.per_hour = per_hour
        self.clock = clock or Clock()
        self.on_wait = on_wait
        self.stats = PacerStats()
        self._cond = threading.Condition()
        self._minute: deque[float] = deque()
        self._hour: deque[float] = deque()
        self._inflight_writes = 0
        self._paused_until = 0.0
        self._pause_reason = ""
        self._places = threading.BoundedSemaphore(max_concurrent)

    # -- public ---------------------------------------------------------------------------
    @contextmanager
    def slot(self, write: bool, stop: threading.Event | None = None) -> Iterator[None]:
        """Hold a place for one request; for writes, also a place in the rate windows.

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
            with self._cond:
                if write:
                    self._inflight_writes -= 1
                    done = self.clock.now()
                    self._minute.append(done)
                    self._hour.append(done)
                    self.stats.writes += 1
                else:
                    self.stats.reads += 1
                self._cond.notify_all()

    def pause(self, seconds: float, reason: str) -> None:
        """GitHub asked us to wait: nobody sends anything for `seconds` (clock seconds)."""
        with self._cond:
            until = self.clock.now() + max(0.0, seconds)
            if until > self._paused_until:
                self._paused_until = until
                self._pause_reason = reason
                self.stats.pauses += 1
            self._cond.notify_all()

    def sleep(self, seconds: float, reason: str, stop: threading.Event | None = None) -> None:
        """Wait `seconds` (clock seconds) unless `stop` is set first (then ShuttingDown)."""
        if self.on_wait and seconds >= 1.0:
            self.on_wait(seconds, reason)
        if stop is None:
            self.clock.sleep(seconds)
        elif stop.wait(self.clock.real(seconds)):
            raise ShuttingDown(reason)

    def paused_for(self) -> tuple[float, str]:
        """Seconds left of a pause GitHub asked for, and why (0 when not paused)."""
        with self._cond:
            return max(0.0, self._paused_until - self.clock.now()), self._pause_reason

    # -- internals ------------------------------------------------------------------------
    def _prune(self, now: float) -> None:
        while self._minute and self._minute[0] <= now - MINUTE:
            self._minute.popleft()
        while self._hour and self._hour[0] <= now - HOUR:
            self._hour.popleft()

    def _write_delay(self, now: float) -> tuple[float | None, str]:
        """Clock seconds to wait before a write may start (None: wait for a completion)."""
        if now < self._paused_until:
            return self._paused_until - now, self._pause_reason
        self._prune(now)
        delays: list[float | None] = []
        for window, queue, limit in ((MINUTE, self._minute, self.per_minute), (HOUR, self._hour, self.per_hour)):
            used = len(queue) + self._inflight_writes
            if used >= limit:
                # The oldest completion leaves the window at queue[k] + window where k frees enough room.
                excess = used - limit
                if excess < len(queue):
                    delays.append(queue[excess] + window - now)
                else:
                    delays.append(None)
        if not delays:
            return 0.0, ""
        if any(d is None for d in delays):
            return None, "GitHub write limit (requests in flight)"
        return max(d for d in delays if d is not None), "GitHub write limit"

    def _admit_write(self, stop: threading.Event | None) -> None:
        with self._cond:
            announced = False
            started = self.clock.now()
            while True:
                now = self.clock.now()
                delay, reason = self._write_delay(now)
                if delay is not None and delay <= 0:
                    break
                if not announced:
                    self.stats.waits += 1
                    announced = True
                    if self.on_wait and delay is not None and delay >= 1.0:
                        self.on_wait(delay, reason)
                _check(stop)
                self._cond.wait(timeout=_bounded(None if delay is None else self.clock.real(delay) + 0.001, stop))
                _check(stop)
            self._inflight_writes += 1
            self.stats.waited_seconds += self.clock.now() - started

    def _wait_for_pause(self, stop: threading.Event | None) -> None:
        with self._cond:
            while True:
                left = self._paused_until - self.clock.now()
                if left <= 0:
                    return
                _check(stop)
                self._cond.wait(timeout=_bounded(self.clock.real(left) + 0.001, stop))


def _check(stop: threading.Event | None) -> None:
    if stop is not None and stop.is_set():
        raise ShuttingDown("stopping while waiting for GitHub's limits")


def _bounded(timeout: float | None, stop: threading.Event | None) -> float | None:
    """Wake up at least every half second while a stop may come."""
    if stop is None:
        return timeout
    return 0.5 if timeout is None else min(timeout, 0.5)
