"""Scheduled tasks in the store (SQLite and PostgreSQL): claims take at most the batch,
concurrent claimers take different rows, an expired claim is taken again and the old
claim is fenced off, one reminder row per key."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from orcoursetrion.store import open_store


@pytest.fixture
def store(database_url):
    s = open_store(database_url, auto_upgrade=True)
    yield s
    s.close()


def due_tasks(store, count: int):
    now = store.now()
    with store.session() as s:
        for i in range(count):
            store.add_task_in("request", now - timedelta(seconds=1), request_id=i + 1)(s)
    return now


def test_a_claim_takes_at_most_its_batch_and_concurrent_claimers_take_different_rows(store):
    due_tasks(store, 100)
    assert len(store.claim_tasks("first", 30, limit=20)) == 20
    claimed: dict[str, list[int]] = {}
    barrier = threading.Barrier(4)

    def claim(owner: str) -> None:
        barrier.wait()
        claimed[owner] = [t.id for t in store.claim_tasks(owner, 30, limit=30)]

    threads = [threading.Thread(target=claim, args=(f"replica-{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    ids = [i for got in claimed.values() for i in got]
    assert len(ids) == len(set(ids)) == 80 and all(len(got) <= 30 for got in claimed.values())


def test_an_expired_claim_is_taken_again_and_the_old_holder_is_fenced(store):
    now = due_tasks(store, 1)
    (held,) = store.claim_tasks("dead", 5, now=now)
    assert store.claim_tasks("alive", 5, now=now + timedelta(seconds=4)) == []
    (again,) = store.claim_tasks("alive", 5, now=now + timedelta(seconds=6))
    assert again.id == held.id and again.attempts == held.attempts + 1 and again.claimed_by == "alive"
    assert not store.finish_task(held, "dead", "done")
    assert store.finish_task(again, "alive", "done", "ran")
    assert [(t.status, t.note) for t in store.tasks()] == [("done", "ran")]
    assert store.claim_tasks("alive", 5, now=now + timedelta(hours=1)) == []


def test_one_task_per_key(store):
    due = store.now() + timedelta(hours=1)
    results = []
    barrier = threading.Barrier(4)

    def ensure() -> None:
        barrier.wait()
        results.append(store.ensure_task("reminder", "reminder:2030-09-01", due, "UTC"))

    threads = [threading.Thread(target=ensure) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == [False, False, False, True]
    assert [t.key for t in store.tasks(kind="reminder")] == ["reminder:2030-09-01"]
