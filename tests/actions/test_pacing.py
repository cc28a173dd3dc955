"""One pacing policy: stay under GitHub's secondary limits, honour Retry-After."""

from __future__ import annotations

import threading
import time
from itertools import pairwise

from orcoursetrion import actions
from orcoursetrion.actions import github_client, live_context
from orcoursetrion.github import rate_limit_delay
from orcoursetrion.pacing import Clock, Pacer
from tests.clock import ManualClock as FakeClock


def test_writes_are_spaced_under_the_minute_limit():
    clock = FakeClock()
    pacer = Pacer(per_minute=5, per_hour=1000, max_concurrent=5, clock=clock)
    starts = []
    for _ in range(12):
        with pacer.slot(write=True):
            starts.append(clock.now())
    for i, start in enumerate(starts):
        window = [s for s in starts[: i + 1] if s > start - 60]
        assert len(window) <= 5
    assert starts[5] >= 60 and starts[10] >= 120
    assert all(b - a >= 60 / 5 for a, b in pairwise(starts))  # spaced, never a burst
    assert pacer.stats.writes == 12


def test_hour_window_applies_too():
    clock = FakeClock()
    pacer = Pacer(per_minute=100, per_hour=7, max_concurrent=5, clock=clock)
    for _ in range(8):
        with pacer.slot(write=True):
            pass
    assert clock.now() >= 3600


def test_reads_are_not_paced_but_respect_a_pause():
    clock = FakeClock()
    pacer = Pacer(per_minute=1, per_hour=1, max_concurrent=5, clock=clock)
    for _ in range(20):
        with pacer.slot(write=False):
            pass
    assert clock.now() == 0
    pacer.pause(30, "GitHub asked us to wait")
    with pacer.slot(write=False):
        assert clock.now() >= 30


def test_concurrency_is_capped():
    pacer = Pacer(per_minute=10_000, per_hour=100_000, max_concurrent=3)
    inflight, peak, lock = [0], [0], threading.Lock()

    def work():
        with pacer.slot(write=False):
            with lock:
                inflight[0] += 1
                peak[0] = max(peak[0], inflight[0])
            time.sleep(0.02)
            with lock:
                inflight[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 3


def test_rate_limit_delay_reads_github_headers():
    from github import GithubException

    secondary = GithubException(403, {"message": "You have exceeded a secondary rate limit."}, {"retry-after": "7"})
    assert rate_limit_delay(secondary, 0) == 7
    primary = GithubException(
        403,
        {"message": "API rate limit exceeded"},
        {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(time.time()) + 20)},
    )
    assert 18 <= rate_limit_delay(primary, 0) <= 22
    assert rate_limit_delay(GithubException(403, {"message": "Must have admin rights"}, {}), 0) is None
    assert rate_limit_delay(GithubException(429, {"message": "slow down"}, {}), 1) == 120


def test_retry_after_from_github_pauses_and_the_action_still_succeeds(github, settings):
    github.fail_secondary_limit("POST", r"/orgs/mitx/repos$")
    pacer = Pacer(1000, 10000, 10)
    started = time.monotonic()
    actions.create_xml_repo("8.01r", "Fall_2030", ctx=live_context(settings, pacer=pacer))
    assert time.monotonic() - started >= 1.0
    assert pacer.stats.pauses == 1
    assert github.repo("mitx", "content-mit-801r-Fall_2030") is not None


def test_writes_stay_under_the_fakes_enforced_limit(github, settings):
    """Against a GitHub that enforces 20 writes/min on a 60x clock, a burst of actions
    slows down instead of tripping the secondary limit."""
    scale = 60.0
    clock = Clock(scale)
    github.writes_per_minute = 20
    github.clock = clock.now
    pacer = Pacer(per_minute=20, per_hour=10_000, max_concurrent=10, clock=clock)
    for course in ("1.01", "1.02", "1.03", "1.04", "1.05", "1.06"):
        actions.create_xml_repo(course, "Fall_2030", members=["alice"], ctx=live_context(settings, pacer=pacer))
    assert github.secondary_limit_hits == 0
    assert pacer.stats.writes >= 30
    gh = github_client(settings, pacer)
    assert gh.repo("mitx", "content-mit-106-Fall_2030") is not None
