"""Self-tests for the fake Slack (tests/fakes/slack.py).

They use the real slack_sdk WebClient against the fake's Web API and a tiny real
Bolt app served over HTTP (wsgiref) that the fake drives like Slack would.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.parse
import urllib.request
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tests.fakes.slack import FakeSlack, validate_blocks, validate_view

TOKEN = "xoxb-test"
SECRET = "sig-secret"


def section(text):
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def button(action_id, text="Go", value="v"):
    return {"type": "button", "action_id": action_id, "text": {"type": "plain_text", "text": text}, "value": value}


MODAL = {
    "type": "modal",
    "callback_id": "rerun_modal",
    "title": {"type": "plain_text", "text": "Rerun a course"},
    "submit": {"type": "plain_text", "text": "Rerun"},
    "close": {"type": "plain_text", "text": "Cancel"},
    "private_metadata": json.dumps({"origin": "C123"}),
    "blocks": [
        {
            "type": "input",
            "block_id": "course",
            "label": {"type": "plain_text", "text": "Course"},
            "element": {"type": "plain_text_input", "action_id": "course_input"},
        },
        {
            "type": "input",
            "block_id": "term",
            "label": {"type": "plain_text", "text": "Term"},
            "element": {
                "type": "static_select",
                "action_id": "term_select",
                "options": [
                    {"text": {"type": "plain_text", "text": t}, "value": t} for t in ("Fall_2030", "Spring_2031")
                ],
            },
        },
        {
            "type": "input",
            "block_id": "when",
            "optional": True,
            "label": {"type": "plain_text", "text": "Start"},
            "element": {"type": "datepicker", "action_id": "start"},
        },
    ],
}


def _modal(callback_id, blocks, **extra):
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": {"type": "plain_text", "text": callback_id},
        "submit": {"type": "plain_text", "text": "Next"},
        "blocks": blocks,
        **extra,
    }


STEP1 = _modal(
    "step1",
    [
        {"type": "actions", "block_id": "nav", "elements": [button("push", "More")]},
        {
            "type": "input",
            "block_id": "pick",
            "label": {"type": "plain_text", "text": "Tags"},
            "element": {
                "type": "checkboxes",
                "action_id": "tags",
                "options": [{"text": {"type": "mrkdwn", "text": f"*{t}*"}, "value": t} for t in ("a", "b")],
            },
        },
    ],
)
STEP2 = _modal("step2", [section("step two")])
STEP3 = _modal("step3", [section("step three")], notify_on_close=True)


@pytest.fixture
def slack():
    with FakeSlack(bot_token=TOKEN, signing_secret=SECRET) as fake:
        fake.add_user("U123", name="alice", real_name="Alice A", email="alice@mit.edu")
        fake.add_user("U456", name="bob", real_name="Bob B", email="bob@mit.edu")
        fake.add_channel("C123", name="course-ops", members=["U123"])
        yield fake


@pytest.fixture
def client(slack):
    return WebClient(base_url=slack.api_url, token=TOKEN)


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def bolt(slack):
    """A tiny real Bolt app served over HTTP; slack.app_url points at it."""
    logging.getLogger("slack_bolt").setLevel(logging.CRITICAL)
    app = App(token=TOKEN, signing_secret=SECRET, client=WebClient(base_url=slack.api_url, token=TOKEN))
    seen = {"events": [], "closed": []}

    @app.command("/orc")
    def orc(ack, body, client, say, respond):
        text = body["text"]
        if text == "modal":
            ack()
            client.views_open(trigger_id=body["trigger_id"], view=MODAL)
        elif text == "respond":
            ack()
            respond(text="via response_url")
        elif text == "ack-text":
            ack("only you can see this")
        elif text == "ack-in-channel":
            ack(response_type="in_channel", text="everyone sees this")
        elif text == "ack-button":
            ack(text="pick", blocks=[{"type": "actions", "elements": [button("replace", "Go")]}])
        elif text == "slow":
            time.sleep(0.4)
            ack()
        else:
            ack()
            say(
                text=f"Rerun {text}?",
                blocks=[
                    section(f"Rerun *{text}*?"),
                    {"type": "actions", "elements": [button("approve", "Approve", "run-1")]},
                ],
            )

    @app.action("approve")
    def approve(ack, body, client, respond):
        ack()
        client.chat_update(
            channel=body["channel"]["id"],
            ts=body["message"]["ts"],
            text=f"Approved by <@{body['user']['id']}> ({body['actions'][0]['value']})",
            blocks=[section("Approved")],
        )

    @app.action("replace")
    def replace(ack, respond):
        ack()
        respond(replace_original=True, text="replaced via response_url")

    @app.view("rerun_modal")
    def on_submit(ack, view):
        values = view["state"]["values"]
        course = values["course"]["course_input"]["value"]
        term = values["term"]["term_select"]["selected_option"]["value"]
        if not course.startswith("8."):
            ack(response_action="errors", errors={"course": f"Unknown course {course} ({term})"})
        else:
            ack()

    @app.view("bad_errors")
    def bad_errors(ack):
        ack(response_action="errors", errors={"nope": "wrong block"})

    @app.action("push")
    def push(ack, body, client):
        ack()
        client.views_push(trigger_id=body["trigger_id"], view=STEP2)

    @app.view("step2")
    def step2(ack):
        ack(response_action="update", view=STEP3)

    @app.view("step1")
    def step1(ack):
        ack(response_action="clear")

    @app.view_closed("step3")
    def step3_closed(ack, body):
        ack()
        seen["closed"].append(body["view"]["id"])

    @app.event("app_home_opened")
    def home_opened(event, client):
        seen["events"].append(event)
        client.views_publish(
            user_id=event["user"],
            view={
                "type": "home",
                "blocks": [section("Welcome"), {"type": "actions", "elements": [button("refresh", "Refresh")]}],
            },
        )

    @app.action("refresh")
    def refresh(ack, body):
        ack()
        seen["events"].append({"type": "refresh", "view_id": body["view"]["id"]})

    server = make_server("127.0.0.1", 0, SlackRequestHandler(app), _ThreadingWSGIServer, _QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    slack.app_url = f"http://127.0.0.1:{server.server_port}/slack/events"
    try:
        yield seen
    finally:
        server.shutdown()
        server.server_close()


# ---------------------------------------------------------------------- Web API
def test_webclient_post_update_thread_and_reads(slack, client):
    auth = client.auth_test()
    assert auth["user_id"] == "UBOT" and auth["team_id"] == "T0001" and auth["bot_id"]

    r = client.chat_postMessage(channel="C123", text="hello", blocks=[section("*hello*")])
    ts = r["ts"]
    assert r["channel"] == "C123" and r["message"]["user"] == "UBOT"
    assert r["message"]["blocks"][0]["block_id"]  # Slack fills in block ids
    reply = client.chat_postMessage(channel="C123", text="in thread", thread_ts=ts)
    # form-encoded request path (blocks as a JSON string)
    form = client.api_call(
        "chat.postMessage", data={"channel": "course-ops", "text": "form", "blocks": json.dumps([section("form")])}
    )
    assert form["ts"] > reply["ts"] > ts
    client.chat_update(channel="C123", ts=ts, text="edited")

    msgs = slack.messages("C123")
    assert [m.text for m in msgs] == ["edited", "form"]
    m = slack.message("C123", ts)
    assert m.edits[0]["text"] == "hello" and m.blocks[0]["text"]["text"] == "*hello*"
    assert [r.text for r in slack.thread("C123", ts)] == ["in thread"]
    assert slack.message("C123", reply["ts"]).thread_ts == ts

    link = client.chat_getPermalink(channel="C123", message_ts=reply["ts"])["permalink"]
    assert f"/archives/C123/p{reply['ts'].replace('.', '')}" in link and "thread_ts=" in link

    info = client.users_info(user="U123")["user"]  # GET request
    assert info["profile"]["email"] == "alice@mit.edu" and info["tz"] == "America/New_York"
    assert info["tz_label"] and isinstance(info["tz_offset"], int)
    assert client.users_lookupByEmail(email="bob@mit.edu")["user"]["id"] == "U456"
    dm = client.conversations_open(users="U456")["channel"]["id"]
    client.chat_postMessage(channel="U456", text="dm")
    assert dm.startswith("D") and slack.messages(dm)[0].text == "dm" == slack.messages("U456")[0].text

    eph = client.chat_postEphemeral(channel="C123", user="U123", text="psst")
    assert slack.ephemerals(user="U123")[0].ts == eph["message_ts"]
    client.chat_delete(channel="C123", ts=ts)
    assert slack.message("C123", ts).deleted and [m.text for m in slack.messages("C123")] == ["form"]
    assert slack.count("chat.postMessage") == 4 and slack.errors == []
    assert slack.warnings == []


def test_invalid_blocks_raise_slack_api_error(slack, client):
    cases = {
        "51 blocks": [section("x")] * 51,
        "3001-char section": [section("x" * 3001)],
        "76-char button": [{"type": "actions", "elements": [button("b", "x" * 76)]}],
    }
    for name, blocks in cases.items():
        with pytest.raises(SlackApiError) as exc:
            client.chat_postMessage(channel="C123", text=name, blocks=blocks)
        assert exc.value.response["error"] == "invalid_blocks", name
        assert exc.value.response["response_metadata"]["messages"], name
    msgs = [e.detail for e in slack.errors]
    assert "no more than 50 items allowed [json-pointer:/blocks]" in msgs[0][0]
    assert "must be less than 3001 characters [json-pointer:/blocks/0/text/text]" in msgs[1][0]
    assert "must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]" in msgs[2][0]
    assert slack.messages("C123") == []


def test_block_kit_rules():
    ok = [
        {"type": "header", "text": {"type": "plain_text", "text": "Hi"}},
        {"type": "divider"},
        {"type": "section", "block_id": "s", "fields": [{"type": "mrkdwn", "text": "*a*"}], "accessory": button("acc")},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "ctx"}]},
    ]
    assert validate_blocks(ok) == []
    bad = {
        "header mrkdwn": [{"type": "header", "text": {"type": "mrkdwn", "text": "x"}}],
        "header 151": [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}],
        "empty section": [{"type": "section"}],
        "11 fields": [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}],
        "dup block_id": [dict(section("a"), block_id="x"), dict(section("b"), block_id="x")],
        "dup action_id": [{"type": "actions", "elements": [button("a"), button("a")]}],
        "bad style": [{"type": "actions", "elements": [dict(button("a"), style="green")]}],
        "unknown block": [{"type": "fancy"}],
        "typo property": [{"type": "section", "text": {"type": "mrkdwn", "text": "t"}, "acessory": {}}],
        "long value": [{"type": "actions", "elements": [button("a", value="v" * 2001)]}],
        "confirm": [
            {
                "type": "actions",
                "elements": [
                    dict(
                        button("a"),
                        confirm={
                            "title": {"type": "plain_text", "text": "t" * 101},
                            "text": {"type": "mrkdwn", "text": "sure?"},
                            "confirm": {"type": "plain_text", "text": "Yes"},
                            "deny": {"type": "plain_text", "text": "No"},
                        },
                    )
                ],
            }
        ],
        "option value": [
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "t"},
                "accessory": {
                    "type": "static_select",
                    "action_id": "s",
                    "options": [{"text": {"type": "plain_text", "text": "a"}, "value": "v" * 151}],
                },
            }
        ],
        "input in actions": [{"type": "actions", "elements": [{"type": "plain_text_input", "action_id": "p"}]}],
        "26 elements": [{"type": "actions", "elements": [button(f"b{i}") for i in range(26)]}],
        "empty text": [section("")],
    }
    for name, blocks in bad.items():
        assert validate_blocks(blocks), name
    too_long_title = dict(MODAL, title={"type": "plain_text", "text": "x" * 25})
    assert "must be less than 25 characters [json-pointer:/view/title/text]" in validate_view(too_long_title)[0]
    no_submit = {k: v for k, v in MODAL.items() if k != "submit"}
    assert any("submit" in e for e in validate_view(no_submit))
    assert validate_view(MODAL) == []
    assert validate_view(dict(MODAL, blocks=[section("x")] * 101))


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
def test_channel_auth_and_scope_rules(slack, client):
    slack.add_channel("C999", name="other", bot_member=False)
    slack.add_channel("G111", name="secret", is_private=True, bot_member=False)
    expect = [
        (lambda: client.chat_postMessage(channel="CNOPE", text="x"), "channel_not_found"),
        (lambda: client.chat_postMessage(channel="G111", text="x"), "channel_not_found"),
        (lambda: client.chat_postMessage(channel="C123", text=""), "no_text"),
        (lambda: client.chat_postMessage(channel="C123", text="x" * 40001), "msg_too_long"),
        (lambda: client.chat_postEphemeral(channel="C123", user="U456", text="x"), "user_not_in_channel"),
        (lambda: client.chat_update(channel="C123", ts="1.000000", text="x"), "message_not_found"),
        (lambda: client.users_info(user="UNOPE"), "user_not_found"),
        (lambda: client.conversations_info(channel="C123"), "missing_scope"),
        (lambda: client.api_call("nope.method"), "unknown_method"),
        (lambda: WebClient(base_url=slack.api_url, token="xoxb-wrong").auth_test(), "invalid_auth"),
        (lambda: WebClient(base_url=slack.api_url).auth_test(), "not_authed"),
    ]
    for call, error in expect:
        with pytest.raises(SlackApiError) as exc:
            call()
        assert exc.value.response["error"] == error
    assert [e.error for e in slack.errors] == [e for _c, e in expect]
    # public channel, bot not a member: fine with chat:write.public, not without
    client.chat_postMessage(channel="C999", text="public ok")
    slack.scopes.discard("chat:write.public")
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel="C999", text="x")
    assert exc.value.response["error"] == "not_in_channel"
    # a bad thread_ts: Slack says ok but the reply is invisible -> recorded
    client.chat_postMessage(channel="C123", text="lost", thread_ts="123.456")
    assert slack.errors[-1].error == "thread_not_found" and slack.messages("C123") == []


def test_rate_limits(slack, client):
    slack.enforce_rate_limits = True
    for i in range(5):
        client.chat_postMessage(channel="C123", text=str(i))
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel="C123", text="too fast")
    assert exc.value.response.status_code == 429
    assert exc.value.response["error"] == "ratelimited"
    assert int(exc.value.response.headers["Retry-After"]) >= 1
    slack.advance(1.5)
    client.chat_postMessage(channel="C123", text="later")


def test_views_triggers_expire_and_are_single_use(slack, client):
    stale = slack.issue_trigger("U123")
    slack.advance(3.5)
    with pytest.raises(SlackApiError) as exc:
        client.views_open(trigger_id=stale, view=MODAL)
    assert exc.value.response["error"] == "expired_trigger_id"
    fresh = slack.issue_trigger("U123")
    view = client.views_open(trigger_id=fresh, view=MODAL)["view"]
    assert view["id"].startswith("V") and view["callback_id"] == "rerun_modal"
    assert view["state"] == {"values": {}} and view["hash"]
    for trigger, error in ((fresh, "exchanged_trigger_id"), ("123.456.abc", "invalid_trigger_id")):
        with pytest.raises(SlackApiError) as exc:
            client.views_open(trigger_id=trigger, view=MODAL)
        assert exc.value.response["error"] == error
    with pytest.raises(SlackApiError) as exc:
        client.views_open(
            trigger_id=slack.issue_trigger("U123"), view=dict(MODAL, title={"type": "plain_text", "text": "x" * 30})
        )
    assert exc.value.response["error"] == "invalid_arguments"
    with pytest.raises(SlackApiError) as exc:
        client.views_update(view_id=view["id"], hash="stale.hash", view=MODAL)
    assert exc.value.response["error"] == "hash_conflict"
    updated = client.views_update(view_id=view["id"], hash=view["hash"], view=dict(MODAL, callback_id="v2"))
    assert slack.views[view["id"]].callback_id == "v2" and updated["view"]["hash"] != view["hash"]
    assert [v.id for v in slack.open_views("U123")] == [view["id"]]


# ---------------------------------------------------------------------- Slack -> app
def test_signed_command_click_and_update(slack, bolt):
    resp = slack.command("/orc", "8.01r Fall_2030", user="U123", channel="C123")
    assert resp.status == 200 and resp.elapsed < 3
    msg = slack.wait_for(lambda: slack.last_message("C123"))
    assert msg.text == "Rerun 8.01r Fall_2030?" and msg.user == "UBOT"

    click = slack.click("C123", msg.ts, "approve", "U123")
    assert click.status == 200
    sent = click.payload
    assert sent["container"] == {"type": "message", "message_ts": msg.ts, "channel_id": "C123", "is_ephemeral": False}
    assert sent["actions"][0]["value"] == "run-1" and sent["message"]["ts"] == msg.ts
    slack.wait_for(lambda: slack.message("C123", msg.ts).edits)
    edited = slack.message("C123", msg.ts)
    assert edited.text == "Approved by <@U123> (run-1)" and edited.edits[0]["text"] == "Rerun 8.01r Fall_2030?"
    assert slack.count("chat.update") == 1
    assert slack.errors == []


def test_command_acks_and_response_url(slack, bolt):
    r = slack.command("/orc", "ack-text", user="U123", channel="C123")
    assert r.ephemeral.text == "only you can see this" and r.ephemeral.source == "command_ack"
    r = slack.command("/orc", "ack-in-channel", user="U123", channel="C123")
    assert r.message.text == "everyone sees this" and r.message.command_user == "U123"
    r = slack.command("/orc", "respond", user="U123", channel="C123")
    slack.wait_for(lambda: slack.responses(source="command"))
    assert slack.ephemerals(user="U123")[-1].text == "via response_url"

    # replace_original from a click on a message
    posted = WebClient(base_url=slack.api_url, token=TOKEN).chat_postMessage(
        channel="C123", text="orig", blocks=[{"type": "actions", "elements": [button("replace")]}]
    )
    ts = posted["ts"]
    slack.click("C123", ts, "replace", "U123")
    slack.wait_for(lambda: slack.message("C123", ts).text == "replaced via response_url")

    # response_url limits: 5 uses, 30 minutes
    url = r.response_url
    for _ in range(4):
        assert _post_json(url, {"text": "again"}) == (200, "ok")
    assert _post_json(url, {"text": "sixth"}) == (404, "used_url")
    r2 = slack.command("/orc", "ack-text", user="U123", channel="C123")
    slack.advance(31 * 60)
    assert _post_json(r2.response_url, {"text": "late"}) == (404, "expired_url")
    assert [e.error for e in slack.errors] == ["used_url", "expired_url"]


def _post_json(url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_view_submission_errors_then_close(slack, bolt):
    slack.command("/orc", "modal", user="U123", channel="C123")
    view = slack.wait_for(lambda: slack.top_view("U123"))
    assert view.callback_id == "rerun_modal"
    # the Slack client does not let the user submit without the required term
    with pytest.raises(ValueError, match="required"):
        slack.submit_view(view.id, "U123", {"course": "8.01"})

    resp = slack.submit_view(view.id, "U123", {"course": {"course_input": "18.06"}, "term": "Fall_2030"})
    assert resp.status == 200 and resp.json()["response_action"] == "errors"
    assert view.errors == {"course": "Unknown course 18.06 (Fall_2030)"} and not view.closed
    sent = resp.payload["view"]["state"]["values"]
    assert sent["course"]["course_input"] == {"type": "plain_text_input", "value": "18.06"}
    assert sent["term"]["term_select"]["selected_option"]["value"] == "Fall_2030"
    assert sent["when"]["start"] == {"type": "datepicker", "selected_date": None}

    resp = slack.submit_view(view.id, "U123", {"course": "8.01", "term": "Fall_2030", "when": "2030-09-01"})
    assert resp.body == "" and view.closed and slack.open_views("U123") == []
    assert slack.errors == []


def test_view_submission_errors_must_name_input_blocks(slack, client, bolt):
    # An app answering errors for a block_id that is not an input block is a violation.
    view = dict(MODAL, callback_id="bad_errors")
    view_id = client.views_open(trigger_id=slack.issue_trigger("U123"), view=view)["view"]["id"]
    resp = slack.submit_view(view_id, "U123", {"course": "8.01", "term": "Spring_2031"})
    assert resp.json()["errors"] == {"nope": "wrong block"}
    assert [e.error for e in slack.errors] == ["invalid_errors"]


def test_bad_signature_and_replays_are_rejected(slack, bolt):
    body = urllib.parse.urlencode({"command": "/orc", "text": "x", "user_id": "U123"})
    headers = {"X-Slack-Request-Timestamp": "1700000000", "X-Slack-Signature": "v0=deadbeef"}
    assert slack.send_raw(body, headers).status == 401
    assert slack.command("/orc", "x", user="U123", secret="wrong-secret").status == 401
    assert slack.command("/orc", "x", user="U123", sign=False).status == 401
    assert slack.errors == [] and slack.messages("C123") == []


def test_home_events_and_url_verification(slack, bolt):
    resp = slack.open_home("U123")
    assert resp.status == 200 and resp.payload["type"] == "event_callback"
    home = slack.wait_for(lambda: slack.home("U123"))
    assert home.type == "home" and home.blocks[0]["text"]["text"] == "Welcome"
    slack.click_home("U123", "refresh")
    slack.wait_for(lambda: any(e.get("type") == "refresh" for e in bolt["events"]))
    again = slack.event(
        {"type": "app_home_opened", "user": "U123", "channel": slack.dm("U123"), "tab": "home"}, retry_num=1
    )
    assert again.status == 200
    assert slack.url_verification().status == 200
    assert slack.errors == []


def test_modal_stack_push_update_close_clear(slack, client, bolt):
    root = client.views_open(trigger_id=slack.issue_trigger("U123"), view=STEP1)
    root_id = root["view"]["id"]
    slack.click_view(root_id, "push", "U123")
    pushed = slack.wait_for(lambda: len(slack.open_views("U123")) == 2 and slack.top_view("U123"))
    assert pushed.callback_id == "step2" and pushed.previous_view_id == root_id
    assert pushed.root_view_id == root_id

    resp = slack.submit_view(pushed.id, "U123")  # -> response_action update
    assert resp.view is pushed and pushed.callback_id == "step3" and not pushed.closed
    assert pushed.history[-1]["callback_id"] == "step2"
    closed = slack.close_view(pushed.id, "U123")  # notify_on_close -> view_closed
    assert closed.status == 200 and closed.payload["type"] == "view_closed"
    slack.wait_for(lambda: bolt["closed"] == [pushed.id])
    assert [v.id for v in slack.open_views("U123")] == [root_id]

    resp = slack.submit_view(root_id, "U123", {"pick": ["a", "b"]})  # -> clear
    values = resp.payload["view"]["state"]["values"]["pick"]["tags"]
    assert [o["value"] for o in values["selected_options"]] == ["a", "b"]
    assert slack.open_views("U123") == [] and slack.views[root_id].closed
    assert slack.errors == []


def test_ephemeral_click_and_slow_ack(slack, bolt):
    resp = slack.command("/orc", "ack-button", user="U123", channel="C123")
    eph = resp.ephemeral
    click = slack.click_ephemeral("C123", action_id="replace", user="U123")
    assert click.payload["container"]["is_ephemeral"] is True
    assert "message" not in click.payload
    slack.wait_for(lambda: eph.text == "replaced via response_url")
    assert eph.edits[0]["text"] == "pick" and slack.errors == []

    slack.ack_deadline = 0.2  # Slack's is 3 s; shrink it to keep the test fast
    slow = slack.command("/orc", "slow", user="U123", channel="C123")
    assert slow.timed_out and not slow.ok
    assert [e.error for e in slack.errors] == ["operation_timeout"]
