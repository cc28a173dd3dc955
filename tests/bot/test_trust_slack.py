"""Issue 12's stories through signed Slack requests: a plan that cannot run says why and
offers no Confirm, hostile course content is refused before any write, and a rerun done
twice names the request that did it."""

from __future__ import annotations

from tests.bot.conftest import (
    ALICE,
    CHANNEL,
    COURSE,
    NEW_REPO,
    OLD_REPO,
    TERM,
    ask,
    bot_messages,
    buttons,
    plan_message,
    text_of,
    wait_status,
)


def writes(github) -> int:
    return sum(1 for r in github.requests if r.method != "GET" and not r.path.endswith("info/refs"))


def test_someone_elses_repo_stops_the_plan_with_no_confirm(github, slack, bot):
    github.add_repo("mitx", NEW_REPO, files={"README.md": b"mine\n"})
    _, answer = ask(slack, f"rerun {COURSE} {TERM}")
    assert "cannot run as it is" in text_of(answer)
    assert f"mitx/{NEW_REPO} exists and was not made by this request" in text_of(answer)
    assert bot_messages(slack, CHANNEL) == [] and bot.store.list_requests() == []
    assert writes(github) == 0


def test_hostile_course_content_is_refused_in_the_plan(github, slack, bot):
    github.add_commit(
        "mitx", OLD_REPO, {"course.xml": b'<course url_name="../../../../etc/cron.d/x"/>'}, message="evil"
    )
    _, answer = ask(slack, f"rerun {COURSE} {TERM}")
    assert "which is not a plain name" in text_of(answer) and "`../../../../etc/cron.d/x`" in text_of(answer)
    assert bot.store.list_requests() == [] and writes(github) == 0


def test_an_unknown_login_is_named_in_the_plan(github, slack, bot):
    _, answer = ask(slack, f"team {COURSE} {TERM} alice nosuchperson")
    assert "GitHub does not know these logins: nosuchperson." in text_of(answer)
    assert writes(github) == 0


def test_a_rerun_done_twice_names_the_request_that_did_it(github, slack, bot):
    slack.command("/orc", f"rerun {COURSE} {TERM}", user=ALICE, channel=CHANNEL)
    rid, plan = plan_message(slack, bot)
    slack.click(CHANNEL, plan.ts, buttons(plan)["Confirm"], ALICE)
    wait_status(slack, bot, rid, "completed")
    before = writes(github)
    _, again = ask(slack, f"rerun {COURSE} {TERM} Spring_2031")
    assert f"8.01r Fall_2030 was already rerun into mitx/{NEW_REPO} by request #{rid} on" in text_of(again)
    assert [r.id for r in bot.store.list_requests()] == [rid]
    assert writes(github) == before
