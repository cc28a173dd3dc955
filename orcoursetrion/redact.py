"""Keep secrets inside the process: URL passwords, tokens and signing secrets are masked
in every string that may reach a log, Slack, a ticket or an exception."""

from __future__ import annotations

import json
import logging
import re
import threading
from datetime import UTC, datetime

# Every pattern is linear in its input: bounded repeats, and a literal ("://", "authorization")
# that anchors each match, so a megabyte of one token is scanned once.
_USERINFO = re.compile(r"://[^/\s@]{1,512}@")
# Authorization values (git extra headers, HTTP debug dumps).
_AUTH_HEADER = re.compile(r"(?i)(authorization:?\s{0,8}(?:basic|bearer|token)\s{1,8})[A-Za-z0-9+/=._-]{1,4096}")
# GitHub's own token formats (personal, OAuth, user-to-server, installation, refresh, fine-grained):
# an installation token is in PyGithub's debug log of the response that issues it, before
# anyone can register it.
_GITHUB_TOKEN = re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,255}|github_pat_[A-Za-z0-9_]{20,255})")
# A `"token": "…"` field of a JSON body (an installation token in PyGithub's debug log of the
# response that issues it, whatever the server's token format).
_JSON_TOKEN = re.compile(r'("token"\s{0,8}:\s{0,8}")[^"\\]{1,4096}')
_MIN_SECRET_LEN = 6

_lock = threading.Lock()
_secrets: set[str] = set()
_longest_first: tuple[str, ...] = ()  # `_secrets` in the order `redact` masks them, rebuilt on a new one


def register_secret(value: str | None) -> None:
    """Remember a secret value so that `redact` masks it wherever it appears."""
    global _longest_first
    if value and len(value) >= _MIN_SECRET_LEN:
        with _lock:
            if value not in _secrets:
                _secrets.add(value)
                _longest_first = tuple(sorted(_secrets, key=len, reverse=True))


def redact_url(url: str | None) -> str:
    """`https://user:pass@host/path` -> `https://***@host/path`; other URLs unchanged."""
    if not url:
        return ""
    return _USERINFO.sub("://***@", url)


_QUERY_PASSWORD = re.compile(r"(?i)([?&](?:password|sslpassword)=)[^&]*")


def mask_query_password(url: str) -> str:
    """A database URL's `password=` / `sslpassword=` query parameters masked."""
    return _QUERY_PASSWORD.sub(r"\1***", url)


def redact_dsn(url: str) -> str:
    """A database URL as it may be shown: its userinfo (as `redact_url`) and query passwords masked."""
    return mask_query_password(redact_url(url))


def redact(text: object) -> str:
    """Mask credentials in URLs, Authorization values and every registered secret."""
    out = _USERINFO.sub("://***@", str(text))
    out = _AUTH_HEADER.sub(r"\1***", out)
    out = _GITHUB_TOKEN.sub("***", out)
    out = _JSON_TOKEN.sub(r"\1***", out)
    for secret in _longest_first:  # a tuple replaced whole, never changed: no lock to read it
        if secret in out:
            out = out.replace(secret, "***")
    return out


class RedactingFormatter(logging.Formatter):
    """Formats a record (message, args and traceback) and masks secrets in the result."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the context fields known
    (request id, Slack user, action, outcome), and the exception as a field; masked."""

    def format(self, record: logging.LogRecord) -> str:
        from orcoursetrion.logcontext import FIELDS, current

        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        entry.update(current())
        for name in FIELDS:  # `extra={...}` on one call wins over the context
            if getattr(record, name, None) is not None:
                entry[name] = getattr(record, name)
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["exception"] = redact(record.exc_text)
        if record.stack_info:
            entry["stack"] = redact(record.stack_info)
        return json.dumps(entry, default=redact, ensure_ascii=False)


_installed = False


def install_log_redaction() -> None:
    """Mask secrets in every log record, whichever handler ends up writing it.

    A record factory covers handlers we do not own (pytest's caplog, third-party ones);
    formatted tracebacks are covered by `RedactingFormatter` on our handlers.
    """
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed format string: leave it for logging to report
            return record
        record.msg = redact(message)
        record.args = None
        return record

    logging.setLogRecordFactory(factory)


def configure_logging(level: str = "INFO", fmt: str = "text", text: logging.Formatter | None = None) -> None:
    """Root logging for the app and CLI: one stderr handler, secrets masked; `fmt` is
    `text` (one readable line, as `text` formats it) or `json` (one JSON object per line)."""
    install_log_redaction()
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(text or RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    if logging.DEBUG < root.level < logging.WARNING:  # quieter than asked, never louder
        for chatty in ("alembic", "waitress.queue"):
            logging.getLogger(chatty).setLevel(logging.WARNING)
