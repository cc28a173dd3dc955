"""`/orc new`: a form for a new course (kind, id, term, title, team, desired date)."""

from __future__ import annotations

from datetime import date

from commands.base import Draft, Field, FieldErrors, Invocation, OpenModal, Services, Verb
from commands.text import optional_members, pop_kind
from orcoursetrion.actions import STUDIO, XML
from orcoursetrion.errors import ValidationError
from orcoursetrion.lifecycle import RequestType
from orcoursetrion.naming import MAX_TITLE, check_course, check_description, normalize_term


def modal(kind: str | None = None, course: str | None = None, term: str | None = None, channel: str | None = None):
    return OpenModal(
        verb="new",
        title="New course",
        submit_label="Plan",
        metadata={"channel": channel},
        intro="Creates the course's first run on GitHub. You will see the plan before anything happens.",
        fields=[
            Field(
                "kind",
                "Kind",
                "radio",
                options=[(XML, "XML (latex2edx, edited in git)"), (STUDIO, "Studio (export repository)")],
                initial=kind or XML,
            ),
            Field("course", "Course id", placeholder="8.01r", initial=course, max_length=40),
            Field("term", "Term", placeholder="Fall_2030", initial=term, max_length=30),
            Field("title", "Title", optional=True, placeholder="Physics I", max_length=MAX_TITLE),
            Field(
                "members",
                "Team members (GitHub logins)",
                "textarea",
                optional=True,
                hint="Separated by spaces or commas. XML courses get a GitHub team with exactly these people.",
                max_length=2000,
            ),
            Field("desired", "Needed by", "date", optional=True),
        ],
    )


def handle(inv: Invocation, services: Services) -> OpenModal:
    words, kind = pop_kind(inv.args)
    course = words[0] if words else None
    term = words[1] if len(words) > 1 else None
    return modal(kind, course, term, inv.channel)


def submit(values: dict, metadata: dict, inv: Invocation, services: Services) -> Draft:
    """Check the form's format (no network); GitHub and duplicate checks come with the plan."""
    errors: dict[str, str] = {}
    params: dict = {"kind": values.get("kind") or XML}
    checks = (("course", check_course), ("term", lambda v: normalize_term(v, services.settings.terms)))
    for name, check in checks:
        try:
            params[name] = check(values.get(name))
        except ValidationError as exc:
            errors[name] = str(exc)
    try:
        params["title"] = check_description(values.get("title"), "title", MAX_TITLE)
    except ValidationError as exc:
        errors["title"] = str(exc)
    try:
        params["members"] = optional_members(values.get("members"))
    except ValidationError as exc:
        errors["members"] = str(exc)
    desired = values.get("desired")
    if desired:
        try:
            when = date.fromisoformat(desired)
        except ValueError:
            errors["desired"] = "Pick a date."
        else:
            if when < date.today():
                errors["desired"] = "The date is in the past."
            params["desired"] = desired
    if params["kind"] not in (XML, STUDIO):
        errors["kind"] = "Choose XML or Studio."
    if params["kind"] == STUDIO and params.get("members"):
        errors["members"] = "Studio courses get no GitHub team; leave this empty (use /orc team later if needed)."
    if errors:
        raise FieldErrors(errors)
    return Draft(RequestType.NEW, params)


VERB = Verb(
    name="new",
    usage="new [xml|studio] [COURSE] [TERM]",
    example="/orc new",
    summary="open a form for a new course: kind, course id, term, title, team members, date",
    handle=handle,
    submit=submit,
)
