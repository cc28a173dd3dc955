"""A thin GitHub client over PyGithub's requester: the documented routes, plain JSON,
one pacing and retry policy, typed errors.

Every request goes to a route of GitHub's OpenAPI description (teams by slug,
`/orgs/{org}/teams/{team_slug}/...`, never PyGithub's `/organizations/{id}/team/{id}`),
with `X-GitHub-Api-Version: 2022-11-28`. PyGithub's own throttling and retries are
switched off so that `Pacer` is the only policy: writes spend the account's write budget
(shared through the store by every process), `Retry-After` and rate-limit resets pause
everyone on that budget, and transient failures are retried with backoff.
"""

from __future__ import annotations

import base64
import logging
import random
import re
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote, unquote, urlsplit

import requests
from github import Auth, Github, GithubException

from orcoursetrion.errors import (
    GitHubAuthError,
    GitHubNoTeamFound,
    GitHubRateLimited,
    GitHubRepoDoesNotExist,
    GitHubUnknownError,
    GitHubUnreachable,
)
from orcoursetrion.ghapp import API_MARGIN, GIT_MARGIN, GitHubApp, InstallationAuth
from orcoursetrion.naming import team_slug
from orcoursetrion.pacing import Pacer
from orcoursetrion.redact import install_log_redaction, redact

log = logging.getLogger(__name__)
T = TypeVar("T")
API_VERSION = "2022-11-28"
REPO_JSON = "application/vnd.github.v3.repository+json"
MAX_RATE_LIMIT_WAITS = 12
MAX_SECONDARY_WAIT = 15 * 60.0
_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')
_ORG_ROUTE = re.compile(r"^/(?:orgs|repos)/([^/?]+)")


class TransientGitHubError(GitHubUnknownError):
    """A write may or may not have happened (5xx, timeout): look again before retrying it."""


class NoAnswer(TransientGitHubError, GitHubUnreachable):
    """GitHub did not answer after the retries (a write among them may still have landed)."""


_NO_ANSWER = {"ConnectionError": "connection failed", "ConnectTimeout": "timed out", "ReadTimeout": "timed out"}


def _header(headers: dict | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return value
    return None


def _message(exc: GithubException) -> str:
    data = exc.data if isinstance(exc.data, dict) else {}
    text = data.get("message") or exc.message or ""
    errors = data.get("errors") or []
    details = "; ".join(str(e.get("message") or e.get("code", "")) if isinstance(e, dict) else str(e) for e in errors)
    return redact(f"{exc.status} {text}" + (f" ({details})" if details else ""))


def _tell(listener: Callable | None, *args) -> None:
    """Tell a listener (waits, requests sent); one that fails never fails the request."""
    if listener is not None:
        try:
            listener(*args)
        except Exception:
            log.debug("GitHub client listener %r failed", listener, exc_info=True)


def _p(value: str) -> str:
    """One URL path segment."""
    return quote(value, safe="")


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
        try:
            return max(1.0, float(_header(headers, "x-ratelimit-reset")) - time.time() + 1.0)
        except (TypeError, ValueError):
            return 60.0
    message = str((exc.data or {}).get("message", "") if isinstance(exc.data, dict) else "").lower()
    if exc.status == 429 or "rate limit" in message or "abuse" in message:
        # Secondary limit without a header: GitHub says wait at least a minute, then back off.
        return min(MAX_SECONDARY_WAIT, 60.0 * (2**attempt))
    return None


class GitHub:
    """GitHub REST access for the operations; methods say what they read or change."""

    def __init__(
        self,
        api_url: str,
        token: str | None,
        pacer: Pacer,
        timeout: int = 30,
        max_retries: int = 6,
        auth: Auth.Auth | None = None,
        app: GitHubApp | None = None,
        orgs: tuple[str, ...] = (),
    ):
        """With `app`, each request carries the token of the App's installation on the org it
        touches (`orgs`: where requests that touch none, like user lookups, look first)."""
        install_log_redaction()  # PyGithub's debug log carries hook URLs with passwords
        self._token = token
        self.api_url = api_url.rstrip("/")
        self._api_path = urlsplit(self.api_url).path.rstrip("/")
        self.pacer = pacer
        self.max_retries = max_retries
        self.timeout = timeout
        self.app = app
        self.orgs = orgs
        self._gh = self._github(auth or (Auth.Token(token) if token else None))
        self._installations: dict[int, Github] = {}
        self._clients_lock = threading.Lock()
        self._login: str | None = None
        self.stop: threading.Event | None = None  # set by a stopping runner: waits end at once
        self.on_wait: Callable[[float, str], None] | None = None  # told when a call waits (limits, retries)
        self.on_request: Callable[[str, str], None] | None = None  # told of each request sent (metrics)

    def _github(self, auth: Auth.Auth | None) -> Github:
        return Github(
            base_url=self.api_url,
            auth=auth,
            timeout=self.timeout,
            retry=None,
            seconds_between_requests=None,
            seconds_between_writes=None,
            per_page=100,
            user_agent="orcoursetrion",
            lazy=True,
            api_version=API_VERSION,
        )

    def close(self) -> None:
        self._gh.close()
        with self._clients_lock:
            clients, self._installations = list(self._installations.values()), {}
        for client in clients:
            client.close()

    @property
    def creator_joins_teams(self) -> bool:
        """GitHub makes a user who creates a team its maintainer; an App's installation
        creates teams without joining them."""
        return self.app is None

    def git_token(self, org: str | None = None, renew: bool = False) -> str | None:
        """The credential git uses over HTTPS for `org`: the token, or under an App a fresh
        token of the org's installation (`renew`: git was refused the last one)."""
        if self.app is None:
            return self._token
        installation = self._installation(org)
        if renew:
            self.app.renew(installation, time.monotonic())
        return self.app.token(installation, self.call, GIT_MARGIN)

    def git_token_for(self, url: str, renew: bool = False) -> str | None:
        """`git_token` for the org of a clone URL (`https://host/{org}/{repo}.git`)."""
        org = urlsplit(url).path.strip("/").split("/", 1)[0] or None
        return self.git_token(unquote(org) if org else None, renew)

    def _installation(self, org: str | None) -> int:
        assert self.app is not None
        if org:
            return self.app.installation_for(org, self.call)
        return self.app.any_installation(self.call, self.orgs)

    def _route(self, path: str) -> int | None:
        """The App installation a request to `path` goes through (None: not an App)."""
        if self.app is None:
            return None
        rel = urlsplit(path).path if "://" in path else path
        if self._api_path and rel.startswith(self._api_path + "/"):
            rel = rel[len(self._api_path) :]
        match = _ORG_ROUTE.match(rel)
        return self._installation(unquote(match.group(1)) if match else None)

    def _client(self, installation: int | None) -> Github:
        if installation is None:
            return self._gh
        with self._clients_lock:
            client = self._installations.get(installation)
            if client is None:
                assert self.app is not None
                client = self._installations[installation] = self._github(InstallationAuth(self.app, installation))
            return client

    @property
    def host(self) -> str:
        return self.api_url.split("://", 1)[-1].split("/", 1)[0]

    # -- the policy ---------------------------------------------------------------------------
    def call(self, fn: Callable[[], T], *, write: bool, idempotent: bool = True, installation: int | None = None) -> T:
        """Run one request under the pacing policy; retry rate limits and transient failures.

        A non-idempotent write that fails transiently raises TransientGitHubError: the
        caller looks at GitHub again before trying once more. Through an App `installation`,
        the request goes with a token that has minutes left (minted first, outside the
        request's pacing slot, if needed); a token GitHub refuses anyway (expired early,
        revoked) is replaced once and the request sent again: a 401 changed nothing.
        """
        limited = 0
        transient = 0
        renewed = False
        while True:
            if installation is not None:
                assert self.app is not None
                self.app.token(installation, self.call, API_MARGIN)
            sent = time.monotonic()
            try:
                with self.pacer.slot(write, self.stop):
                    return fn()
            except GithubException as exc:
                delay = rate_limit_delay(exc, limited)
                if delay is not None:
                    limited += 1
                    if limited > MAX_RATE_LIMIT_WAITS:
                        raise GitHubRateLimited(_message(exc)) from None
                    log.warning("GitHub rate limit (%s); pausing %.0f s", exc.status, delay)
                    self._waiting(delay, "GitHub asked us to wait (rate limit)")
                    self.pacer.pause(delay, "GitHub asked us to wait")
                    continue
                if exc.status == 401:
                    if installation is not None and not renewed:
                        assert self.app is not None
                        renewed = True
                        log.info("GitHub refused the installation token (expired or revoked); renewing it")
                        self.app.renew(installation, sent)
                        continue
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
                retries = min(transient, self.max_retries)
                why = _NO_ANSWER.get(type(exc).__name__, type(exc).__name__)
                after = f" after {retries} retr{'y' if retries == 1 else 'ies'}" if retries else ""
                raise NoAnswer(
                    f"GitHub at {self.host} did not answer ({why}){after}: check ORC_GH_API_URL and the network"
                ) from None

    def _backoff(self, attempt: int, why: str) -> None:
        delay = min(30.0, 0.5 * (2 ** (attempt - 1))) * (0.5 + random.random() / 2)
        log.info("GitHub transient error (%s); retry %d in %.1f s", why, attempt, delay)
        self._waiting(delay, f"GitHub answered with an error ({why}); retry {attempt} of {self.max_retries}")
        self.pacer.sleep(delay, "GitHub answered with an error; retrying", self.stop)

    def _waiting(self, seconds: float, reason: str) -> None:
        _tell(self.on_wait, seconds, reason)

    def _request(
        self,
        verb: str,
        path: str,
        *,
        input: Any = None,
        params: dict | None = None,
        headers: dict | None = None,
        idempotent: bool = True,
    ) -> tuple[dict, Any]:
        write = verb != "GET"
        installation = self._route(path)
        requester = self._client(installation).requester
        return self.call(
            lambda: self._counted(
                verb,
                lambda: requester.requestJsonAndCheck(verb, path, parameters=params, headers=headers, input=input),
            ),
            write=write,
            idempotent=idempotent,
            installation=installation,
        )

    def _counted(self, verb: str, send: Callable[[], T]) -> T:
        """Send one request and tell `on_request` (method, status: `2xx`, GitHub's error
        code, or `no_answer`); the one place every REST request passes."""
        status = "2xx"
        try:
            return send()
        except GithubException as exc:
            status = str(exc.status)
            raise
        except (requests.ConnectionError, requests.Timeout):
            status = "no_answer"
            raise
        finally:
            _tell(self.on_request, verb, status)

    def _get(self, path: str, params: dict | None = None, headers: dict | None = None) -> Any | None:
        """GET a resource; None when GitHub answers 404."""
        try:
            return self._request("GET", path, params=params, headers=headers)[1]
        except GithubException as exc:
            if exc.status == 404:
                return None
            raise GitHubUnknownError(_message(exc)) from None

    def _paged(self, path: str) -> list:
        """Every item of a list route, following GitHub's `Link: rel="next"`."""
        out: list = []
        url: str | None = path
        params: dict | None = {"per_page": 100}
        while url:
            try:
                headers, data = self._request("GET", url, params=params)
            except GithubException as exc:
                raise GitHubUnknownError(_message(exc)) from None
            out.extend(data or [])
            match = _NEXT.search(_header(headers, "link") or "")
            url, params = (match.group(1) if match else None), None
        return out

    def _write(self, verb: str, path: str, input: Any = None, idempotent: bool = True) -> Any:
        try:
            return self._request(verb, path, input=input, idempotent=idempotent)[1]
        except GithubException as exc:
            raise GitHubUnknownError(_message(exc)) from None

    # -- reads ----------------------------------------------------------------------------------
    def me(self) -> str:
        """Login of the account the credentials act as (cached): under an App, its
        `{slug}[bot]` account."""
        if self._login is None and self.app is not None:
            self._login = self.app.bot_login(self.call)
        if self._login is None:
            data = self._get("/user")
            if not data:
                raise GitHubAuthError("GitHub did not say which account the token belongs to")
            self._login = data["login"]
        return self._login

    def org(self, org: str) -> dict | None:
        return self._get(f"/orgs/{_p(org)}")

    def repo(self, org: str, name: str) -> dict | None:
        """GitHub's repo JSON, or None when it does not exist."""
        return self._get(f"/repos/{_p(org)}/{_p(name)}")

    def require_repo(self, org: str, name: str) -> dict:
        repo = self.repo(org, name)
        if repo is None:
            raise GitHubRepoDoesNotExist(f"{org}/{name}")
        return repo

    def team(self, org: str, name_or_slug: str) -> dict | None:
        """A team by slug (`GET /orgs/{org}/teams/{slug}`): one request, whatever the org's size."""
        return self._get(f"/orgs/{_p(org)}/teams/{_p(team_slug(name_or_slug))}")

    def require_team(self, org: str, name_or_slug: str) -> dict:
        team = self.team(org, name_or_slug)
        if team is None:
            raise GitHubNoTeamFound(f"{name_or_slug} in {org}")
        return team

    def team_members(self, org: str, slug: str) -> list[str]:
        """Logins on the team (members and maintainers)."""
        return [u["login"] for u in self._paged(f"/orgs/{_p(org)}/teams/{_p(slug)}/members")]

    def team_permission(self, org: str, slug: str, owner: str, repo: str) -> str | None:
        """The team's role on the repo ('pull', 'push', 'admin'...), None without access."""
        data = self._get(
            f"/orgs/{_p(org)}/teams/{_p(slug)}/repos/{_p(owner)}/{_p(repo)}", headers={"Accept": REPO_JSON}
        )
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

    def user_exists(self, login: str) -> bool:
        return self._get(f"/users/{_p(login)}") is not None

    def hooks(self, org: str, name: str) -> list[dict]:
        return self._paged(f"/repos/{_p(org)}/{_p(name)}/hooks")

    def branch_sha(self, org: str, name: str, branch: str) -> str | None:
        """Head commit of a branch, None if the branch (or any commit) does not exist."""
        try:
            data = self._request("GET", f"/repos/{_p(org)}/{_p(name)}/git/ref/heads/{quote(branch)}")[1]
        except GithubException as exc:
            if exc.status in (404, 409):
                return None
            raise GitHubUnknownError(_message(exc)) from None
        obj = (data or {}).get("object") or {}
        return obj.get("sha")

    def commits(self, org: str, name: str, limit: int = 2) -> list[dict] | None:
        """Up to `limit` newest commits of the default branch; None for an empty repository."""
        try:
            data = self._request("GET", f"/repos/{_p(org)}/{_p(name)}/commits", params={"per_page": limit})[1]
        except GithubException as exc:
            if exc.status == 409:
                return None
            raise GitHubUnknownError(_message(exc)) from None
        return [
            {
                "sha": c["sha"],
                "message": (c.get("commit") or {}).get("message") or "",
                "author_name": ((c.get("commit") or {}).get("author") or {}).get("name"),
            }
            for c in (data or [])[:limit]
        ]

    def tree(self, org: str, name: str, sha: str) -> list[dict]:
        """One level of a git tree: entries with path, mode, type, sha, size."""
        data = self._get(f"/repos/{_p(org)}/{_p(name)}/git/trees/{_p(sha)}")
        if data is None:
            raise GitHubUnknownError(f"tree {sha} of {org}/{name} not found")
        return list(data.get("tree") or [])

    def commit_tree(self, org: str, name: str, sha: str) -> str:
        data = self._get(f"/repos/{_p(org)}/{_p(name)}/git/commits/{_p(sha)}")
        if data is None:
            raise GitHubUnknownError(f"commit {sha} of {org}/{name} not found")
        return data["tree"]["sha"]

    def blob(self, org: str, name: str, sha: str) -> bytes:
        data = self._get(f"/repos/{_p(org)}/{_p(name)}/git/blobs/{_p(sha)}")
        if data is None:
            raise GitHubUnknownError(f"blob {sha} of {org}/{name} not found")
        return base64.b64decode(data.get("content") or "")

    def file_exists(self, org: str, name: str, path: str) -> bool:
        """Whether `path` is on the default branch (False for an empty repository)."""
        try:
            self._request("GET", f"/repos/{_p(org)}/{_p(name)}/contents/{quote(path)}")
            return True
        except GithubException as exc:
            if exc.status in (404, 409):
                return False
            raise GitHubUnknownError(_message(exc)) from None

    # -- writes ---------------------------------------------------------------------------------
    def create_repo(self, org: str, name: str, description: str | None) -> dict:
        body: dict[str, Any] = {"name": name, "private": True}
        if description:
            body["description"] = description
        return self._write("POST", f"/orgs/{_p(org)}/repos", body, idempotent=False)

    def create_team(self, org: str, name: str, permission: str) -> dict:
        body = {"name": name, "permission": permission, "privacy": "closed"}
        return self._write("POST", f"/orgs/{_p(org)}/teams", body, idempotent=False)

    def grant(self, org: str, slug: str, owner: str, repo: str, permission: str) -> None:
        """Give the team `permission` on the repo; the permission is always sent explicitly."""
        self._write("PUT", f"/orgs/{_p(org)}/teams/{_p(slug)}/repos/{_p(owner)}/{_p(repo)}", {"permission": permission})

    def add_member(self, org: str, slug: str, login: str) -> None:
        self._write("PUT", f"/orgs/{_p(org)}/teams/{_p(slug)}/memberships/{_p(login)}", {"role": "member"})

    def remove_member(self, org: str, slug: str, login: str) -> None:
        try:
            self._request("DELETE", f"/orgs/{_p(org)}/teams/{_p(slug)}/memberships/{_p(login)}")
        except GithubException as exc:
            if exc.status != 404:  # already gone
                raise GitHubUnknownError(_message(exc)) from None

    def create_hook(self, org: str, name: str, url: str) -> dict:
        """A form-type web hook for push events, as the original tool made them."""
        body = {"name": "web", "config": {"url": url, "content_type": "form"}, "events": ["push"], "active": True}
        return self._write("POST", f"/repos/{_p(org)}/{_p(name)}/hooks", body, idempotent=False)

    def delete_hook(self, org: str, name: str, hook_id: int) -> None:
        try:
            self._request("DELETE", f"/repos/{_p(org)}/{_p(name)}/hooks/{int(hook_id)}")
        except GithubException as exc:
            if exc.status != 404:
                raise GitHubUnknownError(_message(exc)) from None

    def create_file(self, org: str, name: str, path: str, content: str | bytes, message: str, committer: dict) -> str:
        """Commit a new file to the default branch; returns the commit sha."""
        raw = content if isinstance(content, bytes) else content.encode()
        body = {
            "message": message,
            "content": base64.b64encode(raw).decode(),
            "committer": committer,
            "author": committer,
        }
        data = self._write("PUT", f"/repos/{_p(org)}/{_p(name)}/contents/{quote(path)}", body, idempotent=False)
        return ((data or {}).get("commit") or {}).get("sha", "")

    def create_branch(self, org: str, name: str, branch: str, sha: str) -> None:
        body = {"ref": f"refs/heads/{branch}", "sha": sha}
        self._write("POST", f"/repos/{_p(org)}/{_p(name)}/git/refs", body, idempotent=False)

    def set_default_branch(self, org: str, name: str, branch: str) -> dict:
        return self._write("PATCH", f"/repos/{_p(org)}/{_p(name)}", {"default_branch": branch})
