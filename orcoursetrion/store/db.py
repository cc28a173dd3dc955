"""The store: requests and their compare-and-set lifecycle, the step journal, runs,
rollover items and the audit trail, on SQLite or PostgreSQL (SQLAlchemy 2)."""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from types import FunctionType
from typing import Any

from sqlalchemy import and_, create_engine, delete, event, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from orcoursetrion.changes import Change, RepoOwner, StepRecord
from orcoursetrion.config import default_database_path, default_database_url
from orcoursetrion.errors import LeaseLost, RequestNotFound, StoreUnavailable
from orcoursetrion.lifecycle import Status, allowed
from orcoursetrion.redact import redact
from orcoursetrion.store.health import postgres_limits, shown_url, sqlite_space_problem, unavailable_on_error
from orcoursetrion.store.models import (
    AuditEvent,
    Course,
    Request,
    RequestItem,
    RequestStep,
    Run,
    ScheduledTask,
    SlackDelivery,
    TeamMember,
    Term,
    utcnow,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RequestView:
    """A detached snapshot of a request row."""

    id: int
    type: str
    status: str
    version: int
    requester: str
    requester_name: str | None
    params: dict
    plan: list | None
    notes: list | None
    confirm_warning: str | None
    announced: str | None
    summary: str
    desired_at: datetime | None
    channel: str | None
    message_ts: str | None
    approval_channel: str | None
    approval_ts: str | None
    ticket_id: int | None
    decided_by: str | None
    reason: str | None
    result: dict | None
    error: str | None
    error_step: str | None
    attempts: int
    stop_requested_by: str | None
    lease_owner: str | None
    lease_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    requester_email: str | None = None
    scheduled_for: datetime | None = None

    @property
    def state(self) -> Status:
        return Status(self.status)

    @property
    def result_key(self) -> str:
        """Which outcome an announcement told (`requests.announced`): a status and its attempt."""
        return f"{self.status}:{self.attempts}"

    @classmethod
    def of(cls, row: Request) -> RequestView:
        return cls(**{f.name: getattr(row, f.name) for f in fields(cls)})


@dataclass(frozen=True)
class RunView:
    course: str
    term: str
    kind: str
    org: str
    repo_name: str
    repo_url: str
    team: str | None
    released_at: datetime | None
    members: tuple[str, ...] = ()

    @classmethod
    def of(cls, run: Run, course: Course, term: Term, members: Iterable[str]) -> RunView:
        return cls(
            course.number,
            term.name,
            course.kind,
            run.org,
            run.repo_name,
            run.repo_url,
            run.team,
            run.released_at,
            tuple(members),
        )


@dataclass(frozen=True)
class ItemView:
    id: int
    position: int
    course: str
    kind: str | None
    status: str
    repo_url: str | None
    error: str | None


@dataclass(frozen=True)
class TaskView:
    """A detached snapshot of a scheduled task row."""

    id: int
    kind: str
    key: str | None
    request_id: int | None
    payload: dict | None
    due_at: datetime
    timezone: str | None
    status: str
    claimed_by: str | None
    claimed_at: datetime | None
    claim_expires_at: datetime | None
    attempts: int
    finished_at: datetime | None
    note: str | None
    created_by: str | None
    created_at: datetime

    @classmethod
    def of(cls, row: ScheduledTask) -> TaskView:
        return cls(**{f.name: getattr(row, f.name) for f in fields(cls)})


@dataclass(frozen=True)
class EventView:
    at: datetime
    actor: str
    kind: str
    name: str
    detail: str | None
    id: int = 0
    request_id: int | None = None


@dataclass(frozen=True)
class JournalView:
    """A step journal row as the audit reads it: which GitHub object (`key`), and what
    GitHub answered (`evidence`: ids and commit shas)."""

    id: int
    request_id: int
    key: str
    op: str | None
    state: str
    evidence: dict
    at: datetime


def make_engine(url: str, **kwargs) -> Engine:
    """An engine tuned for the backend: SQLite in WAL mode with a busy timeout."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, **kwargs)
    if engine.dialect.name == "postgresql":

        @event.listens_for(engine, "do_connect")
        def _limits(_dialect, _record, _cargs, cparams):
            postgres_limits(cparams)

    return engine


class Store:
    """All persistence; every method opens and commits its own short transaction."""

    def __init__(self, url: str, engine: Engine | None = None) -> None:
        self.url = url
        if engine is None and url == default_database_url():
            default_database_path().parent.mkdir(parents=True, exist_ok=True)  # first use of the default store
        self.engine = engine or make_engine(url)
        self._session = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._session.begin() as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()

    def check(self) -> None:
        """Raise StoreUnavailable unless the store answers and can write: one transaction
        that inserts and deletes a probe row (committed, so a full disk or a read-only
        file shows), after SQLite's room for the next write is read."""
        with unavailable_on_error(self.url), self.engine.begin() as conn:
            if self.is_sqlite:
                problem = sqlite_space_problem(conn, self.url)
                if problem:
                    raise StoreUnavailable(shown_url(self.url), problem)
            key = f"healthz-probe/{os.getpid()}/{threading.get_ident()}"
            conn.execute(SlackDelivery.__table__.insert().values(key=key, seen_at=utcnow()))
            conn.execute(delete(SlackDelivery).where(SlackDelivery.key == key))

    # -- requests ---------------------------------------------------------------------------------
    def create_request(
        self,
        type: str,
        requester: str,
        params: dict,
        summary: str,
        plan: list | None = None,
        requester_name: str | None = None,
        channel: str | None = None,
        desired_at: datetime | None = None,
        status: Status = Status.DRAFT,
        notes: list[str] | None = None,
        confirm_warning: str | None = None,
        requester_email: str | None = None,
        scheduled_for: datetime | None = None,
    ) -> RequestView:
        with self.session() as s:
            row = Request(
                type=type,
                status=status.value,
                requester=requester,
                requester_name=requester_name,
                requester_email=requester_email,
                params=params,
                plan=plan,
                notes=notes,
                confirm_warning=confirm_warning,
                summary=summary[:300],
                channel=channel,
                desired_at=desired_at,
                scheduled_for=scheduled_for,
            )
            s.add(row)
            s.flush()
            s.add(
                AuditEvent(
                    request_id=row.id,
                    actor=requester,
                    kind="transition",
                    name=f"created:{status.value}",
                    detail=summary[:300],
                )
            )
            return RequestView.of(row)

    def get(self, request_id: int) -> RequestView:
        with self.session() as s:
            row = s.get(Request, request_id)
            if row is None:
                raise RequestNotFound(f"There is no request #{request_id}.")
            return RequestView.of(row)

    def find(self, request_id: int) -> RequestView | None:
        with self.session() as s:
            row = s.get(Request, request_id)
            return RequestView.of(row) if row else None

    def db_now(self, s: Session) -> datetime:
        """The database's clock (PostgreSQL's for every replica alike; SQLite is one machine's)."""
        if self.is_sqlite:
            return utcnow()
        value = s.execute(text("SELECT timezone('utc', now())")).scalar_one()
        return value.replace(tzinfo=UTC)

    def now(self) -> datetime:
        """The database's clock, read in its own transaction."""
        with self.session() as s:
            return self.db_now(s)

    def transition(
        self,
        request_id: int,
        expected: Status | Iterable[Status],
        to: Status,
        actor: str,
        detail: str | None = None,
        owner: str | None = None,
        attempt: int | None = None,
        also: Callable[[Session], None] | None = None,
        **values: Any,
    ) -> RequestView | None:
        """Compare-and-set: move to `to` only if the status is still one of `expected`.

        Returns the new snapshot, or None when someone else moved it first (double click,
        Slack retry, another replica). With `owner` (and `attempt`) the caller must still
        hold the run lease. The audit event, and `also(session)`, run in the same transaction.
        """
        expected = [expected] if isinstance(expected, Status) else list(expected)
        for src in expected:
            if not allowed(src, to):
                raise ValueError(f"transition {src} -> {to} is not allowed")
        conditions = [Request.id == request_id, Request.status.in_([e.value for e in expected])]
        if owner is not None:
            conditions.append(Request.lease_owner == owner)
        if attempt is not None:
            conditions.append(Request.attempts == attempt)
        with self.session() as s:
            now = self.db_now(s)
            values.setdefault("updated_at", now)
            if to == Status.IN_PROGRESS:
                values.setdefault("started_at", now)
            if to in (Status.COMPLETED, Status.FAILED, Status.REJECTED, Status.CANCELLED):
                values.setdefault("finished_at", now)
            values = {k: (v(now) if isinstance(v, FunctionType) else v) for k, v in values.items()}
            result = s.execute(
                update(Request)
                .where(*conditions)
                .values(status=to.value, version=Request.version + 1, **values)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:
                return None
            s.add(
                AuditEvent(
                    request_id=request_id,
                    actor=actor,
                    kind="transition",
                    name=to.value,
                    detail=redact(detail)[:2000] if detail else None,
                    at=now,
                )
            )
            if also is not None:
                also(s)
            row = s.get(Request, request_id)
            s.refresh(row)
            return RequestView.of(row)

    def claim(self, request_id: int, owner: str, lease_seconds: int) -> RequestView | None:
        """Approved -> In Progress, taking the run lease (a new attempt number fences the
        previous holder's writes); None if someone else claimed it."""
        return self.transition(
            request_id,
            Status.APPROVED,
            Status.IN_PROGRESS,
            owner,
            detail="started",
            lease_owner=owner,
            lease_expires_at=lambda now: now + timedelta(seconds=lease_seconds),
            attempts=Request.attempts + 1,
        )

    def take_over(
        self, request_id: int, owner: str, lease_seconds: int, dead_owners: Iterable[str] = ()
    ) -> RequestView | None:
        """Resume an In Progress request whose lease expired (by the database's clock) or
        whose owner is known dead; the attempt number goes up, fencing the old owner."""
        dead = list(dead_owners)
        with self.session() as s:
            now = self.db_now(s)
            condition = or_(Request.lease_expires_at.is_(None), Request.lease_expires_at < now)
            if dead:
                condition = or_(condition, Request.lease_owner.in_(dead))
            result = s.execute(
                update(Request)
                .where(Request.id == request_id, Request.status == Status.IN_PROGRESS.value, condition)
                .values(
                    lease_owner=owner,
                    lease_expires_at=now + timedelta(seconds=lease_seconds),
                    attempts=Request.attempts + 1,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:
                return None
            s.add(
                AuditEvent(
                    request_id=request_id,
                    actor=owner,
                    kind="transition",
                    name="resumed",
                    detail="resumed after the previous run stopped",
                    at=now,
                )
            )
            row = s.get(Request, request_id)
            s.refresh(row)
            return RequestView.of(row)

    def heartbeat(self, request_id: int, owner: str, attempt: int, lease_seconds: int) -> bool:
        """Extend our lease; False means it is someone else's now and we must stop."""
        with self.session() as s:
            now = self.db_now(s)
            result = s.execute(
                update(Request)
                .where(
                    Request.id == request_id,
                    Request.status == Status.IN_PROGRESS.value,
                    Request.lease_owner == owner,
                    Request.attempts == attempt,
                )
                .values(lease_expires_at=now + timedelta(seconds=lease_seconds))
                .execution_options(synchronize_session=False)
            )
            return result.rowcount == 1

    def _fence(self, s: Session, request_id: int, owner: str, attempt: int) -> datetime:
        """Inside a transaction: proceed only while (owner, attempt) still holds the lease.

        The UPDATE takes the request's row lock, so a take-over by another replica and
        this write are serialised: whichever commits second sees the other's result."""
        now = self.db_now(s)
        result = s.execute(
            update(Request)
            .where(
                Request.id == request_id,
                Request.status == Status.IN_PROGRESS.value,
                Request.lease_owner == owner,
                Request.attempts == attempt,
            )
            .values(updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            raise LeaseLost(request_id)
        return now

    def release_lease(self, request_id: int, owner: str, attempt: int | None = None) -> None:
        """Give up a running request on purpose (shutdown) so it can be resumed at once."""
        with self.session() as s:
            now = self.db_now(s)
            conditions = [Request.id == request_id, Request.lease_owner == owner]
            if attempt is not None:
                conditions.append(Request.attempts == attempt)
            done = s.execute(
                update(Request)
                .where(*conditions)
                .values(lease_expires_at=now - timedelta(seconds=1))
                .execution_options(synchronize_session=False)
            )
            if done.rowcount == 1:
                s.add(
                    AuditEvent(
                        request_id=request_id,
                        actor=owner,
                        kind="transition",
                        name="paused",
                        detail="process shutting down; resumes at the next start",
                        at=now,
                    )
                )

    def resumable(self) -> list[RequestView]:
        """Requests to pick up at start-up: In Progress ones and Approved ones not started."""
        with self.session() as s:
            rows = s.scalars(
                select(Request)
                .where(Request.status.in_([Status.IN_PROGRESS.value, Status.APPROVED.value]))
                .order_by(Request.id)
            ).all()
            return [RequestView.of(r) for r in rows]

    def update_draft(self, request_id: int, version: int, **values: Any) -> RequestView | None:
        """Change a draft's plan in place (same number), only if nobody moved it since `version`."""
        with self.session() as s:
            result = s.execute(
                update(Request)
                .where(Request.id == request_id, Request.status == Status.DRAFT.value, Request.version == version)
                .values(version=Request.version + 1, updated_at=self.db_now(s), **values)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:
                return None
            row = s.get(Request, request_id)
            s.refresh(row)
            return RequestView.of(row)

    def claim_announcement(self, request_id: int, key: str) -> bool:
        """Whether this caller is the one to announce result `key` ("status:attempt"): each
        result is told once, whichever replica or restart gets here first."""
        with self.session() as s:
            result = s.execute(
                update(Request)
                .where(Request.id == request_id, or_(Request.announced.is_(None), Request.announced != key))
                .values(announced=key)
                .execution_options(synchronize_session=False)
            )
            return result.rowcount == 1

    def unannounced(self, since_hours: float = 24.0, limit: int = 200) -> list[RequestView]:
        """Requests that ended (done, failed, rejected) recently and whose result was not told."""
        ended = [Status.COMPLETED.value, Status.FAILED.value, Status.REJECTED.value]
        with self.session() as s:
            since = self.db_now(s) - timedelta(hours=since_hours)
            rows = s.scalars(
                select(Request)
                .where(Request.status.in_(ended), Request.finished_at >= since)
                .order_by(Request.id)
                .limit(limit)
            ).all()
            return [view for view in map(RequestView.of, rows) if view.announced != view.result_key]

    def first_delivery(self, key: str, keep: timedelta = timedelta(days=1)) -> bool:
        """Record a Slack delivery; False when it was seen before (a retry of it)."""
        with self.session() as s:
            now = self.db_now(s)
            if not s.get(SlackDelivery, key):
                try:
                    with s.begin_nested():
                        s.add(SlackDelivery(key=key[:200], seen_at=now))
                    if int(now.timestamp()) % 50 == 0:  # now and then, forget old deliveries
                        s.execute(delete(SlackDelivery).where(SlackDelivery.seen_at < now - keep))
                    return True
                except IntegrityError:
                    pass
            return False

    def update_fields(self, request_id: int, **values: Any) -> None:
        """Set non-status fields (message ts, ticket id, plan...) unconditionally."""
        with self.session() as s:
            s.execute(update(Request).where(Request.id == request_id).values(**values))

    def list_requests(
        self,
        requester: str | None = None,
        statuses: Iterable[Status] | None = None,
        limit: int = 20,
        older_than: datetime | None = None,
    ) -> list[RequestView]:
        with self.session() as s:
            query = select(Request).order_by(Request.id.desc()).limit(limit)
            if requester:
                query = query.where(Request.requester == requester)
            if statuses is not None:
                query = query.where(Request.status.in_([st.value for st in statuses]))
            if older_than is not None:
                query = query.where(Request.updated_at < older_than)
            return [RequestView.of(r) for r in s.scalars(query).all()]

    def find_unfinished(self, type: str, params: dict) -> RequestView | None:
        """The latest failed or abandoned request with exactly these parameters (CLI resume)."""
        wanted = json.dumps(params, sort_keys=True)
        with self.session() as s:
            rows = s.scalars(
                select(Request)
                .where(Request.type == type, Request.status.in_([Status.FAILED.value, Status.IN_PROGRESS.value]))
                .order_by(Request.id.desc())
                .limit(50)
            ).all()
            for row in rows:
                if json.dumps(row.params, sort_keys=True) == wanted:
                    return RequestView.of(row)
        return None

    # -- journal and audit ------------------------------------------------------------------------
    def audit(self, request_id: int | None, actor: str, kind: str, name: str, detail: str | None = None) -> None:
        with self.session() as s:
            s.add(
                AuditEvent(
                    request_id=request_id,
                    actor=actor,
                    kind=kind,
                    name=name[:120],
                    detail=redact(detail)[:4000] if detail else None,
                )
            )

    def events(self, request_id: int) -> list[EventView]:
        return self.audit_events(request_id)

    def audit_events(self, request_id: int | None = None, since: datetime | None = None) -> list[EventView]:
        """The audit trail in the order it was written: one request's, or everyone's since a time."""
        with self.session() as s:
            query = select(AuditEvent).order_by(AuditEvent.id)
            if request_id is not None:
                query = query.where(AuditEvent.request_id == request_id)
            if since is not None:
                query = query.where(AuditEvent.at >= since)
            return [EventView(r.at, r.actor, r.kind, r.name, r.detail, r.id, r.request_id) for r in s.scalars(query)]

    def journal(self, request_ids: Iterable[int]) -> list[JournalView]:
        """The step journal rows of these requests, oldest first."""
        ids = sorted(set(request_ids))
        out: list[JournalView] = []
        with self.session() as s:
            for chunk in _chunks(ids):
                query = select(RequestStep).where(RequestStep.request_id.in_(chunk))
                out += [
                    JournalView(r.id, r.request_id, r.key, r.op, r.state, r.result or {}, r.updated_at)
                    for r in s.scalars(query.order_by(RequestStep.id))
                ]
        return sorted(out, key=lambda row: row.id)

    def requests_by_id(self, request_ids: Iterable[int]) -> dict[int, RequestView]:
        """Snapshots of these requests by id (those that exist)."""
        ids = sorted(set(request_ids))
        out: dict[int, RequestView] = {}
        with self.session() as s:
            for chunk in _chunks(ids):
                for row in s.scalars(select(Request).where(Request.id.in_(chunk))):
                    out[row.id] = RequestView.of(row)
        return out

    def step_records(self, request_id: int) -> dict[str, StepRecord]:
        with self.session() as s:
            rows = s.scalars(select(RequestStep).where(RequestStep.request_id == request_id)).all()
            return {r.key: StepRecord(r.key, r.state, r.result or {}, r.updated_at, r.attempt) for r in rows}

    @staticmethod
    def _step_row(s: Session, request_id: int, key: str, op: str, create: bool = True) -> RequestStep | None:
        row = s.scalar(select(RequestStep).where(RequestStep.request_id == request_id, RequestStep.key == key))
        if row is None and create:
            row = RequestStep(request_id=request_id, key=key[:400], op=op)
            s.add(row)
        return row

    @staticmethod
    def _step_audit(s: Session, request_id: int, owner: str, kind: str, name: str, text: str, now: datetime) -> None:
        s.add(AuditEvent(request_id=request_id, actor=owner, kind=kind, name=name, detail=redact(text)[:4000], at=now))

    def step_intend(self, request_id: int, key: str, owner: str, attempt: int, change: Change) -> StepRecord:
        """Record, fenced by the lease, that this step's write is about to be sent."""
        with self.session() as s:
            now = self._fence(s, request_id, owner, attempt)
            row = self._step_row(s, request_id, key, change.op)
            row.state, row.result, row.github_id, row.attempt, row.updated_at = "applying", {}, None, attempt, now
            self._step_audit(s, request_id, owner, "step", f"started:{change.op}", change.text, now)
            return StepRecord(key, "applying", {}, now, attempt)

    def step_done(
        self, request_id: int, key: str, owner: str, attempt: int, change: Change, evidence: dict
    ) -> StepRecord:
        """Record, fenced, that GitHub confirmed the step (or that it had nothing to do)."""
        with self.session() as s:
            now = self._fence(s, request_id, owner, attempt)
            row = self._step_row(s, request_id, key, change.op)
            github_id = evidence.get("id") if change.op == "create_repo" else None
            row.state, row.result, row.attempt, row.updated_at = "done", evidence, attempt, now
            row.github_id = int(github_id) if isinstance(github_id, int) else None
            name = f"{'done' if change.changed else 'unchanged'}:{change.op}"
            self._step_audit(s, request_id, owner, "github" if change.changed else "step", name, change.text, now)
            return StepRecord(key, "done", evidence, now, attempt)

    def step_abandon(self, request_id: int, key: str, owner: str, attempt: int, change: Change, reason: str) -> None:
        """GitHub refused the write: it did not happen, so nothing may later read it as ours."""
        with self.session() as s:
            now = self._fence(s, request_id, owner, attempt)
            row = self._step_row(s, request_id, key, change.op, create=False)
            if row is not None and row.state != "done":
                s.delete(row)
            self._step_audit(s, request_id, owner, "step", f"refused:{change.op}", f"{change.text}: {reason}", now)

    def owner_of_repo(self, github_id: int) -> RepoOwner | None:
        """The request whose journal holds the creation of the repo with this GitHub id."""
        with self.session() as s:
            row = s.execute(
                select(Request.id, Request.type, Request.summary, RequestStep.updated_at)
                .join(RequestStep, RequestStep.request_id == Request.id)
                .where(RequestStep.op == "create_repo", RequestStep.github_id == github_id, RequestStep.state == "done")
                .order_by(RequestStep.id)
                .limit(1)
            ).first()
            return RepoOwner(row[0], row[1], row[2], row[3]) if row else None

    # -- runs ---------------------------------------------------------------------------------------
    def record_run(
        self,
        course: str,
        term: str,
        kind: str,
        org: str,
        repo_name: str,
        repo_url: str,
        team: str | None = None,
        members: Iterable[str] | None = None,
        title: str | None = None,
        description: str | None = None,
        request_id: int | None = None,
    ) -> None:
        """Insert or update the run (and its course and term)."""
        with self.session() as s:
            course_row = self._course(s, course, kind, title, description)
            term_row = self._term(s, term)
            run = s.scalar(select(Run).where(Run.course_id == course_row.id, Run.term_id == term_row.id))
            if run is None:
                run = Run(
                    course_id=course_row.id,
                    term_id=term_row.id,
                    org=org,
                    repo_name=repo_name,
                    repo_url=repo_url,
                    team=team,
                    created_by_request=request_id,
                )
                s.add(run)
                s.flush()
            else:
                run.org, run.repo_name, run.repo_url = org, repo_name, repo_url
                run.team = team or run.team
            if members is not None:
                s.query(TeamMember).filter(TeamMember.run_id == run.id).delete()
                for login in dict.fromkeys(members):
                    s.add(TeamMember(run_id=run.id, login=login))

    def mark_released(self, course: str, term: str) -> None:
        with self.session() as s:
            run = self._run_row(s, course, term)
            if run is not None and run.released_at is None:
                run.released_at = utcnow()

    def find_run(self, course: str, term: str) -> RunView | None:
        with self.session() as s:
            run = self._run_row(s, course, term)
            return self._run_view(s, run) if run else None

    def course_terms(self, course: str) -> list[str]:
        """Terms the store knows for a course number (case-insensitive)."""
        with self.session() as s:
            rows = s.execute(
                select(Term.name)
                .join(Run, Run.term_id == Term.id)
                .join(Course, Run.course_id == Course.id)
                .where(Course.number_key == course.lower())
                .order_by(Term.year, Term.name)
            ).all()
            return [r[0] for r in rows]

    def course_kind(self, course: str) -> str | None:
        with self.session() as s:
            row = s.scalar(select(Course).where(Course.number_key == course.lower()))
            return row.kind if row else None

    def runs_in_term(self, term: str, courses: Iterable[str] | None = None) -> list[RunView]:
        """Every run of a term (or only those of `courses`), with its course and team, in two
        queries whatever their number."""
        query = (
            select(Run, Course, Term)
            .join(Term, Run.term_id == Term.id)
            .join(Course, Run.course_id == Course.id)
            .where(func.lower(Term.name) == term.lower())
            .order_by(Course.number_key)
        )
        if courses is not None:
            query = query.where(Course.number_key.in_([c.lower() for c in courses]))
        with self.session() as s:
            rows = s.execute(query).all()
            members: dict[int, list[str]] = {}
            if rows:
                found = s.execute(
                    select(TeamMember.run_id, TeamMember.login)
                    .where(TeamMember.run_id.in_([run.id for run, _, _ in rows]))
                    .order_by(TeamMember.id)
                ).all()
                for run_id, login in found:
                    members.setdefault(run_id, []).append(login)
            return [RunView.of(run, course, term_row, members.get(run.id, ())) for run, course, term_row in rows]

    def course_kinds(self, courses: Iterable[str]) -> dict[str, str]:
        """XML or Studio for each known course (by lowercased number), in one query."""
        keys = [c.lower() for c in courses]
        with self.session() as s:
            return dict(s.execute(select(Course.number_key, Course.kind).where(Course.number_key.in_(keys))).all())

    def _run_row(self, s: Session, course: str, term: str) -> Run | None:
        return s.scalar(
            select(Run)
            .join(Term, Run.term_id == Term.id)
            .join(Course, Run.course_id == Course.id)
            .where(Course.number_key == course.lower(), func.lower(Term.name) == term.lower())
        )

    def _run_view(self, s: Session, run: Run) -> RunView:
        course = s.get(Course, run.course_id)
        term = s.get(Term, run.term_id)
        members = s.scalars(select(TeamMember.login).where(TeamMember.run_id == run.id).order_by(TeamMember.id)).all()
        return RunView.of(run, course, term, members)

    def _course(self, s: Session, number: str, kind: str, title: str | None, description: str | None) -> Course:
        row = s.scalar(select(Course).where(Course.number_key == number.lower()))
        if row is None:
            try:
                with s.begin_nested():
                    row = Course(
                        number=number, number_key=number.lower(), kind=kind, title=title, description=description
                    )
                    s.add(row)
            except IntegrityError:
                row = s.scalar(select(Course).where(Course.number_key == number.lower()))
        else:
            row.title = title or row.title
            row.description = description or row.description
        return row

    def _term(self, s: Session, name: str) -> Term:
        row = s.scalar(select(Term).where(func.lower(Term.name) == name.lower()))
        if row is None:
            season, year = name.rsplit("_", 1)
            try:
                with s.begin_nested():
                    row = Term(name=name, season=season, year=int(year))
                    s.add(row)
            except IntegrityError:
                row = s.scalar(select(Term).where(func.lower(Term.name) == name.lower()))
        return row

    # -- rollover items -------------------------------------------------------------------------------
    def add_items(self, request_id: int, courses: Iterable[tuple[str, str | None]]) -> None:
        with self.session() as s:
            for position, (course, kind) in enumerate(courses):
                s.add(RequestItem(request_id=request_id, position=position, course=course, kind=kind))

    def items(self, request_id: int) -> list[ItemView]:
        with self.session() as s:
            rows = s.scalars(
                select(RequestItem).where(RequestItem.request_id == request_id).order_by(RequestItem.position)
            ).all()
            return [ItemView(r.id, r.position, r.course, r.kind, r.status, r.repo_url, r.error) for r in rows]

    def finish_item(self, item_id: int, status: str, repo_url: str | None = None, error: str | None = None) -> None:
        with self.session() as s:
            s.execute(
                update(RequestItem)
                .where(RequestItem.id == item_id)
                .values(status=status, repo_url=repo_url, error=redact(error) if error else None, updated_at=utcnow())
            )

    @staticmethod
    def reset_failed_items(request_id: int) -> Callable[[Session], None]:
        """For a retry's transaction: failed courses of a batch are tried again, done ones kept."""

        def reset(s: Session) -> None:
            s.execute(
                update(RequestItem)
                .where(RequestItem.request_id == request_id, RequestItem.status == "failed")
                .values(status="pending", error=None, updated_at=utcnow())
            )

        return reset

    # -- scheduled tasks --------------------------------------------------------------------------------
    @staticmethod
    def add_task_in(
        kind: str,
        due_at: datetime,
        request_id: int | None = None,
        timezone: str | None = None,
        created_by: str | None = None,
        key: str | None = None,
        payload: dict | None = None,
    ) -> Callable[[Session], None]:
        """For a transition's transaction: the task that makes a request due at `due_at`."""

        def add(s: Session) -> None:
            s.add(
                ScheduledTask(
                    kind=kind,
                    key=key,
                    request_id=request_id,
                    payload=payload,
                    due_at=due_at,
                    timezone=timezone,
                    status="scheduled",
                    created_by=created_by,
                )
            )

        return add

    def ensure_task(self, kind: str, key: str, due_at: datetime, timezone: str | None = None) -> bool:
        """Create the task called `key` unless it exists (every replica may try; the unique
        key lets one row in, by one INSERT … ON CONFLICT DO NOTHING). True when this call
        created it."""
        insert = sqlite_insert if self.is_sqlite else postgresql_insert
        with self.session() as s:
            done = s.execute(
                insert(ScheduledTask)
                .values(
                    kind=kind,
                    key=key,
                    due_at=due_at,
                    timezone=timezone,
                    status="scheduled",
                    attempts=0,
                    created_by="scheduler",
                    created_at=utcnow(),
                )
                .on_conflict_do_nothing(index_elements=["key"])
                .returning(ScheduledTask.id)
            )
            return done.first() is not None

    @staticmethod
    def cancel_tasks_of(request_id: int) -> Callable[[Session], None]:
        """For a transition's transaction: the request's waiting tasks will not run."""

        def cancel(s: Session) -> None:
            s.execute(
                update(ScheduledTask)
                .where(ScheduledTask.request_id == request_id, ScheduledTask.status.in_(("scheduled", "claimed")))
                .values(status="cancelled", finished_at=utcnow(), note="cancelled with its request")
                .execution_options(synchronize_session=False)
            )

        return cancel

    def claim_tasks(
        self, owner: str, lease_seconds: int, limit: int = 20, now: datetime | None = None
    ) -> list[TaskView]:
        """Claim up to `limit` due tasks: scheduled ones whose time came, and claimed ones
        whose claim expired (their replica died). On PostgreSQL the rows are picked
        `FOR UPDATE SKIP LOCKED` and then updated in the same transaction, so replicas
        claiming at once take different rows; on SQLite one UPDATE picks and claims them
        (SQLite runs one writer at a time, and a read before the write could not be
        upgraded). `attempts` goes up with each claim."""
        with self.session() as s:
            now = now or self.db_now(s)
            due = or_(
                and_(ScheduledTask.status == "scheduled", ScheduledTask.due_at <= now),
                and_(ScheduledTask.status == "claimed", ScheduledTask.claim_expires_at < now),
            )
            pick = select(ScheduledTask.id).where(due).order_by(ScheduledTask.due_at, ScheduledTask.id).limit(limit)
            if self.is_sqlite:
                chosen = pick.scalar_subquery()
            else:  # lock the picked rows first; the locks are held until this transaction ends
                chosen = s.scalars(pick.with_for_update(skip_locked=True)).all()
                if not chosen:
                    return []
            ids = s.scalars(
                update(ScheduledTask)
                .where(ScheduledTask.id.in_(chosen), due)
                .values(
                    status="claimed",
                    claimed_by=owner,
                    claimed_at=now,
                    claim_expires_at=now + timedelta(seconds=lease_seconds),
                    attempts=ScheduledTask.attempts + 1,
                )
                .returning(ScheduledTask.id)
                .execution_options(synchronize_session=False)
            ).all()
            if not ids:
                return []
            rows = s.scalars(select(ScheduledTask).where(ScheduledTask.id.in_(ids)).order_by(ScheduledTask.due_at))
            return [TaskView.of(r) for r in rows]

    def finish_task(
        self, task: TaskView, owner: str, status: str, note: str | None = None, now: datetime | None = None
    ) -> bool:
        """Record a claimed task's outcome, fenced by (owner, attempt): False when its claim
        expired and another replica took it over."""
        with self.session() as s:
            now = now or self.db_now(s)
            done = s.execute(
                update(ScheduledTask)
                .where(
                    ScheduledTask.id == task.id,
                    ScheduledTask.status == "claimed",
                    ScheduledTask.claimed_by == owner,
                    ScheduledTask.attempts == task.attempts,
                )
                .values(status=status, finished_at=now, note=redact(note)[:2000] if note else None)
                .execution_options(synchronize_session=False)
            )
            return done.rowcount == 1

    def count_due_tasks(self) -> int:
        """Scheduled tasks whose time has come and that no replica claimed (for /metrics)."""
        with self.session() as s:
            now = self.db_now(s)
            due = and_(ScheduledTask.status == "scheduled", ScheduledTask.due_at <= now)
            return s.scalar(select(func.count()).select_from(ScheduledTask).where(due)) or 0

    def tasks(
        self,
        request_id: int | None = None,
        kind: str | None = None,
        statuses: Iterable[str] | None = None,
        limit: int = 50,
    ) -> list[TaskView]:
        with self.session() as s:
            query = select(ScheduledTask).order_by(ScheduledTask.due_at, ScheduledTask.id).limit(limit)
            if request_id is not None:
                query = query.where(ScheduledTask.request_id == request_id)
            if kind is not None:
                query = query.where(ScheduledTask.kind == kind)
            if statuses is not None:
                query = query.where(ScheduledTask.status.in_(list(statuses)))
            return [TaskView.of(r) for r in s.scalars(query).all()]

    def scheduled_requests(self, requester: str | None = None, limit: int = 25) -> list[RequestView]:
        """Requests waiting for their scheduled time (or for approval first), soonest first."""
        waiting = (Status.PENDING_APPROVAL.value, Status.SCHEDULED.value)
        with self.session() as s:
            query = (
                select(Request)
                .where(Request.scheduled_for.is_not(None), Request.status.in_(waiting))
                .order_by(Request.scheduled_for, Request.id)
                .limit(limit)
            )
            if requester:
                query = query.where(Request.requester == requester)
            return [RequestView.of(r) for r in s.scalars(query).all()]


def _chunks(ids: list[int], size: int = 500) -> Iterator[list[int]]:
    """`ids` in slices of `size`: IN lists stay bounded whatever their number."""
    for start in range(0, len(ids), size):
        yield ids[start : start + size]
