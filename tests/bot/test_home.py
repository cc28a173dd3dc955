"""App Home: your requests, and for approvers the queue with Approve / Reject."""

from __future__ import annotations

from tests.bot.conftest import (
    ALICE,
    APPROVALS,
    APPROVER1,
    CHANNEL,
    COURSE,
    NEW_REPO,
    TERM,
    buttons,
    plan_message,
    text_of,
    wait_status,
)


def pending_rerun(slack, start_bot):
    """A bot with one approver, and alice's confirmed rerun waiting for approval."""
    bot = start_bot(ORC_APPROVERS=APPROVER1, ORC_APPROVAL_CHANNEL=APPROVALS)
    slack.command("/orc", f"rerun {COURSE} {TERM}", user=ALICE, channel=CHANNEL)
    rid, plan = plan_message(slack, bot)
    slack.click(CHANNEL, plan.ts, buttons(plan)["Confirm"], ALICE)
    wait_status(slack, bot, rid, "pending_approval")
    return bot, rid


def test_home_shows_my_requests(github, slack, bot):
    empty = slack.open_home(ALICE)
    assert empty.status == 200 and empty.elapsed < 3.0
    assert "None yet" in text_of(slack.wait_for(lambda: slack.home(ALICE)))

    slack.command("/orc", f"rerun {COURSE} {TERM}", user=ALICE, channel=CHANNEL)
    plan_message(slack, bot)
    slack.open_home(ALICE)

    home = slack.wait_for(lambda: "Spring_2031" in text_of(v := slack.home(ALICE)) and v)
    assert "Waiting for approval" not in text_of(home)  # alice is no approver
    assert buttons(home) == {}


def test_approver_home_lists_the_queue_and_approves_from_it(github, slack, start_bot):
    bot, rid = pending_rerun(slack, start_bot)

    slack.open_home(APPROVER1)
    home = slack.wait_for(lambda: "Waiting for approval* (1)" in text_of(v := slack.home(APPROVER1)) and v)
    assert buttons(home) == {"Approve": f"orc.approve:{rid}", "Reject": f"orc.reject:{rid}"}

    click = slack.click_home(APPROVER1, f"orc.approve:{rid}")

    assert click.status == 200 and click.elapsed < 3.0
    wait_status(slack, bot, rid, "completed")
    assert github.repo("mitx", NEW_REPO) is not None
    refreshed = slack.wait_for(lambda: "Waiting for approval* (0)" in text_of(v := slack.home(APPROVER1)) and v)
    assert buttons(refreshed) == {}


def test_reject_from_home_opens_the_reason_form(github, slack, start_bot):
    bot, rid = pending_rerun(slack, start_bot)
    slack.open_home(APPROVER1)
    slack.wait_for(lambda: f"orc.reject:{rid}" in buttons(slack.home(APPROVER1)).values())

    slack.click_home(APPROVER1, f"orc.reject:{rid}")
    form = slack.wait_for(lambda: slack.top_view(APPROVER1))
    slack.submit_view(form.id, APPROVER1, {"reason": "Duplicate of another request."})

    wait_status(slack, bot, rid, "rejected")
    slack.wait_for(lambda: "Waiting for approval* (0)" in text_of(slack.home(APPROVER1)))


def test_slack_retry_of_home_opened_is_ignored(github, slack, bot):
    event = {"type": "app_home_opened", "user": ALICE, "channel": slack.dm(ALICE), "tab": "home"}

    retry = slack.event(event, retry_num=1)

    assert retry.status == 200
    assert slack.count("views.publish") == 0
    slack.event(event)
    slack.wait_for(lambda: slack.count("views.publish") == 1)
