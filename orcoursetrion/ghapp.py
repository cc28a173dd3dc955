"""GitHub App authentication: the installation for each org and its installation tokens.

PyGithub does the JWT work (`Auth.AppAuth` signs a fresh RS256 JWT for every App request,
`GithubIntegration.get_access_token` mints installation tokens). This module adds what a
long-running service needs on top: one installation per org (`GET /orgs/{org}/installation`,
or the configured `ORC_GH_APP_INSTALLATION_ID`), one token per installation shared by every
thread of the process, renewed well before it expires (and at once when GitHub refuses it),
and every App request sent through the caller's pacing and retry policy.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from github import Auth, GithubException, GithubIntegration

from orcoursetrion.errors import GitHubAppNotInstalled, GitHubAuthError, GitHubUnknownError
from orcoursetrion.redact import redact, register_secret

log = logging.getLogger(__name__)
T = TypeVar("T")

# A token is renewed once less than this is left (or half its lifetime, if that is shorter):
# an API request gets a token with minutes to spare, a git clone or push one that outlives it.
API_MARGIN = 300.0
GIT_MARGIN = 600.0

# How the GitHub client sends one request: `call(fn, write=..., idempotent=...)`, its pacing
# and retry policy (see `orcoursetrion.github.GitHub.call`).
Caller = Callable[..., Any]


@dataclass
class _Token:
    value: str
    expires: float  # epoch seconds, from GitHub's expires_at
    lifetime: float
    minted: float  # time.monotonic() when it was received
    stale: bool = False  # GitHub refused it: never hand it out again

    def good_for(self, margin: float) -> bool:
        return not self.stale and self.expires - time.time() >= min(margin, self.lifetime / 2)


class InstallationAuth(Auth.Auth):
    """PyGithub auth sending an installation's current token (kept fresh by `GitHubApp`)."""

    def __init__(self, app: GitHubApp, installation_id: int) -> None:
        self._app, self.installation_id = app, installation_id

    @property
    def token_type(self) -> str:
        return "token"

    @property
    def token(self) -> str:
        return self._app.current(self.installation_id) or ""

    @property
    def _masked_token(self) -> str:
        return "(installation token)"


class GitHubApp:
    """One GitHub App's credentials for the process: installations by org, fresh tokens."""

    def __init__(
        self,
        api_url: str,
        app_id: int,
        private_key: str,
        installation_id: int | None = None,
        timeout: int = 30,
        api_version: str | None = None,
    ) -> None:
        self.app_id = app_id
        self.installation_id = installation_id
        self.integration = GithubIntegration(
            auth=Auth.AppAuth(app_id, private_key),
            base_url=api_url.rstrip("/"),
            timeout=timeout,
            retry=None,
            seconds_between_requests=None,
            seconds_between_writes=None,
            user_agent="orcoursetrion",
            lazy=True,
            api_version=api_version,
        )
        self._lock = threading.Lock()
        self._orgs: dict[str, int] = {}  # org login (lower case) -> installation id
        self._given_org: str | None = None  # the org ORC_GH_APP_INSTALLATION_ID is installed on
        self._tokens: dict[int, _Token] = {}
        self._minting: dict[int, threading.Lock] = {}
        self._slug: str | None = None

    # -- App (JWT) requests -------------------------------------------------------------------
    def _app_call(self, call: Caller, fn: Callable[[], T], missing: Callable[[], T], **how: bool) -> T:
        """One request signed with the App's JWT: a refused JWT says which setting to check,
        a 404 is `missing()`, any other error GitHub's status and message."""
        try:
            return call(fn, **how)
        except GitHubAuthError as exc:
            raise self._refused(exc) from None
        except GithubException as exc:
            if exc.status == 404:
                return missing()
            raise GitHubUnknownError(redact(f"{exc.status} {_text(exc)}")) from None

    def _app_get(self, call: Caller, path: str) -> dict | None:
        """GET an App route with a JWT; None on 404."""
        get = lambda: self.integration.requester.requestJsonAndCheck("GET", path)[1]  # noqa: E731
        return self._app_call(call, get, lambda: None, write=False)

    def _refused(self, exc: Exception) -> GitHubAuthError:
        return GitHubAuthError(
            f"GitHub refused the App's JSON web token ({exc}): check ORC_GH_APP_ID and the App's private key"
        )

    def bot_login(self, call: Caller) -> str:
        """The App's own account, `{slug}[bot]`: who its installation tokens act as."""
        if self._slug is None:
            data = self._app_get(call, "/app")
            if not data:
                raise GitHubAuthError(f"GitHub knows no App {self.app_id} (ORC_GH_APP_ID) at ORC_GH_API_URL")
            self._slug = data["slug"]
        return f"{self._slug}[bot]"

    def installation_for(self, org: str, call: Caller) -> int:
        """The installation of this App on `org` (looked up once per process)."""
        key = org.lower()
        with self._lock:
            if key in self._orgs:
                return self._orgs[key]
        if self.installation_id is not None and self._given(call) == key:
            return self.installation_id
        data = self._app_get(call, f"/orgs/{_segment(org)}/installation")
        if not data:
            raise GitHubAppNotInstalled(
                f"The GitHub App {self.app_id} is not installed on the organization '{org}' "
                "(install it there: see docs/github-app.md)",
                subject=org,
            )
        with self._lock:
            self._orgs[key] = int(data["id"])
            return self._orgs[key]

    def _given(self, call: Caller) -> str:
        """The org ORC_GH_APP_INSTALLATION_ID is installed on (asked once)."""
        if self._given_org is None:
            data = self._app_get(call, f"/app/installations/{int(self.installation_id or 0)}")
            if not data:
                raise GitHubAuthError(
                    f"ORC_GH_APP_INSTALLATION_ID: GitHub App {self.app_id} has no installation {self.installation_id}"
                )
            login = ((data.get("account") or {}).get("login") or "").lower()
            with self._lock:
                self._given_org = login
                self._orgs[login] = int(self.installation_id or 0)
        return self._given_org

    def any_installation(self, call: Caller, preferred: tuple[str, ...] = ()) -> int:
        """An installation for requests that touch no org (user lookups): one already known,
        else the first of the `preferred` orgs the App is installed on."""
        if self.installation_id is not None:
            return self.installation_id
        with self._lock:
            if self._orgs:
                return next(iter(self._orgs.values()))
        problem: GitHubAppNotInstalled | None = None
        for org in preferred:
            try:
                return self.installation_for(org, call)
            except GitHubAppNotInstalled as exc:
                problem = problem or exc
        raise problem or GitHubAppNotInstalled(f"The GitHub App {self.app_id} is not installed on any organization")

    # -- installation tokens -------------------------------------------------------------------
    def current(self, installation_id: int) -> str | None:
        """The token last minted for the installation (what a request being sent carries)."""
        tok = self._tokens.get(installation_id)
        return tok.value if tok else None

    def token(self, installation_id: int, call: Caller, margin: float = API_MARGIN) -> str:
        """A token for the installation with at least `margin` seconds left (or half its
        lifetime): the cached one, else a new one (one thread mints, the others wait for it)."""
        tok = self._tokens.get(installation_id)
        if tok is not None and tok.good_for(margin):
            return tok.value
        with self._lock:
            minting = self._minting.setdefault(installation_id, threading.Lock())
        with minting:
            tok = self._tokens.get(installation_id)
            if tok is not None and tok.good_for(margin):
                return tok.value
            return self._mint(installation_id, call).value

    def renew(self, installation_id: int, sent_at: float) -> None:
        """GitHub refused the token a request sent at `sent_at` carried: the next request gets
        a new one, unless one was minted since."""
        with self._lock:
            tok = self._tokens.get(installation_id)
            if tok is not None and tok.minted <= sent_at:
                tok.stale = True

    def _mint(self, installation_id: int, call: Caller) -> _Token:
        def uninstalled():
            raise GitHubAuthError(
                f"GitHub App {self.app_id} has no installation {installation_id} (was it uninstalled?)"
            )

        mint = lambda: self.integration.get_access_token(installation_id)  # noqa: E731
        auth = self._app_call(call, mint, uninstalled, write=True, idempotent=True)
        register_secret(auth.token)
        expires = auth.expires_at.timestamp() if auth.expires_at else time.time() + 3600
        now = time.time()
        tok = _Token(auth.token, expires, max(0.0, expires - now), time.monotonic())
        with self._lock:
            self._tokens[installation_id] = tok
        log.info("GitHub App %s: new installation token for installation %s", self.app_id, installation_id)
        return tok


def _text(exc: GithubException) -> str:
    data = exc.data if isinstance(exc.data, dict) else {}
    return str(data.get("message") or exc.message or "")


def _segment(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")


_apps: dict[tuple, GitHubApp] = {}
_apps_lock = threading.Lock()


def shared_app(
    api_url: str, app_id: int, private_key: str, installation_id: int | None, timeout: int, api_version: str | None
) -> GitHubApp:
    """One `GitHubApp` per process (per App and GitHub), so every client shares its tokens."""
    digest = hashlib.sha256(private_key.encode()).hexdigest()
    key = (api_url.rstrip("/"), app_id, digest, installation_id)
    with _apps_lock:
        if key not in _apps:
            _apps[key] = GitHubApp(api_url, app_id, private_key, installation_id, timeout, api_version)
        return _apps[key]
