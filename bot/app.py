"""The Bolt app factory: a Slack client pointed at SLACK_API_URL, the middleware every
listener relies on, listeners per surface, one error handler, the notifier subscribed
to the lifecycle's events."""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_bolt.error import BoltError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot import middleware
from bot.context import Bot
from bot.listeners import register_listeners
from bot.metadata import MetadataSigner
from bot.notify import SlackNotifier
from bot.planner import explain, tell_user
from bot.users import Directory
from commands.base import Services
from orcoursetrion.errors import ConfigError, OrcError
from orcoursetrion.logcontext import ContextExecutor

log = logging.getLogger(__name__)


class CountingWebClient(WebClient):
    """A WebClient that counts the Web API calls that fail (`orc_slack_api_errors_total`),
    by method and Slack's error code (`no_answer` when Slack could not be reached)."""

    def __init__(self, *args, errors=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.errors = errors

    def api_call(self, api_method: str, **kwargs):
        try:
            return super().api_call(api_method, **kwargs)
        except SlackApiError as exc:
            self._count(api_method, str((exc.response or {}).get("error") or "unknown"))
            raise
        except OSError:  # URLError, timeouts, refused connections
            self._count(api_method, "no_answer")
            raise

    def _count(self, method: str, error: str) -> None:
        if self.errors is not None:
            self.errors.labels(method, error[:60]).inc()


def slack_errors(services: Services):
    """The process's Slack error counter, in the workflow's metrics registry."""
    return services.workflow.metrics.counter(
        "orc_slack_api_errors", "Slack Web API calls that failed, by method and error", ["method", "error"]
    )


def slack_client(services: Services, rate_limit_retries: int = 3) -> WebClient:
    settings = services.settings
    handlers = [ConnectionErrorRetryHandler(max_retry_count=2), ServerErrorRetryHandler(max_retry_count=2)]
    if rate_limit_retries:
        handlers.append(RateLimitErrorRetryHandler(max_retry_count=rate_limit_retries))
    return CountingWebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=15,
        retry_handlers=handlers,
        errors=slack_errors(services),
    )


def on_error(error: Exception, body: dict, context, respond) -> None:
    """The one place an error raised by a listener becomes a message to the user, told after
    Bolt has answered Slack (a middleware's error is answered only once this returns)."""
    if isinstance(error, OrcError):
        log.info("Slack listener: %s", error)
    else:
        log.error("Slack listener failed", exc_info=error)
    bot: Bot | None = context.get("bot")
    actor = context.get("actor")
    if bot is None or actor is None:
        return
    bot.later(tell_user, bot, actor.id, middleware.channel_of(body), explain(error), respond)


def create_app(services: Services, client: WebClient | None = None) -> tuple[App, Bot]:
    settings = services.settings
    client = client or slack_client(services)
    secret = settings.slack_signing_secret or settings.slack_app_token or settings.slack_bot_token or ""
    notifier = SlackNotifier(services, slack_client(services, rate_limit_retries=0))
    bot = Bot(services, client, Directory(client), notifier, MetadataSigner(secret))
    try:  # Bolt checks the token with auth.test here: a start-up that fails says which key
        app = App(
            client=client,
            signing_secret=settings.slack_signing_secret,
            process_before_response=False,
            listener_executor=ContextExecutor(max_workers=32, thread_name_prefix="bolt"),
            request_verification_enabled=False,  # bot/server.py verifies every request on its raw bytes first
            raise_error_for_unhandled_request=False,
            logger=logging.getLogger("slack_bolt"),
        )
    except BoltError:
        raise ConfigError(["SLACK_BOT_TOKEN: Slack refused it (auth.test failed)"]) from None
    except OSError as exc:
        why = getattr(exc, "reason", None) or exc
        raise ConfigError([f"SLACK_API_URL: Slack did not answer at {settings.slack_api_url} ({why})"]) from None
    app.use(middleware.attach(bot))
    for step in middleware.MIDDLEWARE:
        app.use(step)
    register_listeners(app)
    app.error(on_error)
    services.workflow.subscribe(notifier, "slack-notifier")
    return app, bot
