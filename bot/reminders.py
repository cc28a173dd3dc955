"""The scheduler's notices in Slack (`orcoursetrion.scheduler.Notices`): the daily reminder
to approvers — one message in ORC_APPROVAL_CHANNEL, else a DM to each approver — with
Approve / Reject; a DM to each requester whose request failed and was not retried, with
Retry / Cancel; and a note in a request's thread when a scheduled request ran late.

The buttons are the request messages' own (`bot.ids`), so the existing handlers act on them.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks import clip, context, decision_buttons, escape, mrkdwn, retry_buttons
from bot.notify import NOT_SLACK
from commands.base import Services
from orcoursetrion.config import SLACK_USER
from orcoursetrion.store import RequestView
from orcoursetrion.times import slack_date

log = logging.getLogger(__name__)
SHOWN = 20  # requests per message: two blocks each, within Slack's 50


class SlackNotices:
    """Sends the scheduler's reminders and notes with the bot's Slack client."""

    def __init__(self, services: Services, client: WebClient) -> None:
        self.services, self.client = services, client

    def approvals_waiting(self, requests: list[RequestView], note: str | None) -> None:
        settings = self.services.settings
        text, blocks = approvals_message(requests, settings.remind_after_hours, settings.timezone, note)
        targets = [settings.approval_channel] if settings.approval_channel else list(settings.approvers)
        for target in targets:
            self._post(target, text, blocks)

    def failures_waiting(self, requester: str, requests: list[RequestView], note: str | None) -> None:
        if not SLACK_USER.match(requester):
            return  # a command-line or shell user: nobody to DM
        text, blocks = failures_message(requests, self.services.settings.timezone, note)
        self._post(requester, text, blocks)

    def ran_late(self, request: RequestView, text: str) -> None:
        if request.channel in NOT_SLACK:
            return
        try:
            self.client.chat_postMessage(channel=request.channel, thread_ts=request.message_ts, text=f":clock3: {text}")
        except SlackApiError as exc:
            log.warning("late note for request %s failed: %s", request.id, exc.response.get("error"))

    def _post(self, target: str, text: str, blocks: list[dict]) -> None:
        """Post in a channel, or in the DM with a user."""
        try:
            channel = target
            if SLACK_USER.match(target):
                channel = self.client.conversations_open(users=target)["channel"]["id"]
            self.client.chat_postMessage(channel=channel, text=text, blocks=blocks)
        except SlackApiError as exc:
            log.error("reminder to %s failed: %s", target, exc.response.get("error"))


def approvals_message(
    requests: list[RequestView], hours: int, tz: str, note: str | None = None
) -> tuple[str, list[dict]]:
    """The approvers' reminder: each request waiting too long, with Approve / Reject."""
    count = len(requests)
    title = f":bell: *{count} request{'s' if count != 1 else ''} waiting for approval for more than {hours} h*"
    blocks = [mrkdwn(title)]
    for req in requests[:SHOWN]:
        since = slack_date(req.updated_at, tz)
        blocks.append(mrkdwn(f"*#{req.id}* {escape(req.summary)} — <@{req.requester}>, waiting since {since}"))
        blocks.append(decision_buttons(req, "remind"))
    if count > SHOWN:
        blocks.append(context(f"… and {count - SHOWN} more: `/orc list pending`"))
    if note:
        blocks.append(context(escape(note)))
    text = f"{count} request(s) waiting for approval: " + ", ".join(f"#{r.id}" for r in requests[:50])
    return clip(text, 3000), blocks


def failures_message(requests: list[RequestView], tz: str, note: str | None = None) -> tuple[str, list[dict]]:
    """A requester's reminder: their failed requests, each with Retry / Cancel."""
    count = len(requests)
    blocks = [mrkdwn(f":warning: *{count} of your requests failed and {'were' if count != 1 else 'was'} not retried*")]
    for req in requests[:SHOWN]:
        failed = slack_date(req.finished_at or req.updated_at, tz)
        blocks.append(mrkdwn(clip(f"*#{req.id}* {escape(req.summary)} — failed {failed}: {escape(req.error)}", 3000)))
        blocks.append(retry_buttons(req, "remind-failed"))
    if count > SHOWN:
        blocks.append(context(f"… and {count - SHOWN} more: `/orc list failed`"))
    if note:
        blocks.append(context(escape(note)))
    text = f"{count} of your requests failed and not retried: " + ", ".join(f"#{r.id}" for r in requests[:50])
    return clip(text, 3000), blocks
