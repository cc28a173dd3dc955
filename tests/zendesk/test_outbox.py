"""The Zendesk outbox in the store (SQLite, and PostgreSQL when TEST_DATABASE_URL is set):
several workers share it, each operation is done once and in order per request, and a dead
worker's claim is taken over once it expires."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from orcoursetrion.store import open_store
from orcoursetrion.store.models import Base
from orcoursetrion.store.outbox import Outbox
from orcoursetrion.zendesk import MARKER, ZendeskSync
from tests.conftest import settings_for
from tests.zendesk.conftest import zendesk_env

REQUESTS, UPDATES = 6, 5


def test_the_migrated_schema_is_the_models_schema(database_url):
    store = open_store(database_url, auto_upgrade=True)
    try:
        with store.engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata) == []
    finally:
        store.close()


def test_two_workers_share_the_outbox_and_do_each_update_once_in_order(database_url, zd):
    settings = settings_for(None, database_url, **zendesk_env(zd))
    store = open_store(database_url, auto_upgrade=True)
    outbox = Outbox(store)
    ids = []
    for n in range(REQUESTS):
        req = store.create_request("release", f"U{n}", {"course": f"c{n}", "term": "Fall_2030"}, f"Release c{n}")
        ids.append(req.id)
        outbox.add(req.id, "open")
        for step in range(UPDATES):
            outbox.add(req.id, "comment", {"body": f"step {step}", "public": False})
    workers = [
        ZendeskSync(settings, store, owner=f"replica-{n}", timeout=2.0, poll=0.05, backoff=(0.05, 0.2)).start()
        for n in range(2)
    ]
    try:
        assert workers[0].drain(timeout=30)
    finally:
        for worker in workers:
            worker.stop()

    assert len(zd.tickets()) == REQUESTS
    for rid in ids:
        ticket = zd.ticket_by_external_id(f"orc-request-{rid}")
        bodies = [c["body"] for c in zd.comments(ticket["id"])][1:]
        assert [b.split(f"\n\n{MARKER}")[0] for b in bodies] == [f"step {s}" for s in range(UPDATES)]
        assert store.get(rid).ticket_id == ticket["id"]
    assert zd.count("PUT") == REQUESTS * UPDATES and zd.count("POST") == REQUESTS  # nothing done twice
    assert outbox.stats().pending == 0
    store.close()


def test_a_dead_workers_claim_is_taken_over_when_it_expires(database_url, zd):
    settings = settings_for(None, database_url, **zendesk_env(zd))
    store = open_store(database_url, auto_upgrade=True)
    outbox = Outbox(store)
    req = store.create_request("team", "U1", {"course": "c", "term": "Fall_2030", "members": ["alice"]}, "Set team")
    outbox.add(req.id, "open")
    outbox.add(req.id, "comment", {"body": "after the open", "public": True})
    stale = outbox.claim("a-worker-that-died", lease_seconds=0.5)
    assert stale is not None and stale.kind == "open"
    assert outbox.claim("another", lease_seconds=30) is None  # the open is held, and the comment waits for it

    worker = ZendeskSync(settings, store, owner="survivor", timeout=2.0, poll=0.05).start()
    try:
        assert worker.drain(timeout=10)
    finally:
        worker.stop()
    ticket = zd.ticket_by_external_id(f"orc-request-{req.id}")
    assert [c["body"].split(f"\n\n{MARKER}")[0] for c in zd.comments(ticket["id"])][1:] == ["after the open"]
    assert not outbox.done(stale)  # the dead worker's late "done" is fenced out
    store.close()
