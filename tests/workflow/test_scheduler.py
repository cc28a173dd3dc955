"""The scheduler in-process, on a clock the test moves: a scheduled release runs once at
its time, a cancelled one never, one missed while the service was down runs late (or is
marked missed when too late), times are read on the requester's clock, claims expire, and
the daily reminder lists exactly the right requests, once across replicas."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest

from commands import Draft, Invocation, Reply, Services, dispatch
from commands.planning import propose
from orcoursetrion.errors import NotAuthorized
from orcoursetrion.lifecycle import RequestType, Status
from orcoursetrion.scheduler import Scheduler
from orcoursetrion.store import open_store
from orcoursetrion.workflow import Workflow
from tests.clock import FakeClock
from tests.conftest import PRODUCTION, settings_for

NY = "America/New_York"
YEAR = datetime.now(UTC).year + 2
REPO = "content-mit-801r-Fall_2030"
ORG = "MITx-Studio2LMS"


class Recorded:
    """The scheduler's notices, as a person would receive them (Slack is tested in tests/bot)."""

    def __init__(self) -> None:
        self.approvals: list[list[int]] = []
        self.failures: list[tuple[str, list[int]]] = []
        self.late: list[tuple[int, str]] = []

    def approvals_waiting(self, requests, note):
        self.approvals.append([r.id for r in requests])

    def failures_waiting(self, requester, requests, note):
        self.failures.append((requester, [r.id for r in requests]))

    def ran_late(self, request, text):
        self.late.append((request.id, text))


class Service:
    """One process: store, workflow (its runner) and scheduler, all on the shared clock."""

    def __init__(self, settings, clock: FakeClock) -> None:
        self.store = open_store(settings.database_url, auto_upgrade=True)
        self.workflow = Workflow(settings, self.store)
        self.events: list = []
        self.workflow.subscribe(self.events.append)
        self.services = Services(settings, self.store, self.workflow)
        self.notices = Recorded()
        self.scheduler = Scheduler(settings, self.store, self.workflow, self.notices, clock=clock, interval=0.2)

    def schedule(self, text: str, user: str = "UALICE", tz: str = NY, confirm: bool = True) -> int:
        """`/orc schedule …`, planned and confirmed as in Slack; the request id."""
        draft = dispatch(text, Invocation(user, [], channel=None, timezone=tz), self.services)
        assert isinstance(draft, Draft), draft
        proposal = propose(draft, self.services)
        assert proposal.can_run, proposal.problems
        req = self.workflow.create(proposal.type, user, proposal.params, plan=proposal.changes)
        if confirm:
            self.workflow.confirm(req.id, user)
        return req.id

    def kinds(self, request_id: int) -> list[str]:
        return [e.kind for e in self.events if e.request.id == request_id and not e.kind.startswith("step")]

    def close(self) -> None:
        self.scheduler.shutdown()
        self.workflow.shutdown()
        self.store.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def start(github, database_url, clock):
    started: list[Service] = []

    def make(**env: str) -> Service:
        env.setdefault("ORC_TIMEZONE", NY)
        env.setdefault("ORC_REMIND_AT", "05:00")  # away from the 09:00 the stories schedule
        service = Service(settings_for(github, database_url, **env), clock)
        started.append(service)
        return service

    yield make
    for service in started:
        service.close()


@pytest.fixture
def studio(github):
    github.add_repo(ORG, REPO, files={"course.xml": b"<course/>"})
    return github


def hook_writes(github) -> int:
    return sum(1 for r in github.requests if r.method == "POST" and r.path.endswith(f"/repos/{ORG}/{REPO}/hooks"))


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def sunday(month: int, nth: int) -> str:
    """The nth Sunday of a month of YEAR (US clocks change on 2nd Sunday of March, 1st of November)."""
    first = date(YEAR, month, 1)
    return (first + timedelta(days=(6 - first.weekday()) % 7, weeks=nth - 1)).isoformat()


def test_a_due_task_runs_once_and_is_announced(start, studio, clock):
    service = start()
    rid = service.schedule(f"schedule release 8.01r Fall_2030 {YEAR}-07-10 09:00")
    req = service.store.get(rid)
    assert req.state == Status.SCHEDULED and req.scheduled_for == utc(YEAR, 7, 10, 13, 0)
    assert service.store.resumable() == []  # the runner's resume/sweep never starts it early

    clock.set(req.scheduled_for - timedelta(seconds=1))
    assert service.scheduler.tick() == []
    clock.set(req.scheduled_for + timedelta(seconds=2))
    handled = service.scheduler.tick()
    assert [(h.task.request_id, h.status, h.note) for h in handled] == [(rid, "done", "started on time")]
    assert service.workflow.wait_idle(30)

    assert service.store.get(rid).state == Status.COMPLETED
    assert [h["config"]["url"] for h in studio.repo(ORG, REPO).hooks] == [PRODUCTION]
    assert service.kinds(rid) == ["created", "scheduled", "approved", "started", "completed"]
    replica = start()  # another process on the same store, later
    clock.advance(hours=2)
    assert service.scheduler.tick() == [] and replica.scheduler.tick() == []
    assert replica.workflow.wait_idle(5) and hook_writes(studio) == 1
    assert service.notices.late == []


def test_a_cancelled_task_never_runs(start, studio, clock):
    service = start()
    rid = service.schedule(f"schedule release 8.01r Fall_2030 {YEAR}-07-10 09:00")
    with pytest.raises(NotAuthorized):
        service.workflow.cancel_scheduled(rid, "UBOB")
    reply = dispatch(f"schedule cancel {rid}", Invocation("UALICE", [], timezone=NY), service.services)
    assert isinstance(reply, Reply) and f"Cancelled request #{rid}" in reply.text

    clock.set(utc(YEAR, 7, 10, 13, 0, 1))
    assert service.scheduler.tick() == []
    assert service.workflow.wait_idle(5)
    assert service.store.get(rid).state == Status.CANCELLED
    assert [t.status for t in service.store.tasks(request_id=rid)] == ["cancelled"]
    assert hook_writes(studio) == 0 and studio.repo(ORG, REPO).hooks == []


def test_a_task_due_while_the_service_was_down_runs_once_at_start_marked_late(start, studio, clock):
    first = start()
    rid = first.schedule(f"schedule release 8.01r Fall_2030 {YEAR}-01-10 09:00")
    first.close()  # every process is down at 09:00
    clock.set(utc(YEAR, 1, 10, 17, 5))  # 3 h 5 min after 14:00 UTC

    second = start()
    second.scheduler.start()  # as `python app.py` does: the first tick is at start
    req = second.services.store.get(rid)
    deadline = datetime.now(UTC) + timedelta(seconds=30)
    while req.state != Status.COMPLETED and datetime.now(UTC) < deadline:
        second.workflow.wait_idle(1)
        req = second.store.get(rid)
    assert req.state == Status.COMPLETED
    (task,) = second.store.tasks(request_id=rid)
    assert task.status == "done" and task.note.startswith("Ran 3 h 5 min late: it was due 2")
    assert "09:00 EST" in task.note
    assert second.notices.late == [(rid, task.note)]
    assert "ran_late" in [e.name for e in second.store.events(rid)]
    assert hook_writes(studio) == 1


def test_a_task_too_late_is_marked_missed_and_reported_not_run(start, studio, clock):
    service = start()
    rid = service.schedule(f"schedule release 8.01r Fall_2030 {YEAR}-07-10 09:00")
    clock.set(utc(YEAR, 7, 11, 13, 0, 1) + timedelta(hours=1))  # 25 h late; the limit is 24 h

    (handled,) = service.scheduler.tick()
    assert handled.status == "missed"
    assert service.workflow.wait_idle(5)
    req = service.store.get(rid)
    assert req.state == Status.FAILED and req.error.startswith("Missed its scheduled time")
    assert "ORC_SCHEDULE_MAX_LATE_HOURS (24 h)" in req.error and "Nothing was changed" in req.error
    assert [t.status for t in service.store.tasks(request_id=rid)] == ["missed"]
    assert service.kinds(rid)[-1] == "failed"  # what the Slack notifier reports in the thread
    assert hook_writes(studio) == 0

    service.workflow.retry(rid, "UALICE")  # "Retry runs it now"
    assert service.workflow.wait_idle(30)
    assert service.store.get(rid).state == Status.COMPLETED and hook_writes(studio) == 1


def test_the_requesters_time_zone_is_honoured(start, studio, clock):
    service = start()
    summer = service.schedule(f"schedule release 8.01r Fall_2030 {YEAR}-07-10 09:00", tz=NY)
    winter = service.schedule(f"schedule release 8.01r Fall_2030 {YEAR}-01-10 09:00", tz=NY, confirm=False)
    paris = service.schedule(f"schedule release 8.01r Fall_2030 {YEAR}-07-10 09:00", tz="Europe/Paris", confirm=False)
    assert service.store.get(summer).scheduled_for == utc(YEAR, 7, 10, 13, 0)  # EDT, UTC-4
    assert service.store.get(winter).scheduled_for == utc(YEAR, 1, 10, 14, 0)  # EST, UTC-5
    assert service.store.get(paris).scheduled_for == utc(YEAR, 7, 10, 7, 0)  # CEST, UTC+2

    clock.set(utc(YEAR, 7, 10, 12, 59, 59))  # 08:59:59 in New York
    assert service.scheduler.tick() == []
    clock.set(utc(YEAR, 7, 10, 13, 0, 0))
    assert [h.task.request_id for h in service.scheduler.tick()] == [summer]


@pytest.mark.parametrize(
    ("when", "problem"),
    [
        (f"{sunday(3, 2)} 02:30", "does not exist in America/New_York"),  # spring forward
        (f"{sunday(11, 1)} 01:30", "happens twice in America/New_York"),  # fall back
        ("2020-09-01 09:00", "is in the past"),
        (f"{YEAR}-09-01 9am", "YYYY-MM-DD HH:MM"),
        (f"{YEAR}-02-30 09:00", "not a real date"),
    ],
)
def test_times_that_cannot_be_scheduled_are_clear_errors(start, clock, when, problem):
    service = start()
    reply = dispatch(
        f"schedule release 8.01r Fall_2030 {when}", Invocation("UALICE", [], timezone=NY), service.services
    )
    assert isinstance(reply, Reply) and problem in reply.text, reply.text
    assert service.store.list_requests() == []


def test_a_plan_checked_again_at_run_time_fails_clearly_when_the_world_changed(start, studio, clock):
    service = start()
    rid = service.schedule(f"schedule rerun 8.01r Fall_2030 Spring_2031 studio {YEAR}-07-10 09:00")
    studio.add_repo(ORG, "content-mit-801r-Spring_2031", files={"README.md": b"someone else's"})
    clock.set(utc(YEAR, 7, 10, 13, 0, 1))
    service.scheduler.tick()
    assert service.workflow.wait_idle(30)
    req = service.store.get(rid)
    assert req.state == Status.FAILED and "already exists" in req.error
    assert req.error_step == "checks before any change (nothing was changed)"
    assert not [r for r in studio.requests if r.method in ("POST", "PATCH", "PUT", "DELETE")]


def test_a_claim_held_by_a_dead_replica_expires_and_the_task_runs_once(start, studio, clock):
    service = start(ORC_LEASE_SECONDS="30")
    rid = service.schedule(f"schedule release 8.01r Fall_2030 {YEAR}-07-10 09:00")
    clock.set(utc(YEAR, 7, 10, 13, 0, 1))
    (held,) = service.store.claim_tasks("dead-replica", 30, now=clock())  # then it was killed
    assert service.scheduler.tick() == []  # its claim still holds

    clock.advance(seconds=31)
    (handled,) = service.scheduler.tick()
    assert handled.task.id == held.id and handled.task.attempts == 2 and handled.status == "done"
    assert not service.store.finish_task(held, "dead-replica", "done")  # the dead claim is fenced off
    assert service.workflow.wait_idle(30)
    assert service.store.get(rid).state == Status.COMPLETED and hook_writes(studio) == 1


def test_reminders_list_exactly_the_right_requests_once_across_replicas(start, studio, clock):
    env = {"ORC_APPROVERS": "UBOSS", "ORC_REMIND_AT": "09:00"}
    one, two = start(**env), start(**env)
    wf, store = one.workflow, one.store
    clock.set(utc(YEAR, 7, 10, 12, 0))  # 08:00 in New York
    one.scheduler.tick()  # creates the day's reminder row
    (reminder,) = store.tasks(kind="reminder")
    assert reminder.due_at == utc(YEAR, 7, 10, 13, 0) and reminder.key == f"reminder:{YEAR}-07-10"

    def request(user: str, status: Status, hours_ago: float, course: str = "8.01r") -> int:
        """A request by `user` that has been in `status` for `hours_ago` hours at 09:00."""
        req = wf.create(RequestType.RELEASE, user, {"course": course, "term": "Fall_2030", "kind": "studio"})
        if status == Status.PENDING_APPROVAL:
            wf.confirm(req.id, user)
        elif status == Status.FAILED:  # a release of a repo that does not exist fails
            wf.approve_direct(req.id, user, "test")
            wf.run_now(req.id)
        elif status == Status.CANCELLED:
            wf.cancel(req.id, user)
        assert store.get(req.id).state == status
        store.update_fields(req.id, updated_at=utc(YEAR, 7, 10, 13, 0) - timedelta(hours=hours_ago))
        return req.id

    old_pending = request("UALICE", Status.PENDING_APPROVAL, 30)
    request("UBOB", Status.PENDING_APPROVAL, 2)  # not a day yet
    old_failed_alice = request("UALICE", Status.FAILED, 26, course="9.01")
    request("UALICE", Status.FAILED, 3, course="9.02")  # give her a day to retry it herself
    old_failed_bob = request("UBOB", Status.FAILED, 48, course="9.03")
    request("UBOB", Status.CANCELLED, 48)
    retried = request("UCAROL", Status.FAILED, 50, course="9.04")
    studio.add_repo(ORG, "content-mit-904-Fall_2030", files={"course.xml": b"<course/>"})
    wf.retry(retried, "UCAROL")  # retried, and done
    assert wf.wait_idle(30) and store.get(retried).state == Status.COMPLETED

    clock.set(utc(YEAR, 7, 10, 13, 0, 3))
    ticks = [threading.Thread(target=s.scheduler.tick) for s in (one, two, one, two)]
    for t in ticks:
        t.start()
    for t in ticks:
        t.join(30)

    sent = one.notices.approvals + two.notices.approvals
    assert sent == [[old_pending]]
    failures = sorted(one.notices.failures + two.notices.failures)
    assert failures == [("UALICE", [old_failed_alice]), ("UBOB", [old_failed_bob])]
    (done,) = store.tasks(kind="reminder", statuses=("done",))
    assert done.note == "reminded: 1 pending approval, 2 failed"
    (tomorrow,) = store.tasks(kind="reminder", statuses=("scheduled",))
    assert tomorrow.due_at == utc(YEAR, 7, 11, 13, 0)
    clock.advance(hours=1)
    assert one.scheduler.tick() == [] and two.scheduler.tick() == []
    assert len(one.notices.approvals + two.notices.approvals) == 1
