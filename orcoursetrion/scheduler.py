"""Scheduled work: scheduled releases and reruns, and the daily reminder, run once across
replicas.

Due tasks live in the store (`scheduled_tasks`), not in APScheduler: its job stores must
not be shared between processes. Each long-running process (`python app.py`, the local
shell) runs one APScheduler `BackgroundScheduler` with one periodic job, `tick`, that
claims due rows atomically (`FOR UPDATE SKIP LOCKED` on PostgreSQL, one UPDATE on SQLite)
and handles each:

- a scheduled request is moved Scheduled -> Approved and handed to the runner, the same
  path as a confirmed command (its preflight checks the plan again at that time);
- the reminder tells approvers what has waited for them too long, and requesters what
  failed and was not retried, then the next day's reminder row is created.

A claim expires after `ORC_LEASE_SECONDS` (by the database's clock, like run leases), so a
replica killed holding one loses nothing: another claims it again, and the compare-and-set
on the request makes the second claim a no-op if the first got as far as starting it.
A task found late (every process was down at its time) runs with a note saying how late;
one more than `ORC_SCHEDULE_MAX_LATE_HOURS` late is marked missed instead (the request
fails with the reason; Retry runs it).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import groupby
from typing import Protocol

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from orcoursetrion.config import Settings
from orcoursetrion.lifecycle import Lifecycle, Status
from orcoursetrion.store import RequestView, Store, TaskView
from orcoursetrion.times import duration, local_text, next_daily, zone

log = logging.getLogger(__name__)

ACTOR = "scheduler"
REQUEST, REMINDER = "request", "reminder"
LATE_AFTER = timedelta(minutes=1)  # later than this is "late": a tick comes every few seconds
TICK_SECONDS = 2.0

Clock = Callable[[], datetime]


class Notices(Protocol):
    """How the scheduler tells people: Slack (`bot/reminders.py`), or the shell's prompt."""

    def approvals_waiting(self, requests: list[RequestView], note: str | None) -> None:
        """The daily reminder to approvers: these requests have waited too long."""

    def failures_waiting(self, requester: str, requests: list[RequestView], note: str | None) -> None:
        """The daily reminder to one requester: these requests failed and were not retried."""

    def ran_late(self, request: RequestView, text: str) -> None:
        """A scheduled request started late (the service was down at its time)."""


class LogNotices:
    """Notices for a process with nobody to tell: the log."""

    def approvals_waiting(self, requests: list[RequestView], note: str | None) -> None:
        log.info("reminder: %s request(s) pending approval: %s", len(requests), [r.id for r in requests])

    def failures_waiting(self, requester: str, requests: list[RequestView], note: str | None) -> None:
        log.info("reminder: %s has %s failed request(s): %s", requester, len(requests), [r.id for r in requests])

    def ran_late(self, request: RequestView, text: str) -> None:
        log.warning("request %s: %s", request.id, text)


@dataclass(frozen=True)
class Handled:
    """What one tick did with one task: done, missed, or error (its claim will expire)."""

    task: TaskView
    status: str
    note: str | None = None


class Scheduler:
    """Claims due tasks from the store every few seconds and handles each once."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        workflow: Lifecycle,
        notices: Notices | None = None,
        clock: Clock | None = None,
        interval: float = TICK_SECONDS,
        owner: str | None = None,
        batch: int = 20,
        workers: int = 4,
    ) -> None:
        self.settings, self.store, self.workflow = settings, store, workflow
        self.notices = notices or LogNotices()
        self.clock = clock
        self.interval, self.batch = interval, batch
        self.owner = owner or getattr(workflow, "owner", None) or ACTOR
        self._aps: BackgroundScheduler | None = None
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="orc-due")
        self._stop = threading.Event()
        self._reminder_key: str | None = None

    # -- running -------------------------------------------------------------------------------------
    def now(self) -> datetime:
        """The injected clock (tests), else the database's: every replica reads the same one."""
        return self.clock() if self.clock is not None else self.store.now()

    def start(self) -> Scheduler:
        """Start the periodic job; its first run is now (tasks missed while down run at start)."""
        self._stop.clear()
        if self.settings.log_level != "DEBUG":  # not a line per tick in the service log
            logging.getLogger("apscheduler").setLevel(logging.WARNING)
        self._aps = BackgroundScheduler(timezone=UTC)
        self._aps.add_job(
            self._tick_logged,
            IntervalTrigger(seconds=self.interval),
            id="orc-due-tasks",
            next_run_time=datetime.now(UTC),
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )
        self._aps.start()
        return self

    def shutdown(self) -> None:
        """Stop claiming; a tick under way finishes the task in hand (claims left are reclaimed)."""
        self._stop.set()
        if self._aps is not None and self._aps.running:
            self._aps.shutdown(wait=True)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _tick_logged(self) -> None:
        try:
            self.tick()
        except Exception:  # the store is down, say: the next tick tries again
            log.warning("scheduler tick failed", exc_info=True)

    def tick(self) -> list[Handled]:
        """Claim and handle every due task, `batch` at a time (replicas share a burst); the
        tasks of a batch are handled side by side, each in its own transactions."""
        handled: list[Handled] = []
        now = self.now()
        self._ensure_reminder(now)
        while not self._stop.is_set():
            tasks = self.store.claim_tasks(self.owner, self.settings.lease_seconds, self.batch, now=now)
            if not tasks:
                break
            handled.extend(self._pool.map(self._handle, tasks, [now] * len(tasks)))
            if len(tasks) < self.batch:
                break
            now = self.now()
        return handled

    # -- one task ---------------------------------------------------------------------------------------
    def _handle(self, task: TaskView, now: datetime) -> Handled:
        if self._stop.is_set():
            return Handled(task, "error", "stopping")  # its claim expires and another process takes it
        late = now - task.due_at
        max_late = timedelta(hours=self.settings.schedule_max_late_hours)
        try:
            if late > max_late:
                status, note = "missed", self._missed(task, late)
            elif task.kind == REMINDER:
                status, note = "done", self._remind(now, late)
            elif task.kind == REQUEST:
                status, note = "done", self._due(task, late)
            else:
                status, note = "missed", f"unknown kind of task {task.kind!r}"
                log.error("scheduled task %s: %s", task.id, note)
        except Exception:
            log.exception("scheduled task %s (%s) failed; it is tried again when its claim expires", task.id, task.kind)
            return Handled(task, "error")
        if not self.store.finish_task(task, self.owner, status, note):
            log.info("scheduled task %s: claim taken over or cancelled before it was recorded", task.id)
        if task.kind == REMINDER:
            self._ensure_reminder(max(now, task.due_at))
        return Handled(task, status, note)

    def _due(self, task: TaskView, late: timedelta) -> str:
        note = None
        if late > LATE_AFTER:
            note = (
                f"Ran {duration(late)} late: it was due {local_text(task.due_at, task.timezone)}, "
                "when the service was not running."
            )
        moved = self.workflow.run_scheduled(task.request_id, ACTOR, note)
        if moved is None:
            return self._not_run(task)
        if note:
            self.notices.ran_late(moved, note)
        return note or "started on time"

    def _missed(self, task: TaskView, late: timedelta) -> str:
        limit = self.settings.schedule_max_late_hours
        due = local_text(task.due_at, task.timezone or self.settings.timezone)
        if task.kind != REQUEST:
            text = f"{task.kind} due {due} missed: {duration(late)} late, more than {limit} h"
            log.warning("scheduled task %s: %s", task.id, text)
            return text
        text = (
            f"Missed its scheduled time ({due}): the service was not running until {duration(late)} later, "
            f"more than ORC_SCHEDULE_MAX_LATE_HOURS ({limit} h). Nothing was changed; Retry runs it now."
        )
        if self.workflow.miss(task.request_id, ACTOR, text) is None:
            return self._not_run(task)
        return text

    def _not_run(self, task: TaskView) -> str:
        """Why a due task's request did not move: it is no longer scheduled (or is gone)."""
        current = self.store.find(task.request_id)
        return f"not run: request #{task.request_id} is {current.state.label if current else 'gone'}"

    # -- the daily reminder -----------------------------------------------------------------------------
    def _ensure_reminder(self, after: datetime) -> None:
        """Make sure the next reminder has its row (one per local day; every replica may try)."""
        tz = self.settings.timezone
        due = next_daily(self.settings.remind_at, tz, after)
        key = f"reminder:{due.astimezone(zone(tz)).date().isoformat()}"
        if key != self._reminder_key:
            self.store.ensure_task(REMINDER, key, due, tz)
            self._reminder_key = key

    def _remind(self, now: datetime, late: timedelta) -> str:
        cutoff = now - timedelta(hours=self.settings.remind_after_hours)
        pending = waiting(self.store, Status.PENDING_APPROVAL, cutoff)
        failed = waiting(self.store, Status.FAILED, cutoff)
        note = (
            f"This reminder is {duration(late)} late: the service was not running at its time."
            if late > LATE_AFTER
            else None
        )
        if pending:
            self.notices.approvals_waiting(pending, note)
        by_requester = sorted(failed, key=lambda r: (r.requester, r.id))
        for requester, theirs in groupby(by_requester, key=lambda r: r.requester):
            self.notices.failures_waiting(requester, list(theirs), note)
        return f"reminded: {len(pending)} pending approval, {len(failed)} failed"


def waiting(store: Store, status: Status, before: datetime, limit: int = 200) -> list[RequestView]:
    """Requests in `status` since before `before` (a status change sets `updated_at`), oldest first."""
    return sorted(store.list_requests(statuses=(status,), older_than=before, limit=limit), key=lambda r: r.id)
