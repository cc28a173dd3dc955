"""`/orc`: acknowledged at once (with nothing to replace later), then the verb runs off
Bolt's threads and its one answer follows — a reply, a form, or the plan in the channel."""

from __future__ import annotations

import logging

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.blocks import clip, modal_view, reply_blocks
from bot.context import Bot
from bot.planner import explain, plan_and_post
from bot.users import SlackUser
from commands import Invocation, OpenModal, Reply, dispatch

COMMAND = "/orc"
log = logging.getLogger(__name__)


def orc(ack: Ack, body: dict, bot: Bot, actor: SlackUser, channel_id: str | None, respond: Respond, client: WebClient):
    text = body["text"].strip()
    ack()
    bot.later(
        run, bot, text, actor, channel_id, body.get("trigger_id"), respond, client, on_error=_reply_error(respond)
    )


def _reply_error(respond: Respond):
    def tell(exc: BaseException) -> None:
        respond(text=explain(exc))

    return tell


def run(bot: Bot, text: str, actor: SlackUser, channel: str | None, trigger_id, respond: Respond, client: WebClient):
    """The verb, after the ack; its answer is the one private reply."""
    log.info("%s %s", COMMAND, (text.split() or ["help"])[0][:20])  # the verb only: the rest is the user's
    user = bot.users.get(actor.id)
    inv = Invocation(
        user=actor.id, args=[], channel=channel, user_name=user.name, timezone=user.tz or bot.settings.timezone
    )
    outcome = dispatch(text, inv, bot.services)
    if isinstance(outcome, Reply):
        respond(text=clip(outcome.text, 3000), blocks=reply_blocks(outcome))
        return
    if isinstance(outcome, OpenModal):
        client.views_open(trigger_id=trigger_id, view=modal_view(outcome, bot.signer.sign(_meta(outcome))))
        return
    plan_and_post(bot, outcome, inv, lambda note: respond(text=note), quiet=True)


def _meta(modal: OpenModal) -> dict:
    return {"verb": modal.verb, **modal.metadata}


def register(app: App) -> None:
    app.command(COMMAND)(orc)
