"""Buttons on request messages, approval messages and App Home.

Each button names its request (`orc.confirm:12`, value 12); the middleware has loaded it
as `subject`. A listener acknowledges first, then asks the lifecycle — which checks who
may do what and moves the request by compare-and-set, so double clicks and retries do
nothing twice. Any error reaches the clicker privately (the app's one error handler)."""

from __future__ import annotations

import logging
import re

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot import ids
from bot.blocks import modal_view, reject_view
from bot.context import Bot
from bot.home import publish_home
from bot.middleware import channel_of
from bot.planner import explain, tell_user
from bot.users import SlackUser
from commands.rerun import edit_modal
from orcoursetrion.errors import RequestStateError
from orcoursetrion.lifecycle import RequestType
from orcoursetrion.store import RequestView

log = logging.getLogger(__name__)


def from_home(body: dict) -> bool:
    """True when the click came from the App Home tab."""
    return (body.get("container") or {}).get("type") == "view" and (body.get("view") or {}).get("type") == "home"


def _after(bot: Bot, body: dict, actor: SlackUser) -> None:
    if from_home(body):  # the queue the approver acted on must not keep offering it
        publish_home(bot, actor.id)


def _then(bot: Bot, actor: SlackUser, body: dict, respond: Respond, work) -> None:
    """Do the click's work after the ack, off Bolt's threads; any error is told to the
    clicker privately. (Raising inside a listener after its ack makes Bolt lose the ack.)"""
    channel = channel_of(body)

    def tell(exc: BaseException) -> None:
        tell_user(bot, actor.id, channel, explain(exc), respond)

    def run() -> None:
        work()
        _after(bot, body, actor)

    bot.later(run, on_error=tell)


def confirm(ack: Ack, bot: Bot, actor: SlackUser, subject: RequestView, body: dict, respond: Respond) -> None:
    ack()
    _then(bot, actor, body, respond, lambda: bot.workflow.confirm(subject.id, actor.id))


def cancel(ack: Ack, bot: Bot, actor: SlackUser, subject: RequestView, body: dict, respond: Respond) -> None:
    ack()
    _then(bot, actor, body, respond, lambda: bot.workflow.cancel(subject.id, actor.id))


def approve(ack: Ack, bot: Bot, actor: SlackUser, subject: RequestView, body: dict, respond: Respond) -> None:
    ack()
    _then(bot, actor, body, respond, lambda: bot.workflow.approve(subject.id, actor.id))


def retry(ack: Ack, bot: Bot, actor: SlackUser, subject: RequestView, body: dict, respond: Respond) -> None:
    ack()
    _then(bot, actor, body, respond, lambda: bot.workflow.retry(subject.id, actor.id))


def stop(ack: Ack, bot: Bot, actor: SlackUser, subject: RequestView, body: dict, respond: Respond) -> None:
    ack()
    _then(bot, actor, body, respond, lambda: bot.workflow.request_stop(subject.id, actor.id))


def reject(ack: Ack, bot: Bot, actor: SlackUser, subject: RequestView, body: dict, respond: Respond, client: WebClient):
    """Ask the approver why (the reason goes to the requester)."""
    ack()

    def ask() -> None:
        req = bot.workflow.check_can_decide(subject.id, actor.id)
        meta = bot.signer.sign({"request": req.id, "home": from_home(body)})
        client.views_open(trigger_id=body["trigger_id"], view=reject_view(req, meta))

    _then(bot, actor, {**body, "container": {}}, respond, ask)


def edit(ack: Ack, bot: Bot, actor: SlackUser, subject: RequestView, body: dict, respond: Respond, client: WebClient):
    """ "Change term/team" on a rerun's plan: the form that replans it, same request number."""
    ack()

    def ask() -> None:
        req = bot.workflow.check_can_change(subject.id, actor.id)
        if req.type != RequestType.RERUN:
            raise RequestStateError(f"Request #{req.id} has no form to change; cancel it and ask again.")
        modal = edit_modal(req.params, req.channel, req.id)
        meta = bot.signer.sign({"verb": modal.verb, **modal.metadata})
        client.views_open(trigger_id=body["trigger_id"], view=modal_view(modal, meta))

    _then(bot, actor, {**body, "container": {}}, respond, ask)


def unknown(ack: Ack, body: dict) -> None:
    """A click on something that is not ours (an old message, a crafted payload): acked, logged."""
    ack()
    actions = body.get("actions") if isinstance(body.get("actions"), list) else []
    first = actions[0] if actions and isinstance(actions[0], dict) else {}
    log.info("ignored an unknown action %r", str(first.get("action_id"))[:80])


HANDLERS = {
    ids.CONFIRM: confirm,
    ids.CANCEL: cancel,
    ids.APPROVE: approve,
    ids.RETRY: retry,
    ids.STOP: stop,
    ids.REJECT: reject,
    ids.EDIT: edit,
}


def register(app: App) -> None:
    for action, handler in HANDLERS.items():
        app.action(ids.matcher(action))(handler)
    app.action(re.compile(r".*"))(unknown)
