"""Buttons on request messages, approval messages and App Home.

Each button names its request (`orc.confirm:12`, value 12). The listener acknowledges
first, then asks the workflow, which checks who may do what and moves the request by
compare-and-set, so double clicks and Slack retries do nothing twice."""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import ids
from bot.blocks import modal_view, reject_view
from bot.context import Bot
from bot.home import publish_home
from commands.rerun import edit_modal
from orcoursetrion.errors import OrcError, user_message
from orcoursetrion.lifecycle import RequestType, Status

log = logging.getLogger(__name__)


def clicked(body: dict) -> tuple[int, str]:
    """(request id, user id) of a button click."""
    return int(body["actions"][0]["value"]), body["user"]["id"]


def tell(bot: Bot, body: dict, text: str) -> None:
    """A private answer to whoever clicked, where they clicked."""
    user = body["user"]["id"]
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    try:
        if channel:
            bot.client.chat_postEphemeral(channel=channel, user=user, text=text)
        else:
            bot.client.chat_postMessage(channel=user, text=text)
    except SlackApiError as exc:
        log.warning("could not tell %s: %s", user, exc.response.get("error"))


def after_home_click(bot: Bot, body: dict) -> None:
    if (body.get("container") or {}).get("type") == "view" and (body.get("view") or {}).get("type") == "home":
        publish_home(bot, body["user"]["id"])


def register(app: App, bot: Bot) -> None:
    wf = bot.workflow

    def decision(action: str, move: Callable[[int, str], object]) -> None:
        def handler(ack: Ack, body: dict) -> None:
            ack()
            req_id, user = clicked(body)
            try:
                move(req_id, user)
            except OrcError as exc:
                tell(bot, body, f":no_entry_sign: {user_message(exc)}")
            after_home_click(bot, body)

        app.action(ids.matcher(action))(handler)

    decision(ids.CONFIRM, wf.confirm)
    decision(ids.CANCEL, wf.cancel)
    decision(ids.APPROVE, wf.approve)
    decision(ids.RETRY, wf.retry)
    decision(ids.STOP, wf.request_stop)

    def reject(ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        req_id, user = clicked(body)
        try:
            req = wf.check_can_decide(req_id, user)
        except OrcError as exc:
            tell(bot, body, f":no_entry_sign: {user_message(exc)}")
            return
        client.views_open(trigger_id=body["trigger_id"], view=reject_view(req))

    def edit(ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        req_id, user = clicked(body)
        req = bot.store.get(req_id)
        if user != req.requester and not bot.services.is_approver(user):
            tell(bot, body, ":no_entry_sign: Only the requester or an approver can change this request.")
            return
        if req.state != Status.DRAFT or req.type != RequestType.RERUN:
            tell(bot, body, f"Request #{req_id} is {req.state.label}; it can no longer be changed.")
            return
        client.views_open(trigger_id=body["trigger_id"], view=modal_view(edit_modal(req.params, req.channel, req.id)))

    app.action(ids.matcher(ids.REJECT))(reject)
    app.action(ids.matcher(ids.EDIT))(edit)
