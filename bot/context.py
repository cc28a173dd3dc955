"""What every listener needs, built once: services, the Slack client, the planner,
the user directory and the notifier."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk import WebClient

from bot.notify import SlackNotifier
from bot.planner import Planner
from bot.users import Directory
from commands.base import Services


@dataclass
class Bot:
    services: Services
    client: WebClient
    planner: Planner
    users: Directory
    notifier: SlackNotifier

    @property
    def workflow(self):
        return self.services.workflow

    @property
    def store(self):
        return self.services.store
