"""Turn a Draft into the plan shown before confirming: the same job code run on a plan
context, so the plan lists exactly the GitHub changes the execution will make, and the
problems that would stop it (then nothing can be confirmed)."""

from __future__ import annotations

from dataclasses import dataclass, field

from commands.base import Draft, Services
from orcoursetrion import actions
from orcoursetrion.actions import STUDIO, XML
from orcoursetrion.errors import OrcError, ValidationError, preflight_error, problems_of
from orcoursetrion.jobtypes import JOB_TYPES, describe
from orcoursetrion.lifecycle import RequestType, scheduled_for
from orcoursetrion.naming import check_course, check_term, term_order
from orcoursetrion.times import local_text, shown

WRITES_PER_RERUN = 9  # hooks off, repo, push, deploy team, team, members, team grant, hook, default branch


@dataclass
class Proposal:
    """A planned request: what it is, the ordered changes, notes, and what stops it."""

    type: str
    params: dict
    summary: str
    changes: list[str]
    notes: list[str] = field(default_factory=list)
    problems: list[OrcError] = field(default_factory=list)
    confirm_warning: str | None = None  # shown on the plan and asked again before Confirm

    @property
    def can_run(self) -> bool:
        return not self.problems

    @property
    def error(self) -> OrcError | None:
        """All the problems as one typed error (for one message, or an inline form error)."""
        return preflight_error(self.problems) if self.problems else None


def propose(draft: Draft, services: Services) -> Proposal:
    """Check a draft against the store and GitHub and list the changes it would make."""
    params = dict(draft.params)
    if draft.type == RequestType.ROLLOVER:
        return _rollover(params, services)
    ctx = services.plan_ctx()
    notes: list[str] = []
    problems: list[OrcError] = []
    try:
        if draft.type in (RequestType.RERUN, RequestType.RELEASE, RequestType.TEAM):
            params["kind"] = _known_kind(params, services, ctx)
        if draft.type == RequestType.NEW:
            found = actions.check_new_course(
                params.get("kind"),
                params.get("course"),
                params.get("term"),
                ctx,
                services.store.course_terms,
                services.edx,
            )
            problems.extend(ValidationError(name, message) for name, message in found.items())
        if not problems:
            JOB_TYPES[draft.type].plan(params, ctx)
    except OrcError as exc:
        problems.extend(problems_of(exc))
    if ctx.offline:
        notes.append(
            "GitHub was not consulted (no ORC_GH_OAUTH2_TOKEN or GitHub App): this plan assumes a clean slate."
        )
    if draft.type == RequestType.RERUN and params.get("kind") == XML and params.get("members") is None:
        notes.append("Team members are carried over from the current run.")
    notes.extend(n for n in ctx.notes if n not in notes)
    if params.get("schedule"):
        when = _schedule_note(params["schedule"], services)
        if isinstance(when, OrcError):
            problems.append(when)
        else:
            notes.insert(0, when)
    summary = _summary(draft.type, params)
    warning = _backwards(params, services.settings.terms) if draft.type == RequestType.RERUN else None
    return Proposal(draft.type, params, summary, [c.text for c in ctx.changes], notes, problems, warning)


def _backwards(params: dict, seasons) -> str | None:
    """A rerun into a term that is not after the current one is allowed, but never by accident."""
    old, new = term_order(params.get("term"), seasons), term_order(params.get("new_term"), seasons)
    if old is None or new is None or new > old:
        return None
    return f"{params['new_term']} is not after {params['term']}: confirm only if a rerun into that term is intended."


def _schedule_note(schedule: dict, services: Services) -> str | OrcError:
    """What the plan says about when it runs, or the problem if that time has passed."""
    at, tz = scheduled_for({"schedule": schedule}), schedule.get("tz")
    if at <= services.store.now():
        return ValidationError("at", f"{local_text(at, tz)} has passed; schedule it for a later time.")
    return (
        f"Runs {shown(at, tz)}, not now. Approval, where needed, happens before then; "
        "the plan is checked again when it runs."
    )


def _summary(type: str, params: dict) -> str:
    try:
        return describe(type, params)
    except (KeyError, TypeError):
        return type


def _known_kind(params: dict, services: Services, ctx) -> str:
    """The run's kind from the store (checking the run is known), else from GitHub."""
    course, term = check_course(params.get("course")), check_term(params.get("term"))
    if params.get("kind") in (XML, STUDIO):
        return params["kind"]
    terms = services.store.course_terms(course)
    if terms:
        if term.lower() not in (t.lower() for t in terms):
            raise ValidationError("term", f"{course} has no {term} run; known runs: {', '.join(terms)}.")
        return services.store.course_kind(course)
    return actions.detect_kind(course, term, ctx)


def _rollover(params: dict, services: Services) -> Proposal:
    try:
        term, new_term = check_term(params.get("term")), check_term(params.get("new_term"), "new_term")
        if term.lower() == new_term.lower():
            raise ValidationError("new_term", "The new term must differ from the current term.")
        courses = [check_course(c) for c in params.get("courses") or []]
        if not courses:
            raise ValidationError("courses", f"No course runs of {term} are known; give the course ids to roll over.")
    except ValidationError as exc:
        return Proposal(RequestType.ROLLOVER, params, "Rollover", [], problems=[exc])
    courses = list(dict.fromkeys(courses))
    params.update(term=term, new_term=new_term, courses=courses)
    changes = []
    kinds = services.store.course_kinds(courses)
    for course in courses:
        kind = kinds.get(course.lower())
        what = {XML: "full XML rerun", STUDIO: "Studio rerun"}.get(kind, "rerun (kind found on GitHub)")
        changes.append(f"{course}: {what} {term} → {new_term}")
    s = services.settings
    writes = WRITES_PER_RERUN * len(courses)
    minutes = max(writes / s.gh_writes_per_minute, writes / s.gh_writes_per_hour * 60)
    notes = [
        f"About {writes} GitHub writes; at {s.gh_writes_per_minute}/min and {s.gh_writes_per_hour}/h "
        f"that takes at least {minutes:.0f} minute(s). Progress is shown here; stop and Retry continue it.",
    ]
    return Proposal(RequestType.ROLLOVER, params, describe(RequestType.ROLLOVER, params), changes, notes)
