"""`/orc help`: every verb with its usage and an example, generated from the registry."""

from __future__ import annotations

from commands.base import Invocation, Reply, Services, Verb


def help_text(verbs: list[Verb]) -> str:
    lines = []
    for verb in verbs:
        who = " _(approvers only)_" if verb.approvers_only else ""
        lines.append(f"• `/orc {verb.usage}` — {verb.summary}{who}\n      e.g. `{verb.example}`")
    return "\n".join(lines)


def handle(inv: Invocation, services: Services) -> Reply:
    from commands import REGISTRY

    return Reply(help_text(list(REGISTRY.values())), title="What /orc can do")


VERB = Verb(
    name="help",
    usage="help",
    example="/orc help",
    summary="list every verb with an example",
    handle=handle,
    mutating=False,
)
