"""The write budget across processes on one PostgreSQL store, against a fake GitHub that
enforces the same low secondary limit: two bot replicas, and two `orcoursetrion rollover`
commands, each doing a rollover at once, together send at (not over) the limit with no
secondary-limit answer; one process alone reaches the limit with writes spaced evenly."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from itertools import pairwise

from orcoursetrion.lifecycle import RequestType, Status
from orcoursetrion.store import Store, open_store
from orcoursetrion.workflow import Workflow
from tests.apps import AppProcess
from tests.conftest import STAGING, make_env, settings_for
from tests.fakes.slack import FakeSlack
from tests.store.test_replicas import app_env, migrated

LIMIT = 120  # writes a minute, for the fake GitHub and the product alike
STUDIO = "MITx-Studio2LMS"


def studio_runs(github, numbers: list[str]) -> list[str]:
    """Fall_2030 Studio runs with a staging hook: a rerun makes ~5 writes each."""
    for course in numbers:
        name = f"content-mit-{course.replace('.', '')}-Fall_2030"
        github.add_repo(STUDIO, name, files={"course.xml": b"<course/>"})
        github.add_hook(STUDIO, name, STAGING)
    return numbers


def writes(github, courses: list[str] | None = None) -> list[float]:
    """When GitHub received each accepted write (of these courses' repos, if given)."""
    names = None if courses is None else [c.replace(".", "") for c in courses]
    return sorted(
        r.t
        for r in github.requests
        if r.method != "GET" and r.status is not None and r.status < 400 and (names is None or _about(r.path, names))
    )


def _about(path: str, names: list[str]) -> bool:
    return any(f"content-mit-{n}-".lower() in path.lower() for n in names)


def ratio_and_gaps(times: list[float]) -> tuple[float, float, float]:
    """Writes per minute over first -> last write, as a fraction of LIMIT; min and median gap."""
    gaps = [b - a for a, b in pairwise(times)]
    rate = (len(times) - 1) / (times[-1] - times[0]) * 60
    return rate / LIMIT, min(gaps), statistics.median(gaps)


def overlapping(a: list[float], b: list[float]) -> bool:
    return a[0] < b[-1] and b[0] < a[-1]


PACED = {"ORC_GH_WRITES_PER_MINUTE": str(LIMIT), "ORC_GH_WRITES_PER_HOUR": "10000"}


def test_two_cli_rollovers_at_once_stay_under_one_limit(github, postgres_url, tmp_path):
    github.writes_per_minute = LIMIT
    first = studio_runs(github, ["1.01", "1.02", "1.03", "1.04"])
    second = studio_runs(github, ["2.01", "2.02", "2.03", "2.04"])
    url = migrated(postgres_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ORC_", "SLACK_", "ZENDESK_", "EDX_"))}
    env.update(make_env(github, url, **PACED))
    script = os.path.join(os.path.dirname(sys.executable), "orcoursetrion")
    procs = []
    for n, courses in enumerate((first, second)):
        listed = tmp_path / f"courses-{n}.txt"
        listed.write_text("\n".join(courses) + "\n")
        args = [script, "rollover", "-t", "Fall_2030", "-n", "Spring_2031", "--courses", str(listed)]
        procs.append(subprocess.Popen(args, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    outputs = [p.communicate(timeout=90) for p in procs]
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err.decode()[-2000:]
    assert all(github.repo(STUDIO, f"content-mit-{c.replace('.', '')}-Spring_2031") for c in first + second)
    assert overlapping(writes(github, first), writes(github, second))  # the two really ran at once
    times = writes(github)
    ratio, smallest, _ = ratio_and_gaps(times)
    assert len(times) >= 35
    assert github.secondary_limit_hits == 0
    assert 0.9 <= ratio <= 1.0, (ratio, len(times))
    assert smallest >= 0.5 * 60 / LIMIT  # two processes still never burst


def test_two_replicas_doing_rollovers_at_once_stay_under_one_limit(github, postgres_url, tmp_path):
    github.writes_per_minute = LIMIT
    first = studio_runs(github, ["3.01", "3.02", "3.03", "3.04"])
    second = studio_runs(github, ["4.01", "4.02", "4.03", "4.04"])
    url = migrated(postgres_url)
    with FakeSlack(bot_token="xoxb-replicas", signing_secret="replica-signing-secret") as slack:
        for user, channel in (("UAPP1", "COPS1"), ("UAPP2", "COPS2")):
            slack.add_user(user, name=user.lower())
            slack.add_channel(channel, name=channel.lower(), members=[user])
        env = app_env(github, slack, url, ORC_APPROVERS="UAPP1,UAPP2", ORC_AUTO_APPROVE="true", **PACED)
        replicas = [AppProcess(env, tmp_path / f"{n}.log").start() for n in ("a", "b")]
        try:
            asks = zip(replicas, ("UAPP1", "UAPP2"), ("COPS1", "COPS2"), (first, second), strict=True)
            for replica, user, channel, courses in asks:
                confirm_rollover(slack, replica, user, channel, courses)
            done = wait_completed(url, 2, timeout=60)
        finally:
            for replica in replicas:
                replica.stop()
    assert len(done) == 2, [r.status for r in done]
    assert overlapping(writes(github, first), writes(github, second))
    times = writes(github)
    ratio, smallest, _ = ratio_and_gaps(times)
    assert len(times) >= 35
    assert github.secondary_limit_hits == 0
    assert 0.9 <= ratio <= 1.0, (ratio, len(times))
    assert smallest >= 0.5 * 60 / LIMIT


def confirm_rollover(slack, replica: AppProcess, user: str, channel: str, courses: list[str]) -> None:
    """An approver asks this replica for a rollover of `courses` and confirms its plan."""
    slack.app_url = replica.url
    slack.command("/orc", "rollover Fall_2030 Spring_2031", user=user, channel=channel)
    form = slack.wait_for(lambda: slack.top_view(user), timeout=20)
    slack.submit_view(form.id, user, {"courses": "\n".join(courses)})
    plan = slack.wait_for(lambda: next((m for m in slack.messages(channel) if "Confirm" in _buttons(m)), None), 30)
    slack.click(channel, plan.ts, _buttons(plan)["Confirm"], user)


def _buttons(message) -> dict[str, str]:
    return {
        e["text"]["text"]: e["action_id"]
        for b in message.blocks or []
        if b.get("type") == "actions"
        for e in b.get("elements", [])
        if e.get("type") == "button"
    }


def wait_completed(url: str, count: int, timeout: float):
    store = Store(url)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [r for r in store.list_requests(limit=10) if r.type == RequestType.ROLLOVER]
            if len(found) == count and all(r.state in (Status.COMPLETED, Status.FAILED) for r in found):
                return [r for r in found if r.state == Status.COMPLETED]
            time.sleep(0.2)
        raise AssertionError(f"rollovers never finished: {[(r.id, r.status) for r in found]}")
    finally:
        store.close()


def test_one_process_alone_reaches_the_limit_evenly(github, postgres_url):
    github.writes_per_minute = LIMIT
    courses = studio_runs(github, ["5.01", "5.02", "5.03", "5.04", "5.05", "5.06", "5.07", "5.08"])
    settings = settings_for(github, migrated(postgres_url), **PACED)
    store = open_store(settings.database_url)
    wf = Workflow(settings, store)
    try:
        req = wf.create(
            RequestType.ROLLOVER, "UOPS", {"term": "Fall_2030", "new_term": "Spring_2031", "courses": courses}
        )
        wf.confirm(req.id, "UOPS")
        wf.wait_idle(60)
        assert store.get(req.id).state == Status.COMPLETED
    finally:
        wf.shutdown()
        store.close()
    times = writes(github)
    ratio, smallest, median = ratio_and_gaps(times)
    assert len(times) >= 35
    assert github.secondary_limit_hits == 0
    assert 0.9 <= ratio <= 1.0, (ratio, len(times))
    assert smallest >= 0.9 * 60 / LIMIT and median <= 1.1 * 60 / LIMIT  # evenly: no bursts, no stalls
    assert wf.pacer.stats.writes == len(times) and wf.pacer.stats.waits > 0
