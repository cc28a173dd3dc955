"""Lifecycle events and the bus that carries them to listeners (the Slack notifier, the
CLI's progress, the shell, Zendesk), each on its own thread: a slow or failing listener
never holds up the work, nor the other listeners."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orcoursetrion.store import RequestView

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    """Something listeners may tell people about.

    kinds: created, pending_approval, scheduled, approved, rejected, cancelled, started, resumed,
    step_started, step, progress, waiting, stopping, completed, failed; ticket (its Zendesk
    ticket was opened, `text` the link)."""

    kind: str
    request: RequestView
    actor: str | None = None
    text: str | None = None
    data: dict = field(default_factory=dict)


Listener = Callable[[Event], None]
_STOP = object()


class _Subscription:
    def __init__(self, listener: Listener, name: str) -> None:
        self.listener, self.name = listener, name
        self.queue: queue.Queue = queue.Queue()
        self.idle = threading.Condition()
        self.pending = 0
        self.thread = threading.Thread(target=self._loop, daemon=True, name=f"orc-listener-{name}")
        self.thread.start()

    def put(self, item) -> None:
        with self.idle:
            self.pending += 1
        self.queue.put(item)

    def _loop(self) -> None:
        while True:
            item = self.queue.get()
            try:
                if item is _STOP:
                    return
                self.listener(item)
            except Exception:  # a listener failing must never fail the request
                log.exception("listener %s failed on %s for request %s", self.name, item.kind, item.request.id)
            finally:
                with self.idle:
                    self.pending -= 1
                    self.idle.notify_all()

    def flush(self, deadline: float) -> bool:
        with self.idle:
            while self.pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.idle.wait(left)
        return True


class EventBus:
    """Fan-out of events; per listener, events arrive in the order they were emitted."""

    def __init__(self) -> None:
        self._subs: list[_Subscription] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: Listener, name: str | None = None) -> None:
        label = name or getattr(listener, "__qualname__", None) or type(listener).__name__
        with self._lock:
            self._subs.append(_Subscription(listener, label))

    def emit(self, event: Event) -> None:
        with self._lock:
            subs = list(self._subs)
        for sub in subs:
            sub.put(event)

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every listener has handled every event emitted so far."""
        deadline = time.monotonic() + timeout
        with self._lock:
            subs = list(self._subs)
        return all(sub.flush(deadline) for sub in subs)

    def close(self, timeout: float = 5.0) -> None:
        self.flush(timeout)
        with self._lock:
            subs, self._subs = self._subs, []
        for sub in subs:
            sub.queue.put(_STOP)
