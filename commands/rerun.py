"""`/orc rerun COURSE TERM [NEW_TERM]`: rerun a course into the next term (or the one named)."""

from __future__ import annotations

from commands.base import Draft, Field, FieldErrors, Invocation, OpenModal, Services, Verb
from commands.text import UsageError, extra, optional_members, pop_kind
from orcoursetrion.errors import ValidationError
from orcoursetrion.lifecycle import RequestType
from orcoursetrion.naming import check_course, next_term, normalize_term

USAGE = "rerun COURSE TERM [NEW_TERM] [xml|studio]"


def edit_modal(params: dict, channel: str | None, request_id: int | None = None) -> OpenModal:
    """The form to change a rerun's new term (and, for XML, its team)."""
    members = params.get("members")
    return OpenModal(
        verb="rerun",
        title="Rerun",
        submit_label="Plan",
        metadata={
            "channel": channel,
            "course": params["course"],
            "term": params["term"],
            "kind": params.get("kind"),
            "replaces": request_id,
            "schedule": params.get("schedule"),
        },
        intro=f"Rerun *{params['course']}* from *{params['term']}*.",
        fields=[
            Field("new_term", "New term", placeholder="Spring_2031", initial=params.get("new_term"), max_length=30),
            Field(
                "members",
                "Team members (GitHub logins)",
                "textarea",
                optional=True,
                initial=" ".join(members) if members else None,
                max_length=2000,
                hint="XML courses only. Leave empty to carry over the current run's members.",
            ),
        ],
    )


def handle(inv: Invocation, services: Services) -> Draft | OpenModal:
    words, kind = pop_kind(inv.args)
    if len(words) < 2:
        raise UsageError("Give the course and its current term, e.g. 8.01r Fall_2030.")
    if len(words) > 3:
        raise extra(words[3:], "at most the course, its term, the new term and xml or studio")
    seasons = services.settings.terms
    course, term = check_course(words[0]), normalize_term(words[1], seasons)
    if len(words) == 3:
        new_term = normalize_term(words[2], seasons, "new_term")
    else:
        new_term = next_term(term, seasons)
    params = {"course": course, "term": term, "new_term": new_term, "kind": kind, "members": None}
    if new_term is None:
        return edit_modal(params, inv.channel)
    return Draft(RequestType.RERUN, params)


def submit(values: dict, metadata: dict, inv: Invocation, services: Services) -> Draft:
    errors = {}
    params = {"course": metadata["course"], "term": metadata["term"], "kind": metadata.get("kind"), "members": None}
    try:
        params["new_term"] = normalize_term(values.get("new_term"), services.settings.terms, "new_term")
        if params["new_term"].lower() == params["term"].lower():
            errors["new_term"] = "The new term must differ from the current term."
    except ValidationError as exc:
        errors["new_term"] = str(exc)
    try:
        params["members"] = optional_members(values.get("members"))
    except ValidationError as exc:
        errors["members"] = str(exc)
    if errors:
        raise FieldErrors(errors)
    if metadata.get("schedule"):  # a scheduled rerun's changed plan keeps its time
        params["schedule"] = metadata["schedule"]
    return Draft(RequestType.RERUN, params)


VERB = Verb(
    name="rerun",
    usage=USAGE,
    example="/orc rerun 8.01r Fall_2030",
    summary="rerun a course into the next term (suggested; change it before confirming) or the one named",
    handle=handle,
    submit=submit,
    examples=("/orc rerun 8.01r Fall_2030 Summer_2031", "/orc rerun 6.002x Spring_2031 studio"),
)
