"""`/orc rollover` (approvers): a batch of reruns with progress in one message."""

from __future__ import annotations

from tests.bot.conftest import (
    ALICE,
    APPROVALS,
    APPROVER1,
    CHANNEL,
    NEW_REPO,
    ask,
    buttons,
    plan_message,
    seed_xml_run,
    text_of,
    wait_status,
)


def test_rollover_reruns_every_listed_course(github, slack, start_bot):
    seed_xml_run(github, "content-mit-6002x-Fall_2030", members=("carol",))
    bot = start_bot(ORC_APPROVERS=APPROVER1, ORC_APPROVAL_CHANNEL=APPROVALS, ORC_AUTO_APPROVE="true")

    _, refused = ask(slack, "rollover Fall_2030 Spring_2031", user=ALICE)
    assert "Only approvers" in text_of(refused)

    slack.command("/orc", "rollover Fall_2030 Spring_2031", user=APPROVER1, channel=CHANNEL)
    form = slack.wait_for(lambda: slack.top_view(APPROVER1))  # no Fall_2030 runs recorded yet: ask which
    slack.submit_view(form.id, APPROVER1, {"courses": "8.01r\n6.002x"})
    rid, plan = plan_message(slack, bot)
    assert "8.01r" in text_of(plan) and "6.002x" in text_of(plan)

    slack.click(CHANNEL, plan.ts, buttons(plan)["Confirm"], APPROVER1)

    wait_status(slack, bot, rid, "completed", timeout=30)
    assert github.repo("mitx", NEW_REPO) is not None
    assert set(github.team("mitx", "content-mit-6002x-spring_2031").members) >= {"carol"}
    final = slack.wait_for(lambda: "Completed" in text_of(m := slack.message(CHANNEL, plan.ts)) and m)
    assert "2 of 2" in text_of(final)
    assert slack.messages(APPROVALS) == []


def test_a_long_plan_fits_slacks_limits(github, slack, start_bot):
    """120 courses: the plan and the approval message are clipped to fit Block Kit, with a
    pointer to /orc status; Slack accepts every message (checked after each test)."""
    bot = start_bot(ORC_APPROVERS=APPROVER1, ORC_APPROVAL_CHANNEL=APPROVALS)
    courses = " ".join(f"{n}.{k:03d}x" for n in (6, 8, 18) for k in range(40))
    slack.command("/orc", "rollover Fall_2030 Spring_2031", user=APPROVER1, channel=CHANNEL)
    form = slack.wait_for(lambda: slack.top_view(APPROVER1))
    slack.submit_view(form.id, APPROVER1, {"courses": courses})
    rid, plan = plan_message(slack, bot)
    assert f"/orc status {rid}" in text_of(plan)

    slack.click(CHANNEL, plan.ts, buttons(plan)["Confirm"], APPROVER1)

    approval = slack.wait_for(lambda: slack.messages(APPROVALS))[0]
    assert "Approve" in buttons(approval) and f"/orc status {rid}" in text_of(approval)
    assert github.count("POST") == 0
