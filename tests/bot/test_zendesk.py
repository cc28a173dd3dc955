"""Slack and Zendesk together: a request asked in Slack gets its ticket (the requester's
Slack e-mail, the link in Slack, in /orc status and in App Home), and an agent approves or
rejects from Zendesk through the signed webhook, which moves the request exactly as the
buttons do, Slack message and requester included."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import requests
from zenpy.lib.api_objects import Comment, Ticket

from tests.bot.conftest import (
    ALICE,
    APPROVALS,
    APPROVER1,
    APPROVER2,
    CHANNEL,
    COURSE,
    NEW_REPO,
    TERM,
    ask,
    buttons,
    plan_message,
    text_of,
    wait_status,
)
from tests.fakes.zendesk import sign_webhook
from tests.zendesk.conftest import WEBHOOK_SECRET, zd, zendesk_env  # noqa: F401  (zd: the fixture)

APPROVERS = {"ORC_APPROVERS": f"{APPROVER1},{APPROVER2}", "ORC_APPROVAL_CHANNEL": APPROVALS}


@pytest.fixture
def bot(start_bot, zd):  # noqa: F811
    return start_bot(**APPROVERS, **zendesk_env(zd))


def confirmed(slack, bot, zd):  # noqa: F811
    """alice asks for the rerun and confirms; returns (request id, plan message, ticket)."""
    slack.command("/orc", f"rerun {COURSE} {TERM}", user=ALICE, channel=CHANNEL)
    rid, plan = plan_message(slack, bot)
    slack.click(CHANNEL, plan.ts, buttons(plan)["Confirm"], ALICE)
    wait_status(slack, bot, rid, "pending_approval")
    # the status is stored before its event is emitted: wait for the ticket, then for the outbox
    slack.wait_for(lambda: bot.store.get(rid).ticket_id is not None and bot.zendesk.drain(rid, timeout=1), timeout=15)
    return rid, plan, zd.ticket(bot.store.get(rid).ticket_id)


def webhook_url(bot) -> str:
    return f"http://127.0.0.1:{bot.port}/zendesk/webhook"


def agent_tags(zd, ticket_id: int, tag: str, comment: str | None = None) -> None:  # noqa: F811
    """An agent adds a decision tag (and maybe a comment) in Zendesk's UI."""
    update = Ticket(id=ticket_id, additional_tags=[tag])
    if comment:
        update.comment = Comment(body=comment, public=False)
    zd.client(disable_cache=True).tickets.update(update)


def approval_message(slack, rid):
    return slack.wait_for(lambda: [m for m in slack.messages(APPROVALS) if f"#{rid}" in text_of(m)])[0]


def test_a_slack_request_gets_its_ticket_and_the_link_shows_everywhere(github, slack, zd, bot):  # noqa: F811
    rid, plan, ticket = confirmed(slack, bot, zd)

    assert ticket["external_id"] == f"orc-request-{rid}" and ticket["status"] == "new"
    requester = zd.user_by_email("alice@mit.edu")  # from Slack's users.info
    assert ticket["requester_id"] == requester["id"] and requester["name"] == "Alice Instructor"
    approval = approval_message(slack, rid)
    slack.click(APPROVALS, approval.ts, buttons(approval)["Approve"], APPROVER1)
    wait_status(slack, bot, rid, "completed")
    slack.wait_for(
        lambda: zd.ticket(ticket["id"])["status"] == "solved" and bot.zendesk.drain(rid, timeout=1), timeout=15
    )

    link = f"{zd.url}/agent/tickets/{ticket['id']}"
    solved = zd.ticket(ticket["id"])
    assert solved["status"] == "solved"
    bodies = [c["body"] for c in zd.comments(ticket["id"])]
    assert bodies[2].startswith("Approved by approver1 (Slack UAPPROVER1)")
    assert github.repo("mitx", NEW_REPO) is not None and f"/mitx/{NEW_REPO}" in bodies[-1]
    message = slack.wait_for(lambda: link in text_of(m := slack.message(CHANNEL, plan.ts)) and m)
    assert "Completed" in text_of(message)
    _, status = ask(slack, f"status {rid}")
    assert f"Zendesk ticket: <{link}|#{ticket['id']}>" in text_of(status)
    slack.open_home(ALICE)
    assert slack.wait_for(lambda: link in text_of(v := slack.home(ALICE)) and v)
    health = requests.get(f"http://127.0.0.1:{bot.port}/healthz", timeout=5).json()
    assert health["status"] == "ok" and health["zendesk"]["outbox"] == 0 and health["zendesk"]["last_error"] is None
    # the Zendesk calls of the whole lifecycle: one look-up, one create, one update per comment
    calls = [(r.method, r.path.replace(str(ticket["id"]), "N")) for r in zd.requests]
    put = ("PUT", "/api/v2/tickets/N.json")
    assert calls == [("GET", "/api/v2/tickets.json"), ("POST", "/api/v2/tickets.json")] + [put] * 5


def test_an_agent_approves_by_tag_and_the_signed_webhook_moves_the_request(github, slack, zd, bot):  # noqa: F811
    rid, plan, ticket = confirmed(slack, bot, zd)
    approval = approval_message(slack, rid)
    agent_tags(zd, ticket["id"], "orc_approve")
    body = zd.trigger_body(ticket["id"]).encode()  # Zendesk renders every placeholder as a string
    assert json.loads(body)["ticket"]["id"] == str(ticket["id"])
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    headers = {
        "Content-Type": "application/json",
        "X-Zendesk-Webhook-Signature": sign_webhook(WEBHOOK_SECRET, stamp, body),
        "X-Zendesk-Webhook-Signature-Timestamp": stamp,
    }

    first = requests.post(webhook_url(bot), data=body, headers=headers, timeout=5)
    replay = requests.post(webhook_url(bot), data=body, headers=headers, timeout=5)

    assert first.status_code == 200 and first.json() == {"status": "approved", "request": rid}
    assert replay.status_code == 200 and replay.json()["status"] == "unchanged"
    req = wait_status(slack, bot, rid, "completed")
    assert req.decided_by == f"zendesk:ticket/{ticket['id']}"
    transitions = [(e.actor, e.name) for e in bot.store.events(rid) if e.kind == "transition"]
    assert transitions[:3] == [
        (ALICE, "created:draft"),
        (ALICE, "pending_approval"),
        (f"zendesk:ticket/{ticket['id']}", "approved"),
    ]
    assert [name for _, name in transitions].count("approved") == 1  # the replay changed nothing
    decided = slack.wait_for(lambda: "Approved" in text_of(m := slack.message(APPROVALS, approval.ts)) and m)
    assert buttons(decided) == {} and f"Zendesk (ticket #{ticket['id']})" in text_of(decided)
    assert "<@zendesk" not in text_of(decided)
    assert bot.zendesk.drain(rid, timeout=10)
    assert zd.ticket(ticket["id"])["status"] == "solved"
    assert any(c["body"].startswith("Approved by a Zendesk agent") for c in zd.comments(ticket["id"]))


def test_an_agent_rejects_with_a_typed_body_found_by_the_ticket_id(github, slack, zd, bot):  # noqa: F811
    rid, plan, ticket = confirmed(slack, bot, zd)
    reason = "Spring_2031 is not scheduled yet; ask again in May."
    agent_tags(zd, ticket["id"], "orc_reject", comment=reason)
    typed = {
        "ticket": {
            "id": ticket["id"],  # a number, not Zendesk's string
            "external_id": "",  # and no external id: found by the stored ticket id
            "tags": ["orcoursetrion", "orc_rerun", "orc_reject"],
            "status": "Open",
            "latest_comment": reason,
        }
    }

    answer = zd.webhook_request(webhook_url(bot), WEBHOOK_SECRET, typed)

    assert answer.status_code == 200 and answer.json() == {"status": "rejected", "request": rid}
    req = wait_status(slack, bot, rid, "rejected")
    assert req.reason == reason and req.decided_by == f"zendesk:ticket/{ticket['id']}"
    told = slack.wait_for(lambda: slack.thread(CHANNEL, plan.ts))[-1]
    assert f"<@{ALICE}>" in told.text and "not scheduled yet" in told.text and "Zendesk (ticket" in told.text
    assert bot.zendesk.drain(rid, timeout=10)
    assert zd.ticket(ticket["id"])["status"] == "solved"
    assert zd.comments(ticket["id"])[-1]["body"].startswith(f"Rejected by a Zendesk agent (ticket #{ticket['id']}): ")
    assert github.repo("mitx", NEW_REPO) is None


def test_webhook_signatures_and_bodies_that_change_nothing(github, slack, zd, bot):  # noqa: F811
    rid, _, ticket = confirmed(slack, bot, zd)
    url = webhook_url(bot)
    good = json.dumps({"ticket": {"id": str(ticket["id"]), "tags": "orc_approve"}}).encode()

    def post(body: bytes, secret: str = WEBHOOK_SECRET, age: timedelta = timedelta(0), **headers) -> requests.Response:
        stamp = (datetime.now(UTC) - age).strftime("%Y-%m-%dT%H:%M:%SZ")
        sent = {
            "X-Zendesk-Webhook-Signature": sign_webhook(secret, stamp, body),
            "X-Zendesk-Webhook-Signature-Timestamp": stamp,
        }
        sent.update(headers)
        return requests.post(url, data=body, headers={k: v for k, v in sent.items() if v is not None}, timeout=5)

    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    cases = {
        "wrong secret": (post(good, secret="not-the-secret"), 401),
        "stale": (post(good, age=timedelta(minutes=6)), 401),
        "from the future": (post(good, age=-timedelta(minutes=6)), 401),
        "tampered body": (
            requests.post(
                url,
                data=good.replace(b"orc_approve", b"orc_reject"),
                headers={
                    "X-Zendesk-Webhook-Signature": sign_webhook(WEBHOOK_SECRET, stamp, good),
                    "X-Zendesk-Webhook-Signature-Timestamp": stamp,
                },
                timeout=5,
            ),
            401,
        ),
        "non-ASCII signature": (post(good, **{"X-Zendesk-Webhook-Signature": "üé==".encode()}), 401),
        "latin-1 signature": (post(good, **{"X-Zendesk-Webhook-Signature": "üé=="}), 401),
        "no signature": (post(good, **{"X-Zendesk-Webhook-Signature": None}), 401),
        "bad timestamp": (post(good, **{"X-Zendesk-Webhook-Signature-Timestamp": "yesterday"}), 401),
        "malformed JSON": (post(b'{"ticket": {"id": "1'), 400),
        "not JSON at all": (post(b"\xff\xfe not text"), 400),
        "no ticket": (post(b'["orc_approve"]'), 400),
        "unknown request": (
            post(b'{"ticket": {"id": "99999", "external_id": "orc-request-99999", "tags": "orc_approve"}}'),
            202,
        ),
        "no decision tag": (post(json.dumps({"ticket": {"id": ticket["id"], "tags": "orcoursetrion"}}).encode()), 202),
        "both tags": (
            post(json.dumps({"ticket": {"id": ticket["id"], "tags": "orc_approve orc_reject"}}).encode()),
            202,
        ),
    }

    got = {name: resp.status_code for name, (resp, _) in cases.items()}
    assert got == {name: expected for name, (_, expected) in cases.items()}
    assert bot.store.get(rid).status == "pending_approval"
    assert [e.name for e in bot.store.events(rid) if e.kind == "transition"] == ["created:draft", "pending_approval"]
