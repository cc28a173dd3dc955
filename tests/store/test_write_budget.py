"""The GitHub write budget: one GCRA rule, kept in this process or in the store (SQLite and
PostgreSQL), shared by every handle on the store, paused for everyone, stoppable."""

from __future__ import annotations

import os
import threading
import time
from itertools import pairwise

import pytest

from orcoursetrion import actions
from orcoursetrion.actions import live_context, shared_pacer
from orcoursetrion.errors import ShuttingDown
from orcoursetrion.pacing import HOUR, MINUTE, MemoryBucket, Pacer, WriteRule
from orcoursetrion.store import Store, upgrade
from orcoursetrion.store.budget import StoreBucket, budget_key
from orcoursetrion.store.models import WriteBudget, WriteSend
from tests.clock import ManualClock
from tests.conftest import DATABASES, postgres_schema_url, settings_for

KEY = "github.example.edu/api/v3"


def store_at(url: str) -> Store:
    store = Store(url)
    upgrade(store)
    return store


@pytest.fixture(params=["memory", "store"])
def bucket_for(request, database_url):
    """A factory of buckets on a hand-moved clock: in memory, or in the store."""
    stores: list[Store] = []

    def make(clock: ManualClock):
        if request.param == "memory":
            return MemoryBucket(clock)
        stores.append(store_at(database_url))
        return StoreBucket(stores[-1], KEY, clock=clock)

    yield make
    for store in stores:
        store.close()


def starts_of(pacer: Pacer, clock: ManualClock, n: int) -> list[float]:
    starts = []
    for _ in range(n):
        with pacer.slot(write=True):
            starts.append(clock.now())
    return starts


def most_in_window(starts: list[float], window: float) -> int:
    return max(sum(1 for s in starts if t - window < s <= t) for t in starts)


def test_writes_are_spaced_at_the_minute_rate(bucket_for):
    clock = ManualClock()
    pacer = Pacer(per_minute=60, per_hour=10_000, bucket=bucket_for(clock))
    starts = starts_of(pacer, clock, 12)
    gaps = [b - a for a, b in pairwise(starts)]
    assert starts[0] == 0
    assert min(gaps) >= 1.0 and max(gaps) <= 1.02  # 60/limit apart (1 % headroom), evenly
    assert pacer.stats.writes == 12 and pacer.stats.waits == 11
    assert pacer.stats.waited_seconds == pytest.approx(starts[-1])


def test_a_burst_then_the_rate_and_never_more_than_the_limit_in_a_minute(bucket_for):
    clock = ManualClock()
    pacer = Pacer(per_minute=10, per_hour=10_000, burst=3, bucket=bucket_for(clock))
    starts = starts_of(pacer, clock, 30)
    assert starts[:3] == [0, 0, 0] and starts[3] >= 6.0
    assert most_in_window(starts, 6.0 - 1e-6) <= 3  # never more than the burst closer than 60/limit
    assert most_in_window(starts, MINUTE) == 10


def test_the_hourly_cap_holds_over_any_hour(bucket_for):
    clock = ManualClock()
    pacer = Pacer(per_minute=100, per_hour=5, bucket=bucket_for(clock))
    starts = starts_of(pacer, clock, 11)
    assert starts[5] >= starts[0] + HOUR and starts[10] >= starts[5] + HOUR
    assert most_in_window(starts, HOUR) <= 5
    assert starts[4] < 60  # within the hour's cap, writes go at the minute rate


def test_store_and_memory_give_the_same_schedule(database_url):
    """One rule, two back-ends: the same requests get the same send times."""
    schedules = []
    for make in (MemoryBucket, lambda c: StoreBucket(store_at(database_url), KEY, clock=c)):
        clock = ManualClock()
        bucket = make(clock)
        pacer = Pacer(per_minute=20, per_hour=30, burst=2, bucket=bucket)
        starts = starts_of(pacer, clock, 5)
        pacer.pause(40, "GitHub asked us to wait")
        starts += starts_of(pacer, clock, 30)
        schedules.append(starts)
        if isinstance(bucket, StoreBucket):
            bucket.store.close()
    assert schedules[0] == pytest.approx(schedules[1])
    assert schedules[0][5] == pytest.approx(schedules[0][4] + 40)  # the next write goes as the pause ends


@pytest.fixture(params=["memory", *DATABASES])
def live_bucket(request, tmp_path):
    """A bucket on the real clock: in memory, or in a SQLite or PostgreSQL store."""
    if request.param == "memory":
        yield MemoryBucket()
        return
    url, drop = (f"sqlite:///{tmp_path / 'live.db'}", None)
    if request.param == "postgresql":
        url, drop = postgres_schema_url(os.environ["TEST_DATABASE_URL"])
    store = store_at(url)
    try:
        yield StoreBucket(store, KEY)
    finally:
        store.close()
        if drop:
            drop()


def test_a_write_waiting_for_its_slot_honours_a_pause_set_meanwhile(live_bucket):
    pacer = Pacer(per_minute=60, per_hour=10_000, bucket=live_bucket)
    with pacer.slot(write=True):
        pass
    sent: list[float] = []

    def second_write() -> None:
        with pacer.slot(write=True):
            sent.append(time.monotonic())

    waiter = threading.Thread(target=second_write)
    waiter.start()  # its slot is ~1 s away
    time.sleep(0.3)
    paused_at = time.monotonic()
    pacer.pause(1.5, "GitHub asked us to wait")
    waiter.join(10)
    assert sent and sent[0] - paused_at >= 1.4  # not at its old slot: after the pause
    assert pacer.stats.writes == 2 and pacer.stats.waits == 1


def test_two_handles_on_one_store_share_one_budget(database_url):
    """Threads on separate store handles (as separate processes would be) reserving at
    once get slots at least one interval apart: the reservation is atomic."""
    rule = WriteRule(per_minute=600, per_hour=100_000)
    stores = [store_at(database_url) for _ in range(2)]
    slots: list[float] = []
    lock = threading.Lock()

    def reserve(store: Store) -> None:
        bucket = StoreBucket(store, KEY)
        for _ in range(15):
            at = bucket.reserve(rule).send_at
            with lock:
                slots.append(at)

    threads = [threading.Thread(target=reserve, args=(s,)) for s in stores for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for store in stores:
        store.close()
    slots.sort()
    assert len(slots) == 60
    assert min(b - a for a, b in pairwise(slots)) >= rule.interval * (1 - 1e-9)


def test_a_reservation_never_used_blocks_nothing_beyond_its_slot(database_url):
    rule = WriteRule(per_minute=60, per_hour=10_000)
    dying = store_at(database_url)
    taken = StoreBucket(dying, KEY).reserve(rule)
    dying.close()  # its process died before sending
    other = store_at(database_url)
    try:
        nxt = StoreBucket(other, KEY).reserve(rule)
    finally:
        other.close()
    assert nxt.send_at == pytest.approx(taken.send_at + rule.interval)


def test_old_sends_are_forgotten(database_url):
    clock = ManualClock()
    store = store_at(database_url)
    try:
        bucket = StoreBucket(store, KEY, clock=clock)
        rule = WriteRule(per_minute=600, per_hour=10_000)
        for _ in range(5):
            bucket.reserve(rule)
        clock.t += 2 * HOUR
        bucket.reserve(rule)
        with store.session() as s:
            assert s.query(WriteSend).count() == 1
    finally:
        store.close()


def test_a_pause_written_by_one_handle_stops_the_other(database_url):
    first, second = store_at(database_url), store_at(database_url)
    try:
        one = Pacer(1000, 10_000, bucket=StoreBucket(first, KEY))
        other = Pacer(1000, 10_000, bucket=StoreBucket(second, KEY))
        assert other.bucket.pause_state()[0] == 0
        one.pause(30, "GitHub asked us to wait")
        left, why = other.bucket.pause_state()
        assert 28 <= left <= 30 and why == "GitHub asked us to wait"
        reservation = other.bucket.reserve(other.rule)
        assert reservation.paused and reservation.delay >= 28  # its next write goes after the pause
        assert one.stats.pauses == 1
        one.pause(10, "shorter")  # never shortens the pause
        assert other.bucket.pause_state()[1] == "GitHub asked us to wait" and one.stats.pauses == 1
    finally:
        first.close()
        second.close()


def test_reads_wait_for_a_pause_from_another_handle(database_url):
    first, second = store_at(database_url), store_at(database_url)
    try:
        Pacer(1000, 10_000, bucket=StoreBucket(first, KEY)).pause(0.6, "GitHub asked us to wait")
        reader = Pacer(1000, 10_000, bucket=StoreBucket(second, KEY))
        started = time.monotonic()
        with reader.slot(write=False):
            waited = time.monotonic() - started
        assert waited >= 0.5 and reader.stats.reads == 1
    finally:
        first.close()
        second.close()


@pytest.mark.parametrize("write", [True, False])
def test_a_stopped_waiter_gives_up_at_once(database_url, write):
    store = store_at(database_url)
    try:
        pacer = Pacer(per_minute=1, per_hour=10, bucket=StoreBucket(store, KEY))
        if write:
            with pacer.slot(write=True):
                pass  # the next write's slot is a minute away
        else:
            pacer.pause(60, "GitHub asked us to wait")
        stop = threading.Event()
        threading.Timer(0.2, stop.set).start()
        started = time.monotonic()
        with pytest.raises(ShuttingDown):
            with pacer.slot(write=write, stop=stop):
                pass
        assert time.monotonic() - started < 5
    finally:
        store.close()


def test_a_runner_on_a_store_uses_the_stores_budget(github, database_url):
    settings = settings_for(github, database_url, ORC_GH_WRITE_BURST="2")
    store = store_at(database_url)
    try:
        pacer = shared_pacer(settings, store)
        assert isinstance(pacer.bucket, StoreBucket) and pacer.bucket.key == budget_key(settings.gh_api_url)
        assert pacer.rule.burst == 2
        assert shared_pacer(settings) is shared_pacer(settings)  # no store: one per process
        assert pacer._places is shared_pacer(settings)._places  # the concurrency cap stays per process
    finally:
        store.close()


def test_the_budget_key_names_the_api_and_never_a_credential():
    assert budget_key("https://github.mit.edu/api/v3/") == "github.mit.edu/api/v3"
    assert budget_key("https://user:secret@api.github.com") == "api.github.com"
    assert budget_key("http://127.0.0.1:8080/api/v3") == "127.0.0.1:8080/api/v3"


def test_retry_after_from_github_is_written_for_every_process(github, database_url):
    """GitHub.call -> pacer.pause lands in the store: another handle sees why and until when."""
    github.fail_secondary_limit("POST", r"/orgs/mitx/repos$")
    settings = settings_for(github, database_url)
    store, other = store_at(database_url), store_at(database_url)
    try:
        pacer = shared_pacer(settings, store)
        started = time.monotonic()
        actions.create_xml_repo("8.01r", "Fall_2030", ctx=live_context(settings, pacer=pacer))
        assert time.monotonic() - started >= 1.0 and pacer.stats.pauses == 1
        with other.session() as s:
            row = s.get(WriteBudget, budget_key(settings.gh_api_url))
            assert row.pause_reason == "GitHub asked us to wait" and row.paused_until > 0
        assert github.repo("mitx", "content-mit-801r-Fall_2030") is not None
    finally:
        store.close()
        other.close()
