"""Term rollover: a batch with a result per course, paced, stoppable and resumable."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from commands.base import Draft, Services
from commands.planning import propose
from orcoursetrion.errors import ValidationError
from orcoursetrion.lifecycle import RequestType, Status
from orcoursetrion.store import open_store
from orcoursetrion.workflow import Workflow
from tests.conftest import STAGING, make_env

STUDIO = [f"2.{n:03d}" for n in range(20)]
XML = [f"18.{n:02d}" for n in range(9)]
MISSING = "9.99"


def seed_term(github):
    for course in STUDIO:
        name = f"content-mit-{course.replace('.', '')}-Fall_2030"
        github.add_repo("MITx-Studio2LMS", name, files={"course.xml": b"<course/>"})
    for course in XML:
        name = f"content-mit-{course.replace('.', '')}-Fall_2030"
        github.add_repo("mitx", name, files={"course.xml": b'<course url_name="Fall_2030"/>', "x.txt": course})
        github.add_hook("mitx", name, STAGING)
        github.add_team("mitx", name, members=["alice"])


def new_repos(github) -> list[str]:
    names = []
    for course in STUDIO + XML:
        name = f"content-mit-{course.replace('.', '')}-Spring_2031"
        org = "mitx" if course in XML else "MITx-Studio2LMS"
        if github.repo(org, name) is not None:
            names.append(name)
    return names


def test_thirty_course_rollover_killed_and_resumed_ends_with_29_repos_and_one_failure(github, sqlite_url, tmp_path):
    seed_term(github)
    listing = tmp_path / "courses.txt"
    listing.write_text(
        "# Fall 2030 residential courses\n" + "\n".join(STUDIO[:10] + [MISSING] + STUDIO[10:] + XML) + "\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ORC_", "SLACK_"))}
    env.update(make_env(github, sqlite_url))
    script = os.path.join(os.path.dirname(sys.executable), "orcoursetrion")
    argv = [script, "rollover", "-t", "Fall_2030", "-n", "Spring_2031", "--courses", str(listing)]

    first = subprocess.Popen(argv, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while len(new_repos(github)) < 12 and time.monotonic() < deadline and first.poll() is None:
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait()
    interrupted_at = len(new_repos(github))
    assert 12 <= interrupted_at < 29

    second = subprocess.run(argv, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=180)
    assert second.returncode == 1, second.stderr
    assert "Resuming request #1" in second.stderr
    assert "1 of 30 course(s) failed: 9.99: That repository does not exist" in second.stderr
    assert len(new_repos(github)) == 29
    creations = [r for r in github.requests if r.method == "POST" and r.path.endswith("/repos") and r.status == 201]
    assert len(creations) == 29  # nothing created twice across the kill
    store = open_store(sqlite_url)
    items = store.items(1)
    store.close()
    assert sum(i.status == "done" for i in items) == 29
    assert [(i.course, i.status) for i in items if i.status != "done"] == [(MISSING, "failed")]
    assert all(i.repo_url and i.repo_url.endswith("-Spring_2031") for i in items if i.status == "done")


@pytest.fixture
def services(github, sqlite_url):
    from tests.conftest import settings_for

    settings = settings_for(
        github, sqlite_url, ORC_APPROVERS="UBOSS", ORC_AUTO_APPROVE="true", ORC_ROLLOVER_CONCURRENCY="1"
    )
    store = open_store(settings.database_url)
    wf = Workflow(settings, store)
    yield Services(settings, store, wf)
    wf.shutdown()
    store.close()


def test_rollover_plan_comes_from_the_store_and_stop_then_retry_continues(github, services):
    seed_term(github)
    for course in STUDIO[:6]:
        services.store.record_run(
            course,
            "Fall_2030",
            "studio",
            "MITx-Studio2LMS",
            f"content-mit-{course.replace('.', '')}-Fall_2030",
            "https://x",
        )
    courses = [run.course for run in services.store.runs_in_term("Fall_2030")]
    proposal = propose(
        Draft(RequestType.ROLLOVER, {"term": "Fall_2030", "new_term": "Spring_2031", "courses": courses}), services
    )
    assert proposal.changes[0] == "2.000: Studio rerun Fall_2030 → Spring_2031"
    assert "GitHub writes" in proposal.notes[0]
    wf = services.workflow
    progress = []
    stopped = []

    def listen(event):
        if event.kind == "progress":
            progress.append(event.data)
            if event.data["done"] == 2 and not stopped:
                stopped.append(wf.request_stop(event.request.id, "UBOSS"))

    wf.subscribe(listen)
    req = wf.create(RequestType.ROLLOVER, "UBOSS", proposal.params, plan=proposal.changes)
    wf.confirm(req.id, "UBOSS")
    assert wf.wait_idle(60)
    halted = services.store.get(req.id)
    # the course under way when Stop was pressed finishes; no new course starts
    finished = sum(i.status == "done" for i in services.store.items(req.id))
    assert 2 <= finished < 6
    assert halted.state == Status.FAILED and f"Stopped by <@UBOSS> after {finished} of 6" in halted.error
    assert [i.status for i in services.store.items(req.id)] == ["done"] * finished + ["pending"] * (6 - finished)
    wf.retry(req.id, "UBOSS")
    assert wf.wait_idle(60)
    done = services.store.get(req.id)
    assert done.state == Status.COMPLETED, done.error
    assert len(done.result["links"]) == 6
    assert progress[-1]["done"] == 6 and progress[-1]["total"] == 6
    assert len(new_repos(github)) == 6


def test_rollover_needs_courses_and_distinct_terms(services):
    for params in (
        {"term": "Fall_2030", "new_term": "Spring_2031", "courses": []},
        {"term": "Fall_2030", "new_term": "fall_2030", "courses": ["1"]},
    ):
        proposal = propose(Draft(RequestType.ROLLOVER, params), services)
        assert not proposal.can_run
        assert isinstance(proposal.error, ValidationError)


def test_shutdown_pauses_a_rollover_between_courses_and_the_next_start_resumes_it(github, services):
    seed_term(github)
    wf = services.workflow
    courses = STUDIO[:5]
    third = f"content-mit-{STUDIO[2].replace('.', '')}-Spring_2031"
    gate = github.block("PUT", rf"/repos/MITx-Studio2LMS/{third}/contents/\.gitignore$")
    req = wf.create(RequestType.ROLLOVER, "UBOSS", {"term": "Fall_2030", "new_term": "Spring_2031", "courses": courses})
    wf.confirm(req.id, "UBOSS")
    assert gate.wait_hit(30)
    wf.runner.shutdown(grace=0)  # a SIGTERM while the third course is half done
    gate.release()
    assert wf.wait_idle(60)
    paused = services.store.get(req.id)
    assert paused.state == Status.IN_PROGRESS  # not failed: nothing went wrong
    assert "paused" in [e.name for e in services.store.events(req.id)]
    assert [i.status for i in services.store.items(req.id)] == ["done", "done", "pending", "pending", "pending"]

    successor = Workflow(services.settings, services.store)
    try:
        assert successor.runner.resume_all() == [req.id]
        assert successor.wait_idle(60)
    finally:
        successor.shutdown()
    assert services.store.get(req.id).state == Status.COMPLETED
    assert len(new_repos(github)) == 5
