"""What every listener needs, built once: services, the Slack client, the user directory,
the notifier, the metadata signer and a small pool for the work that follows an ack."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from slack_sdk import WebClient

from bot.metadata import MetadataSigner
from bot.notify import SlackNotifier
from bot.users import Directory
from commands.base import Services
from orcoursetrion.logcontext import ContextExecutor

log = logging.getLogger(__name__)


@dataclass
class Bot:
    services: Services
    client: WebClient
    users: Directory
    notifier: SlackNotifier
    signer: MetadataSigner
    pool: ThreadPoolExecutor = field(default_factory=lambda: ContextExecutor(32, thread_name_prefix="orc-slack"))

    @property
    def workflow(self):
        return self.services.workflow

    @property
    def store(self):
        return self.services.store

    @property
    def settings(self):
        return self.services.settings

    def later(self, fn: Callable, *args, on_error: Callable[[BaseException], None] | None = None) -> None:
        """Run work after the ack, off Bolt's listener threads (they must stay free to ack)."""

        def run() -> None:
            try:
                fn(*args)
            except Exception as exc:
                if on_error is None:
                    log.exception("background Slack work failed")
                    return
                try:
                    on_error(exc)
                except Exception:
                    log.exception("could not tell the user about an error")

        self.pool.submit(run)

    def shutdown(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
