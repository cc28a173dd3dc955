"""GitHub failing: the request is marked Failed with the reason and a Retry button; once
GitHub is back, Retry finishes the job. Secrets in GitHub's answers never reach Slack."""

from __future__ import annotations

from tests.bot.conftest import (
    ALICE,
    CHANNEL,
    COURSE,
    NEW_REPO,
    TERM,
    assert_no_secrets,
    buttons,
    plan_message,
    text_of,
    wait_status,
)
from tests.conftest import STAGING


def start_rerun(slack, bot):
    slack.command("/orc", f"rerun {COURSE} {TERM}", user=ALICE, channel=CHANNEL)
    rid, plan = plan_message(slack, bot)
    slack.click(CHANNEL, plan.ts, buttons(plan)["Confirm"], ALICE)
    return rid, plan


def test_failed_request_shows_the_error_and_retry_finishes_it(github, slack, bot):
    github.fail("POST", r"/orgs/mitx/repos$", 500, times=20)

    rid, plan = start_rerun(slack, bot)

    failed = wait_status(slack, bot, rid, "failed")
    assert failed.error
    message = slack.wait_for(lambda: "Failed" in text_of(m := slack.message(CHANNEL, plan.ts)) and m)
    assert failed.error[:60] in text_of(message).replace("&amp;", "&")
    assert "Retry" in buttons(message)
    note = slack.wait_for(lambda: slack.thread(CHANNEL, plan.ts))[-1]
    assert f"<@{ALICE}>" in note.text and "failed" in note.text
    assert github.repo("mitx", NEW_REPO) is None

    github.clear_faults()
    slack.click(CHANNEL, plan.ts, buttons(message)["Retry"], ALICE)

    done = wait_status(slack, bot, rid, "completed")
    assert github.repo("mitx", NEW_REPO).private
    assert len(github.commits("mitx", NEW_REPO)) == 1
    edited = slack.wait_for(lambda: "Completed" in text_of(m := slack.message(CHANNEL, plan.ts)) and m)
    assert done.result["links"][0] in text_of(edited) and buttons(edited) == {}
    names = [e.name for e in bot.store.events(rid) if e.kind == "transition"]
    assert names == ["created:draft", "approved", "in_progress", "failed", "approved", "in_progress", "completed"]


def test_secrets_in_github_errors_never_reach_slack(github, slack, bot):
    """GitHub echoes the hook URL (with its password) in a validation error."""
    github.fail(
        "POST",
        r"/hooks$",
        422,
        body={"message": f"Validation Failed: {STAGING} is not reachable", "errors": [{"message": STAGING}]},
        times=20,
    )

    rid, plan = start_rerun(slack, bot)

    failed = wait_status(slack, bot, rid, "failed")
    slack.wait_for(lambda: "Failed" in text_of(slack.message(CHANNEL, plan.ts)))
    slack.wait_for(lambda: slack.thread(CHANNEL, plan.ts))
    assert "stage-secret-pw" not in (failed.error or "") + (failed.error_step or "")
    slack.command("/orc", f"status {rid}", user=ALICE, channel=CHANNEL)
    slack.open_home(ALICE)
    slack.wait_for(lambda: slack.home(ALICE))
    assert_no_secrets(slack)
