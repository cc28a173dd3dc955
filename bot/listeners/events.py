"""Events: App Home."""

from __future__ import annotations

from slack_bolt import App

from bot.context import Bot
from bot.home import publish_home


def home_opened(event: dict, bot: Bot) -> None:
    user = event.get("user")
    if event.get("tab", "home") == "home" and isinstance(user, str):
        publish_home(bot, user)


def register(app: App) -> None:
    app.event("app_home_opened")(home_opened)
