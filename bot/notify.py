"""Keep Slack in step with requests, as a consumer of the lifecycle's events that never
holds up the work.

The bus hands events to `__call__`, which only records what is due (no Slack call); one
thread of its own renders. Per request the latest state wins: intermediate progress is
coalesced, a message is edited at most once every `interval` seconds, and a `Retry-After`
postpones that request's next edit instead of blocking anyone. The result is always told:
the request message is edited best-effort, and the announcement is posted once — a thread
reply under the request broadcast to the channel, or, where the channel refuses, a DM to
the requester — with the store recording what was announced, so neither a restart nor a
second replica tells it twice. Nothing is kept for requests that are done.
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
from dataclasses import dataclass, field

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks import announcement, approval_message, request_message
from commands.base import Services
from orcoursetrion.events import Event
from orcoursetrion.lifecycle import RequestType, Status
from orcoursetrion.store import RequestView
from orcoursetrion.zendesk import ticket_link

log = logging.getLogger(__name__)
NOT_SLACK = (None, "", "shell", "cli")
FINAL_EVENTS = ("completed", "failed", "rejected")


@dataclass
class _Due:
    """What still has to be done for one request."""

    render: bool = False
    approval_post: bool = False
    approval_refresh: bool = False
    announce: bool = False
    progress: dict = field(default_factory=dict)
    last_render: float = 0.0
    render_after: float = 0.0  # Slack asked us to wait before editing again

    def pending(self) -> bool:
        return self.render or self.approval_post or self.approval_refresh or self.announce


class SlackNotifier:
    """A lifecycle listener that renders requests to Slack on its own thread."""

    def __init__(self, services: Services, client: WebClient, interval: float = 3.0) -> None:
        self.services, self.client, self.interval = services, client, interval
        self._due: dict[int, _Due] = {}
        self._queue: list[tuple[float, int]] = []
        self._cond = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, daemon=True, name="orc-slack-notifier")
        self._thread.start()

    # -- the bus side: record, never call Slack ------------------------------------------------
    def __call__(self, event: Event) -> None:
        req = event.request
        if req.channel in NOT_SLACK:
            return
        with self._cond:
            due = self._due.setdefault(req.id, _Due())
            kind = event.kind
            if kind == "step_started":
                due.progress.update(index=event.data.get("index"), total=event.data.get("total"), text=event.text)
                due.progress.pop("wait", None)
            elif kind == "waiting":
                due.progress.update(wait=event.data.get("seconds"), wait_reason=event.text)
            elif kind == "progress":
                due.progress.update(event.data)
            if kind == "pending_approval":
                due.approval_post = True
            if kind in ("approved", "scheduled", "rejected", "cancelled", "started", "completed", "failed"):
                due.approval_refresh = True
            if kind in FINAL_EVENTS:
                due.announce = True
            due.render = True
            now = time.monotonic()
            if kind in ("step", "step_started", "progress", "waiting"):  # coalesced: one edit per interval
                at = max(now, due.last_render + self.interval)
            else:  # a new state is told at once
                at = now
            self._push(max(at, due.render_after) if not (due.announce or due.approval_post) else at, req.id)

    def _push(self, at: float, req_id: int) -> None:
        heapq.heappush(self._queue, (at, req_id))
        self._cond.notify_all()

    def stop(self, grace: float = 5.0) -> None:
        """Stop after telling what is due now (results first of all), within `grace` seconds."""
        deadline = time.monotonic() + grace
        with self._cond:
            while time.monotonic() < deadline and any(at <= time.monotonic() for at, _ in self._queue):
                self._cond.wait(0.05)
            self._stopping = True
            self._cond.notify_all()

    def catch_up(self, since_hours: float = 24.0) -> None:
        """At start-up: results that finished while no process could tell them (a crash right
        after the run) are announced now; the store's record keeps it to once."""
        for req in self.services.store.unannounced(since_hours):
            if req.channel not in NOT_SLACK:
                with self._cond:
                    due = self._due.setdefault(req.id, _Due())
                    due.announce = due.render = True
                    self._push(time.monotonic(), req.id)

    # -- the notifier's own thread ----------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._stopping and (not self._queue or self._queue[0][0] > time.monotonic()):
                    self._cond.wait(None if not self._queue else max(0.01, self._queue[0][0] - time.monotonic()))
                if self._stopping:
                    return
                _, req_id = heapq.heappop(self._queue)
                due = self._due.get(req_id)
                if due is None or not due.pending():
                    continue
                now = time.monotonic()
                render = due.render and now >= due.render_after
                work = _Due(render, due.approval_post, due.approval_refresh, due.announce, dict(due.progress))
                due.approval_post = due.approval_refresh = due.announce = False
                if render:
                    due.render = False
                elif due.render:  # edits wait for Slack's Retry-After; the rest goes now
                    self._push(due.render_after, req_id)
            try:
                self._work(req_id, work)
            except Exception:
                log.exception("telling Slack about request %s failed", req_id)
            self._settle(req_id)
            with self._cond:
                self._cond.notify_all()  # stop() may be waiting for the queue to empty

    def _later(self, req_id: int, part: str, exc: SlackApiError) -> None:
        """Slack asked us to wait: that part of that request is tried again later; nobody waits."""
        retry = exc.response.headers.get("Retry-After") if exc.response is not None else None
        delay = float(retry) if retry and str(retry).isdigit() else self.interval
        log.info("Slack rate limit on %s for request %s; again in %.0f s", part, req_id, delay)
        with self._cond:
            due = self._due.setdefault(req_id, _Due())
            setattr(due, part, True)
            at = time.monotonic() + delay
            if part == "render":
                due.render_after = at
            self._push(at, req_id)

    def _settle(self, req_id: int) -> None:
        """Forget a request once nothing is due and it will not move again on its own."""
        with self._cond:
            due = self._due.get(req_id)
            if due is None or due.pending():
                return
        req = self.services.store.find(req_id)
        with self._cond:
            due = self._due.get(req_id)
            if due is not None and not due.pending() and (req is None or req.state.final or req.state == Status.FAILED):
                self._due.pop(req_id, None)

    def _work(self, req_id: int, work: _Due) -> None:
        """Each part on its own: a rate-limited edit never holds up the announcement."""
        store = self.services.store
        parts = (
            ("approval_post", self._ask_approvers),
            ("announce", self._announce),
            ("approval_refresh", self._refresh_approval),
            ("render", lambda req: self._render(req, work.progress)),
        )
        for part, do in parts:
            if not getattr(work, part):
                continue
            try:
                do(store.get(req_id))
            except SlackApiError as exc:
                if _rate_limited(exc):
                    self._later(req_id, part, exc)
                else:
                    log.warning("Slack %s for request %s failed: %s", part, req_id, exc.response.get("error"))

    def _refresh_approval(self, req: RequestView) -> None:
        if req.approval_channel and req.approval_ts:
            text, blocks = approval_message(req, self.services.settings.approvers)
            self.client.chat_update(channel=req.approval_channel, ts=req.approval_ts, text=text, blocks=blocks)

    # -- rendering --------------------------------------------------------------------------------
    def _render(self, req: RequestView, progress: dict) -> None:
        """Edit the request's message to its latest state (best-effort: the announcement
        carries the result whatever happens here)."""
        with self._cond:
            due = self._due.get(req.id)
            if due is not None:
                due.last_render = time.monotonic()
        if not req.message_ts:
            return
        items = self.services.store.items(req.id) if req.type == RequestType.ROLLOVER else None
        if req.state == Status.FAILED and not progress.get("index"):
            progress = dict(progress, index=_failed_index(req))
        ticket = ticket_link(self.services.settings, req)
        text, blocks = request_message(req, items, progress or None, self.services.settings.approvers, ticket=ticket)
        self.client.chat_update(channel=req.channel, ts=req.message_ts, text=text, blocks=blocks)

    def _ask_approvers(self, req: RequestView) -> None:
        """Ask approvers (mentioned in the visible message) in the approval channel; if the
        bot cannot post there, in the request's channel rather than not at all."""
        approvers = self.services.settings.approvers
        text, blocks = approval_message(req, approvers)
        for channel in dict.fromkeys(c for c in (self.services.settings.approval_channel, req.channel) if c):
            try:
                posted = self.client.chat_postMessage(channel=channel, text=text, blocks=blocks)
            except SlackApiError as exc:
                if _rate_limited(exc):
                    raise
                log.error("cannot ask approvers in %s for request %s: %s", channel, req.id, exc.response.get("error"))
                continue
            self.services.store.update_fields(req.id, approval_channel=posted["channel"], approval_ts=posted["ts"])
            return

    def _announce(self, req: RequestView) -> None:
        """Tell the result once: in the request's thread (broadcast), else to the requester."""
        if not req.state.final and req.state != Status.FAILED:
            return
        key = req.result_key
        if req.announced == key or not self.services.store.claim_announcement(req.id, key):
            return
        text, blocks = announcement(req)
        broadcast = req.state in (Status.COMPLETED, Status.FAILED)
        try:
            if req.message_ts:
                self.client.chat_postMessage(
                    channel=req.channel, thread_ts=req.message_ts, reply_broadcast=broadcast, text=text, blocks=blocks
                )
            else:
                self.client.chat_postMessage(channel=req.channel, text=text, blocks=blocks)
            return
        except SlackApiError as exc:
            error = exc.response.get("error")
            if _rate_limited(exc):
                self.services.store.update_fields(req.id, announced=None)  # not told yet: try again
                raise
            log.warning(
                "cannot announce request %s in %s (%s); telling its requester directly", req.id, req.channel, error
            )
        why = f"(I could not post in <#{req.channel}>: {error}.)"
        try:
            self.client.chat_postMessage(channel=req.requester, text=f"{text}\n{why}", blocks=blocks)
        except SlackApiError as exc:
            if _rate_limited(exc):
                raise
            log.warning("cannot tell request %s's requester either: %s", req.id, exc.response.get("error"))


def _rate_limited(exc: SlackApiError) -> bool:
    """Slack asked us to slow down: the part waits and is tried again, never dropped."""
    return exc.response is not None and exc.response.get("error") == "ratelimited"


def _failed_index(req: RequestView) -> int | None:
    """The failed step's number, from its recorded name ("step k of n: …")."""
    step = req.error_step or ""
    if step.startswith("step ") and " of " in step:
        number = step[5:].split(" ", 1)[0]
        return int(number) if number.isdigit() else None
    return None
