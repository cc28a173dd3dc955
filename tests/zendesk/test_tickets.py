"""A request's Zendesk ticket over its whole lifecycle, with real zenpy against the fake
Zendesk and the fake GitHub: opened once when confirmed, commented at each step, solved
with the repo URLs; outages, lost answers, rate limits and hangs change none of that."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event

from orcoursetrion.scheduler import Scheduler
from orcoursetrion.zendesk import MARKER, ticket_url
from tests.clock import FakeClock
from tests.conftest import STAGING
from tests.zendesk.conftest import seed_xml_run

NEW_REPO = "content-mit-801r-Spring_2031"
RERUN = {"course": "8.01r", "term": "Fall_2030", "new_term": "Spring_2031", "kind": "xml", "members": None}
NEW_XML = {"kind": "xml", "course": "18.06", "term": "Fall_2030", "title": "Linear Algebra", "members": ["carol"]}


def texts(zd, ticket_id) -> list[tuple[bool, str]]:
    """(public, body without the bot's marker) of every comment, oldest first."""
    return [(c["public"], c["body"].split(f"\n\n{MARKER}")[0]) for c in zd.comments(ticket_id)]


def wait_until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def finished(world, rid: int, timeout: float = 20.0):
    assert world.workflow.wait_idle(timeout)
    assert world.sync.drain(timeout=timeout), world.sync.health()
    return world.store.get(rid)


def test_a_confirmed_rerun_opens_one_ticket_that_ends_solved_with_the_urls(github, zd, make_world):
    seed_xml_run(github)
    world = make_world(zd)
    rid = world.request("rerun", RERUN)
    req = finished(world, rid)

    assert req.status == "completed"
    ticket = zd.ticket_by_external_id(f"orc-request-{rid}")  # raises if there were two
    assert ticket["id"] == req.ticket_id and ticket["status"] == "solved"
    assert ticket["subject"] == "Rerun 8.01r Fall_2030 → Spring_2031"
    assert set(ticket["tags"]) == {"orcoursetrion", "orc_rerun"}
    assert ticket["requester_id"] == zd.user_by_email("alice@mit.edu")["id"]
    comments = texts(zd, ticket["id"])
    description = comments[0][1]
    assert "Requested by Alice Instructor (Slack UALICE)" in description
    assert "Create private repo mitx/content-mit-801r-Spring_2031" in description
    assert "https://***@gitreload-staging.example.edu/" in description  # the plan as the approver sees it
    assert [(public, body.split("\n")[0]) for public, body in comments[1:]] == [
        (True, "Confirmed by Slack user UALICE; no approval needed. The work starts now."),
        (False, "Work started (attempt 1)."),
        (False, "Steps orcoursetrion cannot do itself, for the agent:"),
        (True, "Done: 8.01r rerun from Fall_2030 into Spring_2031 is ready."),
    ]
    instructions, done = comments[3][1], comments[4][1]
    assert "Load new course from github” with git@127.0.0.1:mitx/content-mit-801r-Spring_2031.git" in instructions
    assert 'under "course/Spring_2031" in policies/Spring_2031/policy.json' in instructions
    assert "carries over Fall_2030's members" in instructions
    assert f"/mitx/{NEW_REPO}" in done and req.result["links"][0] in done
    # what it cost at Zendesk: one lookup, one create, one update per comment
    assert [(r.method, r.path) for r in zd.requests] == [
        ("GET", "/api/v2/tickets.json"),
        ("POST", "/api/v2/tickets.json"),
    ] + [("PUT", f"/api/v2/tickets/{ticket['id']}.json")] * 4
    assert ticket_url(world.settings, req.ticket_id) == f"{zd.url}/agent/tickets/{ticket['id']}"
    assert world.sync.health()["zendesk"]["outbox"] == 0
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(world.store.engine, "before_cursor_execute", listener)
    try:  # /healthz found the store down: the outbox is not asked, its depth is unknown
        assert world.sync.health(store_ok=False)["zendesk"]["outbox"] is None
    finally:
        event.remove(world.store.engine, "before_cursor_execute", listener)
    assert statements == []


def test_zendesk_down_during_the_run_the_request_completes_and_the_ticket_catches_up(github, zd, make_world):
    zd.down = True  # 503 maintenance page for everything
    world = make_world(zd)
    rid = world.request("new", NEW_XML)
    assert world.workflow.wait_idle(20)
    assert world.store.get(rid).status == "completed"  # GitHub work never waited for Zendesk
    assert zd.tickets() == [] and world.sync.outbox.pending(rid) == 5
    health = world.sync.health()["zendesk"]
    assert health["outbox"] == 5 and "503" in health["last_error"]

    world.sync.stop()  # and the process restarts while Zendesk is still down
    after = make_world(zd, database_url=world.settings.database_url)
    wait_until(lambda: after.sync.last_error is not None)  # the restarted worker probes, and backs off
    assert zd.tickets() == []
    recovered = time.monotonic()
    zd.down = False
    assert after.sync.drain(rid, timeout=30)
    catch_up = time.monotonic() - recovered
    print(f"\nZendesk catch-up after the outage: {catch_up:.2f} s (backoff cap 0.5 s)")

    ticket = zd.ticket_by_external_id(f"orc-request-{rid}")
    assert ticket["status"] == "solved" and after.store.get(rid).ticket_id == ticket["id"]
    assert len(zd.comments(ticket["id"])) == 5  # each update once
    assert catch_up < 10  # with the production cap of 30 s, within a minute
    assert after.sync.health()["zendesk"]["outbox"] == 0


def test_a_lost_create_answer_still_makes_one_ticket(github, zd, make_world):
    zd.lose_response("POST", r"/tickets$|/tickets\.json$")  # Zendesk creates it, the answer never comes
    world = make_world(zd)
    rid = world.request("new", NEW_XML)
    req = finished(world, rid)

    assert [t["external_id"] for t in zd.tickets()] == [f"orc-request-{rid}"]
    assert req.ticket_id == zd.tickets()[0]["id"] and zd.tickets()[0]["status"] == "solved"
    assert zd.count("POST") == 1  # found by external_id, not created again
    instructions = texts(zd, req.ticket_id)[3][1]
    assert "Their GitHub logins on the repository team: carol" in instructions


def test_lost_update_answers_are_not_resent_blindly_and_leave_no_duplicate(github, zd, make_world):
    zd.lose_response("PUT", r"/tickets/\d+", times=2)  # applied, then the connection drops
    world = make_world(zd)
    rid = world.request("new", NEW_XML)
    req = finished(world, rid)

    comments = texts(zd, req.ticket_id)
    assert len(comments) == len({body for _, body in comments}) == 5
    assert zd.ticket(req.ticket_id)["status"] == "solved"
    lost = [r for r in zd.requests if r.outcome == "lost"]
    assert len(lost) == 2 and zd.count("GET", "/comments") == 2  # each retry looked for its marker first


@pytest.mark.parametrize("fault", ["rate_limit", "server_error", "hang"])
def test_rate_limits_errors_and_hangs_delay_the_ticket_not_the_request(github, zd, make_world, fault):
    if fault == "rate_limit":
        zd.rate_limit(seconds=1, times=1, method="POST")
    elif fault == "server_error":
        zd.fail("POST", "/tickets", 500, times=2)
    else:
        zd.hang("GET", "/api/v2/tickets.json", times=2)  # the look-up hangs past the timeout, twice
    world = make_world(zd, timeout=0.5)
    started = time.monotonic()
    rid = world.request("new", NEW_XML)
    assert world.workflow.wait_idle(20)
    assert world.store.get(rid).status == "completed"
    req = finished(world, rid)

    assert len(zd.tickets()) == 1 and zd.tickets()[0]["status"] == "solved"
    assert len(zd.comments(req.ticket_id)) == 5
    if fault == "rate_limit":
        posts = [r for r in zd.requests if r.method == "POST"]
        assert [r.status for r in posts] == [429, 201]
        assert posts[1].t - posts[0].t >= 0.9  # Retry-After honoured by the outbox, not by zenpy
    assert time.monotonic() - started < 15


def test_a_cancelled_draft_gets_no_ticket_and_a_rejection_solves_it_with_the_reason(github, zd, make_world):
    world = make_world(zd, env={"ORC_APPROVERS": "UAPPROVER"})
    draft = world.workflow.create("new", "UALICE", NEW_XML, plan=["Create private repo"], channel="C1")
    world.workflow.cancel(draft.id, "UALICE")
    rid = world.request("new", {**NEW_XML, "course": "18.07"})
    world.workflow.reject(rid, "UAPPROVER", "Not this term.")
    req = finished(world, rid)

    assert [t["external_id"] for t in zd.tickets()] == [f"orc-request-{rid}"]
    assert zd.tickets()[0]["status"] == "solved"
    assert [(p, b.split("\n")[0]) for p, b in texts(zd, req.ticket_id)[1:]] == [
        (False, "Confirmed by Slack user UALICE. Waiting for an approver."),
        (True, "Rejected by Slack user UAPPROVER: Not this term."),
    ]


def test_a_failure_says_where_and_why_without_secrets_and_retry_ends_solved(github, zd, make_world):
    """GitHub echoes the gitreload URL, password included, in its error: the ticket gets the
    step and the reason masked (the zd fixture checks every byte sent to Zendesk)."""
    github.fail("POST", r"/hooks$", 422, body={"message": f"Validation Failed: {STAGING} unreachable"}, times=20)
    world = make_world(zd)
    rid = world.request("new", NEW_XML)
    req = finished(world, rid)
    assert req.status == "failed"
    ticket = zd.ticket(req.ticket_id)
    assert ticket["status"] == "new"  # still open for the agent
    public, failed = texts(zd, req.ticket_id)[-1]
    assert public and failed.startswith("Failed at step ") and "Add staging gitreload hook" in failed
    assert "https://***@gitreload-staging.example.edu/" in failed and "Retry is available" in failed

    github.clear_faults()
    world.workflow.retry(rid, "UALICE")
    req = finished(world, rid)

    assert req.status == "completed" and zd.ticket(req.ticket_id)["status"] == "solved"
    assert [b.split("\n")[0] for _, b in texts(zd, req.ticket_id)][-4:-1] == [
        "Retry requested by Slack user UALICE; the finished steps are skipped.",
        "Work started (attempt 2).",
        "Steps orcoursetrion cannot do itself, for the agent:",
    ]
    assert len(zd.tickets()) == 1


def test_a_create_that_hangs_past_the_timeout_and_lands_late_still_makes_one_ticket(github, zd, make_world):
    gate = zd.hang("POST", "/api/v2/tickets", times=1)  # held before Zendesk applies it
    world = make_world(zd, timeout=0.5)
    rid = world.request("new", NEW_XML)
    req = finished(world, rid)  # the retry (same Idempotency-Key) went through meanwhile
    assert len(zd.tickets()) == 1 and gate.waiting == 1

    gate.release()  # now Zendesk applies the first, late copy
    wait_until(lambda: gate.waiting == 0 and zd.requests[1].outcome != "pending")

    assert [t["id"] for t in zd.tickets()] == [req.ticket_id]
    assert zd.count("POST") == 2 and zd.ticket(req.ticket_id)["status"] == "solved"


def test_a_scheduled_release_gets_its_ticket_when_scheduled_and_notes_when_it_starts(github, zd, make_world):
    seed_xml_run(github)
    world = make_world(zd)
    year = datetime.now(UTC).year + 2
    schedule = {"at": datetime(year, 7, 10, 13, tzinfo=UTC).isoformat(), "tz": "America/New_York"}
    rid = world.request("release", {"course": "8.01r", "term": "Fall_2030", "kind": "xml", "schedule": schedule})
    assert world.sync.drain(timeout=20)
    ticket = zd.ticket_by_external_id(f"orc-request-{rid}")
    assert [body.split("\n")[0] for _, body in texts(zd, ticket["id"])[1:]] == [
        f"Scheduled by Slack user UALICE for {year}-07-10 09:00 EDT; the plan is checked again when it starts."
    ]

    clock = FakeClock(datetime(year, 7, 10, 13, tzinfo=UTC) + timedelta(seconds=1))
    Scheduler(world.settings, world.store, world.workflow, clock=clock).tick()
    req = finished(world, rid)
    assert req.status == "completed"
    bodies = [body.split("\n")[0] for _, body in texts(zd, ticket["id"])]
    assert "Its scheduled time came; the work starts now." in bodies
    assert zd.ticket(ticket["id"])["status"] == "solved"
