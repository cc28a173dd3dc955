"""`/orc release` and `/orc team`: plan → Confirm → the change on GitHub."""

from __future__ import annotations

from tests.bot.conftest import ALICE, CHANNEL, COURSE, OLD_REPO, TERM, buttons, plan_message, text_of, wait_status
from tests.conftest import PRODUCTION, STAGING


def confirm(slack, bot, text: str) -> int:
    ack = slack.command("/orc", text, user=ALICE, channel=CHANNEL)
    assert ack.status == 200 and ack.elapsed < 3.0
    rid, plan = plan_message(slack, bot)
    slack.click(CHANNEL, plan.ts, buttons(plan)["Confirm"], ALICE)
    wait_status(slack, bot, rid, "completed")
    return rid


def test_release_xml_creates_live_branch_and_production_hook(github, slack, bot):
    github.add_hook("mitx", OLD_REPO, STAGING)

    rid = confirm(slack, bot, f"release {COURSE} {TERM}")

    assert "live" in github.branches("mitx", OLD_REPO)
    urls = [h["config"]["url"] for h in github.repo("mitx", OLD_REPO).hooks]
    assert sorted(urls) == sorted([STAGING, PRODUCTION])
    ts = bot.store.get(rid).message_ts
    message = slack.wait_for(lambda: "Completed" in text_of(m := slack.message(CHANNEL, ts)) and m)
    assert "production" in text_of(message) and "***@gitreload-prod.example.edu" in text_of(message)


def test_team_replaces_the_runs_members(github, slack, bot):
    confirm(slack, bot, f"team {COURSE} {TERM} carol dave")

    team = github.team("mitx", OLD_REPO.lower())
    assert set(team.members) == {"carol", "dave"}
    assert team.repos[f"mitx/{OLD_REPO}"] == "push"
    ts = bot.store.list_requests(limit=1)[0].message_ts
    reply = slack.wait_for(lambda: slack.thread(CHANNEL, ts))[-1]
    assert "carol, dave" in reply.text
