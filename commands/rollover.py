"""`/orc rollover TERM NEW_TERM`: rerun every course of a term as one batch (approvers)."""

from __future__ import annotations

from commands.base import Draft, Field, FieldErrors, Invocation, OpenModal, Services, Verb
from commands.text import UsageError, extra
from orcoursetrion.errors import ValidationError
from orcoursetrion.lifecycle import RequestType
from orcoursetrion.naming import check_course, normalize_term

MAX_COURSES = 500


def courses_modal(term: str, new_term: str, channel: str | None, initial: str | None = None) -> OpenModal:
    return OpenModal(
        verb="rollover",
        title="Rollover",
        submit_label="Plan",
        metadata={"channel": channel, "term": term, "new_term": new_term},
        intro=f"No runs of *{term}* are recorded yet. List the courses to roll over into *{new_term}*.",
        fields=[
            Field(
                "courses",
                "Course ids",
                "textarea",
                placeholder="8.01r\n6.002x",
                initial=initial,
                hint="One per line (or separated by spaces/commas).",
                max_length=3000,
            )
        ],
    )


def parse_courses(text: str) -> list[str]:
    """Course ids from a file or a form: one per line (spaces and commas also split); # starts a comment."""
    courses = []
    for line in (text or "").splitlines():
        line = line.split("#", 1)[0]
        courses.extend(check_course(word) for word in line.replace(",", " ").split())
    courses = list(dict.fromkeys(courses))
    if len(courses) > MAX_COURSES:
        raise ValidationError("courses", f"At most {MAX_COURSES} courses in one rollover.")
    return courses


def handle(inv: Invocation, services: Services) -> Draft | OpenModal:
    if len(inv.args) < 2:
        raise UsageError("Give the current and the new term, e.g. Fall_2030 Spring_2031.")
    if len(inv.args) > 2:
        raise extra(inv.args[2:], "the current term and the new term")
    seasons = services.settings.terms
    term, new_term = normalize_term(inv.args[0], seasons), normalize_term(inv.args[1], seasons, "new_term")
    courses = [run.course for run in services.store.runs_in_term(term)]
    if not courses:
        return courses_modal(term, new_term, inv.channel)
    return Draft(RequestType.ROLLOVER, {"term": term, "new_term": new_term, "courses": courses})


def submit(values: dict, metadata: dict, inv: Invocation, services: Services) -> Draft:
    try:
        courses = parse_courses(values.get("courses") or "")
    except ValidationError as exc:
        raise FieldErrors({"courses": str(exc)}) from None
    if not courses:
        raise FieldErrors({"courses": "List at least one course id."})
    return Draft(RequestType.ROLLOVER, {"term": metadata["term"], "new_term": metadata["new_term"], "courses": courses})


VERB = Verb(
    name="rollover",
    usage="rollover TERM NEW_TERM",
    example="/orc rollover Fall_2030 Spring_2031",
    summary="rerun every course of a term into the next one, as one batch with progress",
    handle=handle,
    submit=submit,
    approvers_only=True,
)
