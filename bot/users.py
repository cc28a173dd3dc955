"""Slack users as the bot needs them (name, time zone, e-mail), cached for a while."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SlackUser:
    id: str
    name: str | None = None
    tz: str | None = None
    email: str | None = None


class Directory:
    """`users.info` with a time-limited cache; failures give a bare user, never an error."""

    def __init__(self, client: WebClient, ttl: float = 600.0) -> None:
        self.client, self.ttl = client, ttl
        self._cache: dict[str, tuple[float, SlackUser]] = {}
        self._lock = threading.Lock()

    def cached(self, user_id: str) -> SlackUser | None:
        """The user if known already, without asking Slack (for answers due within 3 s)."""
        with self._lock:
            hit = self._cache.get(user_id)
            return hit[1] if hit else None

    def get(self, user_id: str) -> SlackUser:
        with self._lock:
            hit = self._cache.get(user_id)
            if hit and time.monotonic() - hit[0] < self.ttl:
                return hit[1]
        try:
            info = self.client.users_info(user=user_id)["user"]
            profile = info.get("profile") or {}
            user = SlackUser(user_id, info.get("real_name") or info.get("name"), info.get("tz"), profile.get("email"))
        except SlackApiError as exc:
            log.warning("users.info failed for %s: %s", user_id, exc.response.get("error"))
            return SlackUser(user_id)
        with self._lock:
            self._cache[user_id] = (time.monotonic(), user)
        return user
