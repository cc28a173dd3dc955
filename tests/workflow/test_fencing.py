"""Leases that hold: a stalled owner cannot write after another process took its request
over; shutdown ends within its grace even while GitHub asks us to wait; a refused retry
leaves a batch as it was; owner ids tell apart processes that look alike."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from orcoursetrion.errors import NotAuthorized, RequestStateError
from orcoursetrion.lifecycle import RequestType, Status
from orcoursetrion.pacing import Pacer
from orcoursetrion.runner import new_owner_id, owner_is_dead
from orcoursetrion.store import Store, open_store, upgrade
from orcoursetrion.workflow import Workflow
from tests.conftest import STAGING, make_env, settings_for

OLD, NEW = "content-mit-801r-Fall_2030", "content-mit-801r-Spring_2031"
COURSE = {"course.xml": b'<course url_name="Fall_2030"/>', "course/Fall_2030.xml": b"<course/>"}


def seed(github):
    github.add_repo("mitx", OLD, files=COURSE)
    github.add_hook("mitx", OLD, STAGING)
    github.add_team("mitx", OLD, members=["alice"])


def wait_until(predicate, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"{what} never happened")


def test_a_stalled_owner_cannot_write_after_another_process_took_over(github, database_url, tmp_path):
    """Process A is frozen (SIGSTOP) in the middle of its last step, past its lease;
    process B resumes the request and finishes it; A, thawed, finds its lease fenced."""
    seed(github)
    store = Store(database_url)
    upgrade(store)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ORC_", "SLACK_"))}
    env.update(make_env(github, database_url, ORC_LEASE_SECONDS="2", LOG_LEVEL="INFO"))
    script = os.path.join(os.path.dirname(sys.executable), "orcoursetrion")
    argv = [script, "rerun_xml_course", "-c", "8.01r", "-t", "Fall_2030", "-n", "Spring_2031"]
    github.delay("POST", rf"/repos/mitx/{NEW}/hooks$", 2.0)  # A's last write stays in flight a while
    a = subprocess.Popen(argv, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(
            lambda: any(r.method == "POST" and r.path.endswith(f"/{NEW}/hooks") for r in github.requests),
            what="A reaching its last step",
        )
        a.send_signal(signal.SIGSTOP)
        req = store.list_requests(limit=1)[0]
        owner_a = req.lease_owner
        time.sleep(2.5)  # A's lease (2 s) runs out while it is frozen
        b = subprocess.run(argv, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert b.returncode == 0, b.stderr
        assert f"Resuming request #{req.id}" in b.stderr
        a.send_signal(signal.SIGCONT)
        out_a, err_a = a.communicate(timeout=60)
    finally:
        if a.poll() is None:
            a.send_signal(signal.SIGCONT)
            a.kill()
    assert a.returncode == 1 and f"Request #{req.id} was taken over by another process" in err_a
    final = store.get(req.id)
    assert final.state == Status.COMPLETED and final.lease_owner is None
    events = store.events(req.id)
    resumed = next(i for i, e in enumerate(events) if e.name == "resumed")
    assert all(e.actor != owner_a for e in events[resumed:]), "A wrote to the journal after the take-over"
    assert [r for r in github.requests if r.method == "POST" and r.path.endswith("/orgs/mitx/repos")].__len__() == 1
    assert len(github.commits("mitx", NEW)) == 1
    assert [h["config"]["url"] for h in github.repo("mitx", NEW).hooks] == [STAGING]
    store.close()


def test_shutdown_ends_within_its_grace_while_github_asks_to_wait(github, sqlite_url):
    seed(github)
    settings = settings_for(github, sqlite_url, ORC_SHUTDOWN_GRACE="2")
    store = open_store(settings.database_url)
    wf = Workflow(settings, store, pacer=Pacer(10_000, 100_000, 10))
    github.fail(
        "POST", r"/orgs/mitx/repos$", 403, body={"message": "secondary rate limit"}, headers={"Retry-After": "600"}
    )
    req = wf.create(RequestType.RERUN, "U1", {"course": "8.01r", "term": "Fall_2030", "new_term": "Spring_2031"})
    wf.confirm(req.id, "U1")
    wait_until(lambda: wf.pacer.paused_for()[0] > 500, what="GitHub's pause")
    started = time.monotonic()
    assert wf.shutdown(grace=settings.shutdown_grace) is True
    assert time.monotonic() - started < settings.shutdown_grace + 1.0
    paused = store.get(req.id)
    assert paused.state == Status.IN_PROGRESS
    assert "paused" in [e.name for e in store.events(req.id)]
    successor = Workflow(settings, store, pacer=Pacer(10_000, 100_000, 10))  # the next start: resumes at once
    try:
        assert successor.runner.resume_all() == [req.id]
        assert successor.wait_idle(30)
    finally:
        successor.shutdown()
        store.close()
    done = Store(settings.database_url)
    assert done.get(req.id).state == Status.COMPLETED
    done.close()
    assert len(github.commits("mitx", NEW)) == 1


def test_a_refused_retry_leaves_the_batch_as_it_was(github, sqlite_url):
    settings = settings_for(github, sqlite_url, ORC_APPROVERS="UBOSS", ORC_AUTO_APPROVE="true")
    store = open_store(settings.database_url)
    wf = Workflow(settings, store)
    try:
        req = wf.create(
            RequestType.ROLLOVER, "UBOSS", {"term": "Fall_2030", "new_term": "Spring_2031", "courses": ["9.99", "9.98"]}
        )
        wf.confirm(req.id, "UBOSS")
        assert wf.wait_idle(30)
        assert store.get(req.id).state == Status.FAILED
        before = [(i.course, i.status, i.error) for i in store.items(req.id)]
        assert [s for _, s, _ in before] == ["failed", "failed"]
        with pytest.raises(NotAuthorized):
            wf.retry(req.id, "USTRANGER")
        assert [(i.course, i.status, i.error) for i in store.items(req.id)] == before
        wf.cancel(req.id, "UBOSS")
        with pytest.raises(RequestStateError):
            wf.retry(req.id, "UBOSS")
        assert [(i.course, i.status, i.error) for i in store.items(req.id)] == before
    finally:
        wf.shutdown()
        store.close()


def test_owner_ids_are_unique_per_process_start_and_only_the_provably_dead_are_dead():
    me = new_owner_id()
    assert me != new_owner_id()  # two workflows in one process never share an id
    host, boot, ns, pid, start, _ = me.split("/")
    twin = "/".join([host, boot, "4026532999", "1", start, "feedbeef"])  # PID 1 in another container, same hostname
    assert owner_is_dead(twin, me) is False
    elsewhere = "/".join(["other-host", boot, ns, "1", start, "feedbeef"])
    assert owner_is_dead(elsewhere, me) is False
    sibling = "/".join([host, boot, ns, pid, start, "feedbeef"])  # this very process, another workflow
    assert owner_is_dead(sibling, me) is False
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    assert owner_is_dead("/".join([host, boot, ns, str(gone.pid), "12345", "feedbeef"]), me) is True
    reused = "/".join([host, boot, ns, pid, "1", "feedbeef"])  # our PID, but started at another time
    assert owner_is_dead(reused, me) is True
    assert owner_is_dead("host:1:legacy-format", me) is False


def test_a_failing_listener_is_logged_with_the_request_id_and_the_request_still_runs(github, sqlite_url, caplog):
    seed(github)
    settings = settings_for(github, sqlite_url)
    store = open_store(settings.database_url)
    wf = Workflow(settings, store)

    def broken(event):
        raise RuntimeError("listener bug")

    wf.subscribe(broken, "broken-listener")
    try:
        req = wf.create(RequestType.RERUN, "U1", {"course": "8.01r", "term": "Fall_2030", "new_term": "Spring_2031"})
        wf.confirm(req.id, "U1")
        assert wf.wait_idle(30)
        assert store.get(req.id).state == Status.COMPLETED
    finally:
        wf.shutdown()
        store.close()
    assert f"listener broken-listener failed on completed for request {req.id}" in caplog.text
