"""Modal submissions: verb forms (validated inline with `response_action: errors`) and
the reject reason."""

from __future__ import annotations

import json
import logging

from slack_bolt import Ack, App

from bot import ids
from bot.blocks import form_values
from bot.context import Bot
from bot.home import publish_home
from bot.planner import field_errors
from commands import REGISTRY, FieldErrors, Invocation
from orcoursetrion.errors import OrcError, user_message

log = logging.getLogger(__name__)
PLAN_BUDGET = 2.0  # seconds of GitHub checks inside Slack's 3 s window; later ones report by message


def replaced_elsewhere(bot: Bot, request_id: int | None, user: str) -> str | None:
    """Why a form that changes request `request_id` can no longer apply (it was confirmed,
    cancelled... while the form was open), or None while it may still be changed."""
    if not request_id:
        return None
    try:
        bot.workflow.check_can_change(int(request_id), user)
    except OrcError as exc:
        return f"{user_message(exc)} Close this form."
    return None


def register(app: App, bot: Bot) -> None:
    def form(ack: Ack, body: dict, view: dict) -> None:
        meta = json.loads(view.get("private_metadata") or "{}")
        verb = REGISTRY.get(meta.get("verb", ""))
        if verb is None or verb.submit is None:
            ack()
            return
        values = form_values(view.get("state") or {})
        inv = Invocation(user=body["user"]["id"], args=[], channel=meta.get("channel"))
        stale = replaced_elsewhere(bot, meta.get("replaces"), inv.user)
        if stale and values:
            ack(response_action="errors", errors={next(iter(values)): stale})
            return
        try:
            draft = verb.submit(values, meta, inv, bot.services)
        except FieldErrors as exc:
            ack(response_action="errors", errors=exc.errors)
            return
        future, proposal, error = bot.planner.propose_within(draft, PLAN_BUDGET)
        if error is not None:
            inline = field_errors(error, set(values))
            if inline:
                ack(response_action="errors", errors=inline)
                return
            ack()
            bot.planner.tell(inv, f":warning: {user_message(error)}")
            return
        ack()
        bot.planner.post_when_ready(future, inv, replaces=meta.get("replaces"))

    def reject_reason(ack: Ack, body: dict, view: dict) -> None:
        meta = json.loads(view["private_metadata"])
        req_id = int(meta["request"])
        user = body["user"]["id"]
        reason = (form_values(view.get("state") or {}).get(ids.REASON_BLOCK) or "").strip()
        if len(reason) < 3:
            ack(response_action="errors", errors={ids.REASON_BLOCK: "Say why, so the requester can fix it."})
            return
        try:
            bot.workflow.check_can_decide(req_id, user)
        except OrcError as exc:
            ack(response_action="errors", errors={ids.REASON_BLOCK: user_message(exc)})
            return
        ack()
        try:
            bot.workflow.reject(req_id, user, reason)
        except OrcError as exc:  # someone else decided in the meantime
            bot.planner.tell(Invocation(user=user, args=[]), f":no_entry_sign: {user_message(exc)}")
        if meta.get("home"):  # the queue the approver rejected from must not keep offering it
            publish_home(bot, user)

    app.view(ids.FORM)(form)
    app.view(ids.REJECT_REASON)(reject_reason)
