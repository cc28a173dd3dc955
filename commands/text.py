"""Small parsing helpers for /orc text: words, kinds, usage errors."""

from __future__ import annotations

import shlex

from orcoursetrion.actions import KINDS, STUDIO, XML


class UsageError(Exception):
    """The words do not fit the verb; the message says what was wrong."""


def split(text: str) -> list[str]:
    """Words of a command, honouring quotes ("a b"); unbalanced quotes split on spaces."""
    try:
        return shlex.split(text or "")
    except ValueError:
        return (text or "").split()


def pop_kind(args: list[str]) -> tuple[list[str], str | None]:
    """Take an optional trailing `xml` / `studio` word off the arguments."""
    words = [a for a in args if a.lower() not in KINDS]
    kinds = [a.lower() for a in args if a.lower() in KINDS]
    if len(kinds) > 1:
        raise UsageError(f"Say {XML} or {STUDIO}, not both.")
    return words, (kinds[0] if kinds else None)


def request_id(word: str) -> int:
    text = word.lstrip("#")
    if not text.isdigit():
        raise UsageError(f"'{word}' is not a request number.")
    return int(text)


def logins_from(text: str | None) -> list[str]:
    """Logins typed in a form, separated by spaces, commas or new lines."""
    return [w for w in (text or "").replace(",", " ").split() if w]


def optional_members(text: str | None) -> list[str] | None:
    """An optional form field of logins: left empty means "leave the team as it is"."""
    from orcoursetrion.naming import check_members

    return check_members(logins_from(text)) if (text or "").strip() else None
