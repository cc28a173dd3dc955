"""Assemble the running service from settings: store, workflow, Slack app, HTTP server."""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass

from slack_bolt import App

from bot.app import create_app
from bot.context import Bot
from bot.reminders import SlackNotices
from bot.server import make_wsgi, serve
from commands.base import Services
from orcoursetrion.config import Settings
from orcoursetrion.edx import Edx
from orcoursetrion.scheduler import Clock, Scheduler
from orcoursetrion.store import Store, open_store
from orcoursetrion.workflow import Workflow
from orcoursetrion.zendesk import ZendeskSync, attach

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    store: Store
    workflow: Workflow
    services: Services
    app: App
    bot: Bot
    wsgi: object
    zendesk: ZendeskSync | None = None
    scheduler: Scheduler | None = None
    server: object | None = None
    socket_handler: object | None = None
    _thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self.server.effective_port

    def start(self, port: int | None = None, host: str = "0.0.0.0") -> Runtime:
        """Resume unfinished requests and queued ticket work, start the scheduler, then serve
        HTTP in a background thread."""
        self.bot.notifier.catch_up()
        self.workflow.start_background()
        if self.zendesk is not None:
            self.zendesk.start()
        if self.scheduler is not None:
            self.scheduler.start()
        if self.settings.socket_mode:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            self.socket_handler = SocketModeHandler(self.app, self.settings.slack_app_token)
            self.socket_handler.connect()
        self.server = serve(self.wsgi, self.settings.port if port is None else port, host)
        self._thread = threading.Thread(target=self.server.run, daemon=True, name="http")
        self._thread.start()
        log.info(
            "orcoursetrion listening on port %s (%s)",
            self.port,
            "Socket Mode" if self.settings.socket_mode else "HTTP: POST /slack/events",
        )
        return self

    def wait(self) -> None:
        """Block until SIGTERM/SIGINT, then stop cleanly (running requests resume on restart)."""
        done = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: done.set())
        done.wait()
        self.stop()

    def stop(self) -> None:
        if self.server is not None:
            self._stop_http()
        if self.socket_handler is not None:
            self.socket_handler.close()
        if self.scheduler is not None:
            self.scheduler.shutdown()
        self.bot.shutdown()
        self.workflow.shutdown(grace=self.settings.shutdown_grace)  # the bus hands its last events over
        self.bot.notifier.stop()  # and what they made due is told before the store closes
        if self.zendesk is not None:
            self.zendesk.stop()
        self.store.close()

    def _stop_http(self, timeout: float = 5.0) -> None:
        """Stop accepting requests and let the HTTP workers finish theirs.

        The listener is closed from inside the server's own loop: closing its sockets
        from this thread races the loop's select() (EBADF in the http thread). Kept-alive
        connections are closed too (idle ones at once, busy ones after their answer), or
        the loop would wait for a load balancer's idle connection to time out."""
        try:
            self.server.trigger.pull_trigger(self._close_http)
        except OSError:  # the loop already closed its trigger: nothing left to wake
            log.debug("HTTP server was already closed")
        if self._thread is not None:
            self._thread.join(timeout)
        self.server.task_dispatcher.shutdown(timeout=timeout)

    def _close_http(self) -> None:
        for channel in list(self.server.active_channels.values()):
            if channel.requests:
                channel.close_when_flushed = True
            else:
                channel.will_close = True
        self.server.close()


def build(settings: Settings, clock: Clock | None = None) -> Runtime:
    """The service; `clock` replaces the scheduler's (the database's) clock in tests."""
    store = open_store(settings.database_url)
    workflow = Workflow(settings, store)
    edx = Edx(settings.edx_api_url, settings.edx_api_token) if settings.edx_api_url else None
    services = Services(settings, store, workflow, edx)
    app, bot = create_app(services)
    zendesk = attach(workflow, settings, names=lambda user: bot.users.get(user).name, start=False)
    if zendesk is not None:
        workflow.metrics.watch_outbox(zendesk.outbox)
    wsgi = make_wsgi(services, app, zendesk.health if zendesk else None)
    scheduler = Scheduler(settings, store, workflow, SlackNotices(services, bot.client), clock=clock)
    return Runtime(settings, store, workflow, services, app, bot, wsgi, zendesk, scheduler)
