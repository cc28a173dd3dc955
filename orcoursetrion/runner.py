"""Running approved requests: a small thread pool, a fenced lease per running request,
the sweep that resumes abandoned work, and a shutdown that ends within a grace period.

A run holds the request's lease (owner id, attempt number) in the store. The heartbeat
renews it by the database's clock; every journal write and the final transition are
fenced by (owner, attempt), so a process that stalled past its lease (GC pause, SIGSTOP,
a network partition) cannot write once another replica took the request over. Owner ids
are unique per process start, and a holder is judged dead early only when it provably
is (same host, boot and PID namespace, and its PID gone or reused).
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from orcoursetrion import logcontext
from orcoursetrion.actions.context import live_context, shared_pacer
from orcoursetrion.config import Settings
from orcoursetrion.errors import LeaseLost, OrcError, ShuttingDown, problems_of, user_message
from orcoursetrion.events import Event, EventBus
from orcoursetrion.jobtypes import JOB_TYPES
from orcoursetrion.journal import StoreJournal
from orcoursetrion.lifecycle import Status
from orcoursetrion.operations import Change, Context
from orcoursetrion.pacing import Pacer
from orcoursetrion.store import RequestView, Store
from orcoursetrion.store.health import is_store_error, reason_of

log = logging.getLogger(__name__)
_SLACK_USER = re.compile(r"[UW][A-Z0-9]{2,30}")
STORE_FAILED = "The database stopped answering during this step; press Retry (or run the command again) to continue."


# -- owner ids ----------------------------------------------------------------------------------


def _read(path: str) -> str:
    try:
        with open(path) as handle:
            return handle.read().strip()
    except OSError:
        return ""


def _boot_id() -> str:
    return _read("/proc/sys/kernel/random/boot_id").replace("-", "")[:12] or "noboot"


def _pid_namespace() -> str:
    try:
        return str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        return "nons"


def _start_ticks(pid: int) -> str:
    """When the process started (clock ticks since boot), to tell a reused PID apart."""
    stat = _read(f"/proc/{pid}/stat")
    if not stat:
        return ""
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else ""


def new_owner_id() -> str:
    """host/boot/pidns/pid/start/random: unique per process start, and checkable."""
    host = socket.gethostname()[:40]
    pid = os.getpid()
    return f"{host}/{_boot_id()}/{_pid_namespace()}/{pid}/{_start_ticks(pid) or 0}/{secrets.token_hex(4)}"


def owner_is_dead(owner: str | None, me: str) -> bool:
    """True only when the lease holder is provably gone: a process of this very host, boot
    and PID namespace whose PID no longer runs (or now belongs to a newer process)."""
    if not owner or owner == me:
        return False
    parts = owner.split("/")
    if len(parts) != 6:
        return False
    host, boot, ns, pid, start, _ = parts
    mine = me.split("/")
    if len(mine) != 6 or (host, boot, ns) != tuple(mine[:3]):
        return False  # another machine or container: only its lease's expiry tells
    try:
        pid_n = int(pid)
        os.kill(pid_n, 0)
    except ProcessLookupError:
        return True
    except (ValueError, PermissionError, OSError):
        return False
    return start not in ("", "0") and _start_ticks(pid_n) not in ("", start)


# -- one run -------------------------------------------------------------------------------------


class Lease:
    """The right to run one request, as this process holds it."""

    def __init__(self, request_id: int, owner: str, attempt: int, stop: threading.Event) -> None:
        self.request_id, self.owner, self.attempt, self.stop = request_id, owner, attempt, stop
        self.lost = threading.Event()

    def check(self) -> None:
        """Raise when the run must stop: the lease is gone, or the process is stopping."""
        if self.lost.is_set():
            raise LeaseLost(self.request_id)
        if self.stop.is_set():
            raise ShuttingDown(self.request_id)


@dataclass
class JobRun:
    """What a job type gets to do its work: the request, live contexts journaled under
    its lease, and a way to tell listeners how it goes."""

    request: RequestView
    settings: Settings
    store: Store
    lease: Lease
    runner: Runner
    current_step: str | None = None
    _contexts: list[Context] = field(default_factory=list)
    _began: dict[int, float] = field(default_factory=dict)  # id(change) -> when its apply started

    def context(self, scope: str = "") -> Context:
        ctx = self.runner.context_factory(
            self.settings,
            StoreJournal(self.store, self.lease),
            self._on_step,
            self.runner.pacer,
            scope,
            self.lease.stop,
        )
        ctx.on_start = self._on_start
        if ctx.world.gh is not None:
            ctx.world.gh.on_wait = lambda seconds, reason: self.emit("waiting", reason, seconds=seconds)
            ctx.world.gh.on_request = self.runner.on_github_request
        self._contexts.append(ctx)
        return ctx

    def _on_start(self, change: Change, index: int, total: int) -> None:
        self.current_step = f"step {index} of {total}: {change.text}"
        self._began[id(change)] = time.monotonic()
        logcontext.bind(action=change.op)
        self.emit("step_started", change.text, index=index, total=total, op=change.op)

    def _on_step(self, change: Change, index: int, total: int) -> None:
        began = self._began.pop(id(change), None)
        seconds = time.monotonic() - began if began is not None else None
        self.emit("step", change.text, changed=change.changed, index=index, total=total, op=change.op, seconds=seconds)

    def emit(self, kind: str, text: str | None = None, **data) -> None:
        self.runner.bus.emit(Event(kind, self.request, self.runner.owner, text, data))

    def check(self) -> None:
        self.lease.check()

    @property
    def stopping(self) -> bool:
        return self.lease.stop.is_set()


ContextFactory = Callable[..., Context]


class Runner:
    """Runs approved requests in the background (or in the caller's thread for the CLI)."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        bus: EventBus,
        owner: str | None = None,
        pacer: Pacer | None = None,
        context_factory: ContextFactory | None = None,
        on_github_request: Callable[[str, str], None] | None = None,
    ) -> None:
        self.settings, self.store, self.bus = settings, store, bus
        self.on_github_request = on_github_request  # counts each GitHub request (metrics)
        self.owner = owner or new_owner_id()
        self.pacer = pacer or shared_pacer(settings, store)  # the store's budget: shared by every process
        self.context_factory = context_factory or live_context
        self._executor = ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="orc-run")
        self._lock = threading.Lock()
        self._running: set[int] = set()
        self._futures: set[Future] = set()
        self._stop = threading.Event()
        self._sweeper: threading.Thread | None = None
        self.taken_over: set[int] = set()  # requests another process took from us mid-run

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    # -- entry points ------------------------------------------------------------------------------
    def start(self, req_id: int) -> Future | None:
        """Claim an approved request and run it in the background."""
        return self._submit(self._claim_and_run, req_id)

    def run_now(self, req_id: int) -> RequestView:
        """Claim and run an approved request in this thread (CLI, shell); its final state."""
        self._claim_and_run(req_id)
        return self.store.get(req_id)

    def take_over_now(self, req_id: int) -> bool:
        """Continue an in-progress request whose runner died, in this thread (CLI resume)."""
        req = self.store.get(req_id)
        dead = [req.lease_owner] if owner_is_dead(req.lease_owner, self.owner) else []
        fresh = self.store.take_over(req_id, self.owner, self.settings.lease_seconds, dead)
        if fresh is None:
            return False
        self.bus.emit(Event("resumed", fresh, self.owner))
        self._execute(fresh)
        return True

    def _submit(self, fn: Callable, *args) -> Future | None:
        if self._stop.is_set():
            return None
        future = self._executor.submit(self._logged, fn, *args)
        with self._lock:
            self._futures.add(future)
        future.add_done_callback(self._forget)
        return future

    @staticmethod
    def _logged(fn: Callable, *args) -> None:
        try:
            fn(*args)
        except Exception:
            log.exception("background work on request %s failed", args[0] if args else "?")

    def _forget(self, future: Future) -> None:
        with self._lock:
            self._futures.discard(future)

    def _claim_and_run(self, req_id: int) -> None:
        req = self.store.claim(req_id, self.owner, self.settings.lease_seconds)
        if req is None:
            return  # someone else (another click, another replica) has it
        self._execute(req)

    # -- executing ---------------------------------------------------------------------------------
    def _execute(self, req: RequestView) -> None:
        with self._lock:
            if req.id in self._running:
                return
            self._running.add(req.id)
        requester = req.requester if _SLACK_USER.fullmatch(req.requester or "") else None
        with logcontext.bound(request_id=req.id, action=req.type, slack_user=requester):
            self._execute_bound(req)

    def _execute_bound(self, req: RequestView) -> None:
        lease = Lease(req.id, self.owner, req.attempts, self._stop)
        beat = threading.Event()
        heart = threading.Thread(target=self._heartbeat, args=(lease, beat), daemon=True, name=f"orc-lease-{req.id}")
        heart.start()
        run = JobRun(req, self.settings, self.store, lease, self)
        self.bus.emit(Event("started", req, self.owner))
        try:
            outcome = JOB_TYPES[req.type].execute(run)
            done = self.store.transition(
                req.id,
                Status.IN_PROGRESS,
                Status.COMPLETED,
                self.owner,
                outcome.message,
                owner=self.owner,
                attempt=lease.attempt,
                result=outcome.as_result(),
                lease_owner=None,
            )
            if done is not None:
                self.bus.emit(Event("completed", done, self.owner, outcome.message))
                log.info("request %s completed", req.id, extra={"outcome": "completed", "action": req.type})
            else:
                self.taken_over.add(req.id)
                log.warning("request %s finished here but its lease had been taken over", req.id)
        except LeaseLost:
            self.taken_over.add(req.id)
            log.warning("request %s was taken over by another process; stopped here", req.id)
        except ShuttingDown:
            self._pause(lease)
        except Exception as exc:  # every failure is recorded, shown and retryable
            self._fail(req, lease, exc, run.current_step)
        finally:
            beat.set()
            with self._lock:
                self._running.discard(req.id)

    def _pause(self, lease: Lease) -> None:
        try:
            self.store.release_lease(lease.request_id, self.owner, lease.attempt)
            log.info("request %s paused for shutdown; the next start resumes it", lease.request_id)
        except Exception:
            log.exception(
                "request %s: could not release its lease at shutdown (it expires by itself)", lease.request_id
            )

    def _fail(self, req: RequestView, lease: Lease, exc: BaseException, step: str | None) -> None:
        fields = {"outcome": "failed", "action": req.type}
        if is_store_error(exc):
            log.warning("request %s: the store failed during the run (%s)", req.id, reason_of(exc), extra=fields)
        elif isinstance(exc, OrcError):
            log.info("request %s failed: %s", req.id, exc, extra=fields)
        else:
            log.error("request %s failed unexpectedly", req.id, exc_info=exc, extra=fields)
        message = STORE_FAILED if is_store_error(exc) else user_message(exc)
        if step is None and problems_of(exc):
            step = "checks before any change (nothing was changed)"
        try:
            failed = self.store.transition(
                req.id,
                Status.IN_PROGRESS,
                Status.FAILED,
                self.owner,
                message,
                owner=self.owner,
                attempt=lease.attempt,
                error=message,
                error_step=step[:200] if step else None,
                lease_owner=None,
            )
        except Exception as again:
            if is_store_error(again):  # its lease runs out, and the sweep resumes it from its journal
                log.warning(
                    "request %s: could not record its failure (%s); it resumes when the store is back",
                    req.id,
                    reason_of(again),
                )
            else:
                log.exception("request %s: could not record its failure", req.id)
            return
        if failed is not None:
            self.bus.emit(Event("failed", failed, self.owner, message, {"step": step}))

    def _heartbeat(self, lease: Lease, done: threading.Event) -> None:
        interval = max(0.2, self.settings.lease_seconds / 3)
        renewed = time.monotonic()
        while not done.wait(interval):
            try:
                if not self.store.heartbeat(lease.request_id, self.owner, lease.attempt, self.settings.lease_seconds):
                    log.warning(
                        "request %s: lease lost to another process; stopping at the next step", lease.request_id
                    )
                    lease.lost.set()
                    return
                renewed = time.monotonic()
            except Exception as exc:
                log.warning("request %s: lease renewal failed", lease.request_id, exc_info=not is_store_error(exc))
                if time.monotonic() - renewed > self.settings.lease_seconds:
                    log.error(
                        "request %s: lease not renewed for %ss; stopping", lease.request_id, self.settings.lease_seconds
                    )
                    lease.lost.set()
                    return

    # -- start-up and housekeeping -------------------------------------------------------------------
    def resume_all(self) -> list[int]:
        """Start approved requests nobody started; continue in-progress ones whose runner
        died (lease expired, or a provably dead process on this host). Returns their ids."""
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
            fresh = self.store.take_over(req.id, self.owner, self.settings.lease_seconds, dead)
            if fresh is not None:
                self.bus.emit(Event("resumed", fresh, self.owner))
                self._submit(self._execute, fresh)
                picked.append(req.id)
        return picked

    def start_background(self, sweep_seconds: float | None = None) -> None:
        """Resume now, then keep sweeping for abandoned work (other replicas may die)."""
        try:
            self.resume_all()
        except Exception:
            log.exception("resuming unfinished requests at start-up failed")
        interval = sweep_seconds or max(1.0, self.settings.lease_seconds / 2)

        def sweep() -> None:
            while not self._stop.wait(interval):
                try:
                    self.resume_all()
                except Exception as exc:
                    log.warning(
                        "sweep for abandoned requests failed: %s",
                        reason_of(exc) if is_store_error(exc) else exc,
                        exc_info=not is_store_error(exc),
                    )

        self._sweeper = threading.Thread(target=sweep, daemon=True, name="orc-sweeper")
        self._sweeper.start()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until nothing runs or waits to run here, and listeners caught up."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                pending = list(self._futures)
            if not pending:
                return self.bus.flush(max(0.0, deadline - time.monotonic()))
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            wait(pending, timeout=left)

    def shutdown(self, grace: float = 10.0) -> bool:
        """Stop taking work; running requests stop at their next step (or wait) and release
        their leases. Returns False when something was still running after `grace` seconds."""
        self._stop.set()
        with self._lock:
            pending = list(self._futures)
        finished = not wait(pending, timeout=grace).not_done if pending else True
        self._executor.shutdown(wait=False, cancel_futures=True)
        return finished
