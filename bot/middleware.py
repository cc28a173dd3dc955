"""Bolt middleware for what every listener needs (after Netflix Dispatch's middleware):
the bot, the acting Slack user, the request a button points at, a modal's form data and
its verified metadata — parsed into typed values once, at the edge, so handlers stay a
few lines long and no malformed payload reaches them. A payload that does not fit gets
a clear answer and a 200, never a 500 or silence; a retried delivery runs once."""

from __future__ import annotations

import json
import logging
import re

from slack_bolt import BoltResponse

from bot import ids
from bot.context import Bot
from bot.users import SlackUser
from commands.text import MAX_TEXT
from orcoursetrion import logcontext

log = logging.getLogger(__name__)
USER_RE = re.compile(r"[UW][A-Z0-9]{2,30}")
CHANNEL_RE = re.compile(r"[CGD][A-Z0-9]{2,30}")
BUTTON_RE = re.compile(r"(orc\.[a-z_]+):([0-9]{1,9})")
MAX_FIELD = 3000


def _answer(body: dict, text: str) -> BoltResponse:
    """An ephemeral answer in the ack itself (slash commands show it; others ignore it)."""
    if body.get("type") == "view_submission":
        return BoltResponse(status=200, body="")
    return BoltResponse(status=200, body=json.dumps({"response_type": "ephemeral", "text": text}))


def attach(bot: Bot):
    """Make the bot available to every listener and middleware as `bot`."""

    def attach_bot(context, next):
        context["bot"] = bot
        logcontext.clear()  # Bolt runs middleware, then listeners, on a reused thread
        return next()

    return attach_bot


def once(context, request, body, next):
    """A delivery Slack retried (X-Slack-Retry-Num > 0) that was already handled is only acked;
    a retried event always is (our event handlers ran on its first delivery). A first delivery
    in Socket Mode carries `retry_attempt: 0`, which Bolt passes on as `x-slack-retry-num: 0`.

    A first delivery is recorded off the ack path: a store write before the ack waits
    behind every other writer (SQLite has one), which under load cost ~10x a bare Bolt
    app's ack (bench/ack_latency.py). Slack retries only what went unacked for 3 s, long
    after that record is written; a retry itself is checked before anything runs."""
    retry = (request.headers.get("x-slack-retry-num") or ["0"])[0].strip()
    if body.get("type") == "event_callback":  # events run once and are never worth a second go
        return next() if retry in ("", "0") else BoltResponse(status=200, body="")
    bot: Bot = context["bot"]
    key = delivery_key(body)
    if key is None:
        return next()
    if retry in ("", "0"):
        bot.later(bot.store.first_delivery, key)
        return next()
    if not bot.store.first_delivery(key):
        log.info("ignored a retried Slack delivery (%s)", key.split(":", 1)[0])
        return BoltResponse(status=200, body="")
    return next()


def delivery_key(body: dict) -> str | None:
    """What identifies one delivery across Slack's retries."""
    kind = body.get("type")
    if body.get("command"):
        return f"command:{body.get('trigger_id')}" if body.get("trigger_id") else None
    if kind in ("block_actions", "view_submission") and body.get("trigger_id"):
        return f"{kind}:{body.get('trigger_id')}"
    return None


def actor(context, body, next):
    """The acting Slack user, as typed values (time zone from the cache only: no call before the ack)."""
    bot: Bot = context["bot"]
    if body.get("type") == "event_callback":
        return next()
    if body.get("command"):
        user_id = body.get("user_id")
    else:
        user = body.get("user")
        user_id = user.get("id") if isinstance(user, dict) else None
    if not isinstance(user_id, str) or not USER_RE.fullmatch(user_id):
        log.warning("a Slack payload without a valid user (%s)", body.get("type") or "command")
        return _answer(body, "Slack did not say who you are, so I did nothing.")
    known = bot.users.cached(user_id)
    context["actor"] = known or SlackUser(user_id)
    logcontext.bind(slack_user=user_id)  # this delivery's log lines (and its listener's) name the user
    return next()


def command_text(context, body, next):
    """A slash command's text: a string of sane length, checked before anything tokenises it."""
    if not body.get("command"):
        return next()
    text = body.get("text")
    if not isinstance(text, str):
        return _answer(body, "That command arrived without its text.")
    if len(text) > MAX_TEXT:
        return _answer(body, f"That is {len(text)} characters; an /orc command takes at most {MAX_TEXT}.")
    channel = body.get("channel_id")
    context["channel_id"] = channel if isinstance(channel, str) and CHANNEL_RE.fullmatch(channel) else None
    return next()


def button(context, body, next):
    """A click on one of our buttons: the action and the request it names, loaded once."""
    if body.get("type") != "block_actions":
        return next()
    actions = body.get("actions")
    action = actions[0] if isinstance(actions, list) and actions and isinstance(actions[0], dict) else {}
    match = BUTTON_RE.fullmatch(str(action.get("action_id") or ""))
    value = action.get("value")
    if match is None or match.group(1) not in ids.BUTTONS:
        return next()  # not ours: the catch-all listener acks and logs it
    if not isinstance(value, str) or value != match.group(2):
        return _ack_and_tell(context, body, "That button is not one I made; nothing was done.")
    context["subject"] = context["bot"].store.find(int(match.group(2)))  # a primary-key read
    if context["subject"] is None:
        return _ack_and_tell(context, body, f"There is no request #{match.group(2)}.")
    return next()


def channel_of(body: dict) -> str | None:
    """The channel a payload came from: an interaction's `channel.id`, a command's `channel_id`."""
    channel = (body.get("channel") or {}).get("id") if isinstance(body.get("channel"), dict) else body.get("channel_id")
    return channel if isinstance(channel, str) else None


def _ack_and_tell(context, body, text: str) -> BoltResponse:
    bot: Bot = context["bot"]
    from bot.planner import tell_user

    user = context.get("actor")
    channel = channel_of(body)
    if user is not None:
        bot.later(tell_user, bot, user.id, channel, text)
    return BoltResponse(status=200, body="")


def form(context, body, next):
    """A submitted modal: its values as plain strings by block id, its metadata verified."""
    if body.get("type") != "view_submission":
        return next()
    bot: Bot = context["bot"]
    view = body.get("view") if isinstance(body.get("view"), dict) else {}
    meta = bot.signer.verify(view.get("private_metadata"))
    if meta is None:
        log.warning("a modal submission with metadata the bot did not write")
        return _errors(view, "This form was changed outside Slack; close it and start again.")
    values, problems = form_values(view.get("state"))
    if problems:
        return BoltResponse(status=200, body=json.dumps({"response_action": "errors", "errors": problems}))
    context["form"], context["meta"] = values, meta
    return next()


def _errors(view: dict, text: str) -> BoltResponse:
    """An inline error on the form's first input (Slack shows it under the field)."""
    first = next(
        (b.get("block_id") for b in view.get("blocks") or [] if isinstance(b, dict) and b.get("type") == "input"), None
    )
    if first is None:
        return BoltResponse(status=200, body="")
    return BoltResponse(status=200, body=json.dumps({"response_action": "errors", "errors": {first: text}}))


def form_values(state: object) -> tuple[dict[str, str | None], dict[str, str]]:
    """A view's state.values as {block id: string or None}, and the fields that are not
    what the form's elements give (a number, a list, an object where text belongs)."""
    values: dict[str, str | None] = {}
    problems: dict[str, str] = {}
    blocks = state.get("values") if isinstance(state, dict) else None
    if not isinstance(blocks, dict):
        return values, problems
    for block_id, actions in blocks.items():
        if not isinstance(actions, dict):
            problems[str(block_id)[:255]] = "This field's value is not what the form sends."
            continue
        for element in actions.values():
            if not isinstance(element, dict):
                problems[str(block_id)[:255]] = "This field's value is not what the form sends."
                continue
            kind = element.get("type")
            if kind == "plain_text_input":
                value = element.get("value")
            elif kind in ("radio_buttons", "static_select"):
                option = element.get("selected_option")
                value = option.get("value") if isinstance(option, dict) else None if option is None else 0
            elif kind == "datepicker":
                value = element.get("selected_date")
            else:
                value = None
            if value is not None and (not isinstance(value, str) or len(value) > MAX_FIELD):
                problems[str(block_id)[:255]] = "This field's value is not text (or is far too long)."
                continue
            values[str(block_id)] = value
    return values, problems


MIDDLEWARE = (once, actor, command_text, button, form)
