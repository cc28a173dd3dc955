"""Where the bot cannot post: it says so and finds another way instead of going quiet."""

from __future__ import annotations

from tests.bot.conftest import ALICE, APPROVER1, CHANNEL, COURSE, TERM, buttons, plan_message, text_of, wait_status


def expect_slack_refused(slack, method: str, error: str) -> None:
    """The bot tried a channel it is not in once; Slack's refusal was expected."""
    assert [(e.method, e.error) for e in slack.errors] == [(method, error)]
    slack.errors.clear()


def test_plan_goes_to_a_dm_when_the_bot_is_not_in_the_channel(github, slack, bot):
    slack.add_channel("GSECRET", name="secret", is_private=True, members=[ALICE], bot_member=False)

    slack.command("/orc", f"rerun {COURSE} {TERM}", user=ALICE, channel="GSECRET")

    rid, plan = plan_message(slack, bot)
    assert plan.channel == slack.dm(ALICE)
    note = slack.wait_for(lambda: [e for e in slack.ephemerals(user=ALICE, channel="GSECRET") if "/invite" in e.text])
    assert "direct message" in note[0].text
    slack.click(plan.channel, plan.ts, buttons(plan)["Confirm"], ALICE)
    wait_status(slack, bot, rid, "completed")
    slack.wait_for(lambda: "Completed" in text_of(slack.message(plan.channel, plan.ts)))
    expect_slack_refused(slack, "chat.postMessage", "channel_not_found")


def test_approvers_are_asked_in_the_request_channel_when_the_approval_channel_is_closed(github, slack, start_bot):
    slack.add_channel("GHIDDEN", name="hidden", is_private=True, members=[APPROVER1], bot_member=False)
    bot = start_bot(ORC_APPROVERS=APPROVER1, ORC_APPROVAL_CHANNEL="GHIDDEN")
    slack.command("/orc", f"rerun {COURSE} {TERM}", user=ALICE, channel=CHANNEL)
    rid, plan = plan_message(slack, bot)

    slack.click(CHANNEL, plan.ts, buttons(plan)["Confirm"], ALICE)

    ask = slack.wait_for(lambda: [m for m in slack.messages(CHANNEL) if "Approve" in buttons(m)])[0]
    assert f"<@{APPROVER1}>" in ask.text
    slack.click(CHANNEL, ask.ts, buttons(ask)["Approve"], APPROVER1)
    wait_status(slack, bot, rid, "completed")
    expect_slack_refused(slack, "chat.postMessage", "channel_not_found")
