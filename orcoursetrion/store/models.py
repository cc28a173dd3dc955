"""Tables after the design notes' data model: Course, TeamMember, Term, Run, Request,
plus the step journal, rollover items, the audit trail, scheduled tasks and the GitHub
write budget."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in Python, naive UTC in the database (same on SQLite and Postgres)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    pass


class Course(Base):
    __tablename__ = "courses"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40))
    number_key: Mapped[str] = mapped_column(String(40), unique=True)  # lowercased, for lookups
    title: Mapped[str | None] = mapped_column(String(200))
    instructor: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))  # xml | studio
    description: Mapped[str | None] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TeamMember(Base):
    __tablename__ = "team_members"
    __table_args__ = (UniqueConstraint("run_id", "login"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    login: Mapped[str] = mapped_column(String(39))


class Term(Base):
    __tablename__ = "terms"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)  # e.g. Fall_2030
    season: Mapped[str] = mapped_column(String(30))
    year: Mapped[int] = mapped_column(Integer)


class Run(Base):
    __tablename__ = "runs"
    __table_args__ = (UniqueConstraint("course_id", "term_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    term_id: Mapped[int] = mapped_column(ForeignKey("terms.id"))
    org: Mapped[str] = mapped_column(String(100))
    repo_name: Mapped[str] = mapped_column(String(100))
    repo_url: Mapped[str] = mapped_column(String(400))
    team: Mapped[str | None] = mapped_column(String(100))
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_request: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Request(Base):
    __tablename__ = "requests"
    __table_args__ = (
        Index("ix_requests_status", "status"),
        Index("ix_requests_requester", "requester"),
        Index("ix_requests_ticket", "ticket_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(20))  # new | rerun | release | team | rollover
    status: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer, default=1)
    requester: Mapped[str] = mapped_column(String(64))
    requester_name: Mapped[str | None] = mapped_column(String(200))
    requester_email: Mapped[str | None] = mapped_column(String(254))
    params: Mapped[dict] = mapped_column(JSON)
    plan: Mapped[list | None] = mapped_column(JSON)
    notes: Mapped[list | None] = mapped_column(JSON)  # what the plan said beside its steps
    confirm_warning: Mapped[str | None] = mapped_column(Text)  # asked again before Confirm
    announced: Mapped[str | None] = mapped_column(String(60))  # "status:attempt" of the last result told
    summary: Mapped[str] = mapped_column(String(300))
    desired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scheduled_for: Mapped[datetime | None] = mapped_column(UTCDateTime)  # runs then, not before
    channel: Mapped[str | None] = mapped_column(String(40))
    message_ts: Mapped[str | None] = mapped_column(String(40))
    approval_channel: Mapped[str | None] = mapped_column(String(40))
    approval_ts: Mapped[str | None] = mapped_column(String(40))
    ticket_id: Mapped[int | None] = mapped_column(Integer)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    error_step: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    stop_requested_by: Mapped[str | None] = mapped_column(String(64))
    lease_owner: Mapped[str | None] = mapped_column(String(120))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RequestStep(Base):
    """The step journal: a step is `applying` from just before its write until GitHub
    confirmed it (`done`, with its evidence); a refused write leaves no row."""

    __tablename__ = "request_steps"
    __table_args__ = (UniqueConstraint("request_id", "key"), Index("ix_steps_github_id", "op", "github_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(400))
    op: Mapped[str | None] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(10))  # applying | done
    result: Mapped[dict | list | int | str | bool | None] = mapped_column(JSON)  # the evidence
    github_id: Mapped[int | None] = mapped_column(BigInteger)  # the created repo's GitHub id
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RequestItem(Base):
    """One course of a batch (rollover) request and its own result."""

    __tablename__ = "request_items"
    __table_args__ = (UniqueConstraint("request_id", "course"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    course: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str | None] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending | done | failed
    repo_url: Mapped[str | None] = mapped_column(String(400))
    error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_request", "request_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))  # transition | github | step | note
    name: Mapped[str] = mapped_column(String(120))
    detail: Mapped[str | None] = mapped_column(Text)


class SlackDelivery(Base):
    """Slack deliveries already handled, so a retried one (X-Slack-Retry-Num) runs once."""

    __tablename__ = "slack_deliveries"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ScheduledTask(Base):
    """Due work kept in the store so that several replicas claim each task once: a
    scheduled request (kind `request`) or the daily reminder (kind `reminder`, one row per
    day by its `key`). A claim expires like a run lease, so a replica that died holding one
    loses nothing; `attempts` fences the finish of an expired claim."""

    __tablename__ = "scheduled_tasks"
    __table_args__ = (
        Index("ix_tasks_due", "status", "due_at"),
        Index("ix_tasks_request", "request_id"),
        Index("ux_tasks_key", "key", unique=True),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    key: Mapped[str | None] = mapped_column(String(80))  # unique when set: one reminder per day
    request_id: Mapped[int | None] = mapped_column(Integer)
    payload: Mapped[dict | None] = mapped_column(JSON)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    timezone: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12), default="scheduled")  # scheduled|claimed|done|missed|cancelled
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ZendeskOutbox(Base):
    """Ticket work not yet done at Zendesk: one row per operation, done in id order per
    request, claimed by one worker at a time (the claim expires, so a dead worker's row
    is picked up again). Done rows are deleted; rows that kept failing are kept `dead`."""

    __tablename__ = "zendesk_outbox"
    __table_args__ = (
        Index("ix_outbox_due", "state", "next_at"),
        Index("ix_outbox_request", "request_id", "id"),
        {"sqlite_autoincrement": True},  # ids never reused: they order a request's rows and mark its comments
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # open | comment
    payload: Mapped[dict] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(10), default="pending")  # pending | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WriteBudget(Base):
    """The GitHub write budget of one account (`key`: the API URL), shared by every process
    on the store: the minute rate's theoretical arrival time (GCRA) and the pause GitHub
    asked for. Times are epoch seconds on the store's clock."""

    __tablename__ = "write_budgets"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    tat: Mapped[float] = mapped_column(Float, default=0.0)
    paused_until: Mapped[float] = mapped_column(Float, default=0.0)
    pause_reason: Mapped[str | None] = mapped_column(String(200))


class WriteSend(Base):
    """One reserved send time of the last hour: the exact per-minute and per-hour caps."""

    __tablename__ = "write_sends"
    __table_args__ = (Index("ix_write_sends_key_at", "key", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    at: Mapped[float] = mapped_column(Float)
