"""`/orc`: answer within Slack's 3 s — a reply, a form, or "planning…" while the plan
is built in the background."""

from __future__ import annotations

import logging

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.blocks import clip, modal_view, reply_blocks
from bot.context import Bot
from commands import Invocation, OpenModal, Reply, dispatch

log = logging.getLogger(__name__)
COMMAND = "/orc"


def register(app: App, bot: Bot) -> None:
    def orc(ack: Ack, body: dict, respond: Respond, client: WebClient) -> None:
        text = (body.get("text") or "").strip()
        known = bot.users.cached(body["user_id"])
        if known is None and text.lower().startswith("schedule"):  # its time is read on the user's clock
            known = bot.users.get(body["user_id"])
        inv = Invocation(
            user=body["user_id"],
            args=[],
            channel=body.get("channel_id"),
            user_name=body.get("user_name"),
            timezone=(known.tz if known and known.tz else bot.services.settings.timezone),
        )
        try:
            outcome = dispatch(text, inv, bot.services)
        except Exception:
            log.exception("/orc %s failed", clip(text, 80))
            ack(text=":warning: Something went wrong; the details are in the service log.")
            return
        if isinstance(outcome, Reply):
            ack(text=clip(outcome.text, 3000), blocks=reply_blocks(outcome))
            return
        if isinstance(outcome, OpenModal):
            ack()
            client.views_open(trigger_id=body["trigger_id"], view=modal_view(outcome))
            return
        ack(text=f":hourglass_flowing_sand: Planning `/orc {clip(text, 200)}`…")
        bot.planner.submit(outcome, inv, respond)

    app.command(COMMAND)(orc)
