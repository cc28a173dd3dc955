"""The Bolt app factory: a Slack client pointed at SLACK_API_URL, listeners registered
per surface, the notifier subscribed to the workflow."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.context import Bot
from bot.listeners import register_listeners
from bot.notify import SlackNotifier
from bot.planner import Planner
from bot.users import Directory
from commands.base import Services

log = logging.getLogger(__name__)


def slack_client(services: Services) -> WebClient:
    settings = services.settings
    return WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=15,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def ignore_event_retries(request, next):
    """Slack re-sends events it thinks we missed; our handlers already ran once.

    A first delivery in Socket Mode carries `retry_attempt: 0`, which Bolt passes on as
    `x-slack-retry-num: 0`: only a number above zero is a retry."""
    retry = (request.headers.get("x-slack-retry-num") or ["0"])[0]
    if retry.strip() not in ("", "0") and request.body.get("type") == "event_callback":
        return BoltResponse(status=200, body="")
    return next()


def create_app(services: Services, client: WebClient | None = None) -> tuple[App, Bot]:
    settings = services.settings
    client = client or slack_client(services)
    users = Directory(client)
    bot = Bot(services, client, Planner(services, client, users), users, SlackNotifier(services, client))
    app = App(
        client=client,
        signing_secret=settings.slack_signing_secret,
        process_before_response=False,
        listener_executor=ThreadPoolExecutor(max_workers=32, thread_name_prefix="bolt"),
        request_verification_enabled=False,  # bot/server.py verifies every request on its raw bytes first
        raise_error_for_unhandled_request=False,
        logger=logging.getLogger("slack_bolt"),
    )
    app.middleware(ignore_event_retries)
    register_listeners(app, bot)
    services.workflow.subscribe(bot.notifier)
    return app, bot
