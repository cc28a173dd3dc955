"""`/orc rerun`: plan in the channel, Confirm, and the new run exists on GitHub."""

from __future__ import annotations

from tests.bot.conftest import (
    ALICE,
    CHANNEL,
    COURSE,
    NEW_REPO,
    OLD_REPO,
    TERM,
    buttons,
    plan_message,
    seed_xml_run,
    text_of,
    wait_status,
)
from tests.conftest import STAGING


def test_rerun_plan_confirm_creates_the_next_term_and_announces_it(github, slack, bot):
    """Given 8.01r Fall_2030 with team alice+bob and a staging hook, when alice runs
    `/orc rerun 8.01r Fall_2030` and confirms, Spring_2031 exists as a history-free
    private copy retargeted to the new term, with the team carried over and the
    staging hook, and the channel hears about it."""
    github.add_hook("mitx", OLD_REPO, STAGING)

    ack = slack.command("/orc", f"rerun {COURSE} {TERM}", user=ALICE, channel=CHANNEL)

    assert ack.status == 200 and ack.elapsed < 3.0 and ack.body == ""  # acked at once, nothing to replace later
    rid, plan = plan_message(slack, bot)
    assert plan.channel == CHANNEL and plan.is_bot
    assert "Spring_2031" in text_of(plan)
    assert "Awaiting confirmation" in text_of(plan)
    assert {"Confirm", "Cancel"} <= set(buttons(plan))
    assert github.repo("mitx", NEW_REPO) is None  # a plan changes nothing

    slack.click(CHANNEL, plan.ts, buttons(plan)["Confirm"], ALICE)
    wait_status(slack, bot, rid, "completed")

    repo = github.repo("mitx", NEW_REPO)
    assert repo.private
    assert len(github.commits("mitx", NEW_REPO)) == 1
    files = github.files("mitx", NEW_REPO)
    assert files["course.xml"] == b'<course url_name="Spring_2031" org="MITx" course="8.01r"/>'
    assert "course/Spring_2031.xml" in files and "course/Fall_2030.xml" not in files
    assert files["README.md"] == b"physics\n"
    team = github.team("mitx", NEW_REPO.lower())
    assert {"alice", "bob"} <= set(team.members)
    assert team.repos[f"mitx/{NEW_REPO}"] == "push"
    assert [h["config"]["url"] for h in repo.hooks] == [STAGING]
    assert github.repo("mitx", OLD_REPO).hooks == []  # the old run no longer deploys

    url = bot.store.get(rid).result["links"][0]
    assert url.endswith(f"/mitx/{NEW_REPO}")
    edited = slack.wait_for(lambda: "Completed" in text_of(m := slack.message(CHANNEL, plan.ts)) and m)
    assert url in text_of(edited) and "*Done*" in text_of(edited)
    assert buttons(edited) == {}
    thread = slack.wait_for(lambda: slack.thread(CHANNEL, plan.ts))
    assert len(thread) == 1 and thread[0].reply_broadcast  # told once: in the thread, shown in the channel
    assert f"<@{ALICE}>" in thread[0].text and url in thread[0].text
    assert [m for m in slack.messages(CHANNEL) if m.ts != plan.ts and not m.is_reply] == []


def test_rerun_change_term_replaces_the_plan_in_place(github, slack, bot):
    """ "Change term/team" opens a form; the new plan replaces the old one in the same
    message, under the same request number."""
    slack.command("/orc", f"rerun {COURSE} {TERM}", user=ALICE, channel=CHANNEL)
    rid, plan = plan_message(slack, bot)

    slack.click(CHANNEL, plan.ts, buttons(plan)["Change term/team"], ALICE)
    form = slack.wait_for(lambda: slack.top_view(ALICE))
    assert form.private_metadata and "new_term" in form.input_block_ids()
    resp = slack.submit_view(form.id, ALICE, {"new_term": "Summer_2031", "members": "carol dave"})
    assert resp.ok and resp.json()["response_action"] == "update"
    slack.wait_for(lambda: f"request #{rid} is ready" in text_of(slack.top_view(ALICE)))

    req = bot.store.get(rid)
    assert (
        req.status == "draft" and req.params["new_term"] == "Summer_2031" and req.params["members"] == ["carol", "dave"]
    )
    assert [r.id for r in bot.store.list_requests()] == [rid]  # the same request, not a new one
    message = slack.wait_for(lambda: "Summer_2031" in text_of(m := slack.message(CHANNEL, plan.ts)) and m)
    assert f"Request #{rid}" in text_of(message)
    assert len([m for m in slack.messages(CHANNEL) if m.is_bot]) == 1  # edited, not reposted

    slack.click(CHANNEL, plan.ts, buttons(message)["Confirm"], ALICE)
    wait_status(slack, bot, rid, "completed")
    team = github.team("mitx", "content-mit-801r-summer_2031")
    assert set(team.members) == {"carol", "dave"}


def test_cancel_changes_nothing(github, slack, bot):
    slack.command("/orc", f"rerun {COURSE} {TERM}", user=ALICE, channel=CHANNEL)
    rid, plan = plan_message(slack, bot)
    before = github.count("POST") + github.count("PUT") + github.count("PATCH") + github.count("DELETE")

    slack.click(CHANNEL, plan.ts, buttons(plan)["Cancel"], ALICE)

    wait_status(slack, bot, rid, "cancelled")
    edited = slack.wait_for(lambda: "Cancelled" in text_of(m := slack.message(CHANNEL, plan.ts)) and m)
    assert buttons(edited) == {}
    assert github.repo("mitx", NEW_REPO) is None
    after = github.count("POST") + github.count("PUT") + github.count("PATCH") + github.count("DELETE")
    assert after == before


def test_change_term_to_an_existing_repo_brings_the_form_back_with_the_problem(github, slack, bot):
    """Existence on GitHub is a slow check: it runs after the ack, and the form comes back
    with what was typed and the problem named."""
    github.add_repo("mitx", "content-mit-801r-Summer_2031", files={"x": b"someone else's"})
    slack.command("/orc", f"rerun {COURSE} {TERM}", user=ALICE, channel=CHANNEL)
    rid, plan = plan_message(slack, bot)
    slack.click(CHANNEL, plan.ts, buttons(plan)["Change term/team"], ALICE)
    form = slack.wait_for(lambda: slack.top_view(ALICE))

    resp = slack.submit_view(form.id, ALICE, {"new_term": "Summer_2031"})

    assert resp.json()["response_action"] == "update"
    back = slack.wait_for(lambda: "Please fix" in text_of(v := slack.top_view(ALICE)) and v)
    assert "content-mit-801r-Summer_2031 exists and was not made by this request" in text_of(back)
    assert "new_term" in back.input_block_ids() and '"initial_value": "Summer_2031"' in text_of(back)
    assert [r.id for r in bot.store.list_requests()] == [rid]
    assert bot.store.get(rid).params["new_term"] == "Spring_2031"


def test_change_form_submitted_after_confirm_leaves_the_running_request_alone(github, slack, bot):
    """Alice opens "Change term/team", then confirms the plan anyway (or a colleague does)
    and submits the form later: the confirmed request keeps its message; nothing new is planned."""
    slack.command("/orc", f"rerun {COURSE} {TERM}", user=ALICE, channel=CHANNEL)
    rid, plan = plan_message(slack, bot)
    slack.click(CHANNEL, plan.ts, buttons(plan)["Change term/team"], ALICE)
    form = slack.wait_for(lambda: slack.top_view(ALICE))
    slack.click(CHANNEL, plan.ts, buttons(plan)["Confirm"], ALICE)
    wait_status(slack, bot, rid, "completed")

    late = slack.submit_view(form.id, ALICE, {"new_term": "Summer_2031"})

    assert late.json()["response_action"] == "errors"
    assert "already Completed" in form.errors["new_term"]
    assert [r.id for r in bot.store.list_requests()] == [rid]
    assert bot.store.get(rid).message_ts == plan.ts
    slack.wait_for(lambda: "Completed" in text_of(slack.message(CHANNEL, plan.ts)))


def test_a_change_that_loses_the_race_with_confirm_is_refused_and_the_run_goes_on(github, slack, bot):
    """The change form passed its quick checks, but the plan was confirmed while the new one
    was still being planned: the confirmed request runs as confirmed; the change is refused."""
    slack.command("/orc", f"rerun {COURSE} {TERM}", user=ALICE, channel=CHANNEL)
    rid, plan = plan_message(slack, bot)
    slack.click(CHANNEL, plan.ts, buttons(plan)["Change term/team"], ALICE)
    form = slack.wait_for(lambda: slack.top_view(ALICE))
    gate = github.block("GET", r"content-mit-801r-Summer_2031")  # planning the new term is slow

    try:
        submitted = slack.submit_view(form.id, ALICE, {"new_term": "Summer_2031"})
        assert submitted.ok
        slack.click(CHANNEL, plan.ts, buttons(plan)["Confirm"], ALICE)
        wait_status(slack, bot, rid, "completed")
    finally:
        gate.release()

    refused = slack.wait_for(lambda: "already" in text_of(v := slack.top_view(ALICE)) and v)
    assert f"Request #{rid} is already" in text_of(refused)
    assert [r.id for r in bot.store.list_requests()] == [rid]
    assert bot.store.get(rid).params["new_term"] == "Spring_2031"
    slack.wait_for(lambda: "Completed" in text_of(slack.message(CHANNEL, plan.ts)))


def test_rerun_of_a_term_outside_orc_terms_asks_for_the_new_term(github, slack, bot):
    """IAP is not in ORC_TERMS, so no next term can be suggested: a form asks for it."""
    seed_xml_run(github, "content-mit-801r-IAP_2031")

    ack = slack.command("/orc", f"rerun {COURSE} IAP_2031", user=ALICE, channel=CHANNEL)

    assert ack.status == 200 and ack.elapsed < 3.0
    form = slack.wait_for(lambda: slack.top_view(ALICE))
    assert "new_term" in form.input_block_ids()
    slack.submit_view(form.id, ALICE, {"new_term": "spring_2031"})
    rid, plan = plan_message(slack, bot)
    assert "IAP_2031 → Spring_2031" in text_of(plan)
    slack.click(CHANNEL, plan.ts, buttons(plan)["Confirm"], ALICE)
    wait_status(slack, bot, rid, "completed")
    assert github.repo("mitx", NEW_REPO).private
