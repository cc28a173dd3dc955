"""A thin client over PyGithub: one pacing and retry policy, typed errors, teams by slug.

PyGithub's own throttling and retries are switched off so that `Pacer` is the only
policy: writes are admitted under GitHub's secondary limits, `Retry-After` and
rate-limit resets pause every thread, and transient failures are retried with backoff.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import TypeVar

import requests
from github import Auth, Github, GithubException, InputGitAuthor
from github.Repository import Repository
from github.Team import Team

from orcoursetrion.errors import (
    GitHubAuthError,
    GitHubNoTeamFound,
    GitHubRateLimited,
    GitHubRepoDoesNotExist,
    GitHubUnknownError,
)
from orcoursetrion.naming import team_slug
from orcoursetrion.pacing import Pacer
from orcoursetrion.redact import install_log_redaction, redact

log = logging.getLogger(__name__)
T = TypeVar("T")
REPO_JSON = "application/vnd.github.v3.repository+json"
MAX_RATE_LIMIT_WAITS = 12
MAX_SECONDARY_WAIT = 15 * 60.0


class TransientGitHubError(GitHubUnknownError):
    """A write may or may not have happened (5xx, timeout): retry the whole idempotent step."""


def _header(headers: dict | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return value
    return None


def _message(exc: GithubException) -> str:
    data = exc.data if isinstance(exc.data, dict) else {}
    text = data.get("message") or exc.message or ""
    errors = data.get("errors") or []
    details = "; ".join(e.get("message") or e.get("code", "") for e in errors if isinstance(e, dict))
    return redact(f"{exc.status} {text}" + (f" ({details})" if details else ""))


def rate_limit_delay(exc: GithubException, attempt: int) -> float | None:
    """Seconds GitHub asks us to wait, or None when this is not a rate limit."""
    if exc.status not in (403, 429):
        return None
    headers = exc.headers or {}
    retry_after = _header(headers, "retry-after")
    if retry_after is not None:
        try:
            return max(1.0, float(retry_after))
        except ValueError:
            pass
    if _header(headers, "x-ratelimit-remaining") == "0":
        reset = _header(headers, "x-ratelimit-reset")
        try:
            import time

            return max(1.0, float(reset) - time.time() + 1.0)
        except (TypeError, ValueError):
            return 60.0
    message = str((exc.data or {}).get("message", "") if isinstance(exc.data, dict) else "").lower()
    if exc.status == 429 or "rate limit" in message or "abuse" in message:
        # Secondary limit without a header: GitHub says wait at least a minute, then back off.
        return min(MAX_SECONDARY_WAIT, 60.0 * (2**attempt))
    return None


class GitHub:
    """GitHub REST access for the actions; methods say what they change and raise typed errors."""

    def __init__(self, api_url: str, token: str | None, pacer: Pacer, timeout: int = 30, max_retries: int = 6):
        install_log_redaction()  # PyGithub's debug log carries hook URLs with passwords
        self.api_url = api_url.rstrip("/")
        self.pacer = pacer
        self.max_retries = max_retries
        self._gh = Github(
            base_url=self.api_url,
            auth=Auth.Token(token) if token else None,
            timeout=timeout,
            retry=None,
            seconds_between_requests=None,
            seconds_between_writes=None,
            per_page=100,
            user_agent="orcoursetrion",
            lazy=True,
        )
        self._login: str | None = None

    def close(self) -> None:
        self._gh.close()

    # -- the policy ---------------------------------------------------------------------------
    def call(self, fn: Callable[[], T], *, write: bool, idempotent: bool = True) -> T:
        """Run one request under the pacing policy; retry rate limits and transient failures.

        A non-idempotent write that fails transiently raises TransientGitHubError: the
        caller's step checks the world again before trying once more.
        """
        limited = 0
        transient = 0
        while True:
            try:
                with self.pacer.slot(write):
                    return fn()
            except GithubException as exc:
                delay = rate_limit_delay(exc, limited)
                if delay is not None:
                    limited += 1
                    if limited > MAX_RATE_LIMIT_WAITS:
                        raise GitHubRateLimited(_message(exc)) from None
                    log.warning("GitHub rate limit (%s); pausing %.0f s", exc.status, delay)
                    self.pacer.pause(delay, "GitHub asked us to wait")
                    continue
                if exc.status == 401:
                    raise GitHubAuthError(_message(exc)) from None
                if exc.status >= 500:
                    if not write or idempotent:
                        transient += 1
                        if transient <= self.max_retries:
                            self._backoff(transient, _message(exc))
                            continue
                    raise TransientGitHubError(_message(exc)) from None
                raise
            except (requests.ConnectionError, requests.Timeout) as exc:
                if not write or idempotent:
                    transient += 1
                    if transient <= self.max_retries:
                        self._backoff(transient, type(exc).__name__)
                        continue
                raise TransientGitHubError(f"network error talking to GitHub ({type(exc).__name__})") from None

    def _backoff(self, attempt: int, why: str) -> None:
        delay = min(30.0, 0.5 * (2 ** (attempt - 1))) * (0.5 + random.random() / 2)
        log.warning("GitHub transient error (%s); retry %d in %.1f s", why, attempt, delay)
        self.pacer.clock.sleep(delay)

    def read(self, fn: Callable[[], T]) -> T:
        return self.call(fn, write=False)

    def write(self, fn: Callable[[], T], idempotent: bool = True) -> T:
        return self.call(fn, write=True, idempotent=idempotent)

    # -- reads ----------------------------------------------------------------------------------
    def me(self) -> str:
        """Login of the token's account (cached)."""
        if self._login is None:
            self._login = self.read(lambda: self._gh.get_user().login)
        return self._login

    def repo(self, org: str, name: str) -> Repository | None:
        """The repo, or None when GitHub answers 404."""
        try:
            repo = self._gh.get_repo(f"{org}/{name}")
            self.read(repo.complete)
            return repo
        except GithubException as exc:
            if exc.status == 404:
                return None
            raise GitHubUnknownError(_message(exc)) from None

    def require_repo(self, org: str, name: str) -> Repository:
        repo = self.repo(org, name)
        if repo is None:
            raise GitHubRepoDoesNotExist(f"{org}/{name}")
        return repo

    def team(self, org: str, name_or_slug: str) -> Team | None:
        """Find a team by slug (`GET /orgs/{org}/teams/{slug}`): one request, whatever the org's size."""
        try:
            team = self._gh.get_organization(org).get_team_by_slug(team_slug(name_or_slug))
            self.read(team.complete)
            return team
        except GithubException as exc:
            if exc.status == 404:
                return None
            raise GitHubUnknownError(_message(exc)) from None

    def require_team(self, org: str, name_or_slug: str) -> Team:
        team = self.team(org, name_or_slug)
        if team is None:
            raise GitHubNoTeamFound(f"{name_or_slug} in {org}")
        return team

    def user_exists(self, login: str) -> bool:
        try:
            self.read(lambda: self._gh.get_user(login).login)
            return True
        except GithubException as exc:
            if exc.status == 404:
                return False
            raise GitHubUnknownError(_message(exc)) from None

    def team_members(self, team: Team) -> list[str]:
        """Logins on the team (members and maintainers)."""
        return self._checked(lambda: [u.login for u in team.get_members()])

    def team_permission(self, team: Team, repo: Repository) -> str | None:
        """The team's role on the repo ('pull', 'push', 'admin'...), None without access."""
        try:
            _, data = self.read(
                lambda: self._gh.requester.requestJsonAndCheck(
                    "GET", f"{team.url}/repos/{repo.full_name}", headers={"Accept": REPO_JSON}
                )
            )
        except GithubException as exc:
            if exc.status == 404:
                return None
            raise GitHubUnknownError(_message(exc)) from None
        if not isinstance(data, dict):
            return None
        role = data.get("role_name")
        if role:
            return {"read": "pull", "write": "push"}.get(role, role)
        perms = data.get("permissions") or {}
        for name in ("admin", "maintain", "push", "triage", "pull"):
            if perms.get(name):
                return name
        return None

    def hooks(self, repo: Repository) -> list:
        return self._checked(lambda: list(repo.get_hooks()))

    def file_text(self, repo: Repository, path: str, ref: str | None = None) -> str | None:
        """Text of a file on the default branch (or `ref`), None if missing or the repo is empty."""
        try:
            kwargs = {"ref": ref} if ref else {}
            content = self.read(lambda: repo.get_contents(path, **kwargs))
        except GithubException as exc:
            if exc.status in (404, 409):
                return None
            raise GitHubUnknownError(_message(exc)) from None
        if isinstance(content, list):
            return None
        return content.decoded_content.decode("utf-8", errors="replace")

    def branch_sha(self, repo: Repository, branch: str) -> str | None:
        """Head commit of a branch, None if the branch (or any commit) does not exist."""
        try:
            ref = self.read(lambda: repo.get_git_ref(f"heads/{branch}"))
            return ref.object.sha
        except GithubException as exc:
            if exc.status in (404, 409):
                return None
            raise GitHubUnknownError(_message(exc)) from None

    def recent_commits(self, repo: Repository, limit: int = 100) -> list[dict] | None:
        """Up to `limit` newest commits as dicts; None for an empty repository (409)."""
        try:

            def fetch():
                out = []
                for commit in repo.get_commits():
                    git = commit.commit
                    out.append(
                        {
                            "sha": commit.sha,
                            "message": git.message,
                            "author_name": git.author.name if git.author else None,
                            "committer_name": git.committer.name if git.committer else None,
                        }
                    )
                    if len(out) >= limit:
                        break
                return out

            return self.read(fetch)
        except GithubException as exc:
            if exc.status == 409:
                return None
            raise GitHubUnknownError(_message(exc)) from None

    # -- writes ---------------------------------------------------------------------------------
    def create_repo(self, org: str, name: str, description: str | None) -> Repository:
        kwargs = {"private": True}
        if description:
            kwargs["description"] = description
        return self._checked(
            lambda: self._gh.get_organization(org).create_repo(name, **kwargs), write=True, idempotent=False
        )

    def create_team(self, org: str, name: str, permission: str) -> Team:
        return self._checked(
            lambda: self._gh.get_organization(org).create_team(name, permission=permission, privacy="closed"),
            write=True,
            idempotent=False,
        )

    def grant(self, team: Team, repo: Repository, permission: str) -> None:
        """Give the team `permission` on the repo; the permission is always sent explicitly."""
        url = f"{team.url}/repos/{repo.full_name}"
        self._checked(
            lambda: self._gh.requester.requestJsonAndCheck("PUT", url, input={"permission": permission}),
            write=True,
        )

    def add_member(self, team: Team, login: str) -> None:
        self._checked(
            lambda: self._gh.requester.requestJsonAndCheck(
                "PUT", f"{team.url}/memberships/{login}", input={"role": "member"}
            ),
            write=True,
        )

    def remove_member(self, team: Team, login: str) -> None:
        try:
            self.write(lambda: self._gh.requester.requestJsonAndCheck("DELETE", f"{team.url}/memberships/{login}"))
        except GithubException as exc:
            if exc.status != 404:  # already gone
                raise GitHubUnknownError(_message(exc)) from None

    def create_hook(self, repo: Repository, url: str):
        """A form-type web hook for push events, as the original tool made them."""
        return self._checked(
            lambda: repo.create_hook("web", {"url": url, "content_type": "form"}, events=["push"], active=True),
            write=True,
            idempotent=False,
        )

    def delete_hook(self, hook) -> None:
        try:
            self.write(hook.delete)
        except GithubException as exc:
            if exc.status != 404:
                raise GitHubUnknownError(_message(exc)) from None

    def create_file(self, repo: Repository, path: str, content: str, message: str, committer: dict) -> None:
        author = InputGitAuthor(committer["name"], committer["email"])
        self._checked(
            lambda: repo.create_file(path, message, content, committer=author, author=author),
            write=True,
            idempotent=False,
        )

    def create_branch(self, repo: Repository, branch: str, sha: str) -> None:
        self._checked(lambda: repo.create_git_ref(f"refs/heads/{branch}", sha), write=True, idempotent=False)

    def set_default_branch(self, repo: Repository, branch: str) -> None:
        self._checked(lambda: repo.edit(default_branch=branch), write=True)

    # -- helpers --------------------------------------------------------------------------------
    def _checked(self, fn: Callable[[], T], write: bool = False, idempotent: bool = True) -> T:
        """`call`, with GitHub's own errors turned into GitHubUnknownError (secrets masked)."""
        try:
            return self.call(fn, write=write, idempotent=idempotent)
        except GithubException as exc:
            raise GitHubUnknownError(_message(exc)) from None
