"""The request lifecycle in-process: approvals, authorization, failure and retry,
resume after a dead runner, and the audit trail."""

from __future__ import annotations

import threading

import pytest

from orcoursetrion.errors import NotAuthorized, RequestStateError
from orcoursetrion.lifecycle import RequestType, Status
from orcoursetrion.store import open_store
from orcoursetrion.workflow import Workflow
from tests.conftest import STAGING, settings_for

RERUN = {"course": "8.01r", "term": "Fall_2030", "new_term": "Spring_2031", "kind": "studio", "members": None}
OLD = "content-mit-801r-Fall_2030"
NEW = "content-mit-801r-Spring_2031"


@pytest.fixture
def make_workflow(github, sqlite_url):
    made = []

    def make(**env):
        settings = settings_for(github, sqlite_url, **env)
        store = open_store(settings.database_url)
        wf = Workflow(settings, store)
        events = []
        wf.subscribe(events.append)
        wf.events = events
        made.append((wf, store))
        return wf

    yield make
    for wf, store in made:
        wf.shutdown()
        store.close()


@pytest.fixture
def studio_run(github):
    github.add_repo("MITx-Studio2LMS", OLD, files={"course.xml": b"<course/>"})
    github.add_hook("MITx-Studio2LMS", OLD, STAGING)
    return github


def kinds(wf):
    return [e.kind for e in wf.events if e.kind not in ("step", "step_started")]


def test_confirm_without_approvers_runs_and_records_the_run(make_workflow, studio_run):
    wf = make_workflow()
    req = wf.create(RequestType.RERUN, "U1", RERUN, plan=["..."])
    wf.confirm(req.id, "U1")
    assert wf.wait_idle(30)
    done = wf.store.get(req.id)
    assert done.state == Status.COMPLETED
    assert done.result["links"][0].endswith(f"/MITx-Studio2LMS/{NEW}")
    assert kinds(wf) == ["created", "approved", "started", "completed"]
    assert wf.store.find_run("8.01r", "Spring_2031").repo_url.endswith(NEW)
    assert wf.store.course_kind("8.01r") == "studio"
    names = [e.name for e in wf.store.events(req.id)]
    assert names[:3] == ["created:draft", "approved", "in_progress"] and names[-1] == "completed"
    assert "done:create_repo" in names


def test_approval_rules(make_workflow, studio_run):
    wf = make_workflow(ORC_APPROVERS="UA1,UA2", ORC_APPROVAL_CHANNEL="CAPPROVE")
    req = wf.create(RequestType.RERUN, "U1", RERUN)
    with pytest.raises(NotAuthorized):
        wf.confirm(req.id, "U2")  # not the requester, not an approver
    assert wf.confirm(req.id, "U1").state == Status.PENDING_APPROVAL
    with pytest.raises(RequestStateError):
        wf.confirm(req.id, "U1")
    with pytest.raises(NotAuthorized):
        wf.approve(req.id, "U1")
    wf.approve(req.id, "UA1")
    assert wf.wait_idle(30)
    assert wf.store.get(req.id).state == Status.COMPLETED
    assert wf.store.get(req.id).decided_by == "UA1"

    own = wf.create(RequestType.RELEASE, "UA1", {"course": "8.01r", "term": "Spring_2031", "kind": "studio"})
    assert wf.confirm(own.id, "UA1").state == Status.PENDING_APPROVAL
    with pytest.raises(NotAuthorized):
        wf.approve(own.id, "UA1")  # another approver must approve your own request
    wf.reject(own.id, "UA2", "  not  this term ")
    rejected = wf.store.get(own.id)
    assert rejected.state == Status.REJECTED and rejected.reason == "not this term"
    with pytest.raises(RequestStateError):
        wf.approve(own.id, "UA2")


def test_auto_approve_lets_an_approvers_own_request_run(make_workflow, studio_run):
    wf = make_workflow(ORC_APPROVERS="UA1,UA2", ORC_AUTO_APPROVE="true")
    req = wf.create(RequestType.RERUN, "UA1", RERUN)
    assert wf.confirm(req.id, "UA1").state == Status.APPROVED
    assert wf.wait_idle(30)
    assert wf.store.get(req.id).state == Status.COMPLETED


def test_cancel_rules(make_workflow):
    wf = make_workflow(ORC_APPROVERS="UA1")
    req = wf.create(RequestType.RERUN, "U1", RERUN)
    with pytest.raises(NotAuthorized):
        wf.cancel(req.id, "U2")
    wf.cancel(req.id, "UA1")
    assert wf.store.get(req.id).state == Status.CANCELLED
    with pytest.raises(RequestStateError):
        wf.confirm(req.id, "U1")


def test_concurrent_confirms_run_once(make_workflow, studio_run):
    wf = make_workflow()
    req = wf.create(RequestType.RERUN, "U1", RERUN)
    barrier = threading.Barrier(6)
    outcomes = []

    def click():
        barrier.wait()
        try:
            wf.confirm(req.id, "U1")
            outcomes.append("ok")
        except RequestStateError:
            outcomes.append("refused")

    threads = [threading.Thread(target=click) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wf.wait_idle(30)
    assert outcomes.count("ok") == 1
    assert kinds(wf).count("completed") == 1
    assert sum(1 for r in studio_run.requests if r.method == "POST" and r.path.endswith("/repos")) == 1


def test_failure_records_the_step_and_retry_continues(make_workflow, studio_run):
    wf = make_workflow()
    studio_run.fail("PUT", r"/contents/course\.xml$", 422, body={"message": "Invalid request."}, times=1)
    req = wf.create(RequestType.RERUN, "U1", RERUN)
    wf.confirm(req.id, "U1")
    assert wf.wait_idle(30)
    failed = wf.store.get(req.id)
    assert failed.state == Status.FAILED
    assert "GitHub returned an unexpected error" in failed.error
    assert failed.error_step == f"step 5 of 5: Commit course.xml to MITx-Studio2LMS/{NEW} as Orcoursetrion"
    with pytest.raises(NotAuthorized):
        wf.retry(req.id, "U9")
    wf.retry(req.id, "U1")
    assert wf.wait_idle(30)
    assert wf.store.get(req.id).state == Status.COMPLETED
    assert sum(1 for r in studio_run.requests if r.method == "POST" and r.path.endswith("/repos")) == 1
    assert sum(1 for r in studio_run.requests if r.method == "PUT" and "/contents/.gitignore" in r.path) == 1


def test_resume_takes_over_a_dead_runner(make_workflow, studio_run):
    wf = make_workflow()
    req = wf.create(RequestType.RERUN, "U1", RERUN)
    wf.store.transition(req.id, Status.DRAFT, Status.APPROVED, "U1")
    dead = "some-host:999999:gone"
    wf.store.claim(req.id, dead, lease_seconds=1)
    import time

    time.sleep(1.1)  # the dead runner's lease runs out
    assert wf.runner.resume_all() == [req.id]
    assert wf.wait_idle(30)
    assert wf.store.get(req.id).state == Status.COMPLETED
    assert "resumed" in [e.name for e in wf.store.events(req.id)]


def test_resume_does_not_steal_a_live_lease(make_workflow, studio_run):
    wf = make_workflow(ORC_LEASE_SECONDS="60")
    req = wf.create(RequestType.RERUN, "U1", RERUN)
    wf.store.transition(req.id, Status.DRAFT, Status.APPROVED, "U1")
    wf.store.claim(req.id, "other-host:1:alive", lease_seconds=60)
    assert wf.runner.resume_all() == []
    assert wf.store.get(req.id).lease_owner == "other-host:1:alive"
