"""The GitHub operations actions are made of, each written once as `look` and `apply`.

`look` reads GitHub (through a `World` that also remembers what the earlier steps of the
same plan will change) and returns the `Change` the step would make, or raises the typed
problem that stops it. `apply` makes exactly that change and returns its evidence.
`Context.run` is the one executor: it runs every look first (the preflight: any problem,
and nothing is written; the plan shows the same problems), then — live — applies each
change under the journal. The dry run, the Confirm message, the approver's view and the
execution all come from the same looks, so the plan cannot drift from what is done.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from orcoursetrion.changes import Change, StepRecord, web_base
from orcoursetrion.config import Settings
from orcoursetrion.coursetree import Entry, inspect, normalize_mode
from orcoursetrion.errors import (
    ConfigError,
    GitHubNoOrgFound,
    GitHubNoTeamFound,
    GitHubRepoDoesNotExist,
    GitHubRepoEmpty,
    GitHubRepoExists,
    GitHubUnknownError,
    OrcError,
    UnsafeCourseContent,
    ValidationError,
    preflight_error,
)
from orcoursetrion.gitcopy import GitPushFailed, history_free_copy
from orcoursetrion.github import GitHub, TransientGitHubError
from orcoursetrion.journal import Journal, MemoryJournal
from orcoursetrion.naming import team_slug
from orcoursetrion.redact import redact_url
from orcoursetrion.times import parse_iso

log = logging.getLogger(__name__)

COPY_MESSAGE = "Initial rerun copy by Orcoursetrion"
RANK = {"pull": 0, "triage": 1, "push": 2, "maintain": 3, "admin": 4}
IN_DOUBT_SKEW = timedelta(seconds=30)  # GitHub's clock against the store's, for repos made by a lost call


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d}" if moment else "an earlier date"


# -- the world as one action sees it ----------------------------------------------------------


@dataclass
class RepoState:
    """A repository as GitHub has it, plus what this plan will do to it."""

    org: str
    name: str
    exists: bool | None  # None: not known (no GitHub to ask)
    data: dict | None = None
    planned: bool = False
    hooks: list[str] | None = None
    has_commits: bool | None = None

    @property
    def full_name(self) -> str:
        return f"{self.org}/{self.name}"

    @property
    def present(self) -> bool:
        """Exists now, will exist by this step of the plan, or is assumed to (offline)."""
        return self.exists is not False or self.planned

    @property
    def real(self) -> bool:
        return bool(self.exists) and not self.planned

    @property
    def default_branch(self) -> str:
        return (self.data or {}).get("default_branch") or "main"


@dataclass
class TeamState:
    org: str
    name: str
    exists: bool | None
    data: dict | None = None
    planned: bool = False
    members: list[str] | None = None
    perms: dict[str, str | None] = field(default_factory=dict)

    @property
    def slug(self) -> str:
        return (self.data or {}).get("slug") or team_slug(self.name)

    @property
    def present(self) -> bool:
        return self.exists is not False or self.planned

    @property
    def real(self) -> bool:
        return bool(self.exists) and not self.planned


class World:
    """GitHub's answers for one action (each resource read once) and the plan's effects."""

    def __init__(self, settings: Settings, gh: GitHub | None) -> None:
        self.settings, self.gh = settings, gh
        self._repos: dict[str, RepoState] = {}
        self._teams: dict[str, TeamState] = {}
        self._users: dict[str, bool] = {}
        self._orgs: dict[str, bool] = {}
        self._me: str | None = None

    @property
    def offline(self) -> bool:
        return self.gh is None

    def me(self) -> str:
        if self._me is None:
            self._me = self.gh.me() if self.gh else "the bot's account"
        return self._me

    @property
    def creator_joins_teams(self) -> bool:
        return self.gh.creator_joins_teams if self.gh else True

    def org_exists(self, org: str) -> bool:
        key = org.lower()
        if key not in self._orgs:
            self._orgs[key] = True if self.gh is None else self.gh.org(org) is not None
        return self._orgs[key]

    def repo(self, org: str, name: str) -> RepoState:
        key = f"{org}/{name}".lower()
        if key not in self._repos:
            if self.gh is None:
                self._repos[key] = RepoState(org, name, None)
            else:
                data = self.gh.repo(org, name)
                self._repos[key] = RepoState(org, name, data is not None, data)
        return self._repos[key]

    def hooks(self, repo: RepoState) -> list[str]:
        """URLs of the repo's web hooks (as they will be at this point of the plan)."""
        if repo.hooks is None:
            found = self.gh.hooks(repo.org, repo.name) if repo.real and self.gh else []
            repo.hooks = [h.get("config", {}).get("url", "") for h in found]
        return repo.hooks

    def has_commits(self, repo: RepoState) -> bool | None:
        if repo.has_commits is None and repo.real and self.gh:
            repo.has_commits = self.gh.commits(repo.org, repo.name, limit=1) is not None
        return repo.has_commits

    def team(self, org: str, name: str) -> TeamState:
        key = f"{org}/{team_slug(name)}"
        if key not in self._teams:
            if self.gh is None:
                self._teams[key] = TeamState(org, name, None)
            else:
                data = self.gh.team(org, name)
                self._teams[key] = TeamState(org, name, data is not None, data)
        return self._teams[key]

    def members(self, team: TeamState) -> list[str] | None:
        """The team's logins at this point of the plan; None when not known."""
        if team.members is None and team.real and self.gh:
            team.members = self.gh.team_members(team.org, team.slug)
        return team.members

    def carried_members(self, org: str, name: str) -> list[str] | None:
        """A team's members without the bot's own account (what a rerun carries over)."""
        team = self.team(org, name)
        if not team.real:
            return None
        me = self.me().lower()
        return [m for m in self.members(team) or [] if m.lower() != me]

    def permission(self, team: TeamState, repo: RepoState) -> str | None:
        if repo.full_name.lower() not in team.perms:
            known = None
            if team.real and repo.real and self.gh:
                known = self.gh.team_permission(team.org, team.slug, repo.org, repo.name)
            team.perms[repo.full_name.lower()] = known
        return team.perms[repo.full_name.lower()]

    def unknown_users(self, logins: list[str]) -> list[str]:
        out = []
        for login in logins:
            key = login.lower()
            if key not in self._users:
                self._users[key] = True if self.gh is None else self.gh.user_exists(login)
            if not self._users[key]:
                out.append(login)
        return out

    def html_base(self) -> str:
        return web_base(self.settings.gh_api_url)

    def repo_json(self, repo: RepoState) -> dict:
        """GitHub's JSON for the repo, or its essentials for one that exists only in a plan."""
        if repo.data:
            return dict(repo.data)
        base = self.html_base()
        return {
            "name": repo.name,
            "full_name": repo.full_name,
            "html_url": f"{base}/{repo.full_name}",
            "clone_url": f"{base}/{repo.full_name}.git",
            "default_branch": repo.default_branch,
            "private": True,
        }


# -- the executor -----------------------------------------------------------------------------


class Step:
    """One GitHub operation: `look` (what it would change, or the problem) and `apply`."""

    op = "step"

    def target(self) -> str:
        raise NotImplementedError

    def look(self, ctx: Context, record: StepRecord | None) -> Change:
        raise NotImplementedError

    def apply(self, ctx: Context, change: Change) -> dict:
        raise NotImplementedError

    def recheck(self, ctx: Context, change: Change, record: StepRecord | None) -> dict | None:
        """After a write whose outcome is unknown: its evidence if it took effect, else None."""
        return None

    def already_done(self, ctx: Context, change: Change, exc: GitHubUnknownError, *signs: str) -> dict:
        """GitHub refused the write as a duplicate (a message holding one of `signs`): the
        evidence of what is there, when it is what this step wanted; else the refusal."""
        found = (
            self.recheck(ctx, change, ctx.journal.record(ctx.key(self))) if any(x in str(exc) for x in signs) else None
        )
        if found is None:
            raise exc
        return found


StepListener = Callable[[Change, int, int], None]


@dataclass
class Context:
    """What an action runs with: settings, the world, the journal, and what it did."""

    settings: Settings
    world: World
    live: bool
    journal: Journal = field(default_factory=MemoryJournal)
    scope: str = ""
    on_step: StepListener | None = None
    on_start: StepListener | None = None
    changes: list[Change] = field(default_factory=list)
    touched: list[RepoState] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    evidence: dict[str, dict] = field(default_factory=dict)

    @property
    def offline(self) -> bool:
        return self.world.offline

    def touch(self, repo: RepoState) -> RepoState:
        if all(r.full_name.lower() != repo.full_name.lower() for r in self.touched):
            self.touched.append(repo)
        return repo

    def key(self, step: Step) -> str:
        return f"{self.scope}|{step.op}|{step.target()}"

    def run(self, steps: list[Step]) -> list[Change]:
        """Preflight every step, then (live) apply each change in order under the journal."""
        looked: list[tuple[Step, Change]] = []
        problems: list[OrcError] = []
        for step in steps:
            try:
                looked.append((step, step.look(self, self.journal.record(self.key(step)))))
            except OrcError as exc:
                problems.extend(getattr(exc, "preflight", None) or [exc])
        if problems:
            if not self.live:  # the plan shows what it could, beside the problems
                self.changes.extend(change for _, change in looked)
            raise preflight_error(problems)
        if not self.live:
            self.changes.extend(change for _, change in looked)
            return [change for _, change in looked]
        for index, (step, change) in enumerate(looked, 1):
            if self.on_start and change.changed:
                self.on_start(change, index, len(looked))
            self._apply(step, change)
            self.changes.append(change)
            if self.on_step:
                self.on_step(change, index, len(looked))
        return [change for _, change in looked]

    def _apply(self, step: Step, change: Change) -> None:
        key = self.key(step)
        self.journal.check()
        if not change.changed:
            self.journal.done(key, change, change.data)
            self.evidence[key] = change.data
            return
        self.journal.intend(key, change)
        attempt = 0
        while True:
            try:
                evidence = step.apply(self, change)
                break
            except TransientGitHubError:
                attempt += 1
                found = step.recheck(self, change, self.journal.record(key))
                if found is not None:
                    evidence = found
                    break
                if attempt > self.settings.gh_max_retries:
                    raise  # the intent stays: a retry looks again before writing
                log.warning("%s on %s: outcome unknown, looked again, retrying (%d)", step.op, step.target(), attempt)
                self.world.gh.pacer.sleep(min(30.0, 0.5 * 2 ** (attempt - 1)), "retrying", self.world.gh.stop)
            except OrcError as exc:
                self.journal.abandon(key, change, str(exc))
                raise
        self.journal.done(key, change, evidence)
        self.evidence[key] = evidence

    def outcome_of(self, step: Step) -> dict:
        return self.evidence.get(self.key(step), {})


# -- the operations ----------------------------------------------------------------------------


def _require_org(ctx: Context, org: str) -> None:
    if not ctx.world.org_exists(org):
        raise GitHubNoOrgFound(f"GitHub has no organization '{org}' (or the token cannot see it).")


class CreateRepo(Step):
    """A private repo. Reused only when this request's journal shows it made it."""

    op = "create_repo"

    def __init__(self, org: str, name: str, description: str | None = None, made_for: str | None = None) -> None:
        self.org, self.name, self.description = org, name, description
        self.made_for = made_for  # e.g. "8.01r Fall_2030 was already rerun into": how a second run reads

    def target(self) -> str:
        return f"{self.org}/{self.name}"

    def look(self, ctx: Context, record: StepRecord | None) -> Change:
        repo = ctx.world.repo(self.org, self.name)
        if repo.planned:
            return Change(self.op, self.target(), f"Repo {self.target()} is created earlier in this plan", False)
        if repo.exists:
            gid = (repo.data or {}).get("id")
            if record and record.done and record.evidence.get("id") == gid:
                return Change(
                    self.op, self.target(), f"Repo {self.target()} was created by this request", False, {"id": gid}
                )
            if record and record.in_doubt and self._made_by_lost_call(ctx, repo, record):
                return Change(
                    self.op, self.target(), f"Repo {self.target()} was created by this request", False, {"id": gid}
                )
            raise GitHubRepoExists(self._exists_text(ctx, gid), subject=self.target())
        _require_org(ctx, self.org)
        repo.planned, repo.hooks, repo.has_commits = True, [], False
        return Change(
            self.op, self.target(), f"Create private repo {self.target()}", data={"description": self.description}
        )

    def _exists_text(self, ctx: Context, gid: int | None) -> str:
        owner = ctx.journal.owner_of_repo(gid) if gid else None
        if owner is None:
            return f"{self.target()} exists and was not made by this request"
        when = f"by request #{owner.request_id} on {_when(owner.at)}"
        if self.made_for:
            return f"{self.made_for} {self.target()} {when} ({owner.summary})"
        return f"{self.target()} was created {when} ({owner.summary})"

    def _made_by_lost_call(self, ctx: Context, repo: RepoState, record: StepRecord) -> bool:
        """A repo our interrupted create made: created after we asked, and still empty."""
        created = parse_iso((repo.data or {}).get("created_at"))
        if created is None or record.at is None or created < record.at - IN_DOUBT_SKEW:
            return False
        return ctx.world.has_commits(repo) is False

    def apply(self, ctx: Context, change: Change) -> dict:
        try:
            data = ctx.world.gh.create_repo(self.org, self.name, self.description)
        except GitHubUnknownError as exc:
            if "already exists" not in str(exc):
                raise
            # An earlier attempt of this request whose answer was lost may have made it just now.
            found = self.recheck(ctx, change, ctx.journal.record(ctx.key(self)))
            if found is None:
                raise GitHubRepoExists(f"{self.target()} was created by someone else meanwhile") from None
            return found
        repo = ctx.world.repo(self.org, self.name)
        repo.exists, repo.planned, repo.data = True, False, data
        return {"id": data.get("id")}

    def recheck(self, ctx: Context, change: Change, record: StepRecord | None) -> dict | None:
        data = ctx.world.gh.repo(self.org, self.name)
        if data is None or record is None:
            return None
        state = RepoState(self.org, self.name, True, data)
        if not self._made_by_lost_call(ctx, state, record):
            raise GitHubRepoExists(f"{self.target()} exists and was not made by this request")
        repo = ctx.world.repo(self.org, self.name)
        repo.exists, repo.planned, repo.data = True, False, data
        return {"id": data.get("id")}


class DeleteHooks(Step):
    """Remove every web hook of a repo (a run that is being rerun stops deploying)."""

    op = "delete_hooks"

    def __init__(self, org: str, name: str) -> None:
        self.org, self.name = org, name

    def target(self) -> str:
        return f"{self.org}/{self.name}"

    def look(self, ctx: Context, record: StepRecord | None) -> Change:
        repo = ctx.world.repo(self.org, self.name)
        if repo.exists is False and not repo.planned:
            raise GitHubRepoDoesNotExist(self.target())
        if ctx.offline:
            repo.hooks = []
            return Change(self.op, self.target(), f"Remove all web hooks from {self.target()}")
        hooks = ctx.world.gh.hooks(self.org, self.name) if repo.real else []
        repo.hooks = []
        if not hooks:
            removed = record.evidence.get("removed", 0) if record and record.done else 0
            return Change(self.op, self.target(), f"No web hooks on {self.target()}", False, {"removed": removed})
        shown = ", ".join(redact_url(h.get("config", {}).get("url", "")) for h in hooks)
        return Change(
            self.op,
            self.target(),
            f"Remove {len(hooks)} web hook(s) from {self.target()} ({shown})",
            data={"ids": [h["id"] for h in hooks]},
        )

    def apply(self, ctx: Context, change: Change) -> dict:
        for hook_id in change.data.get("ids", []):
            ctx.world.gh.delete_hook(self.org, self.name, hook_id)
        return {"removed": len(change.data.get("ids", []))}


class AddHook(Step):
    """A push web hook to a gitreload server (staging or production)."""

    op = "add_hook"

    def __init__(self, org: str, name: str, url: str | None, key: str, label: str) -> None:
        self.org, self.name, self.url, self.key, self.label = org, name, url, key, label

    def target(self) -> str:
        return f"{self.org}/{self.name}#{self.label}"

    def look(self, ctx: Context, record: StepRecord | None) -> Change:
        repo = ctx.world.repo(self.org, self.name)
        if not self.url:
            if ctx.offline:
                ctx.notes.append(f"{self.key} is not set: the {self.label} hook's URL is missing.")
                return Change(
                    self.op, self.target(), f"Add {self.label} gitreload hook <{self.key} not set> to {repo.full_name}"
                )
            raise ConfigError([f"{self.key}: required for this action (the gitreload URL of the {self.label} hook)"])
        if not repo.present:
            raise GitHubRepoDoesNotExist(repo.full_name, subject=repo.full_name)
        shown = redact_url(self.url)
        hooks = ctx.world.hooks(repo)
        if any(_same_hook(u, self.url) for u in hooks):
            return Change(
                self.op, self.target(), f"{self.label.capitalize()} hook {shown} already on {repo.full_name}", False
            )
        hooks.append(self.url)
        return Change(self.op, self.target(), f"Add {self.label} gitreload hook {shown} to {repo.full_name}")

    def apply(self, ctx: Context, change: Change) -> dict:
        try:
            data = ctx.world.gh.create_hook(self.org, self.name, self.url)
        except GitHubUnknownError as exc:
            return self.already_done(ctx, change, exc, "already exists")
        return {"id": data.get("id")}

    def recheck(self, ctx: Context, change: Change, record: StepRecord | None) -> dict | None:
        for hook in ctx.world.gh.hooks(self.org, self.name):
            if _same_hook(hook.get("config", {}).get("url"), self.url):
                return {"id": hook.get("id")}
        return None


def _same_hook(existing: str | None, url: str) -> bool:
    return bool(existing) and (existing == url or redact_url(existing) == redact_url(url))


class EnsureTeam(Step):
    """The team exists (created if missing); an existing team keeps its permission."""

    op = "ensure_team"

    def __init__(self, org: str, name: str, permission: str = "push") -> None:
        self.org, self.name, self.permission = org, name, permission

    def target(self) -> str:
        return f"{self.org}/{team_slug(self.name)}"

    def look(self, ctx: Context, record: StepRecord | None) -> Change:
        team = ctx.world.team(self.org, self.name)
        if team.planned:
            return Change(self.op, self.target(), f"Team {self.name} is created earlier in this plan", False)
        if team.exists:
            text = f"Team {self.name} exists in {self.org}"
            current = (team.data or {}).get("permission")
            if current and current != self.permission:
                text += f"; its permission ({current}) is left unchanged"
            return Change(self.op, self.target(), text, False, {"id": (team.data or {}).get("id")})
        _require_org(ctx, self.org)
        team.planned = True
        # GitHub makes a user who creates a team its maintainer. An App's installation does not
        # join; its new team's membership is read when set (exact, whoever GitHub put there).
        team.members = [ctx.world.me()] if ctx.world.creator_joins_teams else None
        return Change(self.op, self.target(), f"Create team {self.name} in {self.org} ({self.permission})")

    def apply(self, ctx: Context, change: Change) -> dict:
        try:
            data = ctx.world.gh.create_team(self.org, self.name, self.permission)
        except GitHubUnknownError as exc:
            return self.already_done(ctx, change, exc, "unique", "exists")
        team = ctx.world.team(self.org, self.name)
        team.exists, team.planned, team.data = True, False, data
        return {"id": data.get("id"), "slug": data.get("slug")}

    def recheck(self, ctx: Context, change: Change, record: StepRecord | None) -> dict | None:
        data = ctx.world.gh.team(self.org, self.name)
        if data is None:
            return None
        team = ctx.world.team(self.org, self.name)
        team.exists, team.planned, team.data = True, False, data
        return {"id": data.get("id"), "slug": data.get("slug")}


class SetMembers(Step):
    """Exactly these logins on the team: the bot's own account too is removed unless listed."""

    op = "set_members"

    def __init__(self, org: str, name: str, members: list[str]) -> None:
        self.org, self.name, self.members = org, name, list(members)

    def target(self) -> str:
        return f"{self.org}/{team_slug(self.name)}"

    def look(self, ctx: Context, record: StepRecord | None) -> Change:
        unknown = ctx.world.unknown_users(self.members)
        if unknown:
            raise ValidationError("members", f"GitHub does not know these logins: {', '.join(unknown)}.")
        team = ctx.world.team(self.org, self.name)
        if not team.present:
            raise GitHubNoTeamFound(f"{self.name} in {self.org}")
        current = ctx.world.members(team)
        team.members = list(self.members)
        if current is None:
            listed = ", ".join(self.members) or "nobody"
            return Change(
                self.op,
                self.target(),
                f"Make the members of team {self.name} exactly: {listed}",
                data={"add": list(self.members), "remove": [], "exact": True},
            )
        have = {m.lower(): m for m in current}
        want = {m.lower(): m for m in self.members}
        add = [want[k] for k in want if k not in have]
        me = ctx.world.me().lower()
        remove = sorted((have[k] for k in have if k not in want), key=lambda m: (m.lower() == me, m.lower()))
        if not add and not remove:
            return Change(self.op, self.target(), f"Team {self.name} already has exactly these members", False)
        parts = []
        if add:
            parts.append("add " + ", ".join(add))
        if remove:
            parts.append("remove " + ", ".join(remove))
        return Change(
            self.op,
            self.target(),
            f"Set members of team {self.name}: " + "; ".join(parts),
            data={"add": add, "remove": remove},
        )

    def apply(self, ctx: Context, change: Change) -> dict:
        gh = ctx.world.gh
        slug = ctx.world.team(self.org, self.name).slug
        remove = change.data.get("remove", [])
        if change.data.get("exact"):
            wanted = {m.lower() for m in self.members}
            remove = [m for m in gh.team_members(self.org, slug) if m.lower() not in wanted]
        for login in change.data.get("add", []):
            gh.add_member(self.org, slug, login)
        for login in remove:
            gh.remove_member(self.org, slug, login)
        return {"added": change.data.get("add", []), "removed": remove}


class GrantTeam(Step):
    """The team gets `permission` on the repo (always sent explicitly: GitHub's default is pull)."""

    op = "grant_team"

    def __init__(self, org: str, team: str, repo_org: str, repo: str, permission: str = "push") -> None:
        self.org, self.team, self.repo_org, self.repo, self.permission = org, team, repo_org, repo, permission

    def target(self) -> str:
        return f"{self.repo_org}/{self.repo}@{team_slug(self.team)}"

    def look(self, ctx: Context, record: StepRecord | None) -> Change:
        team = ctx.world.team(self.org, self.team)
        repo = ctx.world.repo(self.repo_org, self.repo)
        problems: list[OrcError] = []
        if not team.present:
            problems.append(GitHubNoTeamFound(f"{self.team} in {self.org}"))
        if not repo.present:
            problems.append(GitHubRepoDoesNotExist(repo.full_name))
        if problems:
            raise preflight_error(problems)
        current = ctx.world.permission(team, repo)
        if current is not None and RANK.get(current, -1) >= RANK[self.permission]:
            return Change(self.op, self.target(), f"Team {self.team} already has {current} on {repo.full_name}", False)
        team.perms[repo.full_name.lower()] = self.permission
        return Change(self.op, self.target(), f"Give team {self.team} {self.permission} access to {repo.full_name}")

    def apply(self, ctx: Context, change: Change) -> dict:
        slug = ctx.world.team(self.org, self.team).slug
        ctx.world.gh.grant(self.org, slug, self.repo_org, self.repo, self.permission)
        return {"permission": self.permission}


class AddFile(Step):
    """A file committed to the default branch as the bot's committer."""

    op = "add_file"

    def __init__(self, org: str, name: str, path: str, content: str, message: str) -> None:
        self.org, self.name, self.path, self.content, self.message = org, name, path, content, message

    def target(self) -> str:
        return f"{self.org}/{self.name}:{self.path}"

    def look(self, ctx: Context, record: StepRecord | None) -> Change:
        repo = ctx.world.repo(self.org, self.name)
        if not repo.present:
            raise GitHubRepoDoesNotExist(repo.full_name)
        if repo.real and ctx.world.gh.file_exists(self.org, self.name, self.path):
            return Change(self.op, self.target(), f"{self.path} already in {repo.full_name}", False)
        repo.has_commits = True
        return Change(self.op, self.target(), f"Commit {self.path} to {repo.full_name} as {ctx.settings.gh_name}")

    def apply(self, ctx: Context, change: Change) -> dict:
        try:
            sha = ctx.world.gh.create_file(
                self.org, self.name, self.path, self.content, self.message, ctx.settings.committer
            )
        except GitHubUnknownError as exc:
            return self.already_done(ctx, change, exc, "422")
        return {"sha": sha}

    def recheck(self, ctx: Context, change: Change, record: StepRecord | None) -> dict | None:
        return {"sha": None} if ctx.world.gh.file_exists(self.org, self.name, self.path) else None


class CreateBranch(Step):
    """A branch at the head of the default branch (the `live` branch of a release)."""

    op = "create_branch"

    def __init__(self, org: str, name: str, branch: str) -> None:
        self.org, self.name, self.branch = org, name, branch

    def target(self) -> str:
        return f"{self.org}/{self.name}:{self.branch}"

    def look(self, ctx: Context, record: StepRecord | None) -> Change:
        repo = ctx.world.repo(self.org, self.name)
        if not repo.present:
            raise GitHubRepoDoesNotExist(repo.full_name)
        text = f"Create branch {self.branch} from the default branch of {repo.full_name}"
        if not repo.real:
            return Change(self.op, self.target(), text)
        gh = ctx.world.gh
        if gh.branch_sha(self.org, self.name, self.branch):
            return Change(self.op, self.target(), f"Branch {self.branch} already exists in {repo.full_name}", False)
        head = gh.branch_sha(self.org, self.name, repo.default_branch)
        if not head:
            raise GitHubRepoEmpty(
                f"{repo.full_name} has no commits on {repo.default_branch}: push the course before releasing it."
            )
        return Change(self.op, self.target(), text, data={"sha": head})

    def apply(self, ctx: Context, change: Change) -> dict:
        gh = ctx.world.gh
        sha = change.data.get("sha") or gh.branch_sha(
            self.org, self.name, ctx.world.repo(self.org, self.name).default_branch
        )
        try:
            gh.create_branch(self.org, self.name, self.branch, sha)
        except GitHubUnknownError as exc:
            return self.already_done(ctx, change, exc, "already exists")
        return {"sha": sha}

    def recheck(self, ctx: Context, change: Change, record: StepRecord | None) -> dict | None:
        sha = ctx.world.gh.branch_sha(self.org, self.name, self.branch)
        return {"sha": sha} if sha else None


class GitHubTree:
    """A `TreeReader` over GitHub's Git Data API (what a plan reads of a course)."""

    def __init__(self, gh: GitHub, org: str, name: str) -> None:
        self.gh, self.org, self.name = gh, org, name

    def entries(self, tree: str) -> dict[str, Entry]:
        out = {}
        for item in self.gh.tree(self.org, self.name, tree):
            entry = Entry(item["path"], normalize_mode(str(item["mode"])), item["type"], item["sha"])
            out[entry.name] = entry
        return out

    def blob(self, sha: str, limit: int) -> bytes:
        data = self.gh.blob(self.org, self.name, sha)
        if len(data) > limit:
            raise UnsafeCourseContent(f"a course file is {len(data)} bytes, more than the {limit} allowed")
        return data


class CopyRun(Step):
    """One fresh commit in the new empty repo holding the old run's default branch,
    retargeted to the new run (see `coursetree`)."""

    op = "copy_repo"

    def __init__(self, src_org: str, src: str, dst_org: str, dst: str, new_url_name: str) -> None:
        self.src_org, self.src, self.dst_org, self.dst, self.new_url_name = src_org, src, dst_org, dst, new_url_name

    def target(self) -> str:
        return f"{self.dst_org}/{self.dst}"

    def look(self, ctx: Context, record: StepRecord | None) -> Change:
        world = ctx.world
        src, dst = world.repo(self.src_org, self.src), world.repo(self.dst_org, self.dst)
        if src.exists is False:
            raise GitHubRepoDoesNotExist(src.full_name)
        if ctx.offline:
            dst.has_commits = True
            return Change(
                self.op,
                self.target(),
                f"Copy {src.full_name} (default branch) into {dst.full_name} as one fresh commit, with course.xml, "
                f"course/<run>.xml, policies/<run>/ and policy.json's run key moved to {self.new_url_name}",
            )
        head = world.gh.branch_sha(src.org, src.name, src.default_branch)
        if head is None:
            raise GitHubRepoEmpty(f"{src.full_name} has no commits on {src.default_branch}: there is nothing to copy.")
        limit = ctx.settings.max_copy_mb
        size_mb = ((src.data or {}).get("size") or 0) / 1024
        if size_mb > limit:
            raise ValidationError(
                "course", f"{src.full_name} is {size_mb:.0f} MB, more than ORC_MAX_COPY_MB ({limit} MB) allows to copy."
            )
        if dst.real and world.has_commits(dst):
            found = self._ours(ctx, record)
            if found is None:
                raise GitHubRepoExists(f"{dst.full_name} is not empty", subject=dst.full_name)
            return Change(self.op, self.target(), f"{dst.full_name} already holds the copy", False, found)
        root = world.gh.commit_tree(src.org, src.name, head)
        plan = inspect(GitHubTree(world.gh, src.org, src.name), root, self.new_url_name)
        dst.has_commits = True
        return Change(
            self.op,
            self.target(),
            f"Copy {src.full_name}@{src.default_branch} into {dst.full_name} as one fresh commit ({plan.describe()})",
            data={"head": head, "branch": src.default_branch},
        )

    def _ours(self, ctx: Context, record: StepRecord | None) -> dict | None:
        """The copy this request pushed (journaled, or pushed by a call whose answer was lost)."""
        if record is None:
            return None
        commits = ctx.world.gh.commits(self.dst_org, self.dst, limit=2) or []
        if len(commits) != 1 or not commits[0]["message"].startswith(COPY_MESSAGE):
            return None
        if record.done and record.evidence.get("sha") not in (None, commits[0]["sha"]):
            return None
        return {"sha": commits[0]["sha"]}

    def apply(self, ctx: Context, change: Change) -> dict:
        world, s = ctx.world, ctx.settings
        src, dst = world.repo(self.src_org, self.src), world.repo(self.dst_org, self.dst)
        dst_data = dst.data or world.gh.require_repo(self.dst_org, self.dst)
        branch = change.data["branch"]
        try:
            sha, plan = history_free_copy(
                (src.data or {})["clone_url"],
                dst_data["clone_url"],
                branch,
                world.gh.git_token_for,
                s.committer,
                f"{COPY_MESSAGE} from {src.full_name}",
                new_url_name=self.new_url_name,
                expect_sha=change.data.get("head"),
                push_guard=lambda: world.gh.pacer.slot(True, world.gh.stop),
            )
        except GitPushFailed as exc:
            raise TransientGitHubError(str(exc)) from None  # the push may have landed: look before retrying
        fresh = world.gh.require_repo(self.dst_org, self.dst)
        if fresh.get("default_branch") != branch:
            fresh = world.gh.set_default_branch(self.dst_org, self.dst, branch) or fresh
        dst.data, dst.exists = fresh, True
        return {"sha": sha, "retarget": plan.describe() if plan else None}

    def recheck(self, ctx: Context, change: Change, record: StepRecord | None) -> dict | None:
        return self._ours(ctx, record)
