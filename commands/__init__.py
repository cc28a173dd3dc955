"""The /orc verbs: one registry that help, the bot, the shell and the CLI read from."""

from __future__ import annotations

from commands import decide, help, list, new, release, rerun, rollover, schedule, status, team
from commands.base import Draft, FieldErrors, Invocation, OpenModal, Reply, Services, Verb
from commands.text import UsageError, split
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


def dispatch(text: str, inv: Invocation, services: Services) -> Reply | Draft | OpenModal:
    """Route `/orc <verb> args` to its verb; wrong words give usage, never a GitHub call."""
    words = split(text)
    if not words:
        return REGISTRY["help"].handle(inv, services)
    name, inv.args = words[0].lower(), words[1:]
    verb = REGISTRY.get(name)
    if verb is None:
        known = ", ".join(REGISTRY)
        return Reply(f"I don't know `{words[0][:40]}`. Verbs: {known}. Try `/orc help`.", title="Unknown verb")
    if verb.approvers_only and not services.is_approver(inv.user):
        return Reply(f"Only approvers can use `/orc {verb.name}`.", title="Not allowed")
    try:
        return verb.handle(inv, services)
    except UsageError as exc:
        return usage_reply(verb, str(exc))
    except OrcError as exc:
        return usage_reply(verb, user_message(exc)) if verb.mutating else Reply(user_message(exc))
