"""GitHub operations the actions are made of, in two flavours with one interface:

- `LiveOps` changes GitHub. Every write is an idempotent step (look, then change only
  what differs) recorded in a `Journal`, so a request interrupted half way and run
  again skips what it finished and reuses what it created.
- `PlanOps` changes nothing: it records the ordered list of changes an action would
  make (the dry run and the plan shown before confirming), reading GitHub when it can.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from orcoursetrion.config import Settings
from orcoursetrion.errors import (
    GitHubNoTeamFound,
    GitHubRepoDoesNotExist,
    GitHubRepoExists,
    GitHubUnknownError,
)
from orcoursetrion.gitcopy import history_free_copy, retarget_run
from orcoursetrion.github import GitHub, TransientGitHubError
from orcoursetrion.naming import team_slug
from orcoursetrion.redact import redact_url

log = logging.getLogger(__name__)

GITIGNORE_MESSAGE = "Automatic .gitignore from Orcoursetrion"
COPY_MESSAGE = "Initial rerun copy by Orcoursetrion"
OUR_ROOT_MESSAGES = (GITIGNORE_MESSAGE, COPY_MESSAGE, "initial commit of course.xml")
_RANK = {"pull": 0, "triage": 1, "push": 2, "maintain": 3, "admin": 4}


@dataclass
class RepoRef:
    """What the actions need to know about a repository (JSON-serialisable)."""

    org: str
    name: str
    html_url: str
    clone_url: str
    default_branch: str
    raw: dict = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        return f"{self.org}/{self.name}"

    def to_dict(self) -> dict:
        return asdict(self)

    def repo_dict(self) -> dict:
        """GitHub's repo dict (as the original actions returned), or its essentials in a plan."""
        base = {
            "name": self.name,
            "full_name": self.full_name,
            "html_url": self.html_url,
            "clone_url": self.clone_url,
            "default_branch": self.default_branch,
        }
        return {**base, **{k: v for k, v in self.raw.items() if v is not None}}

    @classmethod
    def from_dict(cls, data: dict) -> RepoRef:
        return cls(**data)

    @classmethod
    def from_github(cls, org: str, repo) -> RepoRef:
        raw = {
            key: repo.raw_data.get(key)
            for key in ("id", "name", "full_name", "html_url", "clone_url", "url", "private", "default_branch")
        }
        return cls(org, repo.name, repo.html_url, repo.clone_url, repo.default_branch or "main", raw)


@dataclass
class Change:
    """One GitHub change, planned or done; `text` is safe to show anywhere."""

    op: str
    target: str
    text: str
    changed: bool = True


class Journal(Protocol):
    """Where LiveOps records steps, so a resumed request skips what it finished."""

    def lookup(self, key: str) -> dict | None: ...
    def started(self, key: str, change: Change) -> None: ...
    def done(self, key: str, change: Change, result: Any) -> None: ...


class MemoryJournal:
    """A journal for one process run (library calls without a store)."""

    def __init__(self) -> None:
        self.steps: dict[str, dict] = {}

    def lookup(self, key: str) -> dict | None:
        return self.steps.get(key)

    def started(self, key: str, change: Change) -> None:
        self.steps.setdefault(key, {"state": "started", "result": None})

    def done(self, key: str, change: Change, result: Any) -> None:
        self.steps[key] = {"state": "done", "result": result}


def _hook_matches(existing_url: str | None, url: str) -> bool:
    return bool(existing_url) and (existing_url == url or redact_url(existing_url) == redact_url(url))


class LiveOps:
    """Changes GitHub one idempotent, journaled step at a time."""

    live = True

    def __init__(
        self,
        settings: Settings,
        github: GitHub,
        journal: Journal | None = None,
        on_change: Callable[[Change], None] | None = None,
    ) -> None:
        self.settings = settings
        self.gh = github
        self.journal = journal or MemoryJournal()
        self.on_change = on_change
        self.scope = ""
        self.changes: list[Change] = []
        self._repos: dict[str, Any] = {}
        self._teams: dict[str, Any] = {}

    # -- step machinery -------------------------------------------------------------------------
    def _step(self, op: str, target: str, text: str, fn: Callable[[bool], tuple[Any, bool, str | None]]) -> Any:
        """Run `fn(resuming)` once per (scope, op, target); fn returns (result, changed, text)."""
        key = f"{self.scope}|{op}|{target}"
        record = self.journal.lookup(key)
        if record and record.get("state") == "done":
            return record.get("result")
        resuming = record is not None
        self.journal.started(key, Change(op, target, text))
        attempt = 0
        while True:
            try:
                result, changed, final_text = fn(resuming)
                break
            except TransientGitHubError:
                attempt += 1
                if attempt > self.settings.gh_max_retries:
                    raise
                log.warning("step %s on %s failed transiently; checking again (%d)", op, target, attempt)
                self.gh.pacer.clock.sleep(min(30.0, 0.5 * 2 ** (attempt - 1)))
                resuming = True
        change = Change(op, target, final_text or text, changed)
        self.journal.done(key, change, result)
        self.changes.append(change)
        if self.on_change:
            self.on_change(change)
        return result

    # -- cached lookups ----------------------------------------------------------------------------
    def _repo(self, org: str, name: str):
        key = f"{org}/{name}".lower()
        if key not in self._repos:
            self._repos[key] = self.gh.require_repo(org, name)
        return self._repos[key]

    def _team(self, org: str, name: str):
        key = f"{org}/{team_slug(name)}"
        if key not in self._teams:
            self._teams[key] = self.gh.require_team(org, name)
        return self._teams[key]

    def is_ours(self, repo) -> bool:
        """A repo this tool made: its first commit is one of ours, by our committer."""
        commits = self.gh.recent_commits(repo, limit=100)
        if not commits or len(commits) >= 100:
            return False
        root = commits[-1]
        return root["author_name"] == self.settings.gh_name and any(
            (root["message"] or "").startswith(m) for m in OUR_ROOT_MESSAGES
        )

    # -- reads -------------------------------------------------------------------------------------
    def find_repo(self, org: str, name: str) -> RepoRef | None:
        repo = self.gh.repo(org, name)
        if repo is None:
            return None
        self._repos[f"{org}/{name}".lower()] = repo
        return RepoRef.from_github(org, repo)

    def team_members(self, org: str, team: str) -> list[str] | None:
        """Members of a team except our own account; None if the team does not exist."""
        found = self.gh.team(org, team)
        if found is None:
            return None
        me = self.gh.me().lower()
        return sorted((m for m in self.gh.team_members(found) if m.lower() != me), key=str.lower)

    def user_exists(self, login: str) -> bool:
        return self.gh.user_exists(login)

    def hook_urls(self, org: str, name: str) -> list[str]:
        return [h.config.get("url", "") for h in self.gh.hooks(self._repo(org, name))]

    def has_branch(self, org: str, name: str, branch: str) -> bool:
        return self.gh.branch_sha(self._repo(org, name), branch) is not None

    # -- writes ------------------------------------------------------------------------------------
    def create_repo(self, org: str, name: str, description: str | None) -> RepoRef:
        """A private repo; one that this request (or this tool) created earlier is reused."""

        def run(resuming: bool):
            existing = self.gh.repo(org, name)
            if existing is not None:
                if resuming or self.is_ours(existing):
                    self._repos[f"{org}/{name}".lower()] = existing
                    ref = RepoRef.from_github(org, existing)
                    return ref.to_dict(), False, f"Reused repo {org}/{name} created earlier by Orcoursetrion"
                raise GitHubRepoExists(f"{org}/{name}")
            repo = self.gh.create_repo(org, name, description)
            self._repos[f"{org}/{name}".lower()] = repo
            return RepoRef.from_github(org, repo).to_dict(), True, None

        data = self._step("create_repo", f"{org}/{name}", f"Created private repo {org}/{name}", run)
        return RepoRef.from_dict(data)

    def delete_hooks(self, org: str, name: str) -> int:
        def run(resuming: bool):
            repo = self.gh.repo(org, name)
            if repo is None:
                raise GitHubRepoDoesNotExist(f"{org}/{name}")
            hooks = self.gh.hooks(repo)
            for hook in hooks:
                self.gh.delete_hook(hook)
            return len(hooks), bool(hooks), f"Removed {len(hooks)} web hook(s) from {org}/{name}"

        return self._step("delete_hooks", f"{org}/{name}", f"Removed web hooks from {org}/{name}", run)

    def add_hook(self, org: str, name: str, url: str, label: str) -> bool:
        shown = redact_url(url)

        def run(resuming: bool):
            repo = self._repo(org, name)
            if any(_hook_matches(h.config.get("url"), url) for h in self.gh.hooks(repo)):
                return False, False, f"{label.capitalize()} hook {shown} already on {org}/{name}"
            self.gh.create_hook(repo, url)
            return True, True, None

        return self._step("add_hook", f"{org}/{name}#{label}", f"Added {label} hook {shown} to {org}/{name}", run)

    def grant_team(self, org: str, team: str, name: str, permission: str = "push") -> None:
        def run(resuming: bool):
            found, repo = self._team(org, team), self._repo(org, name)
            current = self.gh.team_permission(found, repo)
            if current is not None and _RANK.get(current, -1) >= _RANK[permission]:
                return current, False, f"Team {team} already has {current} on {org}/{name}"
            self.gh.grant(found, repo, permission)
            return permission, True, None

        self._step(
            "grant_team",
            f"{org}/{name}@{team_slug(team)}",
            f"Gave team {team} {permission} access to {org}/{name}",
            run,
        )

    def put_team(self, org: str, team: str, read_only: bool, members: list[str] | None) -> dict:
        """Create the team if missing; with `members`, make them its exact membership
        (our own account, made maintainer by GitHub when it creates a team, is left alone)."""
        permission = "pull" if read_only else "push"

        def run(resuming: bool):
            found = self.gh.team(org, team)
            notes = []
            created = found is None
            if created:
                found = self.gh.create_team(org, team, permission)
                notes.append(f"Created team {team} in {org}")
            self._teams[f"{org}/{team_slug(team)}"] = found
            added: list[str] = []
            removed: list[str] = []
            if members is not None:
                me = self.gh.me().lower()
                current = {m.lower(): m for m in self.gh.team_members(found)}
                wanted = {m.lower(): m for m in members}
                added = [wanted[k] for k in wanted if k not in current]
                removed = [current[k] for k in current if k not in wanted and k != me]
                for login in added:
                    self.gh.add_member(found, login)
                for login in removed:
                    self.gh.remove_member(found, login)
                if added or removed:
                    notes.append(_membership_text(team, added, removed))
            result = {"id": found.id, "slug": found.slug, "name": found.name, "html_url": found.html_url}
            result.update(added=added, removed=removed)
            text = "; ".join(notes) or f"Team {team} already up to date"
            return result, bool(notes), text

        return self._step("put_team", f"{org}/{team_slug(team)}", f"Updated team {team}", run)

    def add_file(self, org: str, name: str, path: str, content: str, message: str) -> bool:
        def run(resuming: bool):
            repo = self._repo(org, name)
            if self.gh.file_text(repo, path) is not None:
                return False, False, f"{path} already in {org}/{name}"
            self.gh.create_file(repo, path, content, message, self.settings.committer)
            return True, True, None

        return self._step("add_file", f"{org}/{name}:{path}", f"Committed {path} to {org}/{name}", run)

    def create_branch(self, org: str, name: str, branch: str) -> bool:
        def run(resuming: bool):
            repo = self._repo(org, name)
            if self.gh.branch_sha(repo, branch):
                return False, False, f"Branch {branch} already exists in {org}/{name}"
            sha = self.gh.branch_sha(repo, repo.default_branch)
            if not sha:
                raise GitHubUnknownError(f"{org}/{name} has no commits on {repo.default_branch} to branch from")
            self.gh.create_branch(repo, branch, sha)
            return True, True, None

        return self._step("create_branch", f"{org}/{name}:{branch}", f"Created branch {branch} in {org}/{name}", run)

    def copy_repo(self, src: RepoRef, dst: RepoRef, new_url_name: str) -> dict:
        """One fresh commit in the empty dst holding src's default branch, retargeted to the new run."""

        def run(resuming: bool):
            target = self._repo(dst.org, dst.name)
            commits = self.gh.recent_commits(target, limit=100)
            if commits:
                root = commits[-1]
                if len(commits) == 1 and (root["message"] or "").startswith(COPY_MESSAGE):
                    return {"sha": root["sha"], "changes": []}, False, f"{dst.full_name} already holds the copy"
                raise GitHubRepoExists(f"{dst.full_name} is not empty")
            sha, changes = history_free_copy(
                src.clone_url,
                dst.clone_url,
                src.default_branch,
                self.settings.gh_token,
                self.settings.committer,
                f"{COPY_MESSAGE} from {src.full_name}",
                transform=lambda root: retarget_run(Path(root), new_url_name),
                push_guard=lambda: self.gh.pacer.slot(True),
            )
            fresh = self.gh.require_repo(dst.org, dst.name)
            if fresh.default_branch != src.default_branch:
                self.gh.set_default_branch(fresh, src.default_branch)
                fresh = self.gh.require_repo(dst.org, dst.name)
            self._repos[f"{dst.org}/{dst.name}".lower()] = fresh
            detail = f" ({'; '.join(changes)})" if changes else ""
            return (
                {"sha": sha, "changes": changes},
                True,
                f"Copied {src.full_name}@{src.default_branch} into {dst.full_name} as one fresh commit{detail}",
            )

        return self._step(
            "copy_repo", dst.full_name, f"Copied {src.full_name} into {dst.full_name} without history", run
        )


def _membership_text(team: str, added: list[str], removed: list[str]) -> str:
    parts = []
    if added:
        parts.append("add " + ", ".join(added))
    if removed:
        parts.append("remove " + ", ".join(removed))
    return f"Set members of team {team}: " + "; ".join(parts)


class PlanOps:
    """Records what LiveOps would change; reads GitHub when a reader is given."""

    live = False

    def __init__(self, settings: Settings, reader: GitHub | None = None) -> None:
        self.settings = settings
        self.reader = LiveOps(settings, reader) if reader else None
        self.scope = ""
        self.changes: list[Change] = []
        self._new_repos: set[str] = set()
        self._new_teams: dict[str, list[str]] = {}
        self._branches: set[str] = set()
        self._seen: dict[str, RepoRef | None] = {}

    @property
    def offline(self) -> bool:
        return self.reader is None

    def _add(self, op: str, target: str, text: str, changed: bool = True) -> None:
        self.changes.append(Change(op, target, text, changed))

    def _is_new(self, org: str, name: str) -> bool:
        return f"{org}/{name}".lower() in self._new_repos

    # -- reads (from GitHub when possible, else optimistic) -------------------------------------
    def find_repo(self, org: str, name: str) -> RepoRef | None:
        if self._is_new(org, name):
            return self._virtual(org, name)
        if self.reader is None:
            return self._virtual(org, name)
        key = f"{org}/{name}".lower()
        if key not in self._seen:  # a plan reads each repo once
            self._seen[key] = self.reader.find_repo(org, name)
        return self._seen[key]

    def _virtual(self, org: str, name: str) -> RepoRef:
        base = self.settings.gh_api_url.split("/api/")[0].rstrip("/")
        return RepoRef(org, name, f"{base}/{org}/{name}", f"{base}/{org}/{name}.git", "main")

    def team_members(self, org: str, team: str) -> list[str] | None:
        key = f"{org}/{team_slug(team)}"
        if key in self._new_teams:
            return list(self._new_teams[key])
        if self.reader is None:
            return None
        return self.reader.team_members(org, team)

    def user_exists(self, login: str) -> bool:
        return True if self.reader is None else self.reader.user_exists(login)

    def hook_urls(self, org: str, name: str) -> list[str]:
        if self.reader is None or self._is_new(org, name):
            return []
        return self.reader.hook_urls(org, name)

    def has_branch(self, org: str, name: str, branch: str) -> bool:
        if f"{org}/{name}:{branch}".lower() in self._branches:
            return True
        if self.reader is None or self._is_new(org, name):
            return False
        return self.reader.has_branch(org, name, branch)

    # -- writes (recorded) ----------------------------------------------------------------------
    def create_repo(self, org: str, name: str, description: str | None) -> RepoRef:
        if self.reader is not None:
            existing = self.reader.gh.repo(org, name)
            if existing is not None:
                if not self.reader.is_ours(existing):
                    raise GitHubRepoExists(f"{org}/{name}")
                self._add("create_repo", f"{org}/{name}", f"Reuse repo {org}/{name} created earlier", False)
                return RepoRef.from_github(org, existing)
        self._new_repos.add(f"{org}/{name}".lower())
        self._add("create_repo", f"{org}/{name}", f"Create private repo {org}/{name}")
        return self._virtual(org, name)

    def delete_hooks(self, org: str, name: str) -> int:
        if self.reader is not None and not self._is_new(org, name):
            if self.find_repo(org, name) is None:
                raise GitHubRepoDoesNotExist(f"{org}/{name}")
            urls = self.reader.hook_urls(org, name)
            shown = ", ".join(redact_url(u) for u in urls)
            text = f"Remove {len(urls)} web hook(s) from {org}/{name}" + (f" ({shown})" if urls else "")
            self._add("delete_hooks", f"{org}/{name}", text, bool(urls))
            return len(urls)
        self._add("delete_hooks", f"{org}/{name}", f"Remove all web hooks from {org}/{name}")
        return 0

    def add_hook(self, org: str, name: str, url: str, label: str) -> bool:
        shown = redact_url(url)
        if any(_hook_matches(u, url) for u in self.hook_urls(org, name)):
            self._add("add_hook", f"{org}/{name}#{label}", f"{label.capitalize()} hook {shown} already set", False)
            return False
        self._add("add_hook", f"{org}/{name}#{label}", f"Add {label} gitreload hook {shown} to {org}/{name}")
        return True

    def grant_team(self, org: str, team: str, name: str, permission: str = "push") -> None:
        key = f"{org}/{team_slug(team)}"
        if self.reader is not None and key not in self._new_teams:
            found = self.reader.gh.team(org, team)
            if found is None:
                raise GitHubNoTeamFound(f"{team} in {org}")
            if not self._is_new(org, name):
                current = self.reader.gh.team_permission(found, self.reader._repo(org, name))
                if current is not None and _RANK.get(current, -1) >= _RANK[permission]:
                    self._add(
                        "grant_team", f"{org}/{name}@{team_slug(team)}", f"Team {team} already has {current}", False
                    )
                    return
        self._add(
            "grant_team", f"{org}/{name}@{team_slug(team)}", f"Give team {team} {permission} access to {org}/{name}"
        )

    def put_team(self, org: str, team: str, read_only: bool, members: list[str] | None) -> dict:
        key = f"{org}/{team_slug(team)}"
        current = None
        if key in self._new_teams:
            current = self._new_teams[key]
        elif self.reader is not None:
            current = self.reader.team_members(org, team)
        if current is None:
            self._new_teams[key] = list(members or [])
            who = f" with members {', '.join(members)}" if members else ""
            verb = "Create team" if self.reader is not None else "Create (if missing) team"
            self._add("put_team", key, f"{verb} {team} in {org}{who}")
            return {"slug": team_slug(team), "name": team, "added": list(members or []), "removed": []}
        if members is None:
            self._add("put_team", key, f"Keep team {team} and its members ({', '.join(current) or 'none'})", False)
            return {"slug": team_slug(team), "name": team, "added": [], "removed": []}
        have = {m.lower() for m in current}
        want = {m.lower() for m in members}
        added = [m for m in members if m.lower() not in have]
        removed = [m for m in current if m.lower() not in want]
        if added or removed:
            self._add("put_team", key, _membership_text(team, added, removed))
        else:
            self._add("put_team", key, f"Team {team} already has exactly these members", False)
        self._new_teams[key] = list(members)
        return {"slug": team_slug(team), "name": team, "added": added, "removed": removed}

    def add_file(self, org: str, name: str, path: str, content: str, message: str) -> bool:
        self._add("add_file", f"{org}/{name}:{path}", f"Commit {path} to {org}/{name} as {self.settings.gh_name}")
        return True

    def create_branch(self, org: str, name: str, branch: str) -> bool:
        if self.has_branch(org, name, branch):
            self._add("create_branch", f"{org}/{name}:{branch}", f"Branch {branch} already exists", False)
            return False
        self._branches.add(f"{org}/{name}:{branch}".lower())
        self._add(
            "create_branch", f"{org}/{name}:{branch}", f"Create branch {branch} from the default branch of {org}/{name}"
        )
        return True

    def copy_repo(self, src: RepoRef, dst: RepoRef, new_url_name: str) -> dict:
        self._add(
            "copy_repo",
            dst.full_name,
            f"Copy {src.full_name} ({src.default_branch}) into {dst.full_name} as one fresh commit, "
            f"with course.xml url_name, course/<run>.xml and policies/<run>/ moved to {new_url_name}",
        )
        return {"sha": None, "changes": []}
