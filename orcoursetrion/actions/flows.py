"""The design notes' flows, on the same steps as the original actions: the full XML
rerun, move to production, new course (with its duplicate checks), team changes."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from orcoursetrion.actions.context import default_context
from orcoursetrion.actions.github import (
    _repo_result,
    _terms,
    create_export_repo,
    create_xml_repo,
    rerun_studio,
    xml_access_steps,
)
from orcoursetrion.edx import Edx
from orcoursetrion.errors import GitHubRepoDoesNotExist, OrcError, ValidationError
from orcoursetrion.naming import (
    check_course,
    check_description,
    check_members,
    check_team,
    check_term,
    repo_name,
)
from orcoursetrion.operations import (
    AddHook,
    Context,
    CopyRun,
    CreateBranch,
    CreateRepo,
    DeleteHooks,
    EnsureTeam,
    GrantTeam,
    SetMembers,
    Step,
)

LIVE_BRANCH = "live"
XML, STUDIO = "xml", "studio"
KINDS = (XML, STUDIO)


def rerun_xml_course(
    course: str,
    term: str,
    new_term: str,
    members: Iterable[str] | None = None,
    description: str | None = None,
    team: str | None = None,
    *,
    ctx: Context | None = None,
) -> dict:
    """Full XML rerun: hooks off the old run; a new private repo holding a history-free copy
    of the old default branch retargeted to the new term; the old team's members (or
    `members`) as the new run's exact team; deploy team; staging hook. Returns the new repo dict."""
    course = check_course(course)
    term, new_term = _terms(term, new_term)
    members, team = check_members(members), check_team(team)
    description = check_description(description)
    ctx = default_context(ctx)
    s = ctx.settings
    old_name = repo_name(s.course_prefix, course, term)
    new_name = repo_name(s.course_prefix, course, new_term)
    ctx.touch(ctx.world.repo(s.xml_org, new_name))
    if members is None:
        members = ctx.world.carried_members(s.xml_org, team or old_name)
    steps = [
        DeleteHooks(s.xml_org, old_name),
        CreateRepo(s.xml_org, new_name, description, made_for=f"{course} {term} was already rerun into"),
        CopyRun(s.xml_org, old_name, s.xml_org, new_name, new_term),
        *xml_access_steps(ctx, new_name, new_name, members),
    ]
    ctx.run(steps)
    return _repo_result(ctx, s.xml_org, new_name)


def detect_kind(course: str, term: str, ctx: Context, known: str | None = None) -> str:
    """XML or Studio: what the caller knows, else which org holds the run's repo."""
    if known in KINDS:
        return known
    s = ctx.settings
    name = repo_name(s.course_prefix, course, term)
    if ctx.offline:
        ctx.notes.append("GitHub was not consulted, so this plan assumes an XML course (say `studio` if it is one).")
        return XML
    in_xml = ctx.world.repo(s.xml_org, name).exists
    in_studio = ctx.world.repo(s.studio_org, name).exists
    if in_xml and not in_studio:
        return XML
    if in_studio and not in_xml:
        return STUDIO
    if in_xml and in_studio:
        raise ValidationError("kind", f"{name} exists in both {s.xml_org} and {s.studio_org}; say which kind it is.")
    raise GitHubRepoDoesNotExist(f"{name} (in neither {s.xml_org} nor {s.studio_org})")


def new_course(
    kind: str,
    course: str,
    term: str,
    members: Iterable[str] | None = None,
    description: str | None = None,
    team: str | None = None,
    *,
    ctx: Context | None = None,
) -> dict:
    """The first run of a course: a Studio export repo or an XML repo with its team."""
    if kind not in KINDS:
        raise ValidationError("kind", "Kind must be XML or Studio.")
    if kind == STUDIO:
        return create_export_repo(course, term, description, ctx=ctx)
    return create_xml_repo(course, term, team, members, description, ctx=ctx)


def rerun_course(
    course: str,
    term: str,
    new_term: str,
    kind: str | None = None,
    members: Iterable[str] | None = None,
    description: str | None = None,
    *,
    ctx: Context | None = None,
) -> dict:
    """Rerun into `new_term`: the full XML rerun, or `rerun_studio` for Studio courses."""
    course = check_course(course)
    term, new_term = _terms(term, new_term)
    ctx = default_context(ctx)
    kind = detect_kind(course, term, ctx, kind)
    if kind == STUDIO:
        return rerun_studio(course, term, new_term, description, ctx=ctx)
    return rerun_xml_course(course, term, new_term, members, description, ctx=ctx)


def move_to_production(course: str, term: str, kind: str | None = None, *, ctx: Context | None = None) -> bool:
    """XML: branch `live` from the default branch if missing, then the production hook.
    Studio: the production hook. Returns False when it was already released."""
    course, term = check_course(course), check_term(term)
    ctx = default_context(ctx)
    s = ctx.settings
    kind = detect_kind(course, term, ctx, kind)
    org = s.xml_org if kind == XML else s.studio_org
    name = repo_name(s.course_prefix, course, term)
    ctx.touch(ctx.world.repo(org, name))
    steps: list[Step] = [CreateBranch(org, name, LIVE_BRANCH)] if kind == XML else []
    steps.append(AddHook(org, name, s.production_gitreload, "ORC_PRODUCTION_GITRELOAD", "production"))
    return any(change.changed for change in ctx.run(steps))


def set_team(
    course: str,
    term: str,
    members: Iterable[str],
    kind: str | None = None,
    team: str | None = None,
    *,
    ctx: Context | None = None,
) -> dict:
    """Make `members` the exact membership of the run's team (created and given push if missing)."""
    course, term = check_course(course), check_term(term)
    members = check_members(members)
    if not members:
        raise ValidationError("members", "Give at least one GitHub login for the team.")
    team = check_team(team)
    ctx = default_context(ctx)
    s = ctx.settings
    kind = detect_kind(course, term, ctx, kind)
    org = s.xml_org if kind == XML else s.studio_org
    name = repo_name(s.course_prefix, course, term)
    ctx.touch(ctx.world.repo(org, name))
    ctx.run(
        [EnsureTeam(org, team or name), SetMembers(org, team or name, members), GrantTeam(org, team or name, org, name)]
    )
    state = ctx.world.team(org, team or name)
    return dict(state.data or {"name": team or name, "slug": state.slug})


def check_new_course(
    kind: str,
    course: str,
    term: str,
    ctx: Context,
    known_runs: Callable[[str], list[str]] | None = None,
    edx: Edx | None = None,
) -> dict[str, str]:
    """Problems that stop a new course, by field: a run already in the store, a repo of
    that name in either org, a course with that number on edX. Empty when all is clear."""
    problems: dict[str, str] = {}
    try:
        course = check_course(course)
    except ValidationError as exc:
        problems["course"] = str(exc)
    try:
        term = check_term(term)
    except ValidationError as exc:
        problems["term"] = str(exc)
    if kind not in KINDS:
        problems["kind"] = "Choose XML or Studio."
    if problems:
        return problems
    terms = known_runs(course) if known_runs else []
    if terms:
        problems["course"] = f"{course} already has run(s) {', '.join(terms)}; use /orc rerun instead."
        return problems
    s = ctx.settings
    name = repo_name(s.course_prefix, course, term)
    if not ctx.offline:
        for org in (s.xml_org, s.studio_org):
            if ctx.world.repo(org, name).exists:
                problems["course"] = f"A repository {org}/{name} already exists on GitHub."
                return problems
    if edx is not None:
        try:
            found = edx.course_exists(course)
        except OrcError as exc:
            problems["course"] = str(exc)
            return problems
        if found:
            problems["course"] = f"edX already has a course numbered {course} ({found})."
    return problems


def unknown_logins(logins: Iterable[str], ctx: Context) -> list[str]:
    """Logins GitHub does not know (nothing is checked offline)."""
    return ctx.world.unknown_users(list(logins))
