"""One WSGI application for every HTTP endpoint, served by waitress:
POST /slack/events (Bolt), POST /zendesk/webhook (HMAC-verified), GET /healthz."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot import zendesk_webhook
from commands.base import Services

log = logging.getLogger(__name__)
SLACK_PATH = "/slack/events"
ZENDESK_PATH = "/zendesk/webhook"
HEALTH_PATH = "/healthz"
ZENDESK_WINDOW = timedelta(minutes=5)
MAX_BODY = 1 << 20


def _json(start_response, status: str, payload: dict) -> list[bytes]:
    body = json.dumps(payload).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def zendesk_signature_ok(secret: str, timestamp: str, body: bytes, signature: str, now: datetime | None = None) -> bool:
    """Zendesk: base64(HMAC-SHA256(secret, timestamp + body)), timestamp within 5 minutes."""
    try:
        sent = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return False
    if sent.tzinfo is None:
        sent = sent.replace(tzinfo=UTC)
    if abs((now or datetime.now(UTC)) - sent) > ZENDESK_WINDOW:
        return False
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    # bytes, not str: compare_digest refuses non-ASCII str (a header like "üé==" must be a 401, not a 500)
    return hmac.compare_digest(base64.b64encode(digest), signature.strip().encode("utf-8", "replace"))


def make_wsgi(services: Services, bolt: App | None, health: Callable[[], dict] | None = None) -> callable:
    """`health`: more for /healthz (the Zendesk outbox); it never fails the check."""
    slack = SlackRequestHandler(bolt, path=SLACK_PATH) if bolt is not None else None

    def application(environ, start_response):
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            up = services.store.ping()
            payload = {"status": "ok" if up else "degraded", "store": "ok" if up else "down"}
            if health is not None:
                try:
                    payload.update(health())
                except Exception:
                    log.warning("health details failed", exc_info=True)
            return _json(start_response, "200 OK" if up else "503 Service Unavailable", payload)
        if path == SLACK_PATH and slack is not None:
            return slack(environ, start_response)
        if path == ZENDESK_PATH and method == "POST":
            return zendesk(environ, start_response)
        return _json(start_response, "404 Not Found", {"error": "not found"})

    def zendesk(environ, start_response):
        secret = services.settings.zendesk_webhook_secret
        if not secret:
            return _json(start_response, "404 Not Found", {"error": "Zendesk is not configured"})
        try:
            length = min(int(environ.get("CONTENT_LENGTH") or 0), MAX_BODY)
        except ValueError:
            length = 0
        body = environ["wsgi.input"].read(length)
        timestamp = environ.get("HTTP_X_ZENDESK_WEBHOOK_SIGNATURE_TIMESTAMP", "")
        signature = environ.get("HTTP_X_ZENDESK_WEBHOOK_SIGNATURE", "")
        if not zendesk_signature_ok(secret, timestamp, body, signature):
            return _json(start_response, "401 Unauthorized", {"error": "bad signature"})
        status, payload = zendesk_webhook.handle(services, body)
        return _json(start_response, status, payload)

    return application


def serve(application, port: int, host: str = "0.0.0.0", threads: int = 32):
    """Serve until stopped; returns the waitress server when `port` is 0 (tests)."""
    from waitress import create_server

    server = create_server(
        application,
        host=host,
        port=port,
        threads=threads,
        ident="orcoursetrion",
        channel_timeout=60,
        clear_untrusted_proxy_headers=True,
    )
    return server
