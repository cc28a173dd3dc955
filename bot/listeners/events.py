"""Events: App Home."""

from __future__ import annotations

from slack_bolt import App

from bot.context import Bot
from bot.home import publish_home


def register(app: App, bot: Bot) -> None:
    def home_opened(event: dict) -> None:
        if event.get("tab", "home") == "home":
            publish_home(bot, event["user"])

    app.event("app_home_opened")(home_opened)
