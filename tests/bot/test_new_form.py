"""`/orc new`: a modal validated inline, then the usual plan → Confirm."""

from __future__ import annotations

from tests.bot.conftest import ALICE, CHANNEL, buttons, plan_message, text_of, wait_status
from tests.conftest import STAGING

NEW = "content-mit-6002x-Spring_2031"


def open_form(slack):
    ack = slack.command("/orc", "new", user=ALICE, channel=CHANNEL)
    assert ack.status == 200 and ack.elapsed < 3.0
    form = slack.wait_for(lambda: slack.top_view(ALICE))
    assert slack.count("views.open", trigger_id=ack.trigger_id) == 1
    return form


def test_new_form_checks_format_inline_and_github_after_the_ack(github, slack, bot):
    form = open_form(slack)
    assert form.callback_id == "orc.form"
    assert {"kind", "course", "term", "title", "members", "desired"} <= form.input_block_ids()
    assert form.private_metadata and CHANNEL not in form.private_metadata.split(".")[1]  # signed, not just JSON

    bad_id = slack.submit_view(form.id, ALICE, {"course": "8.01r/../x", "term": "Spring_2031"})
    assert bad_id.json()["response_action"] == "errors"  # format: inline, before the ack
    assert set(form.errors) == {"course"} and form.is_open

    unknown_login = slack.submit_view(
        form.id, ALICE, {"course": "6.002x", "term": "Spring_2031", "members": "alice nosuchperson"}
    )
    assert unknown_login.json()["response_action"] == "update" and unknown_login.elapsed < 0.5
    back = slack.wait_for(lambda: "Please fix" in text_of(v := slack.top_view(ALICE)) and v)
    assert "nosuchperson" in text_of(back) and '"initial_value": "6.002x"' in text_of(back)  # typed values kept

    exists = slack.submit_view(back.id, ALICE, {"course": "8.01r", "term": "Fall_2030", "members": "alice"})
    assert exists.json()["response_action"] == "update"
    again = slack.wait_for(lambda: "already exists on GitHub" in text_of(v := slack.top_view(ALICE)) and v)
    assert "nosuchperson" not in text_of(again)  # the old problem is gone, the new one shown
    assert github.count("POST") == 0

    ok = slack.submit_view(
        back.id,
        ALICE,
        {
            "course": "6.002x",
            "term": "spring_2031",
            "title": "Circuits <!here>",
            "members": "alice, bob",
            "desired": "2099-01-15",
        },
    )
    assert ok.ok and ok.elapsed < 3.0

    rid, plan = plan_message(slack, bot)
    slack.wait_for(lambda: f"request #{rid} is ready" in text_of(slack.top_view(ALICE)))
    assert plan.channel == CHANNEL
    assert "6.002x" in text_of(plan) and "Spring_2031" in text_of(plan)
    assert "Title: `Circuits &lt;!here&gt;`" in text_of(plan) and "Needed by 2099-01-15" in text_of(plan)
    slack.click(CHANNEL, plan.ts, buttons(plan)["Confirm"], ALICE)
    wait_status(slack, bot, rid, "completed")

    repo = github.repo("mitx", NEW)
    assert repo.private and repo.description == "Circuits <!here>"
    assert set(github.team("mitx", NEW.lower()).members) == {"alice", "bob"}
    assert [h["config"]["url"] for h in repo.hooks] == [STAGING]


def test_new_studio_course_from_the_form(github, slack, bot):
    form = open_form(slack)
    slack.submit_view(form.id, ALICE, {"kind": "studio", "course": "6.002x", "term": "Spring_2031"})
    rid, plan = plan_message(slack, bot)
    slack.click(CHANNEL, plan.ts, buttons(plan)["Confirm"], ALICE)
    wait_status(slack, bot, rid, "completed")
    assert github.repo("MITx-Studio2LMS", NEW).private
    assert github.files("MITx-Studio2LMS", NEW)["course.xml"].startswith(b'<course url_name="Spring_2031"')
    assert github.repo("mitx", NEW) is None
