"""The store on SQLite and (when TEST_DATABASE_URL is set) PostgreSQL: migrations,
compare-and-set transitions, the journal, runs, leases."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy.exc import DBAPIError

from orcoursetrion.changes import Change
from orcoursetrion.errors import LeaseLost, RequestNotFound, StoreUnavailable
from orcoursetrion.lifecycle import Status
from orcoursetrion.store import current_revision, head_revision, open_store, upgrade
from orcoursetrion.store.models import utcnow


@pytest.fixture
def store(database_url):
    s = open_store(database_url, auto_upgrade=True)
    yield s
    s.close()


def test_migrations_reach_head_and_are_idempotent(store):
    assert current_revision(store) == head_revision()
    upgrade(store)
    assert current_revision(store) == head_revision()


def test_postgres_is_not_migrated_implicitly(postgres_url):
    with pytest.raises(StoreUnavailable) as raised:
        open_store(postgres_url)
    assert "orcoursetrion db upgrade" in str(raised.value)
    assert str(raised.value).startswith("DATABASE_URL postgresql+psycopg://postgres")


def test_compare_and_set_lets_exactly_one_caller_win(store):
    req = store.create_request("rerun", "U1", {"course": "8.01r"}, "Rerun 8.01r")
    winners = []
    barrier = threading.Barrier(8)

    def confirm():
        barrier.wait()
        if store.transition(req.id, Status.DRAFT, Status.APPROVED, "U1", "confirmed"):
            winners.append(1)

    threads = [threading.Thread(target=confirm) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1
    final = store.get(req.id)
    assert final.state == Status.APPROVED and final.version == 2
    assert [e.name for e in store.events(req.id)] == ["created:draft", "approved"]


def test_claim_and_lease(store):
    req = store.create_request("release", "U1", {}, "Release")
    store.transition(req.id, Status.DRAFT, Status.APPROVED, "U1")
    claimed = store.claim(req.id, "host:1:a", lease_seconds=30)
    assert claimed.state == Status.IN_PROGRESS and claimed.lease_owner == "host:1:a" and claimed.attempts == 1
    assert store.claim(req.id, "host:2:b", 30) is None
    assert store.take_over(req.id, "host:2:b", 30) is None  # lease still valid
    taken = store.take_over(req.id, "host:2:b", 30, dead_owners=["host:1:a"])
    assert taken.lease_owner == "host:2:b" and taken.attempts == 2
    assert store.heartbeat(req.id, "host:1:a", 1, 30) is False  # the old owner lost it
    assert store.heartbeat(req.id, "host:2:b", 1, 30) is False  # the right owner, a stale attempt
    assert store.heartbeat(req.id, "host:2:b", 2, 30) is True
    store.update_fields(req.id, lease_expires_at=utcnow() - timedelta(seconds=1))
    assert store.take_over(req.id, "host:3:c", 30).attempts == 3
    done = store.transition(req.id, Status.IN_PROGRESS, Status.COMPLETED, "x", owner="host:2:b", attempt=2)
    assert done is None  # only the lease holder may finish it
    assert store.transition(req.id, Status.IN_PROGRESS, Status.COMPLETED, "x", owner="host:3:c", attempt=3).finished_at


def test_lease_times_come_from_the_database_clock(store):
    req = store.create_request("release", "U1", {}, "Release")
    store.transition(req.id, Status.DRAFT, Status.APPROVED, "U1")
    with store.session() as s:
        before = store.db_now(s)
    claimed = store.claim(req.id, "host:1:a", lease_seconds=30)
    assert timedelta(seconds=29) <= claimed.lease_expires_at - before <= timedelta(seconds=35)


def test_illegal_transitions_are_programming_errors(store):
    req = store.create_request("new", "U1", {}, "New")
    with pytest.raises(ValueError):
        store.transition(req.id, Status.DRAFT, Status.COMPLETED, "U1")
    with pytest.raises(RequestNotFound):
        store.get(99999)


def running(store, owner="w:1", request_type="new"):
    req = store.create_request(request_type, "U1", {}, "New")
    store.transition(req.id, Status.DRAFT, Status.APPROVED, "U1")
    return store.claim(req.id, owner, 30)


def test_journal_records_intent_then_evidence_and_audits_both(store):
    req = running(store)
    change = Change("create_repo", "mitx/x", "Create private repo mitx/x")
    assert store.step_records(req.id) == {}
    store.step_intend(req.id, "k", "w:1", req.attempts, change)
    assert store.step_records(req.id)["k"].state == "applying"
    store.step_done(req.id, "k", "w:1", req.attempts, change, {"id": 4242})
    record = store.step_records(req.id)["k"]
    assert record.done and record.evidence == {"id": 4242}
    assert store.owner_of_repo(4242).request_id == req.id
    assert store.owner_of_repo(4243) is None
    names = [(e.kind, e.name) for e in store.events(req.id)]
    assert ("step", "started:create_repo") in names and ("github", "done:create_repo") in names


def test_the_audit_trail_pairs_each_github_change_with_its_journal_row(store):
    """On both databases a GitHub change's event finds its journal row (written in one
    transaction with the same time) even after a retry marked the step done again."""
    from orcoursetrion.audit import trail

    req = running(store)
    hook = Change("add_hook", "mitx/x#staging", "Add staging hook https://u:pw@gitreload.example.edu/ to mitx/x")
    for key, change, evidence in (
        ("|create_repo|mitx/x", Change("create_repo", "mitx/x", "Create private repo mitx/x"), {"id": 9}),
        ("|add_hook|mitx/x#staging", hook, {"id": 5000}),
    ):
        store.step_intend(req.id, key, "w:1", req.attempts, change)
        store.step_done(req.id, key, "w:1", req.attempts, change, evidence)
    again = Change("create_repo", "mitx/x", "Repo mitx/x was created by this request", False, {"id": 9})
    store.step_done(req.id, "|create_repo|mitx/x", "w:1", req.attempts, again, {"id": 9})
    later = store.create_request("new", "U2", {}, "Another")

    entries, requests = trail(store, "https://github.com", req.id)
    made = [(e.event, e.url) for e in entries if e.is_github_change]
    assert made == [
        ("done:create_repo", "https://github.com/mitx/x"),
        ("done:add_hook", "https://github.com/mitx/x/settings/hooks/5000"),
    ]
    assert set(requests) == {req.id} and "pw@" not in " ".join(e.detail or "" for e in entries)
    since, _ = trail(store, "https://github.com", since=store.get(later.id).created_at)
    assert {e.request_id for e in since} == {later.id}
    with pytest.raises(RequestNotFound):
        trail(store, "https://github.com", 999)


def test_a_refused_write_leaves_no_journal_row(store):
    req = running(store)
    change = Change("create_repo", "mitx/x", "Create private repo mitx/x")
    store.step_intend(req.id, "k", "w:1", req.attempts, change)
    store.step_abandon(req.id, "k", "w:1", req.attempts, change, "422 name already exists")
    assert store.step_records(req.id) == {}
    assert ("step", "refused:create_repo") in [(e.kind, e.name) for e in store.events(req.id)]


def test_journal_writes_are_fenced_by_owner_and_attempt(store):
    req = running(store, owner="old:1")
    change = Change("add_hook", "mitx/x#staging", "Add staging hook")
    store.update_fields(req.id, lease_expires_at=utcnow() - timedelta(seconds=1))
    taken = store.take_over(req.id, "new:2", 30)
    for write in (
        lambda: store.step_intend(req.id, "k", "old:1", req.attempts, change),
        lambda: store.step_done(req.id, "k", "old:1", req.attempts, change, {}),
        lambda: store.step_abandon(req.id, "k", "old:1", req.attempts, change, "x"),
        lambda: store.step_intend(req.id, "k", "new:2", req.attempts, change),  # the right host, a stale attempt
    ):
        with pytest.raises(LeaseLost):
            write()
    assert store.step_records(req.id) == {}
    store.step_intend(req.id, "k", "new:2", taken.attempts, change)
    assert store.step_records(req.id)["k"].attempt == taken.attempts


def test_audit_detail_is_redacted(store):
    store.audit(None, "x", "note", "n", "hook https://u:pw-secret@host/ added")
    req = store.create_request("new", "U1", {}, "New")
    store.audit(req.id, "x", "note", "n", "hook https://u:pw-secret@host/ added")
    assert store.events(req.id)[-1].detail == "hook https://***@host/ added"


def test_runs_courses_terms_and_members(store):
    store.record_run(
        "8.01r",
        "Fall_2030",
        "xml",
        "mitx",
        "content-mit-801r-Fall_2030",
        "https://gh/x",
        team="content-mit-801r-Fall_2030",
        members=["alice", "bob"],
        title="Physics I",
    )
    store.record_run("8.01r", "Spring_2031", "xml", "mitx", "content-mit-801r-Spring_2031", "https://gh/y")
    store.record_run("6.002x", "Fall_2030", "studio", "MITx-Studio2LMS", "content-mit-6002x-Fall_2030", "https://gh/z")
    assert store.course_terms("8.01R") == ["Fall_2030", "Spring_2031"]
    assert store.course_kind("6.002X") == "studio"
    run = store.find_run("8.01r", "fall_2030")
    assert run.members == ("alice", "bob") and run.team == "content-mit-801r-Fall_2030"
    assert [r.course for r in store.runs_in_term("Fall_2030")] == ["6.002x", "8.01r"]
    store.mark_released("8.01r", "Fall_2030")
    assert store.find_run("8.01r", "Fall_2030").released_at is not None
    store.record_run(
        "8.01r", "Fall_2030", "xml", "mitx", "content-mit-801r-Fall_2030", "https://gh/x", members=["carol"]
    )
    assert store.find_run("8.01r", "Fall_2030").members == ("carol",)


def test_items_and_lists(store):
    req = store.create_request("rollover", "U1", {"courses": ["a", "b"]}, "Roll")
    store.add_items(req.id, [("a", "xml"), ("b", None)])
    items = store.items(req.id)
    store.finish_item(items[0].id, "done", repo_url="https://gh/a")
    store.finish_item(items[1].id, "failed", error="boom https://u:pw@h/")
    assert [(i.course, i.status) for i in store.items(req.id)] == [("a", "done"), ("b", "failed")]
    assert store.items(req.id)[1].error == "boom https://***@h/"
    reset = store.reset_failed_items(req.id)
    assert store.transition(req.id, Status.FAILED, Status.APPROVED, "U1", also=reset) is None  # a refused retry
    assert [i.status for i in store.items(req.id)] == ["done", "failed"]  # ...changes nothing
    store.transition(req.id, Status.DRAFT, Status.APPROVED, "U1")
    store.transition(req.id, Status.APPROVED, Status.IN_PROGRESS, "U1")
    store.transition(req.id, Status.IN_PROGRESS, Status.FAILED, "U1")
    assert store.transition(req.id, Status.FAILED, Status.APPROVED, "U1", also=reset).state == Status.APPROVED
    assert [i.status for i in store.items(req.id)] == ["done", "pending"]
    assert [r.id for r in store.list_requests(requester="U1")] == [req.id]
    assert store.list_requests(statuses=(Status.FAILED,)) == []


def test_check_writes_and_leaves_no_trace(store):
    store.check()
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM slack_deliveries").scalar() == 0


def test_a_terms_runs_and_their_kinds_take_a_fixed_number_of_queries(store):
    from sqlalchemy import event

    for n in range(200):
        store.record_run(
            f"9.{n:03d}", "Fall_2030", "xml", "mitx", f"r{n}", "https://gh/x", team=f"r{n}", members=["a", "b"]
        )
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(store.engine, "before_cursor_execute", listener)
    try:
        runs = store.runs_in_term("fall_2030")
        kinds = store.course_kinds(r.course for r in runs)
    finally:
        event.remove(store.engine, "before_cursor_execute", listener)
    assert len(runs) == 200 and runs[0].members == ("a", "b") and set(kinds.values()) == {"xml"}
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) <= 4


def test_postgres_connections_are_bounded_and_keep_the_urls_options(postgres_url):
    """Every PostgreSQL connection gets a statement and a lock timeout beside the URL's own
    `options` (here the test schema's search_path)."""
    store = open_store(postgres_url, auto_upgrade=True)
    try:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == "30s"
            assert conn.exec_driver_sql("SHOW lock_timeout").scalar() == "10s"
            assert conn.exec_driver_sql("SHOW idle_in_transaction_session_timeout").scalar() == "5s"
            assert conn.exec_driver_sql("SHOW search_path").scalar().startswith("t_")
    finally:
        store.close()


def test_a_frozen_processs_open_transaction_does_not_block_the_others(postgres_url):
    """A process stopped between an UPDATE and its COMMIT (SIGSTOP in a lease heartbeat) holds
    the row lock; PostgreSQL ends that session, so another replica's write to the row goes
    through instead of failing on its lock timeout."""
    frozen, other = open_store(postgres_url, auto_upgrade=True), open_store(postgres_url)
    try:
        req = frozen.create_request("rerun", "U1", {"course": "8.01r"}, "Rerun 8.01r")
        conn = frozen.engine.connect()
        conn.exec_driver_sql("BEGIN")
        conn.exec_driver_sql("UPDATE requests SET summary = 'frozen' WHERE id = %s", (req.id,))
        with other.engine.begin() as c2:
            c2.exec_driver_sql("UPDATE requests SET summary = 'moved on' WHERE id = %s", (req.id,))
        assert other.find(req.id).summary == "moved on"
        with pytest.raises(DBAPIError, match="idle-in-transaction"):
            conn.exec_driver_sql("COMMIT")
        conn.invalidate()
        conn.close()
    finally:
        frozen.close()
        other.close()


def test_a_store_error_after_start_up_reads_as_one_sentence_without_the_password():
    """What a CLI or Slack user sees when the database fails mid-command: what is wrong, that
    nothing is lost; never the driver's class name alone, never DATABASE_URL's password."""
    from sqlalchemy import create_engine

    from orcoursetrion.errors import user_message

    engine = create_engine("postgresql+psycopg://orc:s3cret-pw@127.0.0.1:1/orc", connect_args={"connect_timeout": 2})
    with pytest.raises(DBAPIError) as failed:
        engine.connect()
    message = user_message(failed.value)
    assert message.startswith("The database did not answer (connection refused")
    assert "nothing is lost" in message and "s3cret-pw" not in message and "\n" not in message


def test_the_runs_of_some_courses_of_a_term_are_the_runs_find_run_gives(store):
    """`runs_in_term(term, courses)`: only those courses (any case), each as `find_run` has it."""
    for n in range(5):
        store.record_run(f"9.{n:03d}", "Fall_2030", "xml", "mitx", f"r{n}", "https://gh/x", team=f"r{n}", members=["a"])
    some = store.runs_in_term("fall_2030", ["9.001", "9.003", "9.999"])
    assert some == [store.find_run("9.001", "Fall_2030"), store.find_run("9.003", "FALL_2030")]
    assert store.runs_in_term("Fall_2030", []) == []
