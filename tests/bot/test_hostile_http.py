"""Hostile requests against the real service (`python app.py` over HTTP): nothing
unauthenticated costs more than a signature check, the log never takes a body, and no
malformed header or body — signed or not — gets a 500."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import urllib.parse

import pytest
import requests

from tests.apps import AppProcess
from tests.conftest import make_env
from tests.fakes.slack import FakeSlack

SIGNING = "hostile-signing-secret"
ZD_SECRET = "zendesk-hook-secret"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """One real app process for the whole module (starting one costs a second)."""
    tmp = tmp_path_factory.mktemp("hostile")
    with FakeSlack(bot_token="xoxb-hostile", signing_secret=SIGNING) as slack:
        slack.add_user("UALICE", name="alice")
        slack.add_channel("COPS", name="ops", members=["UALICE"])
        env = make_env(
            None,
            f"sqlite:///{tmp / 'orc.db'}",
            SLACK_BOT_TOKEN="xoxb-hostile",
            SLACK_SIGNING_SECRET=SIGNING,
            SLACK_API_URL=slack.api_url,
            ZENDESK_WEBHOOK_SECRET=ZD_SECRET,
            LOG_LEVEL="INFO",
        )
        app = AppProcess(env, tmp / "app.log").start()
        slack.app_url = app.url
        try:
            yield app, slack
        finally:
            app.stop()


def signed(body: bytes, timestamp: str | None = None) -> dict:
    ts = timestamp if timestamp is not None else str(int(time.time()))
    digest = hmac.new(SIGNING.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def post(app, body: bytes, headers: dict | None = None, path: str = "/slack/events") -> requests.Response:
    headers = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
    return requests.post(f"http://127.0.0.1:{app.port}{path}", data=body, headers=headers, timeout=30)


@pytest.mark.parametrize(
    ("size", "status"),
    [(32 * 1024, 401), (200 * 1024, 401), (1 << 20, 413), (10 << 20, 413)],
)
def test_unsigned_bodies_are_refused_fast_without_stalling_health_or_flooding_the_log(world, size, status):
    app, _ = world
    body = b"text=" + b"a" * size
    log_before = len(app.log())
    health: list[float] = []

    def poll_health():
        for _ in range(5):
            started = time.monotonic()
            assert requests.get(f"http://127.0.0.1:{app.port}/healthz", timeout=10).status_code == 200
            health.append(time.monotonic() - started)

    poller = threading.Thread(target=poll_health)
    started = time.monotonic()
    poller.start()
    refused = post(
        app, body, {"X-Slack-Signature": "v0=" + "0" * 64, "X-Slack-Request-Timestamp": str(int(time.time()))}
    )
    elapsed = time.monotonic() - started
    poller.join()
    assert refused.status_code == status
    assert elapsed < 1.0, f"{size} bytes took {elapsed:.2f}s to refuse"  # quadratic work would take many seconds
    assert max(health) < 1.0
    time.sleep(0.1)
    grown = app.log()[log_before:]
    assert grown.count("\n") <= 1 and len(grown) < 300, grown[:500]
    assert "aaaa" not in grown


@pytest.mark.parametrize(
    "body",
    [
        b"payload=%7B%22type%22%3A%22block_act",  # truncated JSON
        b"payload=%5B1%2C2%5D",  # a list
        json.dumps({"type": "event_callback", "event": {"type": "app_home_opened"}})[:40].encode(),
        b"payload=\xff\xfe\xfa",  # not UTF-8
        b"",
    ],
)
@pytest.mark.parametrize("signature", ["none", "wrong"])
def test_unsigned_or_wrongly_signed_garbage_is_401_not_500(world, body, signature):
    app, _ = world
    headers = {} if signature == "none" else {**signed(body), "X-Slack-Signature": "v0=" + "1" * 64}
    assert post(app, body, headers).status_code == 401


@pytest.mark.parametrize("timestamp", ["abc", "", "1.5e9", "0x65f0c0a0", "1 2", "١٢٣", "9" * 30, "-5"])
def test_a_malformed_timestamp_is_401_even_when_signed_with_it(world, timestamp):
    app, _ = world
    body = b"command=%2Forc&text=help&user_id=UALICE"
    headers = signed(body, timestamp)
    headers["X-Slack-Request-Timestamp"] = timestamp.encode("utf-8").decode("latin-1")  # the bytes as sent
    assert post(app, body, headers).status_code == 401


@pytest.mark.parametrize("body", [b"payload=%5B1%2C2%5D", b"payload=%7Btruncated", b"text=\xff\xfe"])
def test_a_signed_body_that_is_no_slack_payload_is_400(world, body):
    app, _ = world
    assert post(app, body, signed(body)).status_code == 400


@pytest.mark.parametrize(
    "header", ["üé==", "", "not base64!", "=" * 100, base64.b64encode(b"x" * 32).decode(), "a" * 5000]
)
def test_any_malformed_zendesk_signature_is_401(world, header):
    app, _ = world
    body = b'{"ticket": {"id": "1"}}'
    headers = {
        "Content-Type": "application/json",
        "X-Zendesk-Webhook-Signature": header.encode("utf-8").decode("latin-1"),
        "X-Zendesk-Webhook-Signature-Timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    assert post(app, body, headers, path="/zendesk/webhook").status_code == 401


def test_a_valid_request_still_gets_through(world):
    app, slack = world
    body = urllib.parse.urlencode({"command": "/orc", "text": "help", "user_id": "UALICE", "channel_id": "COPS"})
    reply = post(app, body.encode(), signed(body.encode()))
    assert reply.status_code == 200 and reply.text == ""  # acked at once; the answer follows by response_url
