"""Modal `private_metadata` the bot writes is signed, so a tampered one is refused
rather than trusted (it names the request a form changes, the channel to post in)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json


class MetadataSigner:
    """HMAC-SHA256 over the JSON, with a key derived from the app's own secret."""

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"orcoursetrion private_metadata\0" + secret.encode()).digest()

    def sign(self, data: dict) -> str:
        raw = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
        mac = hmac.new(self._key, raw, hashlib.sha256).digest()[:18]
        return base64.urlsafe_b64encode(raw).decode() + "." + base64.urlsafe_b64encode(mac).decode()

    def verify(self, text: object) -> dict | None:
        """The data the bot wrote, or None for anything it did not write."""
        if not isinstance(text, str) or text.count(".") != 1 or len(text) > 3000:
            return None
        body, _, mac = text.partition(".")
        try:
            raw = base64.urlsafe_b64decode(body.encode("ascii"))
            given = base64.urlsafe_b64decode(mac.encode("ascii"))
        except (ValueError, UnicodeError):
            return None
        if not hmac.compare_digest(hmac.new(self._key, raw, hashlib.sha256).digest()[:18], given):
            return None
        try:
            data = json.loads(raw)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None
