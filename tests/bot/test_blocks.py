"""One renderer per status: what the request message says matches the state, user text
is inert, and Slack's limits hold (every message checked by the fake's Block Kit rules)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.blocks import announcement, approval_message, request_message
from orcoursetrion.store import RequestView
from tests.fakes.slack import validate_blocks

NOW = datetime(2030, 8, 1, 15, 0, tzinfo=UTC)
PLAN = ["Remove 1 web hook(s) from mitx/old", "Create private repo mitx/new", "Add staging gitreload hook to mitx/new"]
BASE = RequestView(
    id=12, type="rerun", status="draft", version=1, requester="UALICE", requester_name="Alice",
    params={"course": "8.01r", "term": "Fall_2030", "new_term": "Spring_2031", "title": "Physics <!channel> *now*"},
    plan=PLAN, notes=["Team members are carried over from the current run."], confirm_warning=None, announced=None,
    summary="Rerun 8.01r Fall_2030 → Spring_2031", desired_at=datetime(2030, 9, 1, tzinfo=UTC), channel="COPS",
    message_ts="1.1", approval_channel=None, approval_ts=None, ticket_id=None, decided_by=None, reason=None,
    result=None, error=None, error_step=None, attempts=0, stop_requested_by=None, lease_owner=None,
    lease_expires_at=None, created_at=NOW, updated_at=NOW, started_at=None, finished_at=None,
)  # fmt: skip

CASES = {
    "draft": (
        {},
        "*Plan* — check it, then *Confirm*. Nothing has changed yet.",
        {"Confirm", "Change term/team", "Cancel"},
    ),
    "pending_approval": ({}, "*Waiting for approval* by <@UBOSS1>, <@UBOSS2>", {"Cancel"}),
    "approved": ({"decided_by": "UBOSS1"}, "*Approved* by <@UBOSS1> — starting…", {"Cancel"}),
    "in_progress": ({}, "*Running* — step 2 of 3: Create private repo mitx/new", set()),
    "completed": (
        {"result": {"message": "8.01r rerun is ready", "links": ["https://gh/mitx/new"]}},
        "*Done*: 8.01r rerun is ready",
        set(),
    ),
    "failed": (
        {
            "error": "GitHub returned an unexpected error: 500",
            "error_step": "step 2 of 3: Create private repo mitx/new",
        },
        "*Failed* at step 2 of 3: Create private repo mitx/new: GitHub returned an unexpected error: 500",
        {"Retry", "Cancel"},
    ),
    "cancelled": ({"decided_by": "UALICE"}, "*Cancelled* by <@UALICE>", set()),
    "rejected": (
        {"decided_by": "UBOSS2", "reason": "not <!here> yet"},
        "*Rejected* by <@UBOSS2>: `not &lt;!here&gt; yet`",
        set(),
    ),
}


def buttons(blocks: list[dict]) -> set[str]:
    return {e["text"]["text"] for b in blocks if b["type"] == "actions" for e in b["elements"]}


def texts(blocks: list[dict]) -> str:
    out = []
    for block in blocks:
        for part in [block.get("text")] + list(block.get("elements") or []):
            if isinstance(part, dict) and "text" in part and isinstance(part["text"], str):
                out.append(part["text"])
    return "\n".join(out)


@pytest.mark.parametrize("status", sorted(CASES))
def test_each_status_has_its_own_heading_and_buttons(status):
    changes, heading, expected_buttons = CASES[status]
    req = replace(BASE, status=status, **changes)
    progress = {"index": 2, "total": 3, "text": PLAN[1]} if status == "in_progress" else None
    text, blocks = request_message(req, progress=progress, approvers=("UBOSS1", "UBOSS2"))
    shown = texts(blocks)
    assert heading in shown
    assert buttons(blocks) == expected_buttons
    assert validate_blocks(blocks) == []
    assert "Request #12 by <@UALICE>" in shown and "Needed by 2030-09-01" in shown
    assert "Title: `Physics &lt;!channel&gt; *now*`" in shown and "<!channel>" not in shown
    assert "• ✓" not in shown and "✓ ✓" not in shown  # one mark per step
    for other, (_, other_heading, _) in CASES.items():
        if other != status:
            assert other_heading not in shown
    if status == "completed":
        assert "<https://gh/mitx/new>" in shown and "✓ Create private repo mitx/new" in shown
    if status == "in_progress":
        assert "✓ Remove 1 web hook(s)" in shown and "▶ Create private repo" in shown and "· Add staging" in shown


def test_waiting_for_github_says_how_long_and_why():
    req = replace(BASE, status="in_progress")
    progress = {"index": 2, "total": 3, "text": PLAN[1], "wait": 42.0, "wait_reason": "GitHub asked us to wait"}
    _, blocks = request_message(req, progress=progress)
    assert "Waiting 42 s: GitHub asked us to wait" in texts(blocks)


def test_an_earlier_term_asks_again_before_confirm():
    req = replace(BASE, confirm_warning="Summer_2030 is not after Spring_2031: confirm only if intended.")
    _, blocks = request_message(req)
    confirm = next(e for b in blocks if b["type"] == "actions" for e in b["elements"] if e["text"]["text"] == "Confirm")
    assert "not after" in confirm["confirm"]["text"]["text"]
    assert ":warning: *Summer_2030 is not after Spring_2031" in texts(blocks)


def test_the_approval_message_mentions_the_approvers_visibly_and_says_who_decided():
    pending = replace(BASE, status="pending_approval")
    text, blocks = approval_message(pending, ("UBOSS1", "UBOSS2"))
    assert blocks[0]["text"]["text"].startswith(":raising_hand: <@UBOSS1> <@UBOSS2>: <@UALICE> asks")
    assert {"Approve", "Reject"} == buttons(blocks)
    decided = replace(BASE, status="in_progress", decided_by="UBOSS1")
    _, blocks = approval_message(decided, ("UBOSS1",))
    assert "Approved by <@UBOSS1> — now In Progress" in texts(blocks) and buttons(blocks) == set()


def test_the_rejection_reason_is_told_as_plain_text():
    req = replace(BASE, status="rejected", decided_by="UBOSS2", reason="<!channel> wrong *term*")
    text, blocks = announcement(req)
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    plain = [b for b in blocks if b.get("text", {}).get("type") == "plain_text"]
    assert plain and plain[0]["text"]["text"] == "<!channel> wrong *term*"  # plain_text: Slack resolves nothing
    assert validate_blocks(blocks) == []
