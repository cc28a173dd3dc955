"""With ORC_APPROVERS set, a confirmed request waits in the approval channel until an
approver approves (it runs) or rejects with a reason (the requester hears why)."""

from __future__ import annotations

import pytest

from tests.bot.conftest import (
    ALICE,
    APPROVALS,
    APPROVER1,
    APPROVER2,
    BOB,
    CHANNEL,
    COURSE,
    NEW_REPO,
    TERM,
    buttons,
    plan_message,
    text_of,
    wait_status,
)

APPROVERS = {"ORC_APPROVERS": f"{APPROVER1},{APPROVER2}", "ORC_APPROVAL_CHANNEL": APPROVALS}


@pytest.fixture
def bot(start_bot):
    return start_bot(**APPROVERS)


def confirmed(slack, bot, user: str = ALICE):
    """`user` asks for the rerun and confirms; returns (request id, plan, approval message)."""
    slack.command("/orc", f"rerun {COURSE} {TERM}", user=user, channel=CHANNEL)
    rid, plan = plan_message(slack, bot)
    slack.click(CHANNEL, plan.ts, buttons(plan)["Confirm"], user)
    wait_status(slack, bot, rid, "pending_approval")
    approval = slack.wait_for(lambda: [m for m in slack.messages(APPROVALS) if f"#{rid}" in text_of(m)])[0]
    return rid, plan, approval


def test_confirm_asks_approvers_and_only_approvers_decide(github, slack, bot):
    rid, plan, approval = confirmed(slack, bot)

    assert set(buttons(approval)) == {"Approve", "Reject"}
    assert f"<@{APPROVER1}>" in approval.text and f"<@{ALICE}>" in text_of(approval)
    assert f"<@{APPROVER1}> <@{APPROVER2}>: <@{ALICE}> asks" in approval.blocks[0]["text"]["text"]  # visible mention
    waiting = slack.wait_for(lambda: "Waiting for approval" in text_of(m := slack.message(CHANNEL, plan.ts)) and m)
    assert f"by <@{APPROVER1}>, <@{APPROVER2}>" in text_of(waiting)
    assert github.repo("mitx", NEW_REPO) is None

    # bob is not an approver (and not even in the approval channel): refused, privately.
    refused = slack.click(APPROVALS, approval.ts, buttons(approval)["Approve"], BOB)
    assert refused.status == 200
    note = slack.wait_for(lambda: slack.ephemerals(user=BOB, channel=APPROVALS))
    assert "Only approvers" in note[-1].text
    # alice may not approve her own request either
    slack.click(APPROVALS, approval.ts, buttons(approval)["Approve"], ALICE)
    assert bot.store.get(rid).status == "pending_approval"

    slack.click(APPROVALS, approval.ts, buttons(approval)["Approve"], APPROVER1)

    wait_status(slack, bot, rid, "completed")
    assert github.repo("mitx", NEW_REPO).private
    decided = slack.wait_for(lambda: "Approved by" in text_of(m := slack.message(APPROVALS, approval.ts)) and m)
    assert buttons(decided) == {} and f"Approved by <@{APPROVER1}>" in text_of(decided)
    names = [e.name for e in bot.store.events(rid) if e.kind == "transition"]
    assert names == ["created:draft", "pending_approval", "approved", "in_progress", "completed"]


def test_reject_asks_for_a_reason_and_tells_the_requester(github, slack, bot):
    rid, plan, approval = confirmed(slack, bot)

    slack.click(APPROVALS, approval.ts, buttons(approval)["Reject"], APPROVER2)
    form = slack.wait_for(lambda: slack.top_view(APPROVER2))
    assert form.callback_id == "orc.reject_reason"
    blank = slack.submit_view(form.id, APPROVER2, {"reason": "   "})
    assert blank.json()["response_action"] == "errors" and set(form.errors) == {"reason"}
    reason = "Spring_2031 is not scheduled yet <!channel> & ask in May."
    done = slack.submit_view(form.id, APPROVER2, {"reason": reason})
    assert done.ok and not form.is_open

    req = wait_status(slack, bot, rid, "rejected")
    assert req.decided_by == APPROVER2 and "not scheduled" in req.reason
    reply = slack.wait_for(lambda: slack.thread(CHANNEL, plan.ts))[-1]
    assert f"<@{ALICE}>" in reply.text and "not scheduled yet" in reply.text
    assert "<!channel>" not in reply.text and "&lt;!channel&gt; &amp; ask" in reply.text  # no @channel ping
    message = slack.wait_for(lambda: "Rejected" in text_of(m := slack.message(CHANNEL, plan.ts)) and m)
    assert buttons(message) == {}
    decided = slack.wait_for(lambda: "Rejected" in text_of(m := slack.message(APPROVALS, approval.ts)) and m)
    assert buttons(decided) == {}
    audit = [(e.actor, e.kind, e.name) for e in bot.store.events(rid)]
    assert audit == [
        (ALICE, "transition", "created:draft"),
        (ALICE, "transition", "pending_approval"),
        (APPROVER2, "transition", "rejected"),
    ]
    assert github.repo("mitx", NEW_REPO) is None


def test_reject_by_a_non_approver_opens_no_form(github, slack, bot):
    rid, plan, approval = confirmed(slack, bot)
    slack.add_member(APPROVALS, BOB)

    slack.click(APPROVALS, approval.ts, buttons(approval)["Reject"], BOB)

    slack.wait_for(lambda: slack.ephemerals(user=BOB, channel=APPROVALS))
    assert slack.top_view(BOB) is None
    assert bot.store.get(rid).status == "pending_approval"


def test_auto_approve_runs_an_approvers_own_request(github, slack, start_bot):
    bot = start_bot(**APPROVERS, ORC_AUTO_APPROVE="true")
    slack.command("/orc", f"rerun {COURSE} {TERM}", user=APPROVER1, channel=CHANNEL)
    rid, plan = plan_message(slack, bot)

    slack.click(CHANNEL, plan.ts, buttons(plan)["Confirm"], APPROVER1)

    wait_status(slack, bot, rid, "completed")
    assert github.repo("mitx", NEW_REPO) is not None
    assert slack.messages(APPROVALS) == []
    assert "pending_approval" not in [e.name for e in bot.store.events(rid)]


def test_requester_cancels_while_waiting_and_approvers_see_it(github, slack, bot):
    rid, plan, approval = confirmed(slack, bot)
    message = slack.wait_for(lambda: "Waiting for approval" in text_of(m := slack.message(CHANNEL, plan.ts)) and m)

    slack.click(CHANNEL, plan.ts, buttons(message)["Cancel"], ALICE)

    wait_status(slack, bot, rid, "cancelled")
    decided = slack.wait_for(lambda: "Cancelled" in text_of(m := slack.message(APPROVALS, approval.ts)) and m)
    assert buttons(decided) == {}
    slack.wait_for(lambda: f"Cancelled* by <@{ALICE}>" in text_of(slack.message(CHANNEL, plan.ts)))
    assert github.repo("mitx", NEW_REPO) is None
