"""`/orc status N` after a rerun: each GitHub change with the URL of what it made, and the
command that prints the full audit trail."""

from __future__ import annotations

from tests.bot.conftest import ALICE, CHANNEL, COURSE, NEW_REPO, TERM, ask, buttons, plan_message, text_of, wait_status


def test_status_links_each_github_change_and_the_audit_command(github, slack, bot):
    slack.command("/orc", f"rerun {COURSE} {TERM}", user=ALICE, channel=CHANNEL)
    rid, plan = plan_message(slack, bot)
    _, before = ask(slack, f"status {rid}")
    assert "GitHub changes" not in text_of(before)  # a plan has changed nothing yet
    assert f"orcoursetrion audit --request {rid}" in text_of(before)

    slack.click(CHANNEL, plan.ts, buttons(plan)["Confirm"], ALICE)
    wait_status(slack, bot, rid, "completed")
    _, answer = ask(slack, f"status {rid}")
    text = text_of(answer)
    web = github.api_url.split("/api/")[0]
    repo = f"{web}/mitx/{NEW_REPO}"
    hook = github.repo("mitx", NEW_REPO).hooks[0]
    sha = github.commits("mitx", NEW_REPO)[0]["sha"]
    assert "GitHub changes:" in text
    for url in (
        repo,
        f"{repo}/commit/{sha}",
        f"{repo}/settings/hooks/{hook['id']}",
        f"{web}/orgs/mitx/teams/{NEW_REPO.lower()}/members",
    ):
        assert f"<{url}>" in text, url
    assert "https://***@gitreload-staging.example.edu/" in text
    assert f"orcoursetrion audit --request {rid}" in text
