"""Plan in the background, then post the request message with Confirm / Cancel.

Slack needs an answer within 3 s, and a plan may need several GitHub reads, so
handlers acknowledge first and hand the plan to this small pool.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks import request_message
from bot.users import Directory
from commands.base import Draft, Invocation, Services
from commands.planning import Proposal, propose
from orcoursetrion.errors import GitHubRepoExists, OrcError, ValidationError, user_message
from orcoursetrion.store import RequestView

log = logging.getLogger(__name__)
UNREACHABLE = ("not_in_channel", "channel_not_found", "is_archived", "restricted_action", "no_permission")


class Planner:
    """Builds proposals off the request thread and posts them where the user asked."""

    def __init__(self, services: Services, client: WebClient, users: Directory, workers: int = 8) -> None:
        self.services, self.client, self.users = services, client, users
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="orc-plan")

    def shutdown(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)

    # -- entry points -----------------------------------------------------------------------------
    def submit(self, draft: Draft, inv: Invocation, respond: Callable | None = None, replaces: int | None = None):
        """Plan and post later; errors go back to the user privately."""
        return self.pool.submit(self._guarded, inv, respond, self._plan_and_post, draft, inv, respond, replaces)

    def propose_within(self, draft: Draft, budget: float) -> tuple[Future, Proposal | None, OrcError | None]:
        """Start planning; wait up to `budget` seconds (a modal must be answered within 3 s)."""
        future = self.pool.submit(propose, draft, self.services)
        try:
            proposal = future.result(timeout=budget)
        except FutureTimeout:
            return future, None, None
        except OrcError as exc:
            return future, None, exc
        return future, proposal, proposal.error

    def post_when_ready(self, future: Future, inv: Invocation, replaces: int | None = None) -> None:
        """Post the plan of a proposal that is (or will be) ready."""
        future.add_done_callback(
            lambda done: self.pool.submit(self._guarded, inv, None, self._post_from_future, done, inv, replaces)
        )

    # -- work --------------------------------------------------------------------------------------
    def _guarded(self, inv: Invocation, respond: Callable | None, fn: Callable, *args) -> None:
        """Run fn(*args); any failure is told to the user privately, never lost."""
        try:
            fn(*args)
        except OrcError as exc:
            self.tell(inv, f":warning: {user_message(exc)}", respond)
        except Exception:
            log.exception("planning failed")
            self.tell(
                inv, ":warning: Something went wrong while planning; the details are in the service log.", respond
            )

    def _plan_and_post(self, draft: Draft, inv: Invocation, respond: Callable | None, replaces: int | None) -> None:
        self.post(propose(draft, self.services), inv, respond, replaces)

    def _post_from_future(self, future: Future, inv: Invocation, replaces: int | None) -> None:
        self.post(future.result(), inv, None, replaces)

    def post(self, proposal: Proposal, inv: Invocation, respond: Callable | None, replaces: int | None = None) -> int:
        """Record the request (awaiting confirmation) and post its message; returns its id.
        A plan that cannot run is not recorded: its problems go back to the user."""
        if not proposal.can_run:
            raise proposal.error
        store, workflow = self.services.store, self.services.workflow
        user = self.users.get(inv.user)
        req = workflow.create(
            proposal.type,
            inv.user,
            proposal.params,
            plan=proposal.changes,
            channel=inv.channel,
            requester_name=user.name,
            requester_email=user.email,
        )
        text, blocks = request_message(req, notes=proposal.notes)
        old = store.find(replaces) if replaces else None
        if old is not None and old.message_ts and self._retire(old, req.id, inv.user):
            self.client.chat_update(channel=old.channel, ts=old.message_ts, text=text, blocks=blocks)
            store.update_fields(req.id, channel=old.channel, message_ts=old.message_ts)
            store.audit(req.id, inv.user, "note", "replaces", f"replaces request #{old.id}")
            return req.id
        channel, ts = self._post_message(inv, text, blocks, respond)
        store.update_fields(req.id, channel=channel, message_ts=ts)
        return req.id

    def _retire(self, old: RequestView, new_id: int, user: str) -> bool:
        """Hand the old draft's message to its replacement, unless it was confirmed meanwhile
        (then it keeps running and keeps its message, and the new plan is posted separately)."""
        try:
            moved = self.services.workflow.supersede(old.id, new_id, user)
        except OrcError as exc:
            log.info("request %s cannot be replaced: %s", old.id, exc)
            return False
        if moved is None:
            log.info("request %s was confirmed before its replacement; posting #%s separately", old.id, new_id)
        return moved is not None

    def _post_message(self, inv: Invocation, text: str, blocks: list, respond: Callable | None) -> tuple[str, str]:
        if inv.channel:
            try:
                posted = self.client.chat_postMessage(channel=inv.channel, text=text, blocks=blocks)
                return posted["channel"], posted["ts"]
            except SlackApiError as exc:
                if exc.response.get("error") not in UNREACHABLE:
                    raise
        dm = self.client.conversations_open(users=inv.user)["channel"]["id"]
        posted = self.client.chat_postMessage(channel=dm, text=text, blocks=blocks)
        if inv.channel:
            self.tell(
                inv,
                "I can't post in this channel, so I sent you the plan in a direct message. "
                "Invite me here (`/invite @orcoursetrion`) to plan in the channel.",
                respond,
            )
        return posted["channel"], posted["ts"]

    def tell(self, inv: Invocation, text: str, respond: Callable | None = None) -> None:
        """A private note to the user: via response_url, else ephemeral, else a DM."""
        try:
            if respond is not None:
                respond(text=text, response_type="ephemeral", replace_original=False)
                return
            if inv.channel:
                try:
                    self.client.chat_postEphemeral(channel=inv.channel, user=inv.user, text=text)
                    return
                except SlackApiError as exc:
                    log.info("ephemeral failed (%s); sending a DM", exc.response.get("error"))
            self.client.chat_postMessage(channel=inv.user, text=text)
        except Exception:
            log.exception("could not tell %s", inv.user)


# The fields a repository name is made of, the one a user would change first.
REPO_NAME_FIELDS = ("new_term", "term", "course")


def field_errors(exc: OrcError, fields: set[str]) -> dict[str, str] | None:
    """A planning error as inline modal errors, when it names a field of the form; an
    existing repository is shown on the field that names it (the rerun form's new term)."""
    if isinstance(exc, ValidationError) and exc.field in fields:
        return {exc.field: str(exc)}
    if isinstance(exc, GitHubRepoExists):
        field = next((f for f in REPO_NAME_FIELDS if f in fields), None)
        if field is not None:
            return {field: user_message(exc)}
    return None
