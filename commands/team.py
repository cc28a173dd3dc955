"""`/orc team COURSE TERM LOGIN...`: replace a run's team."""

from __future__ import annotations

from commands.base import Draft, Invocation, Services, Verb
from commands.text import UsageError, pop_kind
from orcoursetrion.lifecycle import RequestType
from orcoursetrion.naming import check_course, check_members, normalize_term


def handle(inv: Invocation, services: Services) -> Draft:
    words, kind = pop_kind(inv.args)
    if len(words) < 3:
        raise UsageError("Give the course, its term and at least one GitHub login, e.g. 8.01r Fall_2030 alice bob.")
    params = {
        "course": check_course(words[0]),
        "term": normalize_term(words[1], services.settings.terms),
        "members": check_members(words[2:]),
        "kind": kind,
    }
    return Draft(RequestType.TEAM, params)


VERB = Verb(
    name="team",
    usage="team COURSE TERM LOGIN [LOGIN...]",
    example="/orc team 8.01r Fall_2030 alice bob",
    summary="make these GitHub logins the exact team of a run",
    handle=handle,
    examples=("/orc team 8.01r Fall_2030 alice,bob,carol",),
)
