"""`/orc new`: a modal validated inline, then the usual plan → Confirm."""

from __future__ import annotations

import json

from tests.bot.conftest import ALICE, CHANNEL, buttons, plan_message, text_of, wait_status
from tests.conftest import STAGING

NEW = "content-mit-6002x-Spring_2031"


def open_form(slack):
    ack = slack.command("/orc", "new", user=ALICE, channel=CHANNEL)
    assert ack.status == 200 and ack.elapsed < 3.0
    form = slack.wait_for(lambda: slack.top_view(ALICE))
    assert slack.count("views.open", trigger_id=ack.trigger_id) == 1
    return form


def test_new_form_validates_inline_then_plans_in_the_channel(github, slack, bot):
    form = open_form(slack)
    assert form.callback_id == "orc.form"
    assert {"kind", "course", "term", "title", "members", "desired"} <= form.input_block_ids()
    assert json.loads(form.private_metadata)["channel"] == CHANNEL

    bad_id = slack.submit_view(form.id, ALICE, {"course": "8.01r/../x", "term": "Spring_2031"})
    assert bad_id.json()["response_action"] == "errors"
    assert set(form.errors) == {"course"} and form.is_open

    unknown_login = slack.submit_view(
        form.id, ALICE, {"course": "6.002x", "term": "Spring_2031", "members": "alice nosuchperson"}
    )
    assert unknown_login.json()["response_action"] == "errors"
    assert set(form.errors) == {"members"} and "nosuchperson" in form.errors["members"]

    exists = slack.submit_view(form.id, ALICE, {"course": "8.01r", "term": "Fall_2030", "members": "alice"})
    assert exists.json()["response_action"] == "errors"
    assert set(form.errors) == {"course"} and "already exists" in form.errors["course"]
    assert github.count("POST") == 0

    ok = slack.submit_view(
        form.id, ALICE, {"course": "6.002x", "term": "Spring_2031", "title": "Circuits", "members": "alice, bob"}
    )
    assert ok.ok and ok.elapsed < 3.0 and not form.is_open

    rid, plan = plan_message(slack, bot)
    assert plan.channel == CHANNEL
    assert "6.002x" in text_of(plan) and "Spring_2031" in text_of(plan)
    slack.click(CHANNEL, plan.ts, buttons(plan)["Confirm"], ALICE)
    wait_status(slack, bot, rid, "completed")

    repo = github.repo("mitx", NEW)
    assert repo.private and repo.description == "Circuits"
    assert {"alice", "bob"} <= set(github.team("mitx", NEW.lower()).members)
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
