"""Plans, after the ack: check a draft against the store and GitHub, record it as a
request awaiting confirmation and post its message — or tell the user what stops it."""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_sdk.errors import SlackApiError

from bot.blocks import bullets, request_message
from bot.context import Bot
from commands.base import Draft, Invocation
from commands.planning import Proposal, propose
from orcoursetrion.errors import GitHubRepoExists, OrcError, ValidationError, problems_of, user_message
from orcoursetrion.store import RequestView

log = logging.getLogger(__name__)
UNREACHABLE = ("not_in_channel", "channel_not_found", "is_archived", "restricted_action", "no_permission")
# The fields a repository name is made of, the one a user would change first.
REPO_NAME_FIELDS = ("new_term", "term", "course")

Tell = Callable[[str], None]


def blocked_text(proposal: Proposal) -> str:
    """A plan that cannot run: each problem, then what it would have done."""
    lines = [f":no_entry_sign: *{proposal.summary}* cannot run as it is. Nothing was recorded or changed."]
    lines += [f"• {user_message(p)}" for p in proposal.problems]
    if proposal.changes:
        lines.append("It would make these changes once that is fixed:\n" + bullets(proposal.changes, 1500))
    return "\n".join(lines)


def plan_and_post(
    bot: Bot,
    draft: Draft,
    inv: Invocation,
    tell: Tell,
    replaces: int | None = None,
    proposal: Proposal | None = None,
    quiet: bool = False,
) -> int | None:
    """Plan a draft (unless its `proposal` is given) and post it, or replace the plan of
    draft `replaces` in place. `tell` gets what the user must know (`quiet`: only when the
    plan did not land where they asked)."""
    proposal = proposal or propose(draft, bot.services)
    if not proposal.can_run:
        tell(blocked_text(proposal))
        return None
    if replaces:
        req = bot.workflow.replan(
            replaces, inv.user, proposal.params, proposal.changes, proposal.notes, proposal.confirm_warning
        )
        tell(f"Request #{req.id} now plans: {req.summary}.")
        return req.id
    user = bot.users.get(inv.user)
    req = bot.workflow.create(
        proposal.type,
        inv.user,
        proposal.params,
        plan=proposal.changes,
        channel=inv.channel,
        requester_name=user.name,
        requester_email=user.email,
        notes=proposal.notes,
        confirm_warning=proposal.confirm_warning,
    )
    channel, ts, moved = post_message(bot, req, inv)
    bot.store.update_fields(req.id, channel=channel, message_ts=ts)
    if moved:
        tell(
            f"I can't post in this channel, so the plan for request #{req.id} is in our direct messages. "
            "Invite me here (`/invite @orcoursetrion`) to plan in the channel."
        )
    elif not quiet:
        tell(f"The plan for request #{req.id} is in the channel: check it, then press Confirm.")
    return req.id


def post_message(bot: Bot, req: RequestView, inv: Invocation) -> tuple[str, str, bool]:
    """Post the request's message in the user's channel, else in a DM; (channel, ts, moved)."""
    text, blocks = request_message(req, approvers=bot.settings.approvers)
    if inv.channel:
        try:
            posted = bot.client.chat_postMessage(channel=inv.channel, text=text, blocks=blocks)
            return posted["channel"], posted["ts"], False
        except SlackApiError as exc:
            if exc.response.get("error") not in UNREACHABLE:
                raise
    dm = bot.client.conversations_open(users=inv.user)["channel"]["id"]
    posted = bot.client.chat_postMessage(channel=dm, text=text, blocks=blocks)
    return posted["channel"], posted["ts"], bool(inv.channel)


def field_errors(exc: BaseException, fields: set[str]) -> dict[str, str] | None:
    """Planning problems as form errors by field, when each names a field of the form; an
    existing repository is shown on the field that names it (the rerun form's new term)."""
    out: dict[str, str] = {}
    for problem in problems_of(exc):
        if isinstance(problem, ValidationError) and problem.field in fields:
            out.setdefault(problem.field, str(problem))
        elif isinstance(problem, GitHubRepoExists) and (
            name := next((f for f in REPO_NAME_FIELDS if f in fields), None)
        ):
            out.setdefault(name, user_message(problem))
        else:
            return None
    return out or None


def tell_user(bot: Bot, user: str, channel: str | None, text: str, respond: Callable | None = None) -> None:
    """A private note: via response_url, else an ephemeral in the channel, else a DM."""
    try:
        if respond is not None and getattr(respond, "response_url", None):
            try:
                respond(text=text, response_type="ephemeral", replace_original=False)
                return
            except Exception:
                log.warning("response_url failed for %s; trying chat.postEphemeral", user)
        if channel:
            try:
                bot.client.chat_postEphemeral(channel=channel, user=user, text=text)
                return
            except SlackApiError as exc:
                log.info("ephemeral failed (%s); sending a DM", exc.response.get("error"))
        bot.client.chat_postMessage(channel=user, text=text)
    except Exception:
        log.exception("could not tell %s", user)


def explain(exc: BaseException) -> str:
    """The one message a user sees for an error (typed errors mapped once, in errors.py)."""
    if isinstance(exc, OrcError):
        return f":no_entry_sign: {user_message(exc)}"
    return ":warning: Something went wrong; the details are in the service log."
