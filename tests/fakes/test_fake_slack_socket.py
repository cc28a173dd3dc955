"""Self-tests for the fake Slack's Socket Mode (tests/fakes/slack.py).

A tiny real Bolt app connects with slack_bolt's SocketModeHandler (slack_sdk's builtin
WebSocket client) the way the product does, its client pointed at the fake's Web API;
the fake delivers slash commands, clicks, view submissions and events over the socket
and applies the acks. A raw RFC 6455 client checks the protocol itself, and the last
tests run the real app (`python app.py` with SLACK_APP_TOKEN) against the fake.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tests.conftest import make_env
from tests.fakes.slack import FakeSlack

TOKEN = "xoxb-test"
APP_TOKEN = "xapp-1-A0001-1234-abcdef"
ROOT = Path(__file__).resolve().parents[2]
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def section(text):
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def button(action_id, text="Go", value="v"):
    return {"type": "button", "action_id": action_id, "text": {"type": "plain_text", "text": text}, "value": value}


MODAL = {
    "type": "modal",
    "callback_id": "rerun_modal",
    "title": {"type": "plain_text", "text": "Rerun a course"},
    "submit": {"type": "plain_text", "text": "Rerun"},
    "blocks": [
        {
            "type": "input",
            "block_id": "course",
            "label": {"type": "plain_text", "text": "Course"},
            "element": {"type": "plain_text_input", "action_id": "course_input"},
        }
    ],
}


@pytest.fixture
def slack():
    with FakeSlack(bot_token=TOKEN, app_token=APP_TOKEN) as fake:
        fake.add_user("U123", name="alice", real_name="Alice A", email="alice@mit.edu")
        fake.add_channel("C123", name="course-ops", members=["U123"])
        yield fake


@pytest.fixture
def make_bolt(slack):
    """Start a tiny real Bolt app (App kwargs as given) in Socket Mode, connected to the
    fake, and set slack.transport to "socket"; returns what its listeners saw."""
    handlers = []

    def start(**app_kwargs):
        app, seen = bolt_app(slack, **app_kwargs)
        handler = SocketModeHandler(app, APP_TOKEN)
        handlers.append(handler)
        handler.connect()
        slack.wait_socket_connected(timeout=10)
        slack.transport = "socket"
        return seen

    yield start
    for handler in handlers:
        # Closing from Slack's side first spares the builtin client's 3 s receive timeout.
        handler.client.auto_reconnect_enabled = False
    slack.socket_close(code=1001)
    for handler in handlers:
        # let its reader finish closing (slack_sdk's disconnect() is not safe to race)
        slack.wait_for(lambda h=handler: not h.client.is_connected())
        handler.close()


@pytest.fixture
def bolt(make_bolt):
    return make_bolt()


def bolt_app(slack, **app_kwargs):
    logging.getLogger("slack_bolt").setLevel(logging.ERROR)
    app = App(client=WebClient(base_url=slack.api_url, token=TOKEN), **app_kwargs)
    seen = {"events": [], "retry_headers": []}

    @app.command("/orc")
    def orc(ack, body, client, say):
        text = body["text"]
        if text == "ack-text":
            ack("only you can see this")
        elif text == "ack-in-channel":
            ack(response_type="in_channel", text="everyone sees this")
        elif text == "modal":
            ack()
            client.views_open(trigger_id=body["trigger_id"], view=MODAL)
        elif text == "late":
            time.sleep(slack.ack_deadline + 0.3)
            ack("too late")
        else:
            ack()
            say(text=f"Rerun {text}?", blocks=[section(f"Rerun *{text}*?"), actions(button("approve", "Approve"))])

    @app.action("approve")
    def approve(ack, body, client):
        ack()
        client.chat_update(
            channel=body["channel"]["id"],
            ts=body["message"]["ts"],
            text=f"Approved by <@{body['user']['id']}>",
            blocks=[section("Approved")],
        )

    @app.view("rerun_modal")
    def on_submit(ack, view):
        course = view["state"]["values"]["course"]["course_input"]["value"]
        if course.startswith("8."):
            ack()
        else:
            ack(response_action="errors", errors={"course": f"Unknown course {course}"})

    @app.event("app_home_opened")
    def home_opened(event, client, request):
        seen["events"].append(event)
        seen["retry_headers"].append(
            (
                request.headers.get("x-slack-retry-num", [None])[0],
                request.headers.get("x-slack-retry-reason", [None])[0],
            )
        )
        client.views_publish(user_id=event["user"], view={"type": "home", "blocks": [section("Welcome")]})

    return app, seen


def actions(*elements):
    return {"type": "actions", "elements": list(elements)}


def api(slack, method, token=None, *, body_token=None):
    """A raw Web API call: the token in the Authorization header, or only in the body."""
    data = urllib.parse.urlencode({"token": body_token} if body_token else {}).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(slack.api_url + method, data=data, headers=headers, method="POST")
    with OPENER.open(req, timeout=5) as resp:
        return json.loads(resp.read())


class RawWebSocket:
    """A minimal RFC 6455 client, to check the fake's side of the protocol directly."""

    def __init__(self, url: str, *, version: str = "13"):
        parts = urllib.parse.urlsplit(url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=5)
        self.key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.hostname}:{parts.port}\r\n"
            f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {self.key}\r\n"
            f"Sec-WebSocket-Version: {version}\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        self.file = self.sock.makefile("rb")
        self.status = int(self.file.readline().split()[1])
        self.headers = {}
        while line := self.file.readline().strip():
            name, value = line.decode().split(":", 1)
            self.headers[name.strip().lower()] = value.strip()

    def send(self, opcode: int, data: bytes = b"", *, mask: bool = True) -> None:
        head = bytes([0x80 | opcode])
        bit = 0x80 if mask else 0
        n = len(data)
        if n < 126:
            head += bytes([bit | n])
        elif n < 1 << 16:
            head += bytes([bit | 126]) + struct.pack("!H", n)
        else:
            head += bytes([bit | 127]) + struct.pack("!Q", n)
        if mask:
            key = os.urandom(4)
            head += key
            data = bytes(b ^ key[i % 4] for i, b in enumerate(data))
        self.sock.sendall(head + data)

    def send_json(self, obj) -> None:
        self.send(0x1, json.dumps(obj).encode())

    def recv(self) -> tuple[int, bytes]:
        b1, b2 = self.file.read(2)
        assert b1 & 0x80 and not b2 & 0x80, "server frames are final and unmasked"
        n = b2 & 0x7F
        if n == 126:
            (n,) = struct.unpack("!H", self.file.read(2))
        elif n == 127:
            (n,) = struct.unpack("!Q", self.file.read(8))
        return b1 & 0x0F, self.file.read(n)

    def recv_json(self):
        opcode, data = self.recv()
        assert opcode == 0x1, opcode
        return json.loads(data)

    def close(self) -> None:
        self.file.close()
        self.sock.close()


def open_url(slack) -> str:
    return WebClient(base_url=slack.api_url, token=TOKEN).apps_connections_open(app_token=APP_TOKEN)["url"]


# ---------------------------------------------------------------------- apps.connections.open
def test_apps_connections_open_gives_a_one_use_websocket_url(slack):
    resp = WebClient(base_url=slack.api_url, token=TOKEN).apps_connections_open(app_token=APP_TOKEN)
    url = urllib.parse.urlsplit(resp["url"])
    query = urllib.parse.parse_qs(url.query)
    assert resp["ok"] is True and url.scheme == "ws" and url.port == slack.port and url.path == "/link/"
    assert query["ticket"] and query["app_id"]
    assert {k.lower(): v for k, v in resp.headers.items()}["x-oauth-scopes"] == "connections:write"
    assert open_url(slack) != resp["url"]  # a fresh ticket each time
    assert slack.calls_to("apps.connections.open")[0].ok and slack.errors == []


def test_wrong_token_types_are_refused(slack):
    client = WebClient(base_url=slack.api_url, token=TOKEN)
    for token, error in ((TOKEN, "not_allowed_token_type"), ("xoxp-user", "not_allowed_token_type")):
        with pytest.raises(SlackApiError) as exc:
            client.apps_connections_open(app_token=token)
        assert exc.value.response["error"] == error
    with pytest.raises(SlackApiError) as exc:
        client.apps_connections_open(app_token="xapp-1-A0001-9999-other")
    assert exc.value.response["error"] == "invalid_auth"
    assert api(slack, "apps.connections.open") == {"ok": False, "error": "not_authed"}
    # Slack takes this method's token only in the Authorization header
    assert api(slack, "apps.connections.open", body_token=APP_TOKEN) == {"ok": False, "error": "invalid_auth"}
    # ...and the app-level token is no bot token
    with pytest.raises(SlackApiError) as exc:
        WebClient(base_url=slack.api_url, token=APP_TOKEN).chat_postMessage(channel="C123", text="hi")
    assert exc.value.response["error"] == "not_allowed_token_type"
    assert slack.messages("C123") == []
    assert [e.error for e in slack.errors] == [
        "not_allowed_token_type",
        "not_allowed_token_type",
        "invalid_auth",
        "not_authed",
        "invalid_auth",
        "not_allowed_token_type",
    ]


def test_an_app_token_without_connections_write_is_refused():
    with FakeSlack(app_token=APP_TOKEN, app_token_scopes=("authorizations:read",)) as fake:
        with pytest.raises(SlackApiError) as exc:
            WebClient(base_url=fake.api_url).apps_connections_open(app_token=APP_TOKEN)
        assert exc.value.response["error"] == "missing_scope"
        assert exc.value.response["needed"] == "connections:write"


# ---------------------------------------------------------------------- the WebSocket protocol
def test_handshake_hello_ping_and_close(slack):
    ws = RawWebSocket(open_url(slack) + "&debug_reconnects=true")
    try:
        expected = base64.b64encode(hashlib.sha1((ws.key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
        assert ws.status == 101 and ws.headers["sec-websocket-accept"] == expected.decode()
        assert ws.headers["upgrade"].lower() == "websocket"
        hello = ws.recv_json()
        assert hello == {
            "type": "hello",
            "num_connections": 1,
            "debug_info": {"host": "applink-fake-1", "build_number": 1, "approximate_connection_time": 360},
            "connection_info": {"app_id": "A0001"},
        }
        assert slack.wait_socket_connected() == "WS0001" and slack.socket_connections == ["WS0001"]
        ws.send(0x9, b"are you there")
        assert ws.recv() == (0xA, b"are you there")
        pinged = threading.Thread(target=lambda: slack.socket_ping(timeout=5))
        pinged.start()
        opcode, data = ws.recv()
        assert opcode == 0x9
        ws.send(0xA, data)
        pinged.join(5)
        assert slack.socket("WS0001").pongs == [data]
        assert slack.socket_send_raw('{"type": "anything"}')
        assert ws.recv() == (0x1, b'{"type": "anything"}')
        ws.send(0x8, struct.pack("!H", 1000) + b"bye")
        assert ws.recv() == (0x8, struct.pack("!H", 1000))  # the close handshake's echo
    finally:
        ws.close()
    slack.wait_for(lambda: slack.socket_connections == [])
    conn = slack.socket("WS0001")
    assert (conn.close_code, conn.close_reason, conn.closed_by) == (1000, "bye", "app")
    assert slack.errors == []


def test_tickets_are_single_use_and_frames_must_be_masked(slack):
    url = open_url(slack)
    first = RawWebSocket(url)
    assert first.status == 101 and first.recv_json()["type"] == "hello"
    again = RawWebSocket(url)  # the same ticket twice
    assert again.status == 401
    again.close()
    assert [e.error for e in slack.errors] == ["invalid_ticket"]

    first.send(0x1, b'{"envelope_id": "x"}', mask=False)  # RFC 6455: clients mask every frame
    opcode, data = first.recv()
    assert opcode == 0x8 and struct.unpack("!H", data[:2])[0] == 1002
    first.close()
    slack.wait_for(lambda: slack.socket_connections == [])
    assert [e.error for e in slack.errors] == ["invalid_ticket", "protocol_error"]

    bad = RawWebSocket(open_url(slack), version="8")
    assert bad.status == 400
    bad.close()
    assert slack.errors[-1].error == "invalid_handshake"


def test_an_eleventh_connection_is_told_too_many_websockets(slack):
    sockets = [RawWebSocket(open_url(slack)) for _ in range(10)]
    assert [ws.recv_json()["num_connections"] for ws in sockets] == list(range(1, 11))
    extra = RawWebSocket(open_url(slack))
    try:
        message = extra.recv_json()
        assert message == {
            "type": "disconnect",
            "reason": "too_many_websockets",
            "debug_info": {"host": "applink-fake-11"},
        }
        assert [e.error for e in slack.errors] == ["too_many_websockets"]
        assert extra.recv()[0] == 0x8  # and then closed
    finally:
        for ws in [*sockets, extra]:
            ws.close()


def test_envelopes_acks_and_bad_acks_with_a_raw_client(slack):
    ws = RawWebSocket(open_url(slack))
    ws.recv_json()  # hello
    slack.transport = "socket"
    result = {}
    sender = threading.Thread(target=lambda: result.setdefault("resp", slack.command("/orc", "x", user="U123")))
    sender.start()
    envelope = ws.recv_json()
    assert set(envelope) == {"envelope_id", "payload", "type", "accepts_response_payload"}
    assert envelope["type"] == "slash_commands" and envelope["accepts_response_payload"] is True
    payload = envelope["payload"]
    assert payload["command"] == "/orc" and payload["text"] == "x" and payload["user_id"] == "U123"
    assert payload["is_enterprise_install"] == "false"  # the same string fields the form carries
    ws.send_json({"envelope_id": envelope["envelope_id"], "payload": {"text": "hello *alice*"}})
    sender.join(5)
    resp = result["resp"]
    assert resp.status == 200 and resp.ok and resp.transport == "socket" and resp.connection == "WS0001"
    assert resp.json() == {"text": "hello *alice*"} and resp.ephemeral.text == "hello *alice*"
    assert resp.envelope == envelope and resp.trigger_id == payload["trigger_id"]

    ws.send_json({"envelope_id": envelope["envelope_id"]})  # acked twice
    ws.send_json({"envelope_id": "never-sent"})
    ws.send(0x1, b"not json")
    slack.wait_for(lambda: len(slack.errors) == 3)
    assert [e.error for e in slack.errors] == ["duplicate_ack", "invalid_envelope_id", "invalid_json"]
    ws.close()


# ---------------------------------------------------------------------- a real Bolt app
def test_slash_command_acked_with_text_over_the_socket(slack, bolt):
    resp = slack.command("/orc", "ack-text", user="U123", channel="C123")
    assert resp.status == 200 and resp.ok and resp.transport == "socket"
    assert resp.json() == {"text": "only you can see this"}
    assert resp.ephemeral.text == "only you can see this" and resp.ephemeral.user == "U123"
    assert resp.envelope["type"] == "slash_commands" and resp.envelope["payload"]["channel_id"] == "C123"

    shout = slack.command("/orc", "ack-in-channel", user="U123", channel="C123")
    assert shout.message.text == "everyone sees this" and slack.last_message("C123") is shout.message
    assert slack.errors == [] and slack.warnings == []


def test_button_click_over_the_socket(slack, bolt):
    slack.command("/orc", "8.01r Fall_2030", user="U123", channel="C123")
    msg = slack.wait_for(lambda: slack.last_message("C123"))
    click = slack.click("C123", msg.ts, "approve", "U123")
    assert click.status == 200 and click.envelope["type"] == "interactive"
    assert click.envelope["accepts_response_payload"] is True
    assert click.payload["type"] == "block_actions" and click.payload["actions"][0]["action_id"] == "approve"
    slack.wait_for(lambda: msg.text == "Approved by <@U123>")
    assert slack.errors == []


def test_view_submission_errors_over_the_socket(slack, bolt):
    slack.command("/orc", "modal", user="U123", channel="C123")
    view = slack.wait_for(lambda: slack.top_view("U123"))
    resp = slack.submit_view(view.id, "U123", {"course": "18.06"})
    assert resp.status == 200 and resp.envelope["type"] == "interactive"
    assert resp.json() == {"response_action": "errors", "errors": {"course": "Unknown course 18.06"}}
    assert view.errors == {"course": "Unknown course 18.06"} and not view.closed
    done = slack.submit_view(view.id, "U123", {"course": "8.01"})
    assert done.body == "" and view.closed and slack.open_views("U123") == []
    assert slack.errors == []


def test_a_late_ack_is_an_error_and_not_applied(slack, make_bolt):
    make_bolt(process_before_response=True)  # the listener runs to its end, then Bolt acks
    resp = slack.command("/orc", "late", user="U123", channel="C123")  # acked after 3.3 s
    assert resp.status == 200 and resp.timed_out and not resp.ok
    assert resp.elapsed > 3.0 and resp.json() == {"text": "too late"}
    assert resp.ephemeral is None and slack.ephemerals(user="U123") == []
    assert [e.error for e in slack.errors] == ["operation_timeout"]


def test_no_ack_at_all_is_an_error(slack, bolt):
    # Bolt's default runner gives up on a listener that has not acked after 3 s and
    # then sends no ack at all; the fake waits app_timeout for it.
    slack.app_timeout = 4.0
    resp = slack.command("/orc", "late", user="U123", channel="C123")
    assert resp.status == 0 and resp.timed_out and resp.body == ""
    assert resp.ephemeral is None
    assert [e.error for e in slack.errors] == ["operation_timeout"]
    assert "no ack" in slack.errors[0].detail


def test_events_over_the_socket(slack, bolt):
    resp = slack.open_home("U123")
    assert resp.status == 200 and resp.body == ""
    envelope = resp.envelope
    assert envelope["type"] == "events_api" and envelope["accepts_response_payload"] is False
    assert (envelope["retry_attempt"], envelope["retry_reason"]) == (0, "")
    assert envelope["payload"]["type"] == "event_callback" and envelope["payload"]["event"]["type"] == "app_home_opened"
    home = slack.wait_for(lambda: slack.home("U123"))
    assert home.blocks[0]["text"]["text"] == "Welcome"

    retry = slack.event({"type": "app_home_opened", "user": "U123", "channel": slack.dm("U123"), "tab": "home"}, 1)
    assert (retry.envelope["retry_attempt"], retry.envelope["retry_reason"]) == (1, "http_timeout")
    slack.wait_for(lambda: len(bolt["retry_headers"]) == 2)
    # slack_bolt turns retry_attempt into x-slack-retry-num, even 0 on a first delivery
    assert bolt["retry_headers"] == [("0", ""), ("1", "http_timeout")]
    assert slack.errors == []


def test_disconnect_then_the_app_reconnects(slack, bolt):
    first = slack.socket_connections[0]
    assert slack.socket_disconnect("refresh_requested") == [first]
    second = slack.wait_socket_connected(timeout=10, exclude=[first])
    assert slack.socket(first).disconnect_reason == "refresh_requested"
    assert slack.socket(second).hello["num_connections"] == 2  # the old one was still open
    slack.wait_for(lambda: slack.socket_connections == [second], timeout=10)
    assert slack.socket(first).closed_by in ("app", "eof")  # the app let the old one go
    assert slack.count("apps.connections.open") == 2  # a fresh URL for the new connection

    resp = slack.command("/orc", "ack-text", user="U123", channel="C123")
    assert resp.ok and resp.connection == second

    assert slack.socket_ping(second)
    assert slack.errors == []


def test_slack_side_close(slack):
    ws = RawWebSocket(open_url(slack))
    ws.recv_json()  # hello
    closing = threading.Thread(target=lambda: slack.socket_close(code=1001, reason="going away"))
    closing.start()
    assert ws.recv() == (0x8, struct.pack("!H", 1001) + b"going away")
    ws.send(0x8, struct.pack("!H", 1001))
    closing.join(5)
    conn = slack.socket("WS0001")
    assert not conn.open and (conn.close_code, conn.closed_by) == (1001, "fake")
    ws.close()
    assert slack.errors == []


def test_without_a_connection_delivery_fails_and_http_only_helpers_raise(slack):
    slack.transport = "socket"
    resp = slack.command("/orc", "help", user="U123", channel="C123")
    assert resp.status == 0 and not resp.ok and resp.body == "no open Socket Mode connection"
    assert [e.error for e in slack.errors] == ["dispatch_failed"]
    with pytest.raises(RuntimeError):
        slack.url_verification()
    with pytest.raises(RuntimeError):
        slack.send_raw("command=/orc")
    with pytest.raises(ValueError):
        slack.command("/orc", "help", user="U123", sign=False)
    with pytest.raises(ValueError):
        slack.transport = "websocket"


# ---------------------------------------------------------------------- the real app
def _app_env(slack, tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("https_proxy", "http_proxy")}
    env.update(make_env(None, f"sqlite:///{tmp_path / 'orc.db'}"))
    env.update(
        SLACK_API_URL=slack.api_url,
        SLACK_BOT_TOKEN=slack.bot_token,
        SLACK_APP_TOKEN=slack.app_token,
    )
    env.pop("SLACK_SIGNING_SECRET", None)
    return env


def test_the_real_app_runs_in_socket_mode_against_the_fake(slack, tmp_path):
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "--port", "0"],
        cwd=tmp_path,  # no .env from the work tree
        env=_app_env(slack, tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    log: list[str] = []
    reader = threading.Thread(target=lambda: log.extend(proc.stderr), daemon=True)
    reader.start()
    try:
        slack.wait_socket_connected(timeout=30)
        slack.transport = "socket"
        resp = slack.command("/orc", "help", user="U123", channel="C123")
        assert resp.ok, resp  # acked at once; the answer follows by response_url
        answer = slack.wait_for(lambda: slack.ephemerals(user="U123"), timeout=10)
        assert "/orc help" in answer[-1].text
        # started up to runtime.wait() (SIGTERM handled) once it logged where it listens
        slack.wait_for(lambda: any("listening on port" in line for line in log), timeout=20)
        time.sleep(0.3)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        reader.join(5)
    assert proc.returncode == 0, "".join(log)[-2000:]
    slack.wait_for(lambda: slack.socket_connections == [], timeout=10)
    assert slack.errors == [], slack.describe()


def test_the_real_app_publishes_app_home_in_socket_mode(slack, sqlite_url):
    from bot.runtime import build
    from tests.conftest import settings_for

    settings = settings_for(
        None, sqlite_url, SLACK_API_URL=slack.api_url, SLACK_BOT_TOKEN=slack.bot_token, SLACK_APP_TOKEN=APP_TOKEN
    )
    runtime = build(settings)
    runtime.start(port=0, host="127.0.0.1")
    try:
        slack.wait_socket_connected(timeout=10)
        slack.transport = "socket"
        assert slack.open_home("U123").ok
        slack.wait_for(lambda: slack.home("U123"), timeout=3)
    finally:
        runtime.workflow.wait_idle(timeout=10)
        runtime.stop()
