"""Modal submissions. Before the ack only fast checks run (the form's format, a lookup by
key); the slower ones — GitHub logins, existing repos, duplicates on edX — run after it,
and their verdict replaces the modal (the form again, its values kept and the problems
shown; or where the plan was posted)."""

from __future__ import annotations

import copy
import logging

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot import ids
from bot.blocks import context as context_block
from bot.blocks import escape, notice_view
from bot.context import Bot
from bot.home import publish_home
from bot.planner import explain, field_errors, plan_and_post, tell_user
from bot.users import SlackUser
from commands import REGISTRY, FieldErrors, Invocation
from commands.planning import propose
from orcoursetrion.errors import OrcError, user_message

log = logging.getLogger(__name__)
PROBLEMS_BLOCK = "orc-problems"


def verb_form(ack: Ack, bot: Bot, actor: SlackUser, form: dict, meta: dict, body: dict, client: WebClient) -> None:
    verb = REGISTRY.get(str(meta.get("verb", "")))
    if verb is None or verb.submit is None:
        ack()
        return
    replaces = meta.get("replaces") if isinstance(meta.get("replaces"), int) else None
    channel = meta.get("channel") if isinstance(meta.get("channel"), str) else None
    inv = Invocation(user=actor.id, args=[], channel=channel, timezone=actor.tz)
    if replaces:
        try:
            bot.workflow.check_can_change(replaces, actor.id)
        except OrcError as exc:
            first = next(iter(form), None)
            ack(response_action="errors", errors={first: f"{user_message(exc)} Close this form."} if first else {})
            return
    try:
        draft = verb.submit(form, meta, inv, bot.services)
    except FieldErrors as exc:
        ack(response_action="errors", errors=exc.errors)
        return
    ack(
        response_action="update",
        view=notice_view(verb.name.capitalize(), ":hourglass_flowing_sand: Checking the plan…"),
    )
    view = body["view"]
    bot.later(_check_and_post, bot, draft, inv, view, form, replaces, client, on_error=_modal_error(client, view))


def _check_and_post(bot: Bot, draft, inv: Invocation, view: dict, form: dict, replaces: int | None, client) -> None:
    """The slower checks; then the form comes back with its problems, or the plan is posted."""
    proposal = propose(draft, bot.services)
    if not proposal.can_run:
        inline = field_errors(proposal.error, set(form))
        if inline:
            client.views_update(view_id=view["id"], view=refilled(view, form, inline))
            return
    notes: list[str] = []
    request_id = plan_and_post(bot, draft, inv, notes.append, replaces=replaces, proposal=proposal)
    where = f" in <#{inv.channel}>" if inv.channel else ""
    text = notes[-1] if request_id is None else f"The plan for request #{request_id} is ready{where}."
    client.views_update(view_id=view["id"], view=notice_view("Plan", text))


def _modal_error(client: WebClient, view: dict):
    def tell(exc: BaseException) -> None:
        client.views_update(view_id=view["id"], view=notice_view("Something went wrong", explain(exc)))

    return tell


def refilled(view: dict, values: dict, problems: dict[str, str]) -> dict:
    """The submitted form again, with what was typed and the problems above it."""
    blocks = [b for b in copy.deepcopy(view.get("blocks") or []) if b.get("block_id") != PROBLEMS_BLOCK]
    for block in blocks:
        element = block.get("element") if block.get("type") == "input" else None
        value = values.get(block.get("block_id"))
        if not element or not value:
            continue
        if element.get("type") == "plain_text_input":
            element["initial_value"] = value
        elif element.get("type") == "datepicker":
            element["initial_date"] = value
        elif element.get("type") == "radio_buttons":
            chosen = next((o for o in element.get("options", []) if o.get("value") == value), None)
            if chosen:
                element["initial_option"] = chosen
    lines = "\n".join(f"• *{escape(name)}*: {text}" for name, text in problems.items())
    note = context_block(f":warning: Please fix:\n{lines}")
    note["block_id"] = PROBLEMS_BLOCK
    keep = ("type", "callback_id", "title", "submit", "close", "private_metadata")
    return {**{k: view[k] for k in keep if k in view}, "blocks": [note, *blocks][:100]}


def reject_reason(ack: Ack, bot: Bot, actor: SlackUser, form: dict, meta: dict) -> None:
    request_id = meta.get("request")
    reason = (form.get(ids.REASON_BLOCK) or "").strip()
    if not isinstance(request_id, int):
        ack(response_action="errors", errors={ids.REASON_BLOCK: "This form names no request; close it."})
        return
    if len(reason) < 3:
        ack(response_action="errors", errors={ids.REASON_BLOCK: "Say why, so the requester can fix it."})
        return
    try:
        bot.workflow.check_can_decide(request_id, actor.id)
    except OrcError as exc:
        ack(response_action="errors", errors={ids.REASON_BLOCK: user_message(exc)})
        return
    ack()

    def decide() -> None:
        bot.workflow.reject(request_id, actor.id, reason)
        if meta.get("home"):  # the queue the approver rejected from must not keep offering it
            publish_home(bot, actor.id)

    bot.later(decide, on_error=lambda exc: tell_user(bot, actor.id, None, explain(exc)))


def register(app: App) -> None:
    app.view(ids.FORM)(verb_form)
    app.view(ids.REJECT_REASON)(reject_reason)
