"""Parsing helpers for /orc text: words, kinds, ids, and showing typed text back safely."""

from __future__ import annotations

import re
import shlex

from orcoursetrion.actions import KINDS, STUDIO, XML
from orcoursetrion.naming import shown

__all__ = [
    "MAX_TEXT",
    "UsageError",
    "extra",
    "logins_from",
    "optional_members",
    "pop_kind",
    "request_id",
    "shown",
    "split",
]

MAX_TEXT = 4000  # far more than any /orc command needs; longer text is refused before tokenising
_ID = re.compile(r"#?([0-9]{1,9})")


class UsageError(Exception):
    """The words do not fit the verb; the message says what was wrong."""


def split(text: str | None) -> list[str]:
    """Words of a command, honouring quotes ("a b"); unbalanced quotes split on spaces."""
    text = text or ""
    if len(text) > MAX_TEXT:
        raise UsageError(f"That is {len(text)} characters; an /orc command takes at most {MAX_TEXT}.")
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def pop_kind(args: list[str]) -> tuple[list[str], str | None]:
    """Take an optional `xml` / `studio` word off the arguments."""
    words = [a for a in args if a.lower() not in KINDS]
    kinds = [a.lower() for a in args if a.lower() in KINDS]
    if len(kinds) > 1:
        raise UsageError(f"Say {XML} or {STUDIO}, not both.")
    return words, (kinds[0] if kinds else None)


def request_id(word: str) -> int:
    """A request number as typed (`12` or `#12`): ASCII digits only, within range."""
    match = _ID.fullmatch(word or "")
    if not match:
        raise UsageError(f"{shown(word)} is not a request number (like 12).")
    return int(match.group(1))


def extra(words: list[str], expected: str) -> UsageError:
    """The error for words a verb did not expect, naming them."""
    listed = " ".join(shown(w) for w in words[:5])
    return UsageError(f"I don't understand {listed} here (expected {expected}).")


def logins_from(text: str | None) -> list[str]:
    """Logins typed in a form, separated by spaces, commas or new lines."""
    return [w for w in (text or "").replace(",", " ").split() if w]


def optional_members(text: str | None) -> list[str] | None:
    """An optional form field of logins: left empty means "leave the team as it is"."""
    from orcoursetrion.naming import check_members

    return check_members(logins_from(text)) if (text or "").strip() else None
