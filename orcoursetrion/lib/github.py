"""0.2.1's `GitHub(api_url, oauth2_token)` class, as a thin layer over the product's
client (`orcoursetrion.github`) and operations: the same methods, signatures and
results, with teams found by slug, writes paced, transient failures retried and
secrets redacted. It has no HTTP of its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from urllib.parse import urlsplit

from orcoursetrion import config
from orcoursetrion.actions.context import github_client, shared_pacer
from orcoursetrion.errors import (
    GitError,
    GitHubException,
    GitHubNoTeamFound,
    GitHubRepoDoesNotExist,
    GitHubRepoExists,
    GitHubUnknownError,
)
from orcoursetrion.gitcopy import history_free_copy
from orcoursetrion.journal import MemoryJournal
from orcoursetrion.naming import check_members
from orcoursetrion.operations import COPY_MESSAGE, Context, CreateRepo, DeleteHooks, EnsureTeam, GrantTeam, SetMembers
from orcoursetrion.operations import World as _World
from orcoursetrion.redact import redact_url, register_secret

__all__ = [
    "GitHub",
    "GitHubException",
    "GitHubNoTeamFound",
    "GitHubRepoDoesNotExist",
    "GitHubRepoExists",
    "GitHubUnknownError",
]


def _web_host(api_url: str) -> str:
    """host[:port] of the web and git side of a GitHub API URL (api.github.com -> github.com)."""
    base = api_url.split("/api/")[0].rstrip("/").replace("://api.", "://")
    return urlsplit(base).netloc.lower()


def _register_url_password(url: str | None) -> None:
    try:
        register_secret(urlsplit(url or "").password)
    except ValueError:
        pass


class GitHub:
    """GitHub calls by name, as 0.2.1's client made them; each raises the typed errors."""

    def __init__(self, api_url: str, oauth2_token: str | None) -> None:
        """A client for the GitHub API at `api_url` (e.g. https://api.github.com/) acting
        with `oauth2_token`; pacing limits, timeout and retries come from the configuration."""
        self.api_url = api_url if api_url.endswith("/") else api_url + "/"
        register_secret(oauth2_token)
        self.settings = replace(config.library_settings(), gh_api_url=self.api_url, gh_token=oauth2_token)
        self.client = github_client(self.settings)

    def _context(self) -> Context:
        """A live context over fresh reads: each method sees GitHub as it is now."""
        return Context(self.settings, _World(self.settings, self.client), True, MemoryJournal())

    def create_repo(self, org: str, repo: str, description: str | None) -> dict:
        """Create a private repo; raises GitHubRepoExists if it exists. Returns GitHub's repo dict."""
        ctx = self._context()
        ctx.run([CreateRepo(org, repo, description)])
        return ctx.world.repo_json(ctx.world.repo(org, repo))

    def add_team_repo(self, org: str, repo: str, team: str) -> None:
        """Give the existing team (by name) push access to the repo; raises GitHubNoTeamFound."""
        self._context().run([GrantTeam(org, team, org, repo)])

    def put_team(self, org: str, team_name: str, read_only: bool, members: Iterable[str] | None) -> dict:
        """Create the team if missing (pull if `read_only`, else push; an existing team keeps
        its permission); `members` (None: unchanged) become its exact membership. Returns
        GitHub's team dict."""
        members = check_members(members)
        ctx = self._context()
        steps = [EnsureTeam(org, team_name, "pull" if read_only else "push")]
        if members is not None:
            steps.append(SetMembers(org, team_name, members))
        ctx.run(steps)
        return dict(ctx.world.team(org, team_name).data or {})

    def add_web_hook(self, org: str, repo: str, url: str) -> dict:
        """Add an active form-type web hook for push events. Returns GitHub's hook dict."""
        _register_url_password(url)
        return self.client.create_hook(org, repo, url)

    def delete_web_hooks(self, org: str, repo: str) -> int:
        """Delete every web hook of the repo; raises GitHubRepoDoesNotExist. Returns how many."""
        ctx = self._context()
        step = DeleteHooks(org, repo)
        ctx.run([step])
        return int(ctx.outcome_of(step).get("removed", 0))

    def add_repo_file(
        self, org: str, repo: str, committer: dict, message: str, path: str, contents: str | bytes
    ) -> None:
        """Commit `contents` at `path` on the default branch as `committer` ({'name', 'email'});
        raises GitHubRepoDoesNotExist, or GitHubUnknownError when GitHub refuses (e.g. the file exists)."""
        self.client.require_repo(org, repo)
        self.client.create_file(org, repo, path, contents, message, committer)

    @staticmethod
    def shallow_copy_repo(src_repo: str, dst_repo: str, committer: dict, branch: str | None = None) -> None:
        """Copy one branch of `src_repo` (default: its default branch) into `dst_repo` as one
        commit without history, replacing the destination's branch of the same name.

        Both are HTTPS clone URLs. ORC_GH_OAUTH2_TOKEN (or the GitHub App's installation
        token for each URL's org) is sent only when both are on the configured GitHub
        (ORC_GH_API_URL) and neither carries credentials of its own.
        Raises orcoursetrion.errors.GitError (a GitHubUnknownError) when git fails.
        """
        settings = config.library_settings()
        parts = [urlsplit(src_repo), urlsplit(dst_repo)]
        if any(p.scheme not in ("http", "https") for p in parts):
            raise GitError("shallow_copy_repo takes HTTPS clone URLs (git runs isolated from SSH keys and config)")
        for url in (src_repo, dst_repo):
            _register_url_password(url)
        own = all(p.netloc.lower() == _web_host(settings.gh_api_url) and not p.username for p in parts)
        pacer = shared_pacer(settings)
        token = settings.gh_token
        if own and settings.gh_app and not token:
            token = github_client(settings, pacer).git_token_for
        history_free_copy(
            src_repo,
            dst_repo,
            branch,
            token if own else None,
            committer,
            f"{COPY_MESSAGE} from {redact_url(src_repo)}",
            push_guard=lambda: pacer.slot(True, None),
            force=True,
        )
