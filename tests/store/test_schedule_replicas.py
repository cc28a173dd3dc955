"""Two `python app.py` replicas on one PostgreSQL database, 100 scheduled releases due in
the same second: each runs exactly once (one hook write per repo in the fake GitHub),
and killing one replica mid-way (SIGKILL, holding claims and runs) loses none. Prints
the delay between due time and execution (p50/max)."""

from __future__ import annotations

import statistics
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select

from orcoursetrion.lifecycle import RequestType, Status
from orcoursetrion.store import Store
from orcoursetrion.store.models import ScheduledTask
from orcoursetrion.workflow import Workflow
from tests.apps import AppProcess
from tests.conftest import PRODUCTION, settings_for
from tests.fakes.slack import FakeSlack
from tests.store.test_replicas import SIGNING, app_env, migrated

ORG = "MITx-Studio2LMS"
COUNT = 100


@pytest.fixture
def slack():
    with FakeSlack(bot_token="xoxb-replicas", signing_secret=SIGNING) as fake:
        yield fake


def repo(i: int) -> str:
    return f"content-mit-6{i:03d}-Fall_2030"


def pid_of(owner: str | None) -> int | None:
    parts = (owner or "").split("/")
    return int(parts[3]) if len(parts) == 6 else None


def hook_posts(github) -> Counter:
    """Hook creations GitHub answered, by repo."""
    return Counter(
        r.path.split("/")[-2]
        for r in github.requests
        if r.method == "POST" and r.path.endswith("/hooks") and r.status == 201
    )


def holdings(store: Store) -> tuple[Counter, Counter, int]:
    """Claimed tasks and running requests by replica pid, and how many tasks are done."""
    claims: Counter = Counter()
    with store.session() as s:
        rows = s.execute(select(ScheduledTask.status, ScheduledTask.claimed_by)).all()
    for status, owner in rows:
        if status == "claimed":
            claims[pid_of(owner)] += 1
    runs = Counter(pid_of(r.lease_owner) for r in store.list_requests(statuses=(Status.IN_PROGRESS,), limit=COUNT))
    return claims, runs, sum(1 for status, _ in rows if status == "done")


def kill_mid_way(store: Store, github, replicas: list[AppProcess]) -> tuple[AppProcess, str]:
    """SIGKILL a replica while it holds claims on tasks, once a third of them are done; if
    the claiming is over first, while it runs requests and some hooks exist. What it held."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        claims, runs, done = holdings(store)
        holder = next((p for p in replicas if claims[p.proc.pid] and done >= COUNT // 3), None)
        if holder is None and done == COUNT and sum(hook_posts(github).values()) >= 30:
            holder = next((p for p in replicas if runs[p.proc.pid]), None)
        if holder is not None:
            holder.kill()
            pid = holder.proc.pid
            return holder, f"{claims[pid]} claimed tasks and {runs[pid]} running requests ({done} tasks done)"
        time.sleep(0.005)
    raise AssertionError("no replica ever held work")


def test_100_tasks_due_in_one_second_on_two_replicas_run_once_even_when_one_is_killed(
    github, slack, postgres_url, tmp_path
):
    url = migrated(postgres_url + "%20-csynchronous_commit%3Doff")  # a test database: no fsync per commit
    env = app_env(github, slack, url, ORC_LEASE_SECONDS="3", ORC_WORKERS="4", ORC_REMIND_AT="05:00")
    replicas = [AppProcess(env, tmp_path / f"{name}.log") for name in ("a", "b")]

    def seed() -> None:
        for i in range(COUNT):
            github.add_repo(ORG, repo(i), files={"course.xml": b"<course/>"})

    starting = [threading.Thread(target=fn) for fn in (seed, *(p.start for p in replicas))]
    for t in starting:
        t.start()
    for t in starting:
        t.join(60)
    assert all(p.proc.poll() is None for p in replicas) and github.repo(ORG, repo(COUNT - 1)) is not None
    github.latency = 0.03  # so that the kill lands while work is in flight

    store = Store(url)
    workflow = Workflow(settings_for(github, url), store)  # only records requests: its runner never starts
    try:
        due = (store.now() + timedelta(seconds=4)).replace(microsecond=0)
        schedule = {"at": due.isoformat(), "tz": "UTC"}

        def scheduled(i: int) -> int:
            params = {"course": f"6.{i:03d}", "term": "Fall_2030", "kind": "studio", "schedule": schedule}
            req = workflow.create(RequestType.RELEASE, "UREQ", params, plan=["Add the production hook"])
            return workflow.schedule_direct(req.id, "UREQ", "test").id

        with ThreadPoolExecutor(max_workers=10) as pool:
            ids = list(pool.map(scheduled, range(COUNT)))
        in_time = store.now() < due  # on a loaded machine the last ones may be recorded after their time

        victim, held = kill_mid_way(store, github, replicas)
        survivor = next(p for p in replicas if p is not victim)
        done_at_kill = sum(hook_posts(github).values())

        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            final = [store.get(i) for i in ids]
            if all(r.state == Status.COMPLETED for r in final):
                break
            time.sleep(0.2)
        states = Counter(r.state for r in final)
        assert states == {Status.COMPLETED: COUNT}, (states, survivor.log()[-3000:])
    finally:
        workflow.shutdown()
        for p in replicas:
            p.stop()

    posts = hook_posts(github)
    assert set(posts) == {repo(i) for i in range(COUNT)} and set(posts.values()) == {1}
    for i in range(COUNT):
        assert [h["config"]["url"] for h in github.repo(ORG, repo(i)).hooks] == [PRODUCTION]
    assert {t.status for t in store.tasks(kind="request", limit=COUNT)} == {"done"}
    handed = []
    for rid, req in zip(ids, final, strict=True):
        events = store.events(rid)
        names = [e.name for e in events]
        assert names.count("approved") == 1 and names.count("completed") == 1, names
        handed.append(next(e.at for e in events if e.name == "approved") - req.scheduled_for)
    handed = [d.total_seconds() for d in handed]
    killed_work = [r for r in final if any(pid_of(e.actor) == victim.proc.pid for e in store.events(r.id))]
    assert killed_work, "the killed replica did none of the work"
    store.close()

    def delays(seconds: list[float]) -> str:
        return f"p50 {statistics.median(seconds):.2f} s, max {max(seconds):.2f} s"

    print(
        f"\n{COUNT} tasks due at once ({'all' if in_time else 'not all'} recorded before), 2 replicas, "
        f"one SIGKILLed after {done_at_kill} hooks, holding {held}; {len(killed_work)} requests show its work:\n"
        f"  due -> handed to a runner (Scheduled -> Approved): {delays(handed)}\n"
        f"  due -> run started (In Progress): {delays([(r.started_at - r.scheduled_for).total_seconds() for r in final])}\n"
        f"  due -> finished (hook created, Completed): "
        f"{delays([(r.finished_at - r.scheduled_for).total_seconds() for r in final])}"
    )
