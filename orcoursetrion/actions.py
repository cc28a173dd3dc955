"""The actions staff ask for, named and shaped as in the original library.

Each action validates its input first (no GitHub call on bad input), then runs a short
sequence of idempotent operations on `ctx.ops`: `LiveOps` changes GitHub, `PlanOps`
only records the plan (the dry run). Without `ctx`, settings come from the environment
and changes are live, so scripts written for the original library keep working.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from orcoursetrion.config import Settings, load_settings
from orcoursetrion.edx import Edx
from orcoursetrion.errors import ConfigError, GitHubRepoDoesNotExist, OrcError, ValidationError
from orcoursetrion.github import GitHub
from orcoursetrion.naming import (
    check_course,
    check_description,
    check_members,
    check_org,
    check_team,
    check_term,
    repo_name,
)
from orcoursetrion.ops import GITIGNORE_MESSAGE, Change, Journal, LiveOps, PlanOps, RepoRef
from orcoursetrion.pacing import Pacer

GITIGNORE_PATH = ".gitignore"
GITIGNORE_CONTENTS = "drafts/\n"
LIVE_BRANCH = "live"
XML, STUDIO = "xml", "studio"
KINDS = (XML, STUDIO)

_pacers: dict[tuple, Pacer] = {}
_pacers_lock = threading.Lock()


def shared_pacer(settings: Settings) -> Pacer:
    """One pacer per process (per limits), shared by every thread talking to GitHub."""
    key = (settings.gh_writes_per_minute, settings.gh_writes_per_hour, settings.gh_max_concurrent)
    with _pacers_lock:
        if key not in _pacers:
            _pacers[key] = Pacer(*key)
        return _pacers[key]


@dataclass
class Context:
    """What an action runs with: settings, the ops flavour, and what it touched."""

    settings: Settings
    ops: LiveOps | PlanOps
    repos: list[RepoRef] = field(default_factory=list)
    links: list[str] = field(default_factory=list)

    @property
    def changes(self) -> list[Change]:
        return self.ops.changes

    def touched(self, ref: RepoRef) -> RepoRef:
        if all(r.full_name.lower() != ref.full_name.lower() for r in self.repos):
            self.repos.append(ref)
        return ref


def github_client(settings: Settings, pacer: Pacer | None = None) -> GitHub:
    return GitHub(
        settings.gh_api_url,
        settings.gh_token,
        pacer or shared_pacer(settings),
        timeout=settings.gh_timeout,
        max_retries=settings.gh_max_retries,
    )


def live_context(
    settings: Settings | None = None,
    journal: Journal | None = None,
    on_change: Callable[[Change], None] | None = None,
    pacer: Pacer | None = None,
) -> Context:
    """Changes GitHub; refuses to start without a token (no request is made)."""
    settings = settings or load_settings()
    if not settings.gh_token:
        raise ConfigError(["ORC_GH_OAUTH2_TOKEN: required to change GitHub (set it, or use --dry-run)"])
    return Context(settings, LiveOps(settings, github_client(settings, pacer), journal, on_change))


def plan_context(settings: Settings | None = None, pacer: Pacer | None = None) -> Context:
    """Changes nothing; reads GitHub to make the plan exact when a token is configured."""
    settings = settings or load_settings()
    reader = github_client(settings, pacer) if settings.gh_token else None
    return Context(settings, PlanOps(settings, reader))


def _ctx(ctx: Context | None) -> Context:
    return ctx if ctx is not None else live_context()


def _require_url(ctx: Context, url: str | None, key: str) -> str:
    """The gitreload URL for a hook; an offline plan shows a placeholder instead of failing."""
    if url:
        return url
    if isinstance(ctx.ops, PlanOps) and ctx.ops.offline:
        return f"<{key} not set>"
    raise ConfigError([f"{key}: required for this action (the gitreload URL for its web hook)"])


def _terms(term: str, new_term: str) -> tuple[str, str]:
    term, new_term = check_term(term), check_term(new_term, "new_term")
    if term.lower() == new_term.lower():
        raise ValidationError("new_term", "The new term must differ from the current term.")
    return term, new_term


# -- the original actions ----------------------------------------------------------------------


def create_export_repo(course: str, term: str, description: str | None = None, *, ctx: Context | None = None) -> dict:
    """Private Studio export repo in ORC_STUDIO_ORG, ORC_STUDIO_DEPLOY_TEAM with push,
    `.gitignore` and `course.xml` committed. Raises GitHubRepoExists, GitHubNoTeamFound,
    GitHubUnknownError. Returns the repo dict."""
    course, term = check_course(course), check_term(term)
    description = check_description(description)
    ctx = _ctx(ctx)
    return _export_repo(ctx, course, term, description).repo_dict()


def _export_repo(ctx: Context, course: str, term: str, description: str | None) -> RepoRef:
    s, ops = ctx.settings, ctx.ops
    name = repo_name(s.course_prefix, course, term)
    ref = ctx.touched(ops.create_repo(s.studio_org, name, description))
    ops.grant_team(s.studio_org, s.studio_deploy_team, name)
    ops.add_file(s.studio_org, name, GITIGNORE_PATH, GITIGNORE_CONTENTS, GITIGNORE_MESSAGE)
    ops.add_file(
        s.studio_org,
        name,
        "course.xml",
        f'<course url_name="{term}" org="MITx" course="{course}"/>\n',
        f'initial commit of course.xml with term "{term}"',
    )
    return ref


def rerun_studio(
    course: str, term: str, new_term: str, description: str | None = None, *, ctx: Context | None = None
) -> dict:
    """Remove every hook of the old run's repo, then `create_export_repo` for the new term.
    Raises GitHubRepoDoesNotExist for a missing old run. Returns the new repo dict."""
    course = check_course(course)
    term, new_term = _terms(term, new_term)
    description = check_description(description)
    ctx = _ctx(ctx)
    s = ctx.settings
    ctx.ops.delete_hooks(s.studio_org, repo_name(s.course_prefix, course, term))
    ref = _export_repo(ctx, course, new_term, description)
    return ref.repo_dict()


def release_studio(course: str, term: str, *, ctx: Context | None = None) -> None:
    """Add the production gitreload hook to a Studio run's repo."""
    course, term = check_course(course), check_term(term)
    ctx = _ctx(ctx)
    s = ctx.settings
    url = _require_url(ctx, s.production_gitreload, "ORC_PRODUCTION_GITRELOAD")
    _release(ctx, s.studio_org, repo_name(s.course_prefix, course, term), url, live_branch=False)


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
    repo name; created if missing) given push; `members` replace the team's membership;
    the staging gitreload hook is added. Returns the repo dict."""
    course, term = check_course(course), check_term(term)
    team, members = check_team(team), check_members(members)
    description = check_description(description)
    ctx = _ctx(ctx)
    s = ctx.settings
    url = _require_url(ctx, s.staging_gitreload, "ORC_STAGING_GITRELOAD")
    name = repo_name(s.course_prefix, course, term)
    ref = ctx.touched(ctx.ops.create_repo(s.xml_org, name, description))
    _xml_access(ctx, name, team or name, members, url)
    return ref.repo_dict()


def _xml_access(ctx: Context, name: str, team: str, members: list[str] | None, hook_url: str) -> None:
    s, ops = ctx.settings, ctx.ops
    ops.grant_team(s.xml_org, s.xml_deploy_team, name)
    ops.put_team(s.xml_org, team, False, members)
    ops.grant_team(s.xml_org, team, name)
    ops.add_hook(s.xml_org, name, hook_url, "staging")


def rerun_xml(course: str, term: str, *, ctx: Context | None = None) -> int:
    """Remove all web hooks of an XML run's repo; returns how many were removed."""
    course, term = check_course(course), check_term(term)
    ctx = _ctx(ctx)
    s = ctx.settings
    name = repo_name(s.course_prefix, course, term)
    removed = ctx.ops.delete_hooks(s.xml_org, name)
    ref = ctx.ops.find_repo(s.xml_org, name)
    if ref:
        ctx.touched(ref)
    return removed


def release_xml(course: str, term: str, *, ctx: Context | None = None) -> None:
    """Add the production gitreload hook to an XML run's repo."""
    course, term = check_course(course), check_term(term)
    ctx = _ctx(ctx)
    s = ctx.settings
    url = _require_url(ctx, s.production_gitreload, "ORC_PRODUCTION_GITRELOAD")
    _release(ctx, s.xml_org, repo_name(s.course_prefix, course, term), url, live_branch=False)


def put_team(
    org: str, team: str, read_only: bool, members: Iterable[str] | None, *, ctx: Context | None = None
) -> dict:
    """Create the team if missing; `members` (None: unchanged) replace its membership.
    Returns the team dict."""
    org, team, members = check_org(org), check_team(team), check_members(members)
    if not team:
        raise ValidationError("team", "A team name is required.")
    ctx = _ctx(ctx)
    return ctx.ops.put_team(org, team, bool(read_only), members)


# -- the design notes' flows -------------------------------------------------------------------


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
    `members`) on the new run's team; deploy team; staging hook. Returns the new repo dict."""
    course = check_course(course)
    term, new_term = _terms(term, new_term)
    members, team = check_members(members), check_team(team)
    description = check_description(description)
    ctx = _ctx(ctx)
    s, ops = ctx.settings, ctx.ops
    url = _require_url(ctx, s.staging_gitreload, "ORC_STAGING_GITRELOAD")
    old_name = repo_name(s.course_prefix, course, term)
    new_name = repo_name(s.course_prefix, course, new_term)
    old = ops.find_repo(s.xml_org, old_name)
    if old is None:
        raise GitHubRepoDoesNotExist(f"{s.xml_org}/{old_name}")
    if members is None:
        members = ops.team_members(s.xml_org, team or old_name)
    ops.delete_hooks(s.xml_org, old_name)
    new = ctx.touched(ops.create_repo(s.xml_org, new_name, description))
    ops.copy_repo(old, new, new_term)
    _xml_access(ctx, new_name, new_name, members, url)
    return new.repo_dict()


def _release(ctx: Context, org: str, name: str, url: str, live_branch: bool) -> bool:
    ops = ctx.ops
    ref = ops.find_repo(org, name)
    if ref is None:
        raise GitHubRepoDoesNotExist(f"{org}/{name}")
    ctx.touched(ref)
    changed = False
    if live_branch:
        changed |= bool(ops.create_branch(org, name, LIVE_BRANCH))
    changed |= bool(ops.add_hook(org, name, url, "production"))
    return changed


def detect_kind(course: str, term: str, ctx: Context, known: str | None = None) -> str:
    """XML or Studio: what the store says, else which org holds the run's repo."""
    if known in KINDS:
        return known
    s = ctx.settings
    name = repo_name(s.course_prefix, course, term)
    in_xml = ctx.ops.find_repo(s.xml_org, name) is not None
    in_studio = ctx.ops.find_repo(s.studio_org, name) is not None
    if isinstance(ctx.ops, PlanOps) and ctx.ops.offline:
        raise ValidationError("kind", "Say whether the course is XML or Studio (GitHub is not configured to check).")
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
    ctx = _ctx(ctx)
    kind = detect_kind(course, term, ctx, kind)
    if kind == STUDIO:
        return rerun_studio(course, term, new_term, description, ctx=ctx)
    return rerun_xml_course(course, term, new_term, members, description, ctx=ctx)


def move_to_production(course: str, term: str, kind: str | None = None, *, ctx: Context | None = None) -> bool:
    """XML: branch `live` from the default branch if missing, then the production hook.
    Studio: the production hook. Returns False when it was already released."""
    course, term = check_course(course), check_term(term)
    ctx = _ctx(ctx)
    s = ctx.settings
    url = _require_url(ctx, s.production_gitreload, "ORC_PRODUCTION_GITRELOAD")
    kind = detect_kind(course, term, ctx, kind)
    org = s.xml_org if kind == XML else s.studio_org
    return _release(ctx, org, repo_name(s.course_prefix, course, term), url, live_branch=kind == XML)


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
    members = check_members(members) or []
    if not members:
        raise ValidationError("members", "Give at least one GitHub login for the team.")
    team = check_team(team)
    ctx = _ctx(ctx)
    s = ctx.settings
    kind = detect_kind(course, term, ctx, kind)
    org = s.xml_org if kind == XML else s.studio_org
    name = repo_name(s.course_prefix, course, term)
    ref = ctx.ops.find_repo(org, name)
    if ref is None:
        raise GitHubRepoDoesNotExist(f"{org}/{name}")
    ctx.touched(ref)
    result = ctx.ops.put_team(org, team or name, False, members)
    ctx.ops.grant_team(org, team or name, name)
    return result


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
    if not (isinstance(ctx.ops, PlanOps) and ctx.ops.offline):
        for org in (s.xml_org, s.studio_org):
            if ctx.ops.find_repo(org, name) is not None:
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
    return [login for login in logins if not ctx.ops.user_exists(login)]
