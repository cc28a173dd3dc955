"""A 200-course term rollover (Studio reruns) against a fake GitHub that enforces the same
content-creation limit as the product is configured with, run by `orcoursetrion rollover`
commands on one store: once by one process, once split between two processes started at
once (they share the store's write budget). Real time, so the limit is set high enough to
finish in about a minute per run. Prints, per run, the achieved writes per minute over
first -> last write as a ratio to the limit (goal 0.9-1.0), the secondary-limit answers
GitHub gave (goal 0) and the spacing of writes (min and median gap; 60/limit is even).

PostgreSQL when TEST_DATABASE_URL (or a local PostgreSQL at 127.0.0.1:5432) answers; else
SQLite, one process only."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from itertools import pairwise
from pathlib import Path

import _setup  # noqa: F401
from _setup import percentile
from sqlalchemy import create_engine, select, text

from orcoursetrion.store import Store, upgrade
from orcoursetrion.store.models import WriteSend
from tests.conftest import STAGING, TOKEN, make_env, postgres_schema_url, seed
from tests.fakes.github import FakeGitHub

COURSES = 200
LIMIT = int(os.environ.get("BENCH_LIMIT", "900"))  # writes a minute: ~1,000 writes take ~70 s
CONCURRENCY = os.environ.get("BENCH_CONCURRENCY", "8")
LOCAL_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SCRIPT = Path(sys.executable).with_name("orcoursetrion")


def postgres_base() -> str | None:
    """The PostgreSQL to use: TEST_DATABASE_URL, else a local one, if it answers in seconds."""
    for url in filter(None, (os.environ.get("TEST_DATABASE_URL"), LOCAL_PG)):
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return url
        except Exception:  # any failure to connect means: not this one
            continue
        finally:
            engine.dispose()
    return None


def run(database_url: str, processes: int, tmp: Path) -> None:
    courses = [f"{n // 10 + 1}.{n % 10:02d}" for n in range(COURSES)]
    with FakeGitHub(token=TOKEN, writes_per_minute=LIMIT) as gh:
        seed(gh)
        for course in courses:
            name = f"content-mit-{course.replace('.', '')}-Fall_2030"
            gh.add_repo("MITx-Studio2LMS", name, files={"course.xml": b"<course/>"})
            gh.add_hook("MITx-Studio2LMS", name, STAGING)
        store = Store(database_url)
        upgrade(store)
        store.close()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ORC_", "SLACK_", "ZENDESK_", "EDX_"))}
        env.update(
            make_env(
                gh,
                database_url,
                ORC_GH_WRITES_PER_MINUTE=str(LIMIT),
                ORC_GH_WRITES_PER_HOUR=str(LIMIT * 60),
                ORC_ROLLOVER_CONCURRENCY=CONCURRENCY,
                ORC_LEASE_SECONDS="60",
            )
        )
        procs = []
        started = time.perf_counter()
        for n in range(processes):
            listed = tmp / f"courses-{processes}-{n}.txt"
            listed.write_text("\n".join(courses[n::processes]) + "\n")
            args = [str(SCRIPT), "rollover", "-t", "Fall_2030", "-n", "Spring_2031", "--courses", str(listed)]
            log = open(tmp / f"rollover-{processes}-{n}.log", "wb")
            procs.append(subprocess.Popen(args, env=env, cwd=tmp, stdout=log, stderr=subprocess.STDOUT))
        codes = [p.wait(timeout=900) for p in procs]
        real = time.perf_counter() - started
        times = sorted(r.t for r in gh.requests if r.method != "GET" and r.status is not None and r.status < 400)
        created = sum(1 for c in courses if gh.repo("MITx-Studio2LMS", f"content-mit-{c.replace('.', '')}-Spring_2031"))
        gaps = [b - a for a, b in pairwise(times)]
        rate = (len(times) - 1) / (times[-1] - times[0]) * 60
        even = 60 / LIMIT
        print(
            f"{processes} process{'es' if processes > 1 else ''}: exit codes {codes}; "
            f"new runs {created}/{COURSES}; {len(times)} writes in {times[-1] - times[0]:.1f} s ({real:.1f} s in all)"
        )
        print(f"  achieved {rate:.1f} writes/min = ratio {rate / LIMIT:.3f} to the limit (goal 0.9-1.0)")
        print(f"  secondary-limit answers from GitHub: {gh.secondary_limit_hits} (goal 0)")
        close = sum(1 for g in gaps if g < even / 2)
        slots = reserved_slots(database_url)
        slot_gaps = [b - a for a, b in pairwise(slots)]
        print(
            f"  spacing (even = {even * 1000:.1f} ms): min gap {min(gaps) * 1000:.1f} ms, "
            f"5th percentile {percentile(gaps, 5) * 1000:.1f} ms, median {statistics.median(gaps) * 1000:.1f} ms; "
            f"gaps under half the even spacing: {close} of {len(gaps)} (as GitHub received them)"
        )
        print(
            f"  reserved slots in the store's budget: {len(slots)}, min gap {min(slot_gaps) * 1000:.1f} ms, "
            f"median {statistics.median(slot_gaps) * 1000:.1f} ms (what the processes were given; the rest is "
            "the jitter of sending)"
        )


def reserved_slots(database_url: str) -> list[float]:
    """The send times the store's budget handed out in this run, in order."""
    store = Store(database_url)
    try:
        with store.session() as s:
            return list(s.scalars(select(WriteSend.at).order_by(WriteSend.at)))
    finally:
        store.close()


def main() -> None:
    base = postgres_base()
    print(f"{COURSES}-course rollover (Studio reruns), limit {LIMIT} writes/min, rollover concurrency {CONCURRENCY}")
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        if base is None:
            print("store: SQLite (no PostgreSQL answered), one process only")
            run(f"sqlite:///{tmp}/bench.db", 1, tmp)
            return
        print("store: PostgreSQL (one schema per run)")
        for processes in (1, 2):
            url, drop = postgres_schema_url(base)
            try:
                run(url, processes, tmp)
            finally:
                drop()


if __name__ == "__main__":
    main()
