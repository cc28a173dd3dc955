"""Listener registration, one module per Slack surface (Bolt starter layout)."""

from __future__ import annotations

from slack_bolt import App

from bot.context import Bot
from bot.listeners import actions, commands, events, views


def register_listeners(app: App, bot: Bot) -> None:
    commands.register(app, bot)
    actions.register(app, bot)
    views.register(app, bot)
    events.register(app, bot)
