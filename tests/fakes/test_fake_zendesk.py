"""Self-tests of the fake Zendesk: the real zenpy client (2.0.57) against it.

The failure tests double as measurements of what zenpy does on 429, 5xx, timeouts and lost
responses; the module docstring of tests/fakes/zendesk.py states the results for the product.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from zenpy import Zenpy
from zenpy.lib.api_objects import Comment, Ticket, User
from zenpy.lib.exception import APIException, RatelimitBudgetExceeded, RecordNotFoundException

from bot.server import zendesk_signature_ok
from tests.fakes.zendesk import CLOSED_ERROR, OPS_TRIGGER_TEMPLATE, FakeZendesk, sign_webhook

REQUESTER = {"email": "prof.x@mit.edu", "name": "Professor X"}


@pytest.fixture
def zd():
    with FakeZendesk() as fake:
        yield fake
        assert fake.server_errors == []


@pytest.fixture
def client(zd):
    # The product's construction plus the fake's session; no cache so every read is a request.
    return Zenpy(
        subdomain=zd.subdomain,
        email=zd.email,
        token=zd.token,
        session=zd.session(),
        timeout=5,
        disable_cache=True,
    )


def new_ticket(client, external_id: str = "orc-plan-1", **kw):
    fields = {
        "subject": "New course repo: 6.0001 Spring 2031",
        "comment": Comment(body="Please approve the repositories for 6.0001.", public=True),
        "requester": User(**REQUESTER),
        "tags": ["orc_request", "mitx"],
        "external_id": external_id,
    }
    fields.update(kw)
    return client.tickets.create(Ticket(**fields)).ticket


def raw(zd: FakeZendesk, method: str, path: str, auth=None, **kw) -> requests.Response:
    auth = auth if auth is not None else (f"{zd.email}/token", zd.token)
    return requests.request(method, f"{zd.api_url}{path}", auth=auth, timeout=5, **kw)


def timed(fn):
    start = time.monotonic()
    try:
        return fn(), time.monotonic() - start
    except Exception as exc:  # the caller inspects it
        return exc, time.monotonic() - start


# ---------------------------------------------------------------------------------------------
# pointing zenpy at the fake
# ---------------------------------------------------------------------------------------------
def test_zenpy_reaches_the_fake_through_a_session_with_the_public_urls(zd):
    client = Zenpy(subdomain=zd.subdomain, email=zd.email, token=zd.token, session=zd.session())
    ticket = new_ticket(client)
    assert ticket.url == f"https://mitx.zendesk.com/api/v2/tickets/{ticket.id}.json"
    assert client.users.me().email == zd.email
    assert [(r.method, r.path, r.auth_user) for r in zd.requests] == [
        ("POST", "/api/v2/tickets.json", f"{zd.email}/token"),
        ("GET", "/api/v2/users/me.json", f"{zd.email}/token"),
    ]
    assert zd.client().tickets(id=ticket.id).subject == ticket.subject  # the shortcut builds the same


def test_zenpy_env_override_reaches_the_fake_but_loses_the_transport_retries(zd, monkeypatch):
    for key, value in zd.zenpy_env().items():
        monkeypatch.setenv(key, value)
    client = Zenpy(subdomain=zd.subdomain, email=zd.email, token=zd.token, disable_cache=True)
    ticket = new_ticket(client)
    assert ticket.url.startswith(f"http://127.0.0.1:{zd.port}/api/v2/")
    zd.reset_requests()
    zd.fail("GET", r"/tickets/\d+", 503)
    with pytest.raises(APIException):
        client.tickets(id=ticket.id)
    assert zd.count("GET") == 1  # zenpy's retrying adapter is mounted on https:// only


def test_cursor_pagination_links_lead_back_through_the_adapter(zd, client):
    for n in range(5):
        new_ticket(client, external_id=f"orc-{n}")
    zd.reset_requests()
    ids = [t.id for t in client.tickets(cursor_pagination=2)]
    assert ids == [1001, 1002, 1003, 1004, 1005]
    assert zd.count("GET", "/api/v2/tickets") == 3


# ---------------------------------------------------------------------------------------------
# tickets
# ---------------------------------------------------------------------------------------------
def test_create_ticket_with_external_id_tags_and_a_new_requester(zd, client):
    before = {u["email"] for u in zd.users()}
    ticket = new_ticket(client, tags=["orc_request", "MITx Residential"], priority="normal", type="task")
    assert ticket.id == 1001 and ticket.status == "new"
    stored = zd.ticket(ticket.id)
    assert stored["external_id"] == "orc-plan-1"
    assert stored["tags"] == ["orc_request", "mitx", "residential"]  # lower-cased, split on spaces
    assert stored["priority"] == "normal" and stored["type"] == "task"
    assert stored["created_at"] == stored["updated_at"]
    assert datetime.strptime(stored["created_at"], "%Y-%m-%dT%H:%M:%SZ")
    requester = zd.user_by_email(REQUESTER["email"])
    assert REQUESTER["email"] not in before
    assert requester["name"] == "Professor X" and requester["role"] == "end-user"
    assert stored["requester_id"] == stored["submitter_id"] == requester["id"]
    [first] = zd.comments(ticket.id)
    assert first["author"] == REQUESTER["email"] and first["public"] is True
    assert stored["description"] == first["body"] == "Please approve the repositories for 6.0001."
    assert new_ticket(client, external_id="orc-plan-2").id == 1002


def test_requester_email_reuses_the_existing_user_and_users_can_be_looked_up(zd, client):
    existing = zd.add_user("prof.x@mit.edu", "Prof. X (existing)")
    ticket = new_ticket(client, requester=User(email="Prof.X@MIT.edu", name="Someone Else"))
    assert zd.ticket(ticket.id)["requester_id"] == existing["id"]
    assert len([u for u in zd.users() if u["email"] == "prof.x@mit.edu"]) == 1
    assert [u.id for u in client.users.search(query="prof.x@mit.edu")] == [existing["id"]]
    assert list(client.users.search(query="nobody@mit.edu")) == []

    updated = client.users.create_or_update(User(email="prof.x@mit.edu", name="Prof. X"))
    assert updated.id == existing["id"] and zd.user_by_email("prof.x@mit.edu")["name"] == "Prof. X"
    created = raw(zd, "POST", "/users/create_or_update.json", json={"user": {"email": "ta@mit.edu", "name": "TA"}})
    assert created.status_code == 201 and created.json()["user"]["email"] == "ta@mit.edu"
    again = raw(zd, "POST", "/users/create_or_update.json", json={"user": {"email": "ta@mit.edu", "name": "TA 2"}})
    assert again.status_code == 200 and again.json()["user"]["id"] == created.json()["user"]["id"]


def test_requester_id_must_exist_and_a_ticket_needs_a_first_comment(zd, client):
    with pytest.raises(APIException) as exc:
        client.tickets.create(Ticket(subject="no body", requester_id=42))
    body = json.loads(str(exc.value))
    assert exc.value.response.status_code == 422 and body["error"] == "RecordInvalid"
    with pytest.raises(APIException) as exc:
        client.tickets.create(Ticket(subject="no body"))
    assert json.loads(str(exc.value))["details"]["description"][0]["description"] == "Description: cannot be blank"
    # the legacy `description` still makes the first comment; without a requester the agent asks
    ticket = client.tickets.create(Ticket(subject="legacy", description="old style")).ticket
    assert zd.comments(ticket.id)[0]["body"] == "old style"
    assert zd.ticket(ticket.id)["requester_id"] == zd.agent["id"]
    assert zd.tickets()[0]["id"] == ticket.id == 1001  # nothing was created by the failures


def test_find_by_external_id_with_the_list_filter_and_with_search(zd, client):
    first = new_ticket(client)
    new_ticket(client, external_id="orc-plan-other")
    listed = list(client.tickets(external_id="orc-plan-1"))
    assert [t.id for t in listed] == [first.id]
    found = list(client.search(type="ticket", external_id="orc-plan-1"))
    assert [(type(t).__name__, t.id) for t in found] == [("Ticket", first.id)]
    assert "query=type%3Aticket%20external_id%3Aorc-plan-1" in zd.requests[-1].query  # as zenpy sends it
    assert [t.id for t in client.search("approve", type="ticket", tags="orc_request")] == [first.id, first.id + 1]
    assert list(client.search(type="ticket", external_id="orc-plan-1", minus="tags:mitx")) == []
    assert [t.id for t in client.search(type="ticket", status="new", requester=REQUESTER["email"])] == [
        first.id,
        first.id + 1,
    ]
    # external_id is not unique in Zendesk: the list returns every ticket carrying it
    dup = new_ticket(client)
    assert [t.id for t in client.tickets(external_id="orc-plan-1")] == [first.id, dup.id]
    with pytest.raises(LookupError):
        zd.ticket_by_external_id("orc-plan-1")
    assert zd.ticket_by_external_id("orc-plan-other")["id"] == first.id + 1
    assert zd.ticket_by_external_id("missing") is None


def test_search_lags_behind_writes_like_zendesks_index():
    now = [1_900_000_000.0]
    with FakeZendesk(search_delay=30, clock=lambda: now[0]) as zd:
        client = zd.client(disable_cache=True)
        ticket = new_ticket(client)
        assert list(client.search(type="ticket", external_id="orc-plan-1")) == []
        assert [t.id for t in client.tickets(external_id="orc-plan-1")] == [ticket.id]  # the list is current
        now[0] += 31
        assert [t.id for t in client.search(type="ticket", external_id="orc-plan-1")] == [ticket.id]
        client.tickets.update(Ticket(id=ticket.id, status="solved"))
        assert [t.status for t in client.search(type="ticket", external_id="orc-plan-1")] == ["new"]
        now[0] += 31
        assert [t.status for t in client.search(type="ticket", external_id="orc-plan-1")] == ["solved"]


def test_public_comments_and_internal_notes(zd, client):
    ticket = new_ticket(client)
    ticket.comment = Comment(body="Repositories are ready for review.", public=True)
    client.tickets.update(ticket)
    audit = client.tickets.update(Ticket(id=ticket.id, comment=Comment(body="internal: token rotated", public=False)))
    assert [e["type"] for e in audit.audit.events] == ["Comment"]
    comments = zd.comments(ticket.id)
    assert [(c["body"], c["public"], c["author"]) for c in comments] == [
        ("Please approve the repositories for 6.0001.", True, REQUESTER["email"]),
        ("Repositories are ready for review.", True, zd.email),
        ("internal: token rotated", False, zd.email),
    ]
    assert [(c.body, c.public) for c in client.tickets.comments(ticket.id)] == [
        (c["body"], c["public"]) for c in comments
    ]
    assert zd.ticket(ticket.id)["is_public"] is True
    html = client.tickets.update(Ticket(id=ticket.id, comment=Comment(html_body="<p>Approved <b>now</b></p>")))
    assert html.ticket.id == ticket.id and zd.comments(ticket.id)[-1]["body"] == "Approved now"


def test_a_ticket_opened_with_an_internal_note_is_not_public(zd, client):
    ticket = new_ticket(client, comment=Comment(body="agents only", public=False))
    assert zd.ticket(ticket.id)["is_public"] is False
    assert zd.comments(ticket.id)[0]["public"] is False


def test_tag_edits_and_safe_update(zd, client):
    ticket = new_ticket(client)
    client.tickets.update(Ticket(id=ticket.id, additional_tags=["orc_approve"], remove_tags=["mitx"]))
    assert zd.ticket(ticket.id)["tags"] == ["orc_request", "orc_approve"]
    client.tickets.update(Ticket(id=ticket.id, tags=["replaced"]))
    assert zd.ticket(ticket.id)["tags"] == ["replaced"]
    stale = raw(
        zd,
        "PUT",
        f"/tickets/{ticket.id}.json",
        json={"ticket": {"status": "open", "safe_update": True, "updated_stamp": "2001-01-01T00:00:00Z"}},
    )
    assert stale.status_code == 409 and stale.json()["error"] == "UpdateConflict"
    fresh = raw(
        zd,
        "PUT",
        f"/tickets/{ticket.id}.json",
        json={"ticket": {"status": "open", "safe_update": True, "updated_stamp": zd.ticket(ticket.id)["updated_at"]}},
    )
    assert fresh.status_code == 200 and fresh.json()["ticket"]["status"] == "open"


def test_solve_then_closed_ticket_rules(zd, client):
    ticket = new_ticket(client)
    assert zd.ticket(ticket.id)["assignee_id"] is None
    audit = client.tickets.update(Ticket(id=ticket.id, status="solved", comment=Comment(body="Done.")))
    assert audit.ticket.status == "solved"
    assert zd.ticket(ticket.id)["assignee_id"] == zd.agent["id"]  # solving assigns the solver
    # the requester answering a solved ticket reopens it
    zd.requester_reply(ticket.id, "One more thing")
    assert zd.ticket(ticket.id)["status"] == "open"
    client.tickets.update(Ticket(id=ticket.id, status="solved"))
    zd.auto_close(ticket.id)
    before = zd.ticket(ticket.id)
    with pytest.raises(APIException) as exc:
        client.tickets.update(Ticket(id=ticket.id, comment=Comment(body="too late", public=False)))
    assert exc.value.response.status_code == 422
    assert json.loads(str(exc.value)) == CLOSED_ERROR
    with pytest.raises(APIException):
        client.tickets.update(Ticket(id=ticket.id, status="open"))
    assert zd.ticket(ticket.id) == before
    assert [c["body"] for c in zd.comments(ticket.id)][-1] == "One more thing"
    with pytest.raises(ValueError):
        zd.requester_reply(ticket.id, "hello?")
    assert client.tickets(id=ticket.id).status == "closed"  # reading a closed ticket still works


def test_system_ticket_rules(zd, client):
    ticket = new_ticket(client)
    client.tickets.update(Ticket(id=ticket.id, assignee_id=zd.agent["id"]))
    assert zd.ticket(ticket.id)["status"] == "open"  # a new ticket that gets an assignee opens
    with pytest.raises(APIException) as exc:
        client.tickets.update(Ticket(id=ticket.id, status="new"))
    assert exc.value.response.status_code == 422 and zd.ticket(ticket.id)["status"] == "open"
    client.tickets.update(Ticket(id=ticket.id, status="hold"))
    zd.requester_reply(ticket.id, "any news?")
    assert zd.ticket(ticket.id)["status"] == "open"  # an end user's reply reopens on-hold
    client.tickets.update(Ticket(id=ticket.id, status="solved"))
    client.tickets.update(Ticket(id=ticket.id, comment=Comment(body="FYI, agent note", public=True)))
    assert zd.ticket(ticket.id)["status"] == "solved"  # an agent's API comment does not
    with pytest.raises(ValueError):
        zd.auto_close(new_ticket(client, external_id="orc-plan-2").id)  # only solved tickets close
    assert new_ticket(client, external_id="orc-3", assignee_id=zd.agent["id"]).status == "open"


def test_solving_needs_an_assignee_without_auto_assign():
    with FakeZendesk(auto_assign_on_solve=False) as zd:
        client = zd.client(disable_cache=True)
        ticket = new_ticket(client)
        with pytest.raises(APIException) as exc:
            client.tickets.update(Ticket(id=ticket.id, status="solved", comment=Comment(body="done")))
        assert exc.value.response.status_code == 422
        assert zd.ticket(ticket.id)["status"] == "new" and len(zd.comments(ticket.id)) == 1
        client.tickets.update(Ticket(id=ticket.id, status="solved", assignee_id=zd.agent["id"]))
        assert zd.ticket(ticket.id)["status"] == "solved"


def test_zenpy_answers_a_known_ticket_from_its_cache(zd):
    client = zd.client()  # cache on, zenpy's default
    ticket = new_ticket(client)
    zd.reset_requests()
    raw(zd, "PUT", f"/tickets/{ticket.id}.json", json={"ticket": {"status": "pending"}})
    assert client.tickets(id=ticket.id).status == "new"  # stale, and no request was made
    assert zd.count("GET") == 0
    assert zd.client(disable_cache=True).tickets(id=ticket.id).status == "pending"


def test_unknown_ticket_is_record_not_found(zd, client):
    with pytest.raises(RecordNotFoundException):
        client.tickets(id=999)
    assert raw(zd, "GET", "/tickets/999.json").json() == {"error": "RecordNotFound", "description": "Not found"}
    assert raw(zd, "GET", "/no_such_thing.json").status_code == 404


# ---------------------------------------------------------------------------------------------
# auth, secrets, the request log
# ---------------------------------------------------------------------------------------------
def test_wrong_credentials_are_401_and_change_nothing(zd):
    bad = zd.client(token="wrong-token")
    with pytest.raises(APIException) as exc:
        new_ticket(bad)
    assert exc.value.response.status_code == 401
    assert json.loads(str(exc.value)) == {"error": "Couldn't authenticate you"}
    assert zd.tickets() == []
    assert raw(zd, "GET", "/users/me.json", auth=(zd.email, zd.token)).status_code == 401  # password form
    assert raw(zd, "GET", "/users/me.json", auth=("someone@else.edu/token", zd.token)).status_code == 401
    assert requests.get(f"{zd.api_url}/users/me.json", timeout=5).json() == {"error": "Couldn't authenticate you"}
    assert raw(zd, "GET", "/users/me.json").status_code == 200


def test_request_log_records_bodies_but_never_the_token(zd, client):
    ticket = new_ticket(client)
    client.tickets.update(Ticket(id=ticket.id, comment=Comment(body="see ghp_secret123", public=False)))
    rec = zd.requests[-1]
    assert (rec.method, rec.path, rec.status, rec.outcome) == (
        "PUT",
        f"/api/v2/tickets/{ticket.id}.json",
        200,
        "answered",
    )
    assert json.loads(rec.body)["ticket"]["comment"] == {"body": "see ghp_secret123", "public": False}
    zd.assert_never_sent(zd.token, "stage-secret-pw")
    with pytest.raises(AssertionError, match="secret sent to Zendesk"):
        zd.assert_never_sent("ghp_secret123")
    assert zd.count("POST", "/tickets") == 1 and zd.count(path_contains="/tickets/") == 1 and zd.count() == 2


# ---------------------------------------------------------------------------------------------
# faults, and what zenpy does about them
# ---------------------------------------------------------------------------------------------
def test_429_with_retry_after_zenpy_sleeps_and_resends_by_itself(zd, client):
    zd.rate_limit(seconds=1, times=2)
    ticket, elapsed = timed(lambda: new_ticket(client))
    assert ticket.id == 1001 and elapsed >= 2.0
    assert [(r.method, r.status) for r in zd.requests] == [("POST", 429), ("POST", 429), ("POST", 201)]
    assert len(zd.tickets()) == 1  # a 429 changes nothing, so zenpy's resend is safe


def test_429_gives_up_only_with_a_ratelimit_budget(zd):
    client = zd.client(ratelimit_budget=2)
    zd.rate_limit(seconds=1, times=None)
    exc, elapsed = timed(lambda: new_ticket(client))
    assert isinstance(exc, RatelimitBudgetExceeded)
    assert zd.count("POST") == 2 and 1.0 <= elapsed < 2.0  # a budget of N waits N-1 seconds
    zd.clear_faults()
    zd.fail("POST", "/tickets", 429, body="Number of allowed API requests per minute exceeded")
    with pytest.raises(requests.HTTPError):  # no Retry-After: no wait; the text body is not JSON
        new_ticket(client)
    zd.rate_limit(seconds=0)
    with pytest.raises(requests.HTTPError):
        new_ticket(client)
    zd.fail("POST", "/tickets", 429, headers={"Retry-After": "1.5"}, body="slow down")
    with pytest.raises(ValueError):  # zenpy int()s the header
        new_ticket(client)
    assert zd.tickets() == []


def test_per_minute_limit_answers_retry_after_until_the_window_ends():
    now = [1_900_000_000.0]
    with FakeZendesk(requests_per_minute=2, enforce_rate_limit=True, clock=lambda: now[0]) as zd:
        client = zd.client(ratelimit_budget=1)
        new_ticket(client)
        last = raw(zd, "GET", "/users/me.json")
        assert last.headers["X-Rate-Limit"] == "2" and last.headers["X-Rate-Limit-Remaining"] == "0"
        over = raw(zd, "GET", "/users/me.json")
        assert over.status_code == 429 and over.headers["Retry-After"] == "60"
        assert over.text == "Number of allowed API requests per minute exceeded"
        with pytest.raises(RatelimitBudgetExceeded):
            new_ticket(client)
        now[0] += 60
        assert new_ticket(client).id == 1002


def test_5xx_only_503_is_retried_and_never_on_post(zd, client):
    ticket = new_ticket(client)
    zd.reset_requests()
    zd.fail("GET", r"/tickets/\d+", 500)
    with pytest.raises(APIException):
        client.tickets(id=ticket.id)
    assert zd.count("GET") == 1
    zd.reset_requests()
    zd.fail("GET", r"/tickets/\d+", 503, times=None)
    with pytest.raises(requests.exceptions.RetryError):
        client.tickets(id=ticket.id)
    assert zd.count("GET") == 4  # one request and three retries by zenpy's urllib3 Retry
    zd.clear_faults()
    zd.fail("PUT", r"/tickets/\d+", 503, times=3)
    client.tickets.update(Ticket(id=ticket.id, status="pending"))  # the fourth try succeeds silently
    assert zd.ticket(ticket.id)["status"] == "pending" and zd.count("PUT") == 4
    zd.fail("POST", "/tickets", 503)
    with pytest.raises(APIException):
        new_ticket(client, external_id="orc-plan-2")
    assert zd.count("POST") == 1 and zd.ticket_by_external_id("orc-plan-2") is None
    zd.fail("POST", "/tickets", 502, body="<html>Bad gateway</html>")
    with pytest.raises(requests.HTTPError):
        new_ticket(client, external_id="orc-plan-2")


def test_down_answers_503_with_a_maintenance_page(zd, client):
    ticket = new_ticket(client)
    zd.down = True
    zd.reset_requests()
    with pytest.raises(requests.HTTPError) as exc:
        new_ticket(client, external_id="orc-plan-2")
    assert exc.value.response.status_code == 503 and "maintenance" in exc.value.response.text
    with pytest.raises(requests.exceptions.RetryError):
        client.tickets(id=ticket.id)
    assert [r.method for r in zd.requests] == ["POST", "GET", "GET", "GET", "GET"]
    zd.down = False
    assert client.tickets(id=ticket.id).id == ticket.id


def test_refused_connection_after_stop_is_a_connection_error():
    zd = FakeZendesk().start()
    client = zd.client(timeout=2)
    zd.stop()
    with pytest.raises(requests.ConnectionError):
        new_ticket(client)


def test_hang_post_times_out_once_and_is_applied_when_released(zd):
    client = zd.client(timeout=0.5, disable_cache=True)
    gate = zd.hang("POST", "/tickets")
    exc, elapsed = timed(lambda: new_ticket(client))
    assert isinstance(exc, requests.exceptions.ReadTimeout) and 0.5 <= elapsed < 1.5
    assert gate.hits == 1 and zd.tickets() == []
    gate.release()
    deadline = time.monotonic() + 5
    while not zd.tickets() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert zd.ticket_by_external_id("orc-plan-1") is not None  # Zendesk finished it after the client left


def test_hang_get_is_retried_three_times_before_zenpy_gives_up(zd):
    client = zd.client(timeout=0.3, disable_cache=True)
    ticket = new_ticket(client)
    gate = zd.hang("GET", r"/tickets/\d+")
    exc, elapsed = timed(lambda: client.tickets(id=ticket.id))
    gate.release()
    assert isinstance(exc, requests.ConnectionError) and not isinstance(exc, requests.exceptions.ReadTimeout)
    assert gate.hits == 4 and elapsed >= 4 * 0.3


def test_hang_put_is_retried_and_every_held_copy_is_applied_on_release(zd):
    client = zd.client(timeout=0.3, disable_cache=True)
    ticket = new_ticket(client)
    gate = zd.hang("PUT", r"/tickets/\d+")
    exc, _ = timed(lambda: client.tickets.update(Ticket(id=ticket.id, comment=Comment(body="Approved"))))
    assert isinstance(exc, requests.ConnectionError) and gate.hits == 4
    gate.release()
    deadline = time.monotonic() + 5
    while len(zd.comments(ticket.id)) < 5 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [c["body"] for c in zd.comments(ticket.id)].count("Approved") == 4


def test_a_released_gate_lets_the_held_request_answer(zd, client):
    ticket = new_ticket(client)
    gate = zd.hang("GET", r"/tickets/\d+", times=1)
    result = {}
    worker = threading.Thread(target=lambda: result.setdefault("t", client.tickets(id=ticket.id)))
    worker.start()
    assert gate.wait_hit(5) and "t" not in result
    gate.release()
    worker.join(5)
    assert result["t"].id == ticket.id and gate.hits == 1


def test_lost_response_on_post_the_ticket_exists_but_the_client_got_an_error(zd, client):
    zd.lose_response("POST", "/tickets")
    with pytest.raises(requests.ConnectionError):
        new_ticket(client)
    assert zd.ticket_by_external_id("orc-plan-1") is not None
    assert [(r.method, r.status, r.outcome) for r in zd.requests] == [("POST", None, "lost")]
    # the way to recover: look the ticket up by its external id before creating another
    assert [t.external_id for t in client.tickets(external_id="orc-plan-1")] == ["orc-plan-1"]


def test_lost_response_on_put_is_resent_by_zenpy_and_applied_twice(zd, client):
    ticket = new_ticket(client)
    zd.lose_response("PUT", r"/tickets/\d+")
    audit = client.tickets.update(Ticket(id=ticket.id, comment=Comment(body="Approved by alice")))
    assert audit.ticket.id == ticket.id  # the caller saw one success...
    bodies = [c["body"] for c in zd.comments(ticket.id)]
    assert bodies.count("Approved by alice") == 2  # ...but Zendesk got the comment twice
    assert [r.outcome for r in zd.requests if r.method == "PUT"] == ["lost", "answered"]


def test_fail_times_and_clear_faults(zd, client):
    zd.fail("*", "/users/me", 500, times=2, body={"error": "boom"}, headers={"X-Zendesk-Test": "1"})
    for _ in range(2):
        resp = raw(zd, "GET", "/users/me.json")
        assert resp.status_code == 500 and resp.json() == {"error": "boom"} and resp.headers["X-Zendesk-Test"] == "1"
    assert raw(zd, "GET", "/users/me.json").status_code == 200
    zd.fail("GET", "/users/me", 500, times=None)
    zd.down = True
    zd.clear_faults()
    assert raw(zd, "GET", "/users/me.json").status_code == 200


# ---------------------------------------------------------------------------------------------
# webhooks
# ---------------------------------------------------------------------------------------------
class _Capture:
    def __init__(self):
        self.received: list[tuple[dict, bytes]] = []
        capture = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                capture.received.append((dict(self.headers), body))
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/zendesk/webhook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def capture():
    cap = _Capture()
    yield cap
    cap.close()


def test_webhook_request_is_signed_as_zendesk_signs(zd, capture):
    secret = "zd-webhook-secret"
    when = datetime(2030, 5, 1, 12, 30, 5, tzinfo=UTC)
    resp = zd.webhook_request(capture.url, secret, {"ticket": {"id": "1001"}}, timestamp=when)
    assert resp.status_code == 202
    headers, body = capture.received[0]
    stamp = headers["X-Zendesk-Webhook-Signature-Timestamp"]
    assert stamp == "2030-05-01T12:30:05Z" and body == b'{"ticket":{"id":"1001"}}'
    expected = base64.b64encode(hmac.new(secret.encode(), stamp.encode() + body, hashlib.sha256).digest()).decode()
    assert headers["X-Zendesk-Webhook-Signature"] == expected == sign_webhook(secret, stamp, body)
    assert headers["Content-Type"].startswith("application/json")
    # the product's verifier agrees, and rejects another secret
    assert zendesk_signature_ok(secret, stamp, body, expected, now=when + timedelta(seconds=30))
    assert not zendesk_signature_ok("other", stamp, body, expected, now=when)


def test_webhook_request_sends_str_and_bytes_bodies_as_they_are_and_defaults_to_now(zd, capture):
    zd.webhook_request(capture.url, "s", '{"a": 1}\n')
    zd.webhook_request(capture.url, "s", b"\x00raw")
    (h1, b1), (h2, b2) = capture.received
    assert b1 == b'{"a": 1}\n' and b2 == b"\x00raw"
    sent = datetime.fromisoformat(h1["X-Zendesk-Webhook-Signature-Timestamp"].replace("Z", "+00:00"))
    assert abs(datetime.now(UTC) - sent) < timedelta(seconds=5)
    assert zendesk_signature_ok("s", h2["X-Zendesk-Webhook-Signature-Timestamp"], b2, h2["X-Zendesk-Webhook-Signature"])


def test_trigger_body_renders_the_ops_guide_placeholders(zd, client):
    assert "{{ticket.latest_comment}}" in OPS_TRIGGER_TEMPLATE
    ticket = new_ticket(client, tags=["orc_request", "orc_approve"])
    client.tickets.update(
        Ticket(id=ticket.id, status="solved", comment=Comment(html_body='<p>Approved: "6.0001"</p><p>thanks</p>'))
    )
    body = zd.trigger_body(ticket.id)
    assert json.loads(body) == {
        "ticket": {
            "id": str(ticket.id),
            "external_id": "orc-plan-1",
            "tags": "orc_request orc_approve",
            "status": "Solved",
            "latest_comment": 'Approved: "6.0001"\nthanks',
        }
    }
    client.tickets.update(Ticket(id=ticket.id, comment=Comment(body="internal only", public=False)))
    assert json.loads(zd.trigger_body(zd.ticket(ticket.id)))["ticket"]["latest_comment"] == "internal only"
    custom = zd.trigger_body(ticket.id, '{"c": "{{ticket.latest_public_comment}}", "x": "{{ticket.nope}}"}')
    assert json.loads(custom) == {"c": 'Approved: "6.0001"\nthanks', "x": ""}
    plain = zd.add_ticket("seeded", external_id=None, tags=[])
    assert json.loads(zd.trigger_body(plain["id"]))["ticket"]["external_id"] == ""


def test_trigger_body_through_webhook_request_verifies_end_to_end(zd, client, capture):
    ticket = new_ticket(client)
    raw_body = zd.trigger_body(ticket.id)
    zd.webhook_request(capture.url, "secret-1", raw_body)
    headers, body = capture.received[0]
    assert body == raw_body.encode()
    assert zendesk_signature_ok(
        "secret-1", headers["X-Zendesk-Webhook-Signature-Timestamp"], body, headers["X-Zendesk-Webhook-Signature"]
    )


def test_idempotency_key_on_create_answers_the_first_result_again(zd):
    body = {"ticket": {"subject": "s", "comment": {"body": "b"}, "external_id": "orc-1"}}
    first = raw(zd, "POST", "/tickets.json", json=body, headers={"Idempotency-Key": "k-1"})
    again = raw(zd, "POST", "/tickets.json", json=body, headers={"Idempotency-Key": "k-1"})
    other = raw(zd, "POST", "/tickets.json", json=body, headers={"Idempotency-Key": "k-2"})
    assert first.status_code == again.status_code == 201
    assert first.headers["x-idempotency-lookup"] == "miss" and again.headers["x-idempotency-lookup"] == "hit"
    assert again.json()["ticket"]["id"] == first.json()["ticket"]["id"] != other.json()["ticket"]["id"]
    assert len(zd.tickets()) == 2
