"""Turn a Draft into the plan shown before confirming: the same action code run on
PlanOps, so the plan lists exactly the GitHub changes the execution will make."""

from __future__ import annotations

from dataclasses import dataclass, field

from commands.base import Draft, Services
from orcoursetrion import actions, jobs
from orcoursetrion.actions import STUDIO, XML
from orcoursetrion.errors import ValidationError
from orcoursetrion.lifecycle import RequestType
from orcoursetrion.naming import check_course, check_term

WRITES_PER_RERUN = 9  # hooks off, repo, push, deploy team, team, members, team grant, hook, default branch


@dataclass
class Proposal:
    """A planned request: what it is, the ordered changes, and notes for the reader."""

    type: str
    params: dict
    summary: str
    changes: list[str]
    notes: list[str] = field(default_factory=list)


def propose(draft: Draft, services: Services) -> Proposal:
    """Validate a draft against the store and GitHub, and list the changes it would make.

    Raises OrcError subclasses (validation, missing repo, existing repo...) whose
    message is shown to the user instead of a plan.
    """
    params = dict(draft.params)
    if draft.type == RequestType.ROLLOVER:
        return _rollover(params, services)
    ctx = services.plan_ctx()
    notes: list[str] = []
    if draft.type in (RequestType.RERUN, RequestType.RELEASE, RequestType.TEAM):
        params["kind"] = _known_kind(params, services, ctx)
    if draft.type == RequestType.NEW:
        problems = actions.check_new_course(
            params.get("kind"), params.get("course"), params.get("term"), ctx, services.store.course_terms, services.edx
        )
        if problems:
            field_name, message = next(iter(problems.items()))
            raise ValidationError(field_name, message)
    if params.get("members"):
        unknown = actions.unknown_logins(params["members"], ctx)
        if unknown:
            raise ValidationError("members", f"GitHub does not know: {', '.join(unknown)}.")
    outcome = jobs.perform(draft.type, params, ctx)
    if getattr(ctx.ops, "offline", False):
        notes.append("GitHub was not consulted (no ORC_GH_OAUTH2_TOKEN): this plan assumes a clean slate.")
    if draft.type == RequestType.RERUN and params.get("kind") == XML and params.get("members") is None:
        notes.append("Team members are carried over from the current run.")
    return Proposal(draft.type, params, jobs.describe(draft.type, params), outcome.changes, notes)


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
    term, new_term = check_term(params.get("term")), check_term(params.get("new_term"), "new_term")
    if term.lower() == new_term.lower():
        raise ValidationError("new_term", "The new term must differ from the current term.")
    courses = [check_course(c) for c in params.get("courses") or []]
    if not courses:
        raise ValidationError("courses", f"No course runs of {term} are known; give the course ids to roll over.")
    courses = list(dict.fromkeys(courses))
    params.update(term=term, new_term=new_term, courses=courses)
    changes = []
    for course in courses:
        kind = services.store.course_kind(course)
        what = {XML: "full XML rerun", STUDIO: "Studio rerun"}.get(kind, "rerun (kind found on GitHub)")
        changes.append(f"{course}: {what} {term} → {new_term}")
    s = services.settings
    writes = WRITES_PER_RERUN * len(courses)
    minutes = max(writes / s.gh_writes_per_minute, writes / s.gh_writes_per_hour * 60)
    notes = [
        f"About {writes} GitHub writes; at {s.gh_writes_per_minute}/min and {s.gh_writes_per_hour}/h "
        f"that takes at least {minutes:.0f} minute(s). Progress is shown here; stop and Retry continue it.",
    ]
    return Proposal(RequestType.ROLLOVER, params, jobs.describe(RequestType.ROLLOVER, params), changes, notes)
