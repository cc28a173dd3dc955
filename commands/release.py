"""`/orc release COURSE TERM`: move a run to production."""

from __future__ import annotations

from commands.base import Draft, Invocation, Services, Verb
from commands.text import UsageError, extra, pop_kind
from orcoursetrion.lifecycle import RequestType
from orcoursetrion.naming import check_course, normalize_term


def handle(inv: Invocation, services: Services) -> Draft:
    words, kind = pop_kind(inv.args)
    if len(words) < 2:
        raise UsageError("Give the course and its term, e.g. 8.01r Fall_2030.")
    if len(words) > 2:
        raise extra(words[2:], "the course, its term and xml or studio")
    term = normalize_term(words[1], services.settings.terms)
    return Draft(RequestType.RELEASE, {"course": check_course(words[0]), "term": term, "kind": kind})


VERB = Verb(
    name="release",
    usage="release COURSE TERM [xml|studio]",
    example="/orc release 8.01r Fall_2030",
    summary="move a run to production (XML: branch live + production hook; Studio: production hook)",
    handle=handle,
    examples=("/orc release 6.002x Spring_2031 studio",),
)
