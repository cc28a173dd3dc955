"""The /orc verbs: one registry that help, the bot, the shell and the CLI read from."""

from __future__ import annotations

import difflib

from commands import decide, help, list, new, release, rerun, rollover, schedule, status, team
from commands.base import Draft, FieldErrors, Invocation, OpenModal, Reply, Services, Verb
from commands.text import UsageError, shown, split
from orcoursetrion.errors import OrcError, user_message

REGISTRY: dict[str, Verb] = {
    verb.name: verb
    for verb in [
        help.VERB,
        new.VERB,
        rerun.VERB,
        release.VERB,
        team.VERB,
        status.VERB,
        list.VERB,
        rollover.VERB,
        schedule.VERB,
        *decide.VERBS,
    ]
}

__all__ = [
    "REGISTRY",
    "Draft",
    "FieldErrors",
    "Invocation",
    "OpenModal",
    "Reply",
    "Services",
    "Verb",
    "dispatch",
    "usage_reply",
]


def usage_reply(verb: Verb, problem: str | None = None) -> Reply:
    text = f"Usage: `/orc {verb.usage}`\nExample: `{verb.example}`"
    return Reply(f"{problem}\n{text}" if problem else text, title=f"/orc {verb.name}")


def unknown_verb(word: str) -> Reply:
    """An unknown verb, named (safely), with the closest one suggested."""
    close = difflib.get_close_matches(word.lower(), [*REGISTRY], n=1, cutoff=0.6)
    hint = f" Did you mean `/orc {close[0]}`?" if close else ""
    return Reply(f"I don't know the verb {shown(word)}.{hint} `/orc help` lists them all.", title="Unknown verb")


def dispatch(text: str, inv: Invocation, services: Services) -> Reply | Draft | OpenModal:
    """Route `/orc <verb> args` to its verb; wrong words give usage, never a GitHub call.

    A usage error shows the verb's usage; any other error (a state, a permission, GitHub)
    is its one message."""
    try:
        words = split(text)
    except UsageError as exc:
        return Reply(str(exc), title="Too long")
    if not words:
        return REGISTRY["help"].handle(inv, services)
    name, inv.args = words[0].lower(), words[1:]
    verb = REGISTRY.get(name)
    if verb is None:
        return unknown_verb(words[0])
    if verb.approvers_only and not services.is_approver(inv.user):
        return Reply(f"Only approvers can use `/orc {verb.name}`.", title="Not allowed")
    try:
        return verb.handle(inv, services)
    except UsageError as exc:
        return usage_reply(verb, str(exc))
    except OrcError as exc:
        return Reply(user_message(exc), title=f"/orc {verb.name}")
