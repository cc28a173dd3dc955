"""The HTTP surface besides Slack's requests: /healthz, the Zendesk webhook's signature
check, Slack's URL verification, unknown paths."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest

from orcoursetrion.store.db import make_engine

ZENDESK_SECRET = "zd-webhook-secret"
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def call(url: str, body: bytes | None = None, headers: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, headers=headers or {}, method="POST" if body else "GET")
    try:
        with OPENER.open(request, timeout=5) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def test_healthz_reports_the_store(bot, tmp_path):
    url = f"http://127.0.0.1:{bot.port}/healthz"
    assert call(url) == (200, {"status": "ok", "store": "ok"})

    healthy = bot.store.engine
    bot.store.engine = make_engine(f"sqlite:///{tmp_path / 'gone' / 'orc.db'}")  # the database went away
    try:
        status, body = call(url)
    finally:
        bot.store.engine.dispose()
        bot.store.engine = healthy
    assert status == 503 and body["store"] == "down"
    assert call(url)[0] == 200


def test_unknown_paths_are_404(bot):
    assert call(f"http://127.0.0.1:{bot.port}/admin")[0] == 404


def test_slack_url_verification(slack, bot):
    resp = slack.url_verification("challenge-123")
    assert resp.status == 200 and "challenge-123" in resp.body


def zendesk_headers(body: bytes, when: datetime, secret: str = ZENDESK_SECRET) -> dict:
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    digest = hmac.new(secret.encode(), stamp.encode() + body, hashlib.sha256).digest()
    return {
        "Content-Type": "application/json",
        "X-Zendesk-Webhook-Signature": base64.b64encode(digest).decode(),
        "X-Zendesk-Webhook-Signature-Timestamp": stamp,
    }


@pytest.mark.parametrize(
    ("age", "secret", "expected"),
    [
        (timedelta(0), ZENDESK_SECRET, 202),
        (timedelta(0), "wrong-secret", 401),
        (timedelta(minutes=6), ZENDESK_SECRET, 401),
    ],
)
def test_zendesk_webhook_checks_its_signature(start_bot, age, secret, expected):
    bot = start_bot(ZENDESK_WEBHOOK_SECRET=ZENDESK_SECRET)
    body = json.dumps({"ticket": {"id": "77", "external_id": "orc-request-999", "tags": "orc_approve"}}).encode()

    status, _ = call(
        f"http://127.0.0.1:{bot.port}/zendesk/webhook", body, zendesk_headers(body, datetime.now(UTC) - age, secret)
    )

    assert status == expected
    assert bot.store.list_requests() == []
