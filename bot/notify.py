"""Tell Slack what happened to a request: edit its message as it moves (plan, approval,
progress, result), ask approvers, and announce results in the channel and the thread.

Messages are always rendered from the request's latest stored state, so updates that
race each other still end with the right final message.
"""

from __future__ import annotations

import logging
import threading
import time

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks import approval_message, escape, request_message
from commands.base import Services
from orcoursetrion.lifecycle import RequestType, Status
from orcoursetrion.store import RequestView
from orcoursetrion.workflow import Event

log = logging.getLogger(__name__)
NOT_SLACK = (None, "", "shell", "cli")


class SlackNotifier:
    """A workflow listener that keeps Slack in step with requests."""

    def __init__(self, services: Services, client: WebClient, min_interval: float = 1.0) -> None:
        self.services = services
        self.client = client
        self.min_interval = min_interval
        self._locks: dict[int, threading.Lock] = {}
        self._last: dict[int, float] = {}
        self._progress: dict[int, dict] = {}
        self._guard = threading.Lock()

    def __call__(self, event: Event) -> None:
        req = event.request
        if req.channel in NOT_SLACK:
            return
        handler = getattr(self, f"on_{event.kind}", None)
        if handler is not None:
            handler(event)

    # -- events ----------------------------------------------------------------------------------
    def on_pending_approval(self, event: Event) -> None:
        """Ask approvers in the approval channel; if the bot cannot post there (not
        invited, archived), ask in the request's channel rather than not at all."""
        req = self.refresh(event.request.id)
        text, blocks = approval_message(req)
        approvers = " ".join(f"<@{a}>" for a in self.services.settings.approvers[:10])
        for channel in dict.fromkeys(c for c in (self.services.settings.approval_channel, req.channel) if c):
            try:
                posted = self.client.chat_postMessage(
                    channel=channel, text=f"{text} {approvers}".strip(), blocks=blocks
                )
            except SlackApiError as exc:
                log.error("cannot ask approvers in %s for request %s: %s", channel, req.id, exc.response.get("error"))
                continue
            self.services.store.update_fields(req.id, approval_channel=posted["channel"], approval_ts=posted["ts"])
            return

    def on_approved(self, event: Event) -> None:
        req = self.refresh(event.request.id)
        self._refresh_approval(req)

    on_scheduled = on_approved

    def on_rejected(self, event: Event) -> None:
        req = self.refresh(event.request.id)
        self._refresh_approval(req)
        self._thread(req, f"<@{req.requester}> your request was rejected by <@{req.decided_by}>: {escape(req.reason)}")

    def on_cancelled(self, event: Event) -> None:
        req = self.refresh(event.request.id)
        self._refresh_approval(req)

    def on_started(self, event: Event) -> None:
        self.refresh(event.request.id)

    on_resumed = on_started
    on_stopping = on_started

    def on_step(self, event: Event) -> None:
        self._throttled(event.request.id)

    def on_progress(self, event: Event) -> None:
        self._progress[event.request.id] = dict(event.data)
        self._throttled(event.request.id)

    def on_completed(self, event: Event) -> None:
        req = self.refresh(event.request.id)
        self._forget(req.id)
        links = (req.result or {}).get("links") or []
        shown = ", ".join(f"<{url}>" for url in links[:20]) + (
            f" and {len(links) - 20} more" if len(links) > 20 else ""
        )
        message = escape((req.result or {}).get("message") or req.summary)
        self.client.chat_postMessage(
            channel=req.channel,
            text=f":tada: {message} (request #{req.id} by <@{req.requester}>)" + (f": {shown}" if shown else ""),
        )
        self._thread(req, f"<@{req.requester}> done: {message}" + (f"\n{shown}" if shown else ""))

    def on_failed(self, event: Event) -> None:
        req = self.refresh(event.request.id)
        self._forget(req.id)
        self._thread(
            req,
            f"<@{req.requester}> request #{req.id} failed: {escape(req.error)}\n"
            "Finished steps are kept; press *Retry* on the request to continue.",
        )

    # -- rendering ---------------------------------------------------------------------------------
    def refresh(self, req_id: int) -> RequestView:
        """Re-render the request message from the store (serialised per request)."""
        store = self.services.store
        with self._lock_for(req_id):
            req = store.get(req_id)
            if req.channel in NOT_SLACK or not req.message_ts:
                return req
            items = store.items(req.id) if req.type == RequestType.ROLLOVER else None
            steps = (
                self.done_steps(req.id) if req.state in (Status.IN_PROGRESS, Status.COMPLETED, Status.FAILED) else None
            )
            text, blocks = request_message(req, steps, items, self._progress.get(req.id))
            self.client.chat_update(channel=req.channel, ts=req.message_ts, text=text, blocks=blocks)
            self._last[req_id] = time.monotonic()
            return req

    def done_steps(self, req_id: int) -> list[str]:
        return [
            ("✓ " if e.name.startswith("done:") else "· ") + (e.detail or e.name)
            for e in self.services.store.events(req_id)
            if e.kind in ("github", "step") and e.name.startswith(("done:", "unchanged:"))
        ]

    def _throttled(self, req_id: int) -> None:
        if time.monotonic() - self._last.get(req_id, 0.0) >= self.min_interval:
            self.refresh(req_id)

    def _refresh_approval(self, req: RequestView) -> None:
        fresh = self.services.store.get(req.id)
        if fresh.approval_channel and fresh.approval_ts:
            text, blocks = approval_message(fresh)
            self.client.chat_update(channel=fresh.approval_channel, ts=fresh.approval_ts, text=text, blocks=blocks)

    def _thread(self, req: RequestView, text: str) -> None:
        if not req.message_ts:
            self.client.chat_postMessage(channel=req.channel, text=text)
            return
        try:
            self.client.chat_postMessage(channel=req.channel, thread_ts=req.message_ts, text=text)
        except SlackApiError as exc:
            log.warning("thread reply for request %s failed: %s", req.id, exc.response.get("error"))

    def _forget(self, req_id: int) -> None:
        """Drop per-request progress once a run has ended (a long-lived process keeps no history)."""
        self._progress.pop(req_id, None)
        self._last.pop(req_id, None)

    def _lock_for(self, req_id: int) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(req_id, threading.Lock())
