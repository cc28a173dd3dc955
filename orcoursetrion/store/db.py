"""The store: requests and their compare-and-set lifecycle, the step journal, runs,
rollover items and the audit trail, on SQLite or PostgreSQL (SQLAlchemy 2)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import create_engine, event, func, or_, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from orcoursetrion.errors import RequestNotFound
from orcoursetrion.lifecycle import Status, allowed
from orcoursetrion.ops import Change
from orcoursetrion.redact import redact
from orcoursetrion.store.models import (
    AuditEvent,
    Course,
    Request,
    RequestItem,
    RequestStep,
    Run,
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

    @property
    def state(self) -> Status:
        return Status(self.status)

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
class EventView:
    at: datetime
    actor: str
    kind: str
    name: str
    detail: str | None


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
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, **kwargs)


class Store:
    """All persistence; every method opens and commits its own short transaction."""

    def __init__(self, url: str, engine: Engine | None = None) -> None:
        self.url = url
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

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:  # any driver error means "down" for the health check
            log.warning("store ping failed", exc_info=True)
            return False

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
    ) -> RequestView:
        with self.session() as s:
            row = Request(
                type=type,
                status=status.value,
                requester=requester,
                requester_name=requester_name,
                params=params,
                plan=plan,
                summary=summary[:300],
                channel=channel,
                desired_at=desired_at,
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

    def transition(
        self,
        request_id: int,
        expected: Status | Iterable[Status],
        to: Status,
        actor: str,
        detail: str | None = None,
        owner: str | None = None,
        **values: Any,
    ) -> RequestView | None:
        """Compare-and-set: move to `to` only if the status is still one of `expected`.

        Returns the new snapshot, or None when someone else moved it first (double click,
        Slack retry, another replica). With `owner`, the caller must also still hold the
        run lease. The audit event is written in the same transaction.
        """
        expected = [expected] if isinstance(expected, Status) else list(expected)
        for src in expected:
            if not allowed(src, to):
                raise ValueError(f"transition {src} -> {to} is not allowed")
        now = utcnow()
        values.setdefault("updated_at", now)
        if to == Status.IN_PROGRESS:
            values.setdefault("started_at", now)
        if to in (Status.COMPLETED, Status.FAILED, Status.REJECTED, Status.CANCELLED):
            values.setdefault("finished_at", now)
        conditions = [Request.id == request_id, Request.status.in_([e.value for e in expected])]
        if owner is not None:
            conditions.append(Request.lease_owner == owner)
        with self.session() as s:
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
                )
            )
            row = s.get(Request, request_id)
            s.refresh(row)
            return RequestView.of(row)

    def claim(self, request_id: int, owner: str, lease_seconds: int) -> RequestView | None:
        """Approved -> In Progress, taking the run lease; None if someone else claimed it."""
        return self.transition(
            request_id,
            Status.APPROVED,
            Status.IN_PROGRESS,
            owner,
            detail="started",
            lease_owner=owner,
            lease_expires_at=utcnow() + timedelta(seconds=lease_seconds),
            attempts=Request.attempts + 1,
        )

    def take_over(self, request_id: int, owner: str, lease_seconds: int, dead_owners: Iterable[str] = ()) -> bool:
        """Resume an In Progress request whose lease expired (or whose owner is known dead)."""
        now = utcnow()
        dead = list(dead_owners)
        with self.session() as s:
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
                return False
            s.add(
                AuditEvent(
                    request_id=request_id,
                    actor=owner,
                    kind="transition",
                    name="resumed",
                    detail="resumed after the previous run stopped",
                )
            )
            return True

    def heartbeat(self, request_id: int, owner: str, lease_seconds: int) -> bool:
        """Extend our lease; False means we lost it and must stop."""
        with self.session() as s:
            result = s.execute(
                update(Request)
                .where(
                    Request.id == request_id, Request.status == Status.IN_PROGRESS.value, Request.lease_owner == owner
                )
                .values(lease_expires_at=utcnow() + timedelta(seconds=lease_seconds))
                .execution_options(synchronize_session=False)
            )
            return result.rowcount == 1

    def release_lease(self, request_id: int, owner: str) -> None:
        """Give up a running request on purpose (shutdown) so it can be resumed at once."""
        with self.session() as s:
            done = s.execute(
                update(Request)
                .where(Request.id == request_id, Request.lease_owner == owner)
                .values(lease_expires_at=utcnow() - timedelta(seconds=1))
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
        with self.session() as s:
            rows = s.scalars(
                select(AuditEvent).where(AuditEvent.request_id == request_id).order_by(AuditEvent.id)
            ).all()
            return [EventView(r.at, r.actor, r.kind, r.name, r.detail) for r in rows]

    def journal(self, request_id: int, actor: str) -> StoreJournal:
        return StoreJournal(self, request_id, actor)

    def step_lookup(self, request_id: int, key: str) -> dict | None:
        with self.session() as s:
            row = s.scalar(select(RequestStep).where(RequestStep.request_id == request_id, RequestStep.key == key))
            return {"state": row.state, "result": row.result} if row else None

    def step_started(self, request_id: int, key: str, actor: str, change: Change) -> None:
        with self.session() as s:
            row = s.scalar(select(RequestStep).where(RequestStep.request_id == request_id, RequestStep.key == key))
            if row is None:
                s.add(RequestStep(request_id=request_id, key=key[:400], state="started", result=None))
            else:
                row.updated_at = utcnow()
            s.add(
                AuditEvent(
                    request_id=request_id,
                    actor=actor,
                    kind="step",
                    name=f"started:{change.op}",
                    detail=redact(change.target),
                )
            )

    def step_done(self, request_id: int, key: str, actor: str, change: Change, result: Any) -> None:
        with self.session() as s:
            row = s.scalar(select(RequestStep).where(RequestStep.request_id == request_id, RequestStep.key == key))
            if row is None:
                row = RequestStep(request_id=request_id, key=key[:400], state="done", result=result)
                s.add(row)
            else:
                row.state, row.result, row.updated_at = "done", result, utcnow()
            s.add(
                AuditEvent(
                    request_id=request_id,
                    actor=actor,
                    kind="github" if change.changed else "step",
                    name=f"{'done' if change.changed else 'unchanged'}:{change.op}",
                    detail=redact(change.text)[:4000],
                )
            )

    def steps(self, request_id: int) -> dict[str, dict]:
        with self.session() as s:
            rows = s.scalars(select(RequestStep).where(RequestStep.request_id == request_id)).all()
            return {r.key: {"state": r.state, "result": r.result} for r in rows}

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

    def runs_in_term(self, term: str) -> list[RunView]:
        with self.session() as s:
            runs = s.scalars(
                select(Run)
                .join(Term, Run.term_id == Term.id)
                .join(Course, Run.course_id == Course.id)
                .where(func.lower(Term.name) == term.lower())
                .order_by(Course.number_key)
            ).all()
            return [self._run_view(s, r) for r in runs]

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
        return RunView(
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

    def reset_failed_items(self, request_id: int) -> None:
        """On retry of a batch, failed items are tried again; finished ones are kept."""
        with self.session() as s:
            s.execute(
                update(RequestItem)
                .where(RequestItem.request_id == request_id, RequestItem.status == "failed")
                .values(status="pending", error=None, updated_at=utcnow())
            )


class StoreJournal:
    """The ops Journal backed by the request_steps table (and the audit trail)."""

    def __init__(self, store: Store, request_id: int, actor: str) -> None:
        self.store, self.request_id, self.actor = store, request_id, actor

    def lookup(self, key: str) -> dict | None:
        return self.store.step_lookup(self.request_id, key)

    def started(self, key: str, change: Change) -> None:
        self.store.step_started(self.request_id, key, self.actor, change)

    def done(self, key: str, change: Change, result: Any) -> None:
        self.store.step_done(self.request_id, key, self.actor, change, result)
