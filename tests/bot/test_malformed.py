"""Signed but malformed: payloads that really come from Slack's signing secret (a bug, an
old message, a crafted request) but do not fit — each gets a 200 and a clear answer,
never a 500, a traceback or silence; nothing reaches GitHub."""

from __future__ import annotations

import json
import time
import urllib.parse

import pytest

from tests.bot.conftest import ALICE, CHANNEL, COURSE, TERM, buttons, plan_message


def send(slack, payload: dict | str, form: bool = True):
    body = (
        urllib.parse.urlencode({"payload": payload if isinstance(payload, str) else json.dumps(payload)})
        if form
        else payload
    )
    ts = str(int(time.time()))
    return slack.send_raw(body, {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": slack.sign(body, ts)})


NO_USER = object()


def click_payload(action_id: str, value, user=None) -> dict:
    payload = {
        "type": "block_actions",
        "trigger_id": f"trig-{action_id}-{value!r}"[:80],
        "channel": {"id": CHANNEL},
        "container": {"type": "message", "channel_id": CHANNEL},
        "actions": [{"action_id": action_id, "value": value, "type": "button"}],
    }
    if user is not NO_USER:
        payload["user"] = user or {"id": ALICE}
    return payload


@pytest.mark.parametrize("value", ["abc", "1.5", "", "9" * 30, {"id": 1}, 1, None, ["1"]])
def test_a_button_value_that_is_not_ours_is_acked_and_told(github, slack, bot, value):
    slack.command("/orc", f"rerun {COURSE} {TERM}", user=ALICE, channel=CHANNEL)
    rid, plan = plan_message(slack, bot)
    resp = send(slack, click_payload(f"orc.confirm:{rid}", value))
    assert resp.status == 200
    note = slack.wait_for(lambda: slack.ephemerals(user=ALICE, channel=CHANNEL))
    assert "That button is not one I made" in note[-1].text
    assert bot.store.get(rid).status == "draft" and github.count("POST") == 0


@pytest.mark.parametrize("action_id", ["orc.frobnicate:1", "orc.confirm", "orc.confirm:" + "9" * 30, "x" * 300])
def test_an_unknown_action_is_acked_not_404(github, slack, bot, action_id):
    resp = send(slack, click_payload(action_id, "1"))
    assert resp.status == 200
    assert bot.store.list_requests() == []


def test_a_payload_without_a_user_gets_a_200(github, slack, bot):
    resp = send(slack, click_payload("orc.confirm:1", "1", user=NO_USER))
    assert resp.status == 200
    resp = send(slack, click_payload("orc.confirm:1", "1", user={"id": {"nested": 1}}))
    assert resp.status == 200


def form_payload(slack, bot, values_state: dict, metadata: str | None = None) -> dict:
    """A submission of the /orc new form as Slack sends it, with its state replaced."""
    slack.command("/orc", "new", user=ALICE, channel=CHANNEL)
    view = slack.wait_for(lambda: slack.top_view(ALICE))
    return {
        "type": "view_submission",
        "trigger_id": f"trig-{time.monotonic_ns()}",
        "user": {"id": ALICE},
        "view": {
            "id": view.id,
            "type": "modal",
            "callback_id": "orc.form",
            "private_metadata": view.private_metadata if metadata is None else metadata,
            "blocks": view.blocks,
            "state": {"values": values_state},
        },
    }


@pytest.mark.parametrize("bad", [2030, ["Fall_2030"], {"x": 1}, "x" * 5000])
def test_a_form_field_of_the_wrong_type_is_an_inline_error(github, slack, bot, bad):
    state = {
        "course": {"course": {"type": "plain_text_input", "value": "6.002x"}},
        "term": {"term": {"type": "plain_text_input", "value": bad}},
    }
    resp = send(slack, form_payload(slack, bot, state))
    assert resp.status == 200
    answer = resp.json()
    assert answer["response_action"] == "errors" and set(answer["errors"]) == {"term"}
    assert bot.store.list_requests() == []


@pytest.mark.parametrize("metadata", ['{"verb": "new", "channel": "CEVIL"}', "", "abc.def", None])
def test_metadata_the_bot_did_not_write_is_refused(github, slack, bot, metadata):
    state = {
        "course": {"course": {"type": "plain_text_input", "value": "6.002x"}},
        "term": {"term": {"type": "plain_text_input", "value": "Fall_2030"}},
    }
    payload = form_payload(slack, bot, state, metadata if metadata is not None else "")
    if metadata is None:
        payload["view"]["private_metadata"] = {"verb": "new"}  # not even a string
    resp = send(slack, payload)
    assert resp.status == 200
    answer = resp.json()
    assert answer["response_action"] == "errors" and "changed outside Slack" in next(iter(answer["errors"].values()))
    assert bot.store.list_requests() == []


def test_a_reject_form_naming_no_request_is_refused_inline(github, slack, bot):
    """A reject form's request id comes from the signed metadata only: `abc` or 30 digits
    typed into a forged one never get as far as a lookup."""
    from bot.metadata import MetadataSigner

    signer = MetadataSigner(bot.settings.slack_signing_secret)
    for request in ("abc", "9" * 30, None):
        payload = {
            "type": "view_submission",
            "trigger_id": f"trig-{request}",
            "user": {"id": ALICE},
            "view": {
                "id": "VREJECT",
                "type": "modal",
                "callback_id": "orc.reject_reason",
                "private_metadata": signer.sign({"request": request}),
                "state": {"values": {"reason": {"reason": {"type": "plain_text_input", "value": "no, because"}}}},
            },
        }
        resp = send(slack, payload)
        assert resp.status == 200 and resp.json()["errors"]["reason"] == "This form names no request; close it."


def test_a_megabyte_of_command_text_is_refused_before_it_is_read(github, slack, bot):
    body = urllib.parse.urlencode({"command": "/orc", "text": "a" * (1 << 20), "user_id": ALICE})
    ts = str(int(time.time()))
    resp = slack.send_raw(body, {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": slack.sign(body, ts)})
    assert resp.status == 413


def test_typed_text_in_a_plan_is_inert(github, slack, bot):
    slack.command("/orc", f"rerun {COURSE} {TERM}", user=ALICE, channel=CHANNEL)
    rid, plan = plan_message(slack, bot)
    assert "Confirm" in buttons(plan)
    flat = json.dumps(plan.blocks)
    assert "<!" not in flat  # no @channel / @here anywhere in what the bot wrote
