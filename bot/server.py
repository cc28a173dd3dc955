"""One WSGI application for every HTTP endpoint, served by waitress:
POST /slack/events (Bolt), POST /zendesk/webhook (HMAC-verified), GET /healthz (the store
answers and can write), GET /metrics (Prometheus text format).

Nothing unauthenticated costs more than a signature check: a Slack request's size,
timestamp and signature are checked on the raw bytes before anything parses or logs its
body, and a refusal is logged as one line (client address and reason, never the body)."""

from __future__ import annotations

import base64
import contextvars
import hashlib
import hmac
import io
import json
import logging
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.request.internals import parse_body

from bot import zendesk_webhook
from commands.base import Services
from orcoursetrion.metrics import CONTENT_TYPE
from orcoursetrion.store.health import HealthProbe

log = logging.getLogger(__name__)
SLACK_PATH = "/slack/events"
ZENDESK_PATH = "/zendesk/webhook"
HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"
ZENDESK_WINDOW = timedelta(minutes=5)
SLACK_WINDOW = 300  # seconds: Slack's own replay window
MAX_BODY = 1 << 20  # Zendesk webhook bodies
SLACK_MAX_BODY = 256 * 1024  # Slack's payloads are far smaller (a full modal's state is a few tens of KB)
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SLACK_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


def _json(start_response, status: str, payload: dict) -> list[bytes]:
    body = json.dumps(payload).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def zendesk_signature_ok(secret: str, timestamp: str, body: bytes, signature: str, now: datetime | None = None) -> bool:
    """Zendesk: base64(HMAC-SHA256(secret, timestamp + body)), timestamp within 5 minutes.
    Any malformed header (not ASCII, not base64, not a time) is simply not a valid signature."""
    try:
        sent = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
        given = signature.strip().encode("ascii")
    except (ValueError, UnicodeError):
        return False
    if sent.tzinfo is None:
        sent = sent.replace(tzinfo=UTC)
    if abs((now or datetime.now(UTC)) - sent) > ZENDESK_WINDOW:
        return False
    digest = hmac.new(secret.encode(), timestamp.encode("utf-8", "surrogateescape") + body, hashlib.sha256).digest()
    return hmac.compare_digest(base64.b64encode(digest), given)


def slack_refusal(secret: str, timestamp: str, signature: str, body: bytes, now: float | None = None) -> str | None:
    """Why a Slack request is not Slack's (None when its signature holds), on raw bytes only."""
    if not _TIMESTAMP.fullmatch(timestamp or ""):
        return "missing or malformed X-Slack-Request-Timestamp"
    if abs((now if now is not None else time.time()) - int(timestamp)) > SLACK_WINDOW:
        return "stale X-Slack-Request-Timestamp"
    if not _SLACK_SIGNATURE.fullmatch(signature or ""):
        return "missing or malformed X-Slack-Signature"
    expected = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(f"v0={expected}".encode(), signature.encode()):
        return "bad signature"
    return None


def read_bounded(environ: dict, limit: int) -> bytes | None:
    """The request body, or None when it is larger than `limit` (told without reading it all)."""
    declared = (environ.get("CONTENT_LENGTH") or "").strip()
    if declared:
        if not _TIMESTAMP.fullmatch(declared):  # ASCII digits only
            return None
        if int(declared) > limit:
            return None
    body = environ["wsgi.input"].read(int(declared) if declared else limit + 1)
    return None if len(body) > limit else body


def _client(environ: dict) -> str:
    return environ.get("REMOTE_ADDR") or "unknown"


def slack_edge(bolt: App, secret: str | None, verify: bool = True) -> Callable:
    """Slack's endpoint: bounded size, then the signature, then a body Bolt can parse, then Bolt."""
    handler = SlackRequestHandler(bolt, path=SLACK_PATH)

    def refuse(start_response, status: str, reason: str, environ: dict) -> list[bytes]:
        log.warning("refused %s request from %s: %s", SLACK_PATH, _client(environ), reason)
        return _json(start_response, status, {"error": reason})

    def edge(environ, start_response):
        if environ.get("REQUEST_METHOD") != "POST":
            return _json(start_response, "405 Method Not Allowed", {"error": "POST only"})
        body = read_bounded(environ, SLACK_MAX_BODY)
        if body is None:
            return refuse(start_response, "413 Payload Too Large", f"body over {SLACK_MAX_BODY} bytes", environ)
        if verify:
            reason = slack_refusal(
                secret or "",
                environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", ""),
                environ.get("HTTP_X_SLACK_SIGNATURE", ""),
                body,
            )
            if reason:
                return refuse(start_response, "401 Unauthorized", reason, environ)
        try:
            text = body.decode("utf-8")
            parsed = parse_body(text, environ.get("CONTENT_TYPE"))
        except (UnicodeDecodeError, ValueError):
            parsed = None
        if not isinstance(parsed, dict):
            return refuse(start_response, "400 Bad Request", "signed body is not a Slack payload", environ)
        environ = dict(environ, **{"wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))})
        return handler(environ, start_response)

    return edge


def make_wsgi(services: Services, bolt: App | None, health: Callable[[bool], dict] | None = None) -> Callable:
    """`health`: more for /healthz (the Zendesk outbox); it never fails the check."""
    settings = services.settings
    slack = slack_edge(bolt, settings.slack_signing_secret, not settings.socket_mode) if bolt is not None else None
    probe = HealthProbe(services.store.check)
    metrics = services.workflow.metrics

    def application(environ, start_response):
        """Each request in a fresh copy of the log context: what one binds stays its own."""
        return contextvars.copy_context().run(route, environ, start_response)

    def route(environ, start_response):
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            return healthz(start_response)
        if path == METRICS_PATH and method in ("GET", "HEAD"):
            body = metrics.render()
            start_response("200 OK", [("Content-Type", CONTENT_TYPE), ("Content-Length", str(len(body)))])
            return [body]
        if path == SLACK_PATH and slack is not None:
            return slack(environ, start_response)
        if path == ZENDESK_PATH and method == "POST":
            return zendesk(environ, start_response)
        return _json(start_response, "404 Not Found", {"error": "not found"})

    def healthz(start_response):
        """200 when the store answers and a write probe commits; 503 with the reason."""
        reason = probe.reason()
        payload: dict = {"status": "ok", "store": "ok"}
        if reason is not None:
            log.warning("health check: store unavailable: %s", reason)
            payload = {"status": "unavailable", "store": "down", "reason": reason}
        if health is not None:  # told whether the store answered, so a hung one is asked once only
            try:
                payload.update(health(reason is None))
            except Exception:
                log.warning("health details failed", exc_info=True)
        return _json(start_response, "200 OK" if reason is None else "503 Service Unavailable", payload)

    def zendesk(environ, start_response):
        secret = services.settings.zendesk_webhook_secret
        if not secret:
            return _json(start_response, "404 Not Found", {"error": "Zendesk is not configured"})
        body = read_bounded(environ, MAX_BODY)
        if body is None:
            log.warning("refused %s request from %s: body too large", ZENDESK_PATH, _client(environ))
            return _json(start_response, "413 Payload Too Large", {"error": "body too large"})
        timestamp = environ.get("HTTP_X_ZENDESK_WEBHOOK_SIGNATURE_TIMESTAMP", "")
        signature = environ.get("HTTP_X_ZENDESK_WEBHOOK_SIGNATURE", "")
        if not zendesk_signature_ok(secret, timestamp, body, signature):
            log.warning("refused %s request from %s: bad or stale signature", ZENDESK_PATH, _client(environ))
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
