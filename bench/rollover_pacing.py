"""A 200-course term rollover against a fake GitHub that enforces 80 content-creating
requests per minute (secondary limit), on a clock running SCALE times faster than real
time for both sides. Prints the achieved writes per minute (goal >= 90 % of the limit)
and the number of secondary-limit errors GitHub answered (goal 0)."""

from __future__ import annotations

import os
import tempfile
import time

import _setup  # noqa: F401

from orcoursetrion.lifecycle import RequestType
from orcoursetrion.pacing import Clock, Pacer
from orcoursetrion.store import open_store
from orcoursetrion.workflow import Workflow
from tests.conftest import STAGING, TOKEN, seed, settings_for
from tests.fakes.github import FakeGitHub

COURSES = 200
LIMIT = 80
SCALE = float(os.environ.get("BENCH_SCALE", "20"))
CONCURRENCY = os.environ.get("BENCH_CONCURRENCY", "8")


def main() -> None:
    clock = Clock(SCALE)
    with tempfile.TemporaryDirectory() as tmp, FakeGitHub(token=TOKEN, writes_per_minute=LIMIT, clock=clock.now) as gh:
        seed(gh)
        courses = [f"{n // 10 + 1}.{n % 10:02d}" for n in range(COURSES)]
        for course in courses:
            name = f"content-mit-{course.replace('.', '')}-Fall_2030"
            gh.add_repo("MITx-Studio2LMS", name, files={"course.xml": b"<course/>"})
            gh.add_hook("MITx-Studio2LMS", name, STAGING)
        settings = settings_for(
            gh,
            f"sqlite:///{tmp}/bench.db",
            ORC_GH_WRITES_PER_MINUTE=str(LIMIT),
            ORC_GH_WRITES_PER_HOUR=str(LIMIT * 60),
            ORC_ROLLOVER_CONCURRENCY=CONCURRENCY,
            ORC_LEASE_SECONDS="60",
        )
        pacer = Pacer(LIMIT, LIMIT * 60, settings.gh_max_concurrent, clock=clock)
        store = open_store(settings.database_url)
        wf = Workflow(settings, store, pacer=pacer)
        req = wf.create(
            RequestType.ROLLOVER, "UBENCH", {"term": "Fall_2030", "new_term": "Spring_2031", "courses": courses}
        )
        gh.reset_counts()
        started_real, started = time.perf_counter(), clock.now()
        wf.confirm(req.id, "UBENCH")
        wf.wait_idle(3600)
        sim_minutes = (clock.now() - started) / 60
        real = time.perf_counter() - started_real
        final = store.get(req.id)
        writes = sum(1 for r in gh.requests if r.method != "GET" and r.status and r.status < 400)
        wf.shutdown()
        store.close()
        rate = writes / sim_minutes
        print(f"{COURSES}-course rollover (Studio reruns), GitHub limit {LIMIT} writes/min, clock x{SCALE:.0f}")
        print(f"request status: {final.state.label}; new runs: {len((final.result or {}).get('links', []))}")
        print(f"writes: {writes} in {sim_minutes:.1f} simulated minutes ({real:.1f} s real)")
        print(f"achieved: {rate:.1f} writes/min = {100 * rate / LIMIT:.1f} % of the limit (goal >= 90 %)")
        print(
            f"secondary-limit errors from GitHub: {gh.secondary_limit_hits} (goal 0); "
            f"pacer waits: {pacer.stats.waits}, GitHub-requested pauses: {pacer.stats.pauses}"
        )


if __name__ == "__main__":
    main()
