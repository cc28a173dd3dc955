"""The original library's seven actions (`orcoursetrion.actions.github` in 0.2.1), with
its names, parameters and results.

Each validates its input (no GitHub call on bad input), builds its steps and runs them
through one preflight (`Context.run`): a problem anywhere, and nothing is written.
Without `ctx`, settings come from the environment and changes are live, as in 0.2.1.
"""

from __future__ import annotations

from collections.abc import Iterable

from orcoursetrion import config as _config
from orcoursetrion.actions.context import default_context
from orcoursetrion.naming import check_course, check_description, check_members, check_org, check_team, check_term
from orcoursetrion.naming import repo_name as _repo_name
from orcoursetrion.operations import (
    AddFile,
    AddHook,
    Context,
    CreateRepo,
    DeleteHooks,
    EnsureTeam,
    GrantTeam,
    SetMembers,
    Step,
)

GITIGNORE_PATH = ".gitignore"
GITIGNORE_CONTENTS = "drafts/\n"
GITIGNORE_MESSAGE = "Automatic .gitignore from Orcoursetrion"
# 0.2.1's committer, from the configuration at import. The actions themselves read the
# committer at call time (a script that sets config.ORC_GH_NAME later is honoured).
COMMITTER = {"email": _config.ORC_GH_EMAIL, "name": _config.ORC_GH_NAME}

__all__ = [
    "create_export_repo",
    "create_xml_repo",
    "put_team",
    "release_studio",
    "release_xml",
    "rerun_studio",
    "rerun_xml",
]


def _terms(term: str, new_term: str) -> tuple[str, str]:
    from orcoursetrion.errors import ValidationError

    term, new_term = check_term(term), check_term(new_term, "new_term")
    if term.lower() == new_term.lower():
        raise ValidationError("new_term", "The new term must differ from the current term.")
    return term, new_term


def export_repo_steps(ctx: Context, course: str, term: str, description: str | None) -> list[Step]:
    """A Studio export repo: the repo, deploy team push, `.gitignore` and `course.xml`."""
    s = ctx.settings
    name = _repo_name(s.course_prefix, course, term)
    ctx.touch(ctx.world.repo(s.studio_org, name))
    return [
        CreateRepo(s.studio_org, name, description),
        GrantTeam(s.studio_org, s.studio_deploy_team, s.studio_org, name),
        AddFile(s.studio_org, name, GITIGNORE_PATH, GITIGNORE_CONTENTS, GITIGNORE_MESSAGE),
        AddFile(
            s.studio_org,
            name,
            "course.xml",
            f'<course url_name="{term}" org="MITx" course="{course}"/>\n',
            f'initial commit of course.xml with term "{term}"',
        ),
    ]


def xml_access_steps(ctx: Context, name: str, team: str, members: list[str] | None) -> list[Step]:
    """Deploy team push, the course team (exact members when given) with push, staging hook."""
    s = ctx.settings
    steps: list[Step] = [
        GrantTeam(s.xml_org, s.xml_deploy_team, s.xml_org, name),
        EnsureTeam(s.xml_org, team, "push"),
    ]
    if members is not None:
        steps.append(SetMembers(s.xml_org, team, members))
    steps.append(GrantTeam(s.xml_org, team, s.xml_org, name))
    steps.append(AddHook(s.xml_org, name, s.staging_gitreload, "ORC_STAGING_GITRELOAD", "staging"))
    return steps


def _repo_result(ctx: Context, org: str, name: str) -> dict:
    return ctx.world.repo_json(ctx.world.repo(org, name))


def create_export_repo(course: str, term: str, description: str | None = None, *, ctx: Context | None = None) -> dict:
    """Private Studio export repo in ORC_STUDIO_ORG, ORC_STUDIO_DEPLOY_TEAM with push,
    `.gitignore` and `course.xml` committed. Raises GitHubRepoExists, GitHubNoTeamFound,
    GitHubUnknownError. Returns GitHub's repo dict."""
    course, term = check_course(course), check_term(term)
    description = check_description(description)
    ctx = default_context(ctx)
    ctx.run(export_repo_steps(ctx, course, term, description))
    return _repo_result(ctx, ctx.settings.studio_org, _repo_name(ctx.settings.course_prefix, course, term))


def rerun_studio(
    course: str, term: str, new_term: str, description: str | None = None, *, ctx: Context | None = None
) -> dict:
    """Remove every hook of the old run's repo, then `create_export_repo` for the new term.
    Raises GitHubRepoDoesNotExist for a missing old run. Returns the new repo dict."""
    course = check_course(course)
    term, new_term = _terms(term, new_term)
    description = check_description(description)
    ctx = default_context(ctx)
    s = ctx.settings
    old = _repo_name(s.course_prefix, course, term)
    steps = export_repo_steps(ctx, course, new_term, description)
    steps[0] = CreateRepo(steps[0].org, steps[0].name, description, made_for=f"{course} {term} was already rerun into")
    ctx.run([DeleteHooks(s.studio_org, old), *steps])
    return _repo_result(ctx, s.studio_org, _repo_name(s.course_prefix, course, new_term))


def release_studio(course: str, term: str, *, ctx: Context | None = None) -> None:
    """Add the production gitreload hook to a Studio run's repo."""
    course, term = check_course(course), check_term(term)
    ctx = default_context(ctx)
    s = ctx.settings
    name = _repo_name(s.course_prefix, course, term)
    ctx.touch(ctx.world.repo(s.studio_org, name))
    ctx.run([AddHook(s.studio_org, name, s.production_gitreload, "ORC_PRODUCTION_GITRELOAD", "production")])


def create_xml_repo(
    course: str,
    term: str,
    team: str | None = None,
    members: Iterable[str] | None = None,
    description: str | None = None,
    *,
    ctx: Context | None = None,
) -> dict:
    """Private XML repo in ORC_XML_ORG with ORC_XML_DEPLOY_TEAM and `team` (default: the
    repo name; created if missing) given push; `members` become the team's exact
    membership; the staging gitreload hook is added. Returns GitHub's repo dict."""
    course, term = check_course(course), check_term(term)
    team, members = check_team(team), check_members(members)
    description = check_description(description)
    ctx = default_context(ctx)
    s = ctx.settings
    name = _repo_name(s.course_prefix, course, term)
    ctx.touch(ctx.world.repo(s.xml_org, name))
    ctx.run([CreateRepo(s.xml_org, name, description), *xml_access_steps(ctx, name, team or name, members)])
    return _repo_result(ctx, s.xml_org, name)


def rerun_xml(course: str, term: str, *, ctx: Context | None = None) -> int:
    """Remove all web hooks of an XML run's repo; returns how many were (or would be) removed."""
    course, term = check_course(course), check_term(term)
    ctx = default_context(ctx)
    s = ctx.settings
    name = _repo_name(s.course_prefix, course, term)
    ctx.touch(ctx.world.repo(s.xml_org, name))
    step = DeleteHooks(s.xml_org, name)
    (change,) = ctx.run([step])
    if ctx.live:
        return int(ctx.outcome_of(step).get("removed", 0))
    return len(change.data.get("ids", [])) or int(change.data.get("removed", 0))


def release_xml(course: str, term: str, *, ctx: Context | None = None) -> None:
    """Add the production gitreload hook to an XML run's repo."""
    course, term = check_course(course), check_term(term)
    ctx = default_context(ctx)
    s = ctx.settings
    name = _repo_name(s.course_prefix, course, term)
    ctx.touch(ctx.world.repo(s.xml_org, name))
    ctx.run([AddHook(s.xml_org, name, s.production_gitreload, "ORC_PRODUCTION_GITRELOAD", "production")])


def put_team(
    org: str, team: str, read_only: bool, members: Iterable[str] | None, *, ctx: Context | None = None
) -> dict:
    """Create the team if missing (an existing team keeps its permission); `members`
    (None: unchanged) become its exact membership. Returns GitHub's team dict."""
    from orcoursetrion.errors import ValidationError

    org, team, members = check_org(org), check_team(team), check_members(members)
    if not team:
        raise ValidationError("team", "A team name is required.")
    ctx = default_context(ctx)
    steps: list[Step] = [EnsureTeam(org, team, "pull" if read_only else "push")]
    if members is not None:
        steps.append(SetMembers(org, team, members))
    ctx.run(steps)
    state = ctx.world.team(org, team)
    if state.data:
        return dict(state.data)
    return {"name": team, "slug": state.slug, "permission": "pull" if read_only else "push"}
