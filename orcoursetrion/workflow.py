"""The request lifecycle: confirm, approve, reject, cancel, run in the background,
retry and resume — every status change compare-and-set in the store, every step
journaled, every change announced to listeners (Slack, the shell, later Zendesk).

Only the caller that wins a compare-and-set acts on it, so a double click, a Slack
retry or a second replica can never run a request twice or announce it twice.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from orcoursetrion import jobs
from orcoursetrion.actions import Context, live_context, shared_pacer
from orcoursetrion.config import Settings
from orcoursetrion.errors import NotAuthorized, OrcError, RequestStateError, user_message
from orcoursetrion.lifecycle import LeaseLost, RequestType, ShuttingDown, Status
from orcoursetrion.ops import Change
from orcoursetrion.pacing import Pacer
from orcoursetrion.redact import redact
from orcoursetrion.store import RequestView, Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    """Something listeners may tell people about."""

    kind: str  # created|pending_approval|approved|rejected|cancelled|started|step|progress|completed|failed|stopping
    request: RequestView
    actor: str | None = None
    text: str | None = None
    data: dict = field(default_factory=dict)


def new_owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def owner_is_dead(owner: str | None, me: str) -> bool:
    """True when the lease holder is a process on this host that no longer runs."""
    if not owner or owner == me:
        return False
    try:
        host, pid, _ = owner.rsplit(":", 2)
        pid_n = int(pid)
    except ValueError:
        return False
    if host != socket.gethostname():
        return False
    if pid_n == os.getpid():
        return True  # an earlier incarnation with our pid (container restart)
    try:
        os.kill(pid_n, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _desired(day: str | None) -> datetime | None:
    """The requester's needed-by date (a form's YYYY-MM-DD) as midnight UTC."""
    if not day:
        return None
    try:
        return datetime.combine(date.fromisoformat(day), datetime.min.time(), UTC)
    except ValueError:
        return None


class Workflow:
    """Moves requests through their lifecycle and runs them on a small thread pool."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        owner: str | None = None,
        pacer: Pacer | None = None,
        context_factory: Callable[..., Context] | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.owner = owner or new_owner_id()
        self.pacer = pacer or shared_pacer(settings)
        self._context_factory = context_factory or live_context
        self._listeners: list[Callable[[Event], None]] = []
        self._executor = ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="orc-run")
        self._lock = threading.Lock()
        self._running: set[int] = set()
        self._futures: set[Future] = set()
        self._lost: set[int] = set()
        self._stop = threading.Event()
        self._sweeper: threading.Thread | None = None

    # -- listeners -------------------------------------------------------------------------------
    def subscribe(self, listener: Callable[[Event], None]) -> None:
        self._listeners.append(listener)

    def emit(self, kind: str, request: RequestView, actor: str | None = None, text: str | None = None, **data) -> None:
        event = Event(kind, request, actor, text, data)
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a notifier failing must never fail the request
                log.exception("listener failed on %s for request %s", kind, request.id)

    # -- authorization ---------------------------------------------------------------------------
    def is_approver(self, user: str | None) -> bool:
        return self.settings.is_approver(user)

    def needs_approval(self, req: RequestView) -> bool:
        if not self.settings.approvers:
            return False
        return not (self.settings.auto_approve and self.is_approver(req.requester))

    def _owner_or_approver(self, req: RequestView, actor: str, verb: str) -> None:
        if actor != req.requester and not self.is_approver(actor):
            raise NotAuthorized(f"Only the requester or an approver can {verb} request #{req.id}.")

    def _approver(self, req: RequestView, actor: str, verb: str) -> None:
        if not self.is_approver(actor):
            raise NotAuthorized(f"Only approvers can {verb} requests.")
        if actor == req.requester and len(self.settings.approvers) > 1:
            raise NotAuthorized(f"Another approver must {verb} your own request #{req.id}.")

    def _moved(self, req_id: int, verb: str) -> RequestStateError:
        current = self.store.get(req_id)
        return RequestStateError(f"Request #{req_id} is already {current.state.label}; nothing to {verb}.")

    # -- lifecycle -------------------------------------------------------------------------------
    def create(
        self,
        type: str,
        requester: str,
        params: dict,
        plan: list[str] | None = None,
        channel: str | None = None,
        requester_name: str | None = None,
        summary: str | None = None,
    ) -> RequestView:
        """Record a request (awaiting confirmation) before anything runs."""
        req = self.store.create_request(
            type,
            requester,
            params,
            summary or jobs.describe(type, params),
            plan=plan,
            requester_name=requester_name,
            channel=channel,
            desired_at=_desired(params.get("desired")),
        )
        if type == RequestType.ROLLOVER:
            self.store.add_items(req.id, [(c, None) for c in params.get("courses") or []])
        self.emit("created", req, requester)
        return req

    def confirm(self, req_id: int, actor: str) -> RequestView:
        req = self.store.get(req_id)
        self._owner_or_approver(req, actor, "confirm")
        if req.state != Status.DRAFT:
            raise self._moved(req_id, "confirm")
        if self.needs_approval(req):
            moved = self.store.transition(req_id, Status.DRAFT, Status.PENDING_APPROVAL, actor, "confirmed")
            if moved is None:
                raise self._moved(req_id, "confirm")
            self.emit("pending_approval", moved, actor)
            return moved
        moved = self.store.transition(
            req_id, Status.DRAFT, Status.APPROVED, actor, "confirmed; no approval needed", decided_by=actor
        )
        if moved is None:
            raise self._moved(req_id, "confirm")
        self.emit("approved", moved, actor, auto=True)
        self.start(req_id)
        return moved

    def check_can_decide(self, req_id: int, actor: str, verb: str = "reject") -> RequestView:
        """Raise unless `actor` may approve/reject this request now (for forms, before acting)."""
        req = self.store.get(req_id)
        self._approver(req, actor, verb)
        if req.state != Status.PENDING_APPROVAL:
            raise self._moved(req_id, verb)
        return req

    def approve(self, req_id: int, actor: str) -> RequestView:
        req = self.store.get(req_id)
        self._approver(req, actor, "approve")
        moved = self.store.transition(
            req_id, Status.PENDING_APPROVAL, Status.APPROVED, actor, "approved", decided_by=actor
        )
        if moved is None:
            raise self._moved(req_id, "approve")
        self.emit("approved", moved, actor)
        self.start(req_id)
        return moved

    def reject(self, req_id: int, actor: str, reason: str) -> RequestView:
        req = self.store.get(req_id)
        self._approver(req, actor, "reject")
        reason = " ".join((reason or "").split())[:2000] or "No reason given."
        moved = self.store.transition(
            req_id, Status.PENDING_APPROVAL, Status.REJECTED, actor, reason, decided_by=actor, reason=reason
        )
        if moved is None:
            raise self._moved(req_id, "reject")
        self.emit("rejected", moved, actor, reason)
        return moved

    def cancel(self, req_id: int, actor: str) -> RequestView:
        req = self.store.get(req_id)
        self._owner_or_approver(req, actor, "cancel")
        moved = self.store.transition(
            req_id,
            (Status.DRAFT, Status.PENDING_APPROVAL, Status.APPROVED, Status.FAILED),
            Status.CANCELLED,
            actor,
            "cancelled",
            lease_owner=None,
        )
        if moved is None:
            raise self._moved(req_id, "cancel")
        self.emit("cancelled", moved, actor)
        return moved

    def check_can_change(self, req_id: int, actor: str) -> RequestView:
        """Raise unless `actor` may still change this request's plan (requester or approver, draft)."""
        req = self.store.get(req_id)
        self._owner_or_approver(req, actor, "change")
        if req.state != Status.DRAFT:
            raise self._moved(req_id, "change")
        return req

    def supersede(self, req_id: int, new_id: int, actor: str) -> RequestView | None:
        """Cancel a draft that a changed plan (request `new_id`) replaces, handing over its
        message; None when it was confirmed (or cancelled) first and must be left alone."""
        req = self.store.get(req_id)
        self._owner_or_approver(req, actor, "change")
        moved = self.store.transition(
            req_id, Status.DRAFT, Status.CANCELLED, actor, f"replaced by request #{new_id}", message_ts=None
        )
        if moved is not None:
            self.emit("cancelled", moved, actor)
        return moved

    def retry(self, req_id: int, actor: str) -> RequestView:
        """Failed -> Approved -> run again; finished steps are skipped, created repos reused."""
        moved = self._reapprove(req_id, actor)
        self.start(req_id)
        return moved

    def _reapprove(self, req_id: int, actor: str) -> RequestView:
        req = self.store.get(req_id)
        self._owner_or_approver(req, actor, "retry")
        if req.type == RequestType.ROLLOVER:
            self.store.reset_failed_items(req_id)
        moved = self.store.transition(
            req_id, Status.FAILED, Status.APPROVED, actor, "retry", error=None, error_step=None, stop_requested_by=None
        )
        if moved is None:
            raise self._moved(req_id, "retry")
        self.emit("approved", moved, actor, retry=True)
        return moved

    def request_stop(self, req_id: int, actor: str) -> RequestView:
        """Ask a running batch to stop after the current course (Retry continues it)."""
        req = self.store.get(req_id)
        self._owner_or_approver(req, actor, "stop")
        if req.state != Status.IN_PROGRESS:
            raise self._moved(req_id, "stop")
        self.store.update_fields(req_id, stop_requested_by=actor)
        self.store.audit(req_id, actor, "note", "stop_requested", "stop after the current course")
        req = self.store.get(req_id)
        self.emit("stopping", req, actor)
        return req

    # -- execution -------------------------------------------------------------------------------
    def start(self, req_id: int) -> Future | None:
        """Run an approved request in the background."""
        return self._submit(self._claim_and_run, req_id)

    def _submit(self, fn: Callable, *args) -> Future | None:
        if self._stop.is_set():
            return None
        future = self._executor.submit(fn, *args)
        with self._lock:
            self._futures.add(future)
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future: Future) -> None:
        with self._lock:
            self._futures.discard(future)

    def run_now(self, req_id: int) -> RequestView:
        """Run an approved request in this thread (CLI, shell); returns its final state."""
        self._claim_and_run(req_id)
        return self.store.get(req_id)

    def _claim_and_run(self, req_id: int) -> None:
        req = self.store.claim(req_id, self.owner, self.settings.lease_seconds)
        if req is None:
            return  # someone else (another click, another replica) has it
        self._execute(req)

    def _execute(self, req: RequestView) -> None:
        with self._lock:
            if req.id in self._running:
                return
            self._running.add(req.id)
        beat = threading.Event()
        heart = threading.Thread(target=self._heartbeat, args=(req.id, beat), daemon=True, name=f"orc-lease-{req.id}")
        heart.start()
        self.emit("started", req, self.owner)
        try:
            if req.type == RequestType.ROLLOVER:
                from orcoursetrion.rollover import run_rollover

                outcome = run_rollover(self, req)
            else:
                ctx = self.context(req)
                outcome = jobs.perform(req.type, req.params, ctx)
                jobs.record(self.store, req.type, req.params, ctx, req.id)
            done = self.store.transition(
                req.id,
                Status.IN_PROGRESS,
                Status.COMPLETED,
                self.owner,
                outcome.message,
                owner=self.owner,
                result=outcome.as_result(),
                lease_owner=None,
            )
            if done is not None:
                self.emit("completed", done, self.owner, outcome.message)
        except LeaseLost:
            log.warning("request %s was taken over by another process; stopping here", req.id)
        except ShuttingDown:
            self.store.release_lease(req.id, self.owner)
            log.info("request %s paused for shutdown; the next start (or another replica) resumes it", req.id)
        except Exception as exc:  # every failure is recorded, shown and retryable
            self._fail(req, exc)
        finally:
            beat.set()
            with self._lock:
                self._running.discard(req.id)
                self._lost.discard(req.id)

    def _fail(self, req: RequestView, exc: BaseException) -> None:
        if isinstance(exc, OrcError):
            log.info("request %s failed: %s", req.id, exc)
        else:
            log.exception("request %s failed unexpectedly", req.id)
        message = user_message(exc)
        step = self._last_step(req.id)
        failed = self.store.transition(
            req.id,
            Status.IN_PROGRESS,
            Status.FAILED,
            self.owner,
            message,
            owner=self.owner,
            error=message,
            error_step=step,
            lease_owner=None,
        )
        if failed is not None:
            self.emit("failed", failed, self.owner, message, step=step)

    def _last_step(self, req_id: int) -> str | None:
        for event in reversed(self.store.events(req_id)):
            if event.kind == "step" and event.name.startswith("started:"):
                return redact(f"{event.name.split(':', 1)[1]} {event.detail or ''}").strip()
        return None

    def context(self, req: RequestView, scope: str = "") -> Context:
        """A live context whose steps are journaled under this request (and batch item)."""
        ctx = self._context_factory(
            self.settings,
            journal=self.store.journal(req.id, self.owner),
            on_change=lambda change: self._on_change(req, change),
            pacer=self.pacer,
        )
        ctx.ops.scope = scope
        return ctx

    def _on_change(self, req: RequestView, change: Change) -> None:
        self.check_lease(req.id)
        self.emit("step", req, self.owner, change.text, changed=change.changed)

    def check_lease(self, req_id: int) -> None:
        if req_id in self._lost:
            raise LeaseLost(req_id)

    @property
    def stopping(self) -> bool:
        """True once shutdown began: long batches pause between courses."""
        return self._stop.is_set()

    def _heartbeat(self, req_id: int, done: threading.Event) -> None:
        interval = max(0.5, self.settings.lease_seconds / 3)
        while not done.wait(interval):
            try:
                if not self.store.heartbeat(req_id, self.owner, self.settings.lease_seconds):
                    self._lost.add(req_id)
                    return
            except Exception:
                log.warning("lease heartbeat for request %s failed; will retry", req_id, exc_info=True)

    def resume_one(self, req_id: int, actor: str) -> bool:
        """Continue one unfinished request in this thread: a failed one is retried, an
        abandoned in-progress one taken over. False if it is running elsewhere."""
        req = self.store.get(req_id)
        if req.state == Status.FAILED:
            self.retry_sync(req_id, actor)
            return True
        if req.state == Status.IN_PROGRESS:
            dead = [req.lease_owner] if owner_is_dead(req.lease_owner, self.owner) else []
            if not self.store.take_over(req_id, self.owner, self.settings.lease_seconds, dead):
                return False
            fresh = self.store.get(req_id)
            self.emit("resumed", fresh, actor)
            self._execute(fresh)
            return True
        return False

    def retry_sync(self, req_id: int, actor: str) -> RequestView:
        """Failed -> Approved, then run in this thread (CLI)."""
        self._reapprove(req_id, actor)
        return self.run_now(req_id)

    def approve_direct(self, req_id: int, actor: str, why: str) -> RequestView:
        """Draft -> Approved without the approval step (operators at the command line)."""
        moved = self.store.transition(req_id, Status.DRAFT, Status.APPROVED, actor, why, decided_by=actor)
        if moved is None:
            raise self._moved(req_id, "approve")
        return moved

    # -- start-up and housekeeping ----------------------------------------------------------------
    def resume_all(self) -> list[int]:
        """Start approved requests nobody started; continue in-progress ones whose runner
        died (lease expired, or a dead process on this host). Returns the ids picked up."""
        picked = []
        for req in self.store.resumable():
            with self._lock:
                if req.id in self._running:
                    continue
            if req.state == Status.APPROVED:
                self.start(req.id)
                picked.append(req.id)
                continue
            dead = [req.lease_owner] if owner_is_dead(req.lease_owner, self.owner) else []
            if self.store.take_over(req.id, self.owner, self.settings.lease_seconds, dead):
                fresh = self.store.get(req.id)
                self.emit("resumed", fresh, self.owner)
                self._submit(self._execute, fresh)
                picked.append(req.id)
        return picked

    def start_background(self, sweep_seconds: float | None = None) -> None:
        """Resume now, then keep sweeping for abandoned work (other replicas may die)."""
        self.resume_all()
        interval = sweep_seconds or max(2.0, self.settings.lease_seconds / 2)

        def sweep() -> None:
            while not self._stop.wait(interval):
                try:
                    self.resume_all()
                except Exception:
                    log.warning("sweep for abandoned requests failed", exc_info=True)

        self._sweeper = threading.Thread(target=sweep, daemon=True, name="orc-sweeper")
        self._sweeper.start()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until nothing runs or waits to run here (tests, graceful shutdown)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                pending = list(self._futures)
            if not pending:
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            wait(pending, timeout=left)

    def shutdown(self, wait: bool = True) -> None:
        self._stop.set()
        self._executor.shutdown(wait=wait, cancel_futures=not wait)
