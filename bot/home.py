"""App Home: the user's requests and, for approvers, the queue with Approve / Reject."""

from __future__ import annotations

from functools import partial

from bot.blocks import home_view
from bot.context import Bot
from orcoursetrion.lifecycle import Status
from orcoursetrion.zendesk import ticket_link


def publish_home(bot: Bot, user_id: str) -> None:
    store = bot.store
    mine = store.list_requests(requester=user_id, limit=10)
    pending = (
        store.list_requests(statuses=(Status.PENDING_APPROVAL,), limit=20)
        if bot.services.is_approver(user_id)
        else None
    )
    upcoming = store.scheduled_requests(requester=None if pending is not None else user_id, limit=10)
    tz = bot.users.get(user_id).tz
    link = partial(ticket_link, bot.services.settings)
    bot.client.views_publish(user_id=user_id, view=home_view(user_id, mine, pending, tz, link, upcoming))
