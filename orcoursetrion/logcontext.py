"""What a log line is about, carried in context variables: the request and step the runner
is working on, the Slack user a listener serves. `LOG_FORMAT=json` writes them as fields."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

FIELDS = ("request_id", "slack_user", "action", "outcome")
_vars = {name: contextvars.ContextVar(f"orc_{name}", default=None) for name in FIELDS}


@contextmanager
def bound(**values: object) -> Iterator[None]:
    """Set some of FIELDS for the duration of the block (None values are skipped)."""
    tokens = [(_vars[name], _vars[name].set(value)) for name, value in values.items() if value is not None]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def bind(**values: object) -> None:
    """Set some of FIELDS until the current context ends (a thread's task, a Bolt request)."""
    for name, value in values.items():
        if value is not None:
            _vars[name].set(value)


def clear() -> None:
    """Forget every field (a new Slack delivery on a reused thread)."""
    for var in _vars.values():
        var.set(None)


def current() -> dict[str, object]:
    """The fields known here and now."""
    return {name: var.get() for name, var in _vars.items() if var.get() is not None}


class ContextExecutor(ThreadPoolExecutor):
    """A thread pool whose tasks run in the context of whoever submitted them, so a
    listener's log lines carry the Slack user and request of the work that started it."""

    def submit(self, fn, /, *args, **kwargs):
        return super().submit(contextvars.copy_context().run, fn, *args, **kwargs)
