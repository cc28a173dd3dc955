"""`/orc help [VERB]`: every verb with its usage and an example, or one verb in full;
generated from the registry."""

from __future__ import annotations

from commands.base import Invocation, Reply, Services, Verb
from commands.text import UsageError


def help_text(verbs: list[Verb]) -> str:
    lines = []
    for verb in verbs:
        who = " _(approvers only)_" if verb.approvers_only else ""
        lines.append(f"• `/orc {verb.usage}` — {verb.summary}{who}\n      e.g. `{verb.example}`")
    return "\n".join(lines)


def verb_help(verb: Verb) -> str:
    who = "\nOnly approvers can use it." if verb.approvers_only else ""
    examples = "\n".join(f"  `{e}`" for e in (verb.example, *verb.examples))
    return f"`/orc {verb.usage}`\n{verb.summary[:1].upper()}{verb.summary[1:]}.{who}\nExamples:\n{examples}"


def handle(inv: Invocation, services: Services) -> Reply:
    from commands import REGISTRY, unknown_verb

    if len(inv.args) > 1:
        raise UsageError("Give at most one verb, e.g. `/orc help rerun`.")
    if inv.args:
        verb = REGISTRY.get(inv.args[0].lower())
        if verb is None:
            return unknown_verb(inv.args[0])
        return Reply(verb_help(verb), title=f"/orc {verb.name}")
    return Reply(help_text(list(REGISTRY.values())), title="What /orc can do")


VERB = Verb(
    name="help",
    usage="help [VERB]",
    example="/orc help",
    summary="list every verb with an example, or explain one verb",
    handle=handle,
    mutating=False,
    examples=("/orc help rerun",),
)
