"""Buttons on request messages, approval messages and App Home.

Each button names its request (`orc.confirm:12`, value 12). The listener acknowledges
first, then asks the workflow, which checks who may do what and moves the request by
compare-and-set, so double clicks and Slack retries do nothing twice."""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import ids
from bot.blocks import modal_view, reject_view
from bot.context import Bot
from bot.home import publish_home
from commands.rerun import edit_modal
from orcoursetrion.errors import OrcError, user_message
from orcoursetrion.lifecycle import RequestType

log = logging.getLogger(__name__)


def clicked(body: dict) -> tuple[int, str]:
    """(request id, user id) of a button click."""
    return int(body["actions"][0]["value"]), body["user"]["id"]


def tell(bot: Bot, body: dict, text: str, respond: Respond | None = None) -> None:
    """A private answer to whoever clicked, where they clicked.

    The click's response_url comes first: it reaches the clicker even when they are not
    a member of the channel (anyone may open a public approval channel and click), where
    chat.postEphemeral fails with user_not_in_channel. App Home clicks have none: DM."""
    user = body["user"]["id"]
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    if respond is not None and respond.response_url:
        try:
            if respond(text=text, response_type="ephemeral", replace_original=False).status_code == 200:
                return
        except Exception:
            log.warning("response_url failed for %s; trying chat.postEphemeral", user, exc_info=True)
    try:
        if channel:
            bot.client.chat_postEphemeral(channel=channel, user=user, text=text)
        else:
            bot.client.chat_postMessage(channel=user, text=text)
    except SlackApiError as exc:
        log.warning("could not tell %s: %s", user, exc.response.get("error"))


def from_home(body: dict) -> bool:
    """True when the click came from the App Home tab."""
    return (body.get("container") or {}).get("type") == "view" and (body.get("view") or {}).get("type") == "home"


def after_home_click(bot: Bot, body: dict) -> None:
    if from_home(body):
        publish_home(bot, body["user"]["id"])


def register(app: App, bot: Bot) -> None:
    wf = bot.workflow

    def decision(action: str, move: Callable[[int, str], object]) -> None:
        def handler(ack: Ack, body: dict, respond: Respond) -> None:
            ack()
            req_id, user = clicked(body)
            try:
                move(req_id, user)
            except OrcError as exc:
                tell(bot, body, f":no_entry_sign: {user_message(exc)}", respond)
            after_home_click(bot, body)

        app.action(ids.matcher(action))(handler)

    decision(ids.CONFIRM, wf.confirm)
    decision(ids.CANCEL, wf.cancel)
    decision(ids.APPROVE, wf.approve)
    decision(ids.RETRY, wf.retry)
    decision(ids.STOP, wf.request_stop)

    def reject(ack: Ack, body: dict, client: WebClient, respond: Respond) -> None:
        ack()
        req_id, user = clicked(body)
        try:
            req = wf.check_can_decide(req_id, user)
        except OrcError as exc:
            tell(bot, body, f":no_entry_sign: {user_message(exc)}", respond)
            return
        client.views_open(trigger_id=body["trigger_id"], view=reject_view(req, from_home=from_home(body)))

    def edit(ack: Ack, body: dict, client: WebClient, respond: Respond) -> None:
        ack()
        req_id, user = clicked(body)
        try:
            req = wf.check_can_change(req_id, user)
        except OrcError as exc:
            tell(bot, body, f":no_entry_sign: {user_message(exc)}", respond)
            return
        if req.type != RequestType.RERUN:
            tell(bot, body, f"Request #{req_id} has no form to change; cancel it and ask again.", respond)
            return
        client.views_open(trigger_id=body["trigger_id"], view=modal_view(edit_modal(req.params, req.channel, req.id)))

    app.action(ids.matcher(ids.REJECT))(reject)
    app.action(ids.matcher(ids.EDIT))(edit)
