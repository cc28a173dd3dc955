"""A stateful fake of the GitHub REST API and git smart HTTP, for tests.

The project's tests run the real PyGithub client (and the real ``git`` CLI) against this
server and then assert on the end state through the inspection helpers.  The fake keeps
GitHub's rules where a naive client would trip over them on github.com:

* a team created through the API gets its creator as a *maintainer*;
* ``PUT /teams/.../repos/{owner}/{repo}`` without a ``permission`` grants the team's legacy
  ``permission`` (usually ``pull``), not ``push``;
* every Git Data endpoint answers ``409 Git Repository is empty.`` on an empty repository;
* updating a file through the contents API needs the blob ``sha`` of the current file;
* repository and team names are unique case-insensitively; team slugs follow GitHub's rule;
* secondary rate limits (content-creating requests per minute / hour, concurrent requests)
  answer ``403`` with ``retry-after`` and change nothing; the primary limit answers ``403``
  with ``x-ratelimit-remaining: 0``.

* routes GitHub's OpenAPI description does not list as paths (PyGithub's Team objects address
  teams as ``/organizations/{org_id}/team/{team_id}/...``, which GitHub serves and names only in
  "You can also specify a team by org_id and team_id" notes) are recorded in
  ``undocumented_calls`` and, unless ``allow_undocumented_routes=True``, answer ``404`` like any
  unknown route, to catch code that depends on them;
* ``X-GitHub-Api-Version`` must name a supported version (``400`` otherwise; absent = default);
* GitHub App authentication: RS256 JWTs checked like GitHub checks them, installation access
  tokens that act as the app's ``{slug}[bot]`` account and expire.

Repositories are real bare git repositories in a temporary directory, so the REST content
endpoints and ``git clone``/``git push`` over HTTP share one truth; files can be symlinks
(``Symlink``) or executables (``Executable``).  Only the standard library is used, except
PyJWT + cryptography (PyGithub's own dependencies) to verify App JWTs, imported when an App
authenticates.  See ``FakeGitHub`` for the Python API.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import hashlib
import json
import math
import os
import posixpath
import random
import re
import secrets
import shutil
import string
import subprocess
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

__all__ = [
    "API_VERSIONS",
    "Executable",
    "FakeGitHub",
    "Gate",
    "RepoView",
    "RequestRecord",
    "Symlink",
    "TeamView",
    "team_slug",
]

GIT = shutil.which("git") or "git"
DOCS = "https://docs.github.com/rest"
SECONDARY_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"
PRIMARY_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-primary-rate-limits"
ZERO_SHA = "0" * 40
PERMISSIONS = ("pull", "triage", "push", "maintain", "admin")
ROLE_NAMES = {
    "pull": "read",
    "triage": "triage",
    "push": "write",
    "maintain": "maintain",
    "admin": "admin",
}
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
REPO_MEDIA_TYPE = "application/vnd.github.v3.repository+json"
MAX_INLINE_CONTENT = 1024 * 1024  # the contents API stops inlining files above 1 MB
# REST API versions GitHub supports, most recent first; no header selects DEFAULT_API_VERSION
# (docs.github.com/rest/about-the-rest-api/api-versions; github.blog changelog 2026-03-12).
API_VERSIONS = ("2026-03-10", "2022-11-28")
DEFAULT_API_VERSION = "2022-11-28"
# an installation's permissions unless install_app is told otherwise (GitHub's permission names)
DEFAULT_INSTALLATION_PERMISSIONS = {
    "administration": "write",
    "contents": "write",
    "members": "write",
    "metadata": "read",
    "repository_hooks": "write",
}
JWT_DRIFT = 60  # seconds of clock drift GitHub tolerates on a JWT's iat
JWT_MAX_LIFETIME = 600  # exp at most 10 minutes after iat
AUTH_SCHEMES = {"token": "token", "bearer": "Bearer", "basic": "Basic"}
_UNDOCUMENTED_TEAM = re.compile(r"^/organizations/\d+/team/\d+(?:/.*)?$", re.S)
_APP_ROUTE = re.compile(r"^/app(?:/.*)?$|^/(?:orgs|users)/[^/]+/installation$|^/repos/[^/]+/[^/]+/installation$", re.S)

_SLUG_RE = re.compile(r"[^a-z0-9_]+")
_REPO_NAME_BAD = re.compile(r"[^A-Za-z0-9._-]+")
_HEX_RE = re.compile(r"[0-9a-fA-F]{4,40}")
_FULL_SHA_RE = re.compile(r"[0-9a-f]{40}")
_GIT_PATH = re.compile(r"^/([^/]+)/([^/]+?)(?:\.git)?/(info/refs|git-upload-pack|git-receive-pack)$")
_LS_TREE_RE = re.compile(rb"^(\d+) (\w+) ([0-9a-f]+) +(\S+)\t(.*)$", re.S)
_IDENT_RE = re.compile(rb"^(.*) <(.*)> (\d+) ([+-]\d{4})$")


def _find_http_backend() -> str:
    try:
        exec_path = subprocess.run([GIT, "--exec-path"], capture_output=True, text=True, check=True).stdout.strip()
        candidate = os.path.join(exec_path, "git-http-backend")
        if os.path.exists(candidate):
            return candidate
    except (OSError, subprocess.CalledProcessError):
        pass
    return "/usr/lib/git-core/git-http-backend"


HTTP_BACKEND = _find_http_backend()


def team_slug(name: str) -> str:
    """GitHub's slug rule: lowercase, runs of anything but [a-z0-9_] become one '-', trimmed."""
    return _SLUG_RE.sub("-", name.lower()).strip("-")


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _node_id(kind: str, ident: Any) -> str:
    return base64.b64encode(f"0{len(kind):02d}:{kind}{ident}".encode()).decode()


def _b64lines(data: bytes) -> str:
    """Base64 the way GitHub (Ruby's encode64) does: 60 characters a line, each ending in a newline."""
    text = base64.b64encode(data).decode()
    return "".join(text[i : i + 60] + "\n" for i in range(0, len(text), 60))


def _perm_flags(permission: str) -> dict[str, bool]:
    rank = PERMISSIONS.index(permission) if permission in PERMISSIONS else 0
    return {name: rank >= i for i, name in enumerate(PERMISSIONS)}


def _perm_json(permission: str) -> dict[str, bool]:
    flags = _perm_flags(permission)
    return {k: flags[k] for k in ("admin", "maintain", "push", "triage", "pull")}


# ---------------------------------------------------------------------------------------------
# errors, records, gates, views
# ---------------------------------------------------------------------------------------------
class ApiError(Exception):
    """An error answer: status plus GitHub's JSON error body."""

    def __init__(
        self,
        status: int,
        message: str | None = None,
        errors: list | None = None,
        headers: dict[str, str] | None = None,
        documentation_url: str = DOCS,
    ):
        super().__init__(message)
        self.status = status
        body: dict[str, Any] = {"message": message or HTTPStatus(status).phrase}
        if errors is not None:
            body["errors"] = errors
        body["documentation_url"] = documentation_url
        body["status"] = str(status)
        self.body = body
        self.headers = headers or {}


def _not_found(message: str = "Not Found") -> ApiError:
    return ApiError(404, message)


def _validation(errors: list, message: str = "Validation Failed") -> ApiError:
    return ApiError(422, message, errors=errors)


def _invalid(detail: str) -> ApiError:
    return ApiError(422, f"Invalid request.\n\n{detail}")


def _missing(field_name: str) -> ApiError:
    return _invalid(f'"{field_name}" wasn\'t supplied.')


def _not_integration() -> ApiError:
    """What GitHub answers when an installation token (or a JWT) reaches a route it may not use."""
    return ApiError(403, "Resource not accessible by integration")


def _jwt_error(message: str) -> ApiError:
    return ApiError(401, message)


@dataclass(frozen=True)
class Symlink:
    """A file that is a symbolic link (git mode 120000) to ``target``, for ``add_repo``/``add_commit``."""

    target: str


@dataclass(frozen=True)
class Executable:
    """An executable file (git mode 100755), for ``add_repo``/``add_commit``."""

    data: bytes | str


class _GitError(Exception):
    pass


@dataclass
class RequestRecord:
    """One HTTP request as the fake saw it (status is None while it is still being handled)."""

    method: str
    path: str
    query: str
    status: int | None
    t: float
    api_version: str | None = None  # the X-GitHub-Api-Version header as sent (None: absent)
    auth_scheme: str | None = None  # "token", "Bearer", "Basic" (as named by the client), None: absent

    def __iter__(self) -> Iterator[Any]:  # unpacks like the tuple (method, path, query, status, t)
        return iter((self.method, self.path, self.query, self.status, self.t))


class Gate:
    """Holds matching requests until ``release()``; see ``FakeGitHub.block``."""

    def __init__(self, method: str, path_regex: str):
        self.method = method
        self.path_regex = path_regex
        self._released = threading.Event()
        self._hit = threading.Event()
        self._lock = threading.Lock()
        self.hits = 0
        self.waiting = 0

    def release(self) -> None:
        self._released.set()

    @property
    def released(self) -> bool:
        return self._released.is_set()

    def wait_hit(self, timeout: float | None = None) -> bool:
        """True once at least one request has reached the gate."""
        return self._hit.wait(timeout)

    def _pass(self) -> None:
        with self._lock:
            self.hits += 1
            self.waiting += 1
        self._hit.set()
        try:
            self._released.wait()
        finally:
            with self._lock:
                self.waiting -= 1


@dataclass
class RepoView:
    """A snapshot of a repository's metadata (see ``FakeGitHub.repo``)."""

    id: int
    name: str
    org: str
    full_name: str
    private: bool
    visibility: str
    description: str | None
    homepage: str | None
    default_branch: str
    hooks: list[dict]
    created_by: str | None
    created_at: str
    pushed_at: str
    has_issues: bool
    has_wiki: bool
    clone_url: str
    size: int = 0  # KB, as the repository JSON's ``size``
    updated_at: str = ""


@dataclass
class TeamView:
    """A snapshot of a team (see ``FakeGitHub.team``)."""

    id: int
    org: str
    name: str
    slug: str
    description: str | None
    permission: str
    privacy: str
    members: dict[str, str]
    repos: dict[str, str]


# ---------------------------------------------------------------------------------------------
# internal state
# ---------------------------------------------------------------------------------------------
@dataclass
class _Account:
    id: int
    login: str
    type: str  # "User" or "Organization"
    name: str | None = None
    email: str | None = None
    created_at: float = field(default_factory=time.time)
    members: set[str] = field(default_factory=set)  # orgs only: lowercase logins
    admins: set[str] = field(default_factory=set)  # orgs only


@dataclass
class _Repo:
    id: int
    org: str  # canonical org login
    name: str
    gitdir: str
    git_ready: bool = True  # False: seeded in bulk, its bare repository is made on first use
    private: bool = False
    visibility: str = "public"
    description: str | None = None
    homepage: str | None = None
    default_branch: str = "main"
    has_issues: bool = True
    has_wiki: bool = True
    has_projects: bool = True
    has_downloads: bool = True
    is_template: bool = False
    archived: bool = False
    created_by: str | None = None
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)
    pushed_at: float = field(default_factory=time.time)
    size: int = 0  # KB of packed objects, measured after each ref change
    size_override: int | None = None  # set_repo_size: what ``size`` says instead
    hooks: list[dict] = field(default_factory=list)


@dataclass
class _Team:
    id: int
    org: str  # canonical org login
    name: str
    slug: str
    description: str | None = None
    privacy: str = "secret"
    permission: str = "pull"
    notification_setting: str = "notifications_enabled"
    members: dict[str, str] = field(default_factory=dict)  # canonical login -> role
    repo_perms: dict[int, str] = field(default_factory=dict)  # repo id -> permission
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)


@dataclass
class _App:
    id: int
    slug: str
    name: str
    client_id: str
    public_key: Any  # a cryptography RSA public key
    bot: _Account  # the app's "{slug}[bot]" account
    owner: str | None = None
    created_at: float = field(default_factory=time.time)


@dataclass
class _Installation:
    id: int
    app_id: int
    org: str  # canonical org login
    permissions: dict[str, str]
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)


@dataclass
class _InstallationToken:
    token: str
    installation_id: int
    expires: float  # on the fake's clock
    expires_at: float  # epoch seconds, as reported in expires_at
    permissions: dict[str, str]
    repo_ids: frozenset[int] | None = None  # None: every repository of the installation
    revoked: bool = False


@dataclass
class _Principal:
    """Who a request is authenticated as."""

    kind: str  # "user" (the fake's token), "installation" (an installation token) or "app" (a JWT)
    account: _Account | None = None  # the user, or the app's bot account
    app: _App | None = None
    installation: _Installation | None = None
    token: _InstallationToken | None = None


class _Req:
    def __init__(
        self,
        method: str,
        raw_path: str,
        rel: str,
        query: str,
        headers: Any,
        body: bytes,
    ):
        self.method = method
        self.raw_path = raw_path
        self.path = rel
        self.query = query
        self.pairs = parse_qsl(query, keep_blank_values=True)
        self.q: dict[str, str] = {}
        for k, v in self.pairs:
            self.q.setdefault(k, v)
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        if not self.body.strip():
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            raise ApiError(400, "Problems parsing JSON") from None

    def obj(self) -> dict:
        data = self.json()
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise ApiError(400, "Problems parsing JSON")
        return data


def _typed(body: dict, key: str, typ: type | tuple, typename: str) -> Any:
    if key not in body or body[key] is None:
        return None
    value = body[key]
    bad = not isinstance(value, typ) or (typ is int and isinstance(value, bool))
    if bad:
        raise _invalid(f"For 'properties/{key}', {json.dumps(value)} is not a {typename}.")
    return value


def _ident(value: Any, what: str) -> tuple[str, str, str | None] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _invalid(f"For 'properties/{what}', {json.dumps(value)} is not an object.")
    name, email = value.get("name"), value.get("email")
    if not name:
        raise _invalid(f'"name" wasn\'t supplied for "{what}".')
    if not email:
        raise _invalid(f'"email" wasn\'t supplied for "{what}".')
    return str(name), str(email), value.get("date")


def _git_date(date: str | None) -> str:
    if not date:
        return f"{int(time.time())} +0000"
    try:
        parsed = datetime.fromisoformat(date.replace("Z", "+00:00"))
    except ValueError:
        raise _invalid(f"For 'properties/date', {json.dumps(date)} is not a valid date-time.") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return f"{int(parsed.timestamp())} +0000"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, addr: tuple[str, int], fake: FakeGitHub):
        self.fake = fake
        super().__init__(addr, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "GitHub.com"
    sys_version = ""
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _go(self) -> None:
        self.server.fake._handle(self)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _go


# ---------------------------------------------------------------------------------------------
# the fake
# ---------------------------------------------------------------------------------------------
class FakeGitHub:
    """A fake GitHub (REST API + git smart HTTP) on 127.0.0.1.

    Seed state with ``add_org``/``add_user``/``add_team``/``add_repo``/``grant``/``add_hook``
    (direct, not counted), exercise it over HTTP, then inspect with ``repo``/``team``/
    ``files``/``tree_entries``/``commits``/``branches`` and the request log (``requests``:
    each ``RequestRecord`` carries ``api_version`` and ``auth_scheme``; ``undocumented_calls``).

    Credentials: ``token`` authenticates as the user ``bot_login``.  A GitHub App is
    ``add_app(app_id, public_key_pem)`` + ``install_app(app_id, org)``; its RS256 JWTs (signed
    with the matching private key) reach ``/app...`` and ``/orgs/{org}/installation``, and
    ``POST /app/installations/{id}/access_tokens`` issues ``ghs_`` tokens that act as
    ``{slug}[bot]`` on the REST API and over git (``x-access-token``), only in the installed
    org and within the installation's permissions, until ``installation_token_ttl`` seconds of
    the fake's ``clock`` pass or ``expire_installation_tokens()``.

    ``/organizations/{org_id}/team/{team_id}/...`` answers 404 (GitHub's OpenAPI description does
    not list it) unless ``allow_undocumented_routes=True``.
    """

    def __init__(
        self,
        api_prefix: str = "/api/v3",
        token: str = "ghp_test",
        bot_login: str = "orc-bot",
        writes_per_minute: int | None = None,
        writes_per_hour: int | None = None,
        max_concurrent: int = 100,
        clock: Callable[[], float] | None = None,
        latency: float = 0.0,
        primary_limit: int = 5000,
        allow_undocumented_routes: bool = False,
    ):
        self.api_prefix = api_prefix.rstrip("/")
        self.token = token
        self.bot_login = bot_login
        self.writes_per_minute = writes_per_minute
        self.writes_per_hour = writes_per_hour
        self.max_concurrent = max_concurrent
        self.clock: Callable[[], float] = clock or time.monotonic
        self.latency = latency
        self.primary_limit = primary_limit
        # False: routes GitHub's OpenAPI description does not list answer 404 (see module doc)
        self.allow_undocumented_routes = allow_undocumented_routes
        self.undocumented_calls: list[tuple[str, str]] = []  # (method, path) of every attempt
        self.installation_token_ttl: float = 3600.0  # seconds on the fake's clock
        self.installation_tokens_issued = 0
        self.wall_clock: Callable[[], float] = time.time  # GitHub's clock for JWT iat/exp checks

        self._lock = threading.RLock()
        self._tmp = tempfile.mkdtemp(prefix="fake-github-")
        self._root = os.path.join(self._tmp, "repos")
        self._home = os.path.join(self._tmp, "home")
        os.makedirs(self._root)
        os.makedirs(self._home)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._port = 0

        self._next_account_id = 1
        self._next_repo_id = 1000
        self._next_team_id = 100
        self._next_hook_id = 5000
        self._accounts: dict[str, _Account] = {}
        self._repos: dict[int, _Repo] = {}
        self._repo_index: dict[tuple[str, str], int] = {}
        self._teams: dict[int, _Team] = {}
        self._apps: dict[int, _App] = {}
        self._installations: dict[int, _Installation] = {}
        self._next_installation_id = 7000
        self._install_tokens: dict[str, _InstallationToken] = {}
        self._actor: _Principal | None = None  # who the request being dispatched is (under _lock)

        self._requests: list[RequestRecord] = []
        self._in_flight = 0
        self._writes: list[float] = []
        self._primary_start: float | None = None
        self._primary_used = 0
        self.secondary_limit_hits = 0
        self.server_errors: list[str] = []  # tracebacks of 500s the fake gave (a bug in the fake)
        self._faults: list[list] = []  # [method, regex, status, body, headers, remaining]
        self._delays: list[tuple[str, re.Pattern, float]] = []
        self._gates: list[tuple[str, re.Pattern, Gate]] = []
        self._routes: list[tuple[str, re.Pattern, Callable]] = []
        self._build_routes()
        self.add_user(bot_login)

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> FakeGitHub:
        if self._server is None:
            self._server = _Server(("127.0.0.1", 0), self)
            self._port = self._server.server_address[1]
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="fake-github",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        with self._lock:
            gates = [g for _, _, g in self._gates]
        for gate in gates:
            gate.release()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def git_base(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def api_url(self) -> str:
        return f"{self.git_base}{self.api_prefix}"

    # -- seeding ------------------------------------------------------------------------------------
    def add_user(
        self,
        login: str,
        name: str | None = None,
        email: str | None = None,
        orgs: tuple = (),
    ) -> dict:
        with self._lock:
            acct = self._accounts.get(login.lower())
            if acct is None:
                acct = _Account(self._next_account_id, login, "User", name=name, email=email)
                self._next_account_id += 1
                if login == self.bot_login and email is None:
                    acct.email = f"{acct.id}+{login}@users.noreply.github.com"
                self._accounts[login.lower()] = acct
            for org in orgs:
                self._org_seed(org).members.add(acct.login.lower())
            return {
                "login": acct.login,
                "id": acct.id,
                "name": acct.name,
                "email": acct.email,
            }

    def add_org(self, login: str) -> dict:
        with self._lock:
            org = self._org_seed(login)
            return {"login": org.login, "id": org.id}

    def add_team(
        self,
        org: str,
        name: str,
        permission: str = "pull",
        members: list[str] | None = None,
        maintainers: list[str] | None = None,
        privacy: str = "closed",
        description: str | None = None,
    ) -> TeamView:
        with self._lock:
            o = self._org_seed(org)
            slug = team_slug(name)
            if self._find_team(o.login, slug) is not None:
                raise ValueError(f"team {slug} already exists in {o.login}")
            team = _Team(
                self._next_team_id,
                o.login,
                name,
                slug,
                description,
                privacy,
                permission,
            )
            self._next_team_id += 1
            self._teams[team.id] = team
            for login, role in [(m, "member") for m in members or []] + [(m, "maintainer") for m in maintainers or []]:
                acct = self._accounts.get(login.lower()) or self._accounts[self.add_user(login)["login"].lower()]
                team.members[acct.login] = role
                o.members.add(acct.login.lower())
            return self._team_view(team)

    def add_repo(
        self,
        org: str,
        name: str,
        private: bool = True,
        description: str | None = None,
        default_branch: str = "master",
        files: dict[str, bytes | str | Symlink | Executable] | None = None,
        message: str = "Initial commit",
        author: tuple[str, str] = ("Seed Author", "seed@example.com"),
    ) -> RepoView:
        with self._lock:
            o = self._org_seed(org)
            if self._lookup_repo(o.login, name) is not None:
                raise ValueError(f"repo {o.login}/{name} already exists")
            repo = self._new_repo(
                o,
                name,
                private=private,
                description=description,
                default_branch=default_branch,
            )
            if files is not None:
                self._commit_files(
                    repo,
                    default_branch,
                    None,
                    self._encode_files(files),
                    message,
                    author,
                    author,
                )
            return self._repo_view(repo)

    def add_repos(self, org: str, names: Iterable[str], private: bool = True) -> None:
        """Seed many empty repositories at once (a big org); each one's git directory is
        made when something first reads or pushes it."""
        with self._lock:
            o = self._org_seed(org)
            for name in names:
                if self._lookup_repo(o.login, name) is not None:
                    raise ValueError(f"repo {o.login}/{name} already exists")
                self._new_repo(o, name, lazy=True, private=private, default_branch="master")

    def add_commit(
        self,
        org: str,
        name: str,
        files: dict[str, bytes | str | Symlink | Executable | None],
        message: str = "Update",
        branch: str | None = None,
        author: tuple[str, str] = ("Seed Author", "seed@example.com"),
    ) -> str:
        """Seed one more commit (None as a file's content deletes it); returns its sha."""
        with self._lock:
            repo = self._seed_repo(org, name)
            branch = branch or repo.default_branch
            parent = self._branch_sha(repo, branch)
            return self._commit_files(repo, branch, parent, self._encode_files(files), message, author, author)

    def add_branch(self, org: str, name: str, branch: str, from_ref: str | None = None) -> str:
        with self._lock:
            repo = self._seed_repo(org, name)
            sha = self._resolve(repo, from_ref or repo.default_branch)
            if sha is None:
                raise ValueError(f"no commit for {from_ref or repo.default_branch!r}")
            self._git(repo, "update-ref", f"refs/heads/{branch}", sha, ZERO_SHA)
            return sha

    def grant(
        self,
        org: str,
        team_slug_: str,
        repo_org: str,
        repo_name: str,
        permission: str = "push",
    ) -> None:
        with self._lock:
            team = self._find_team(self._org_seed(org).login, team_slug_)
            if team is None:
                raise KeyError(f"no team {team_slug_} in {org}")
            repo = self._seed_repo(repo_org, repo_name)
            if permission not in PERMISSIONS:
                raise ValueError(permission)
            team.repo_perms[repo.id] = permission

    def add_hook(
        self,
        org: str,
        name: str,
        url: str,
        events: list[str] | None = None,
        content_type: str = "form",
        active: bool = True,
        secret: str | None = None,
        insecure_ssl: str = "0",
    ) -> dict:
        with self._lock:
            repo = self._seed_repo(org, name)
            config = {
                "url": url,
                "content_type": content_type,
                "insecure_ssl": insecure_ssl,
            }
            if secret:
                config["secret"] = secret
            hook = self._new_hook(repo, config, list(events or ["push"]), active)
            return self._hook_inspect(hook)

    def set_repo_size(self, org: str, name: str, kb: int | None) -> None:
        """Make the repository JSON's ``size`` say `kb` (pretend a huge repo); None: measure again."""
        with self._lock:
            self._seed_repo(org, name).size_override = kb

    # -- GitHub Apps ----------------------------------------------------------------------------
    def add_app(
        self,
        app_id: int,
        public_key_pem: bytes,
        slug: str = "orc-app",
        name: str | None = None,
        client_id: str | None = None,
    ) -> dict:
        """Register a GitHub App whose JWTs verify with `public_key_pem` (PEM, RSA).

        Its bot account ``{slug}[bot]`` (type ``Bot``) is who its installation tokens act as.
        """
        from cryptography.hazmat.primitives.serialization import load_pem_public_key

        key = load_pem_public_key(public_key_pem if isinstance(public_key_pem, bytes) else public_key_pem.encode())
        with self._lock:
            if app_id in self._apps:
                raise ValueError(f"app {app_id} already exists")
            login = f"{slug}[bot]"
            if login.lower() in self._accounts:
                raise ValueError(f"account {login} already exists")
            bot = _Account(self._next_account_id, login, "Bot", name=login)
            self._next_account_id += 1
            bot.email = f"{bot.id}+{login}@users.noreply.github.com"
            self._accounts[login.lower()] = bot
            app = _App(
                app_id,
                slug,
                name or slug,
                client_id or f"Iv23li{secrets.token_hex(7)}",
                key,
                bot,
            )
            self._apps[app_id] = app
            return {"id": app.id, "slug": app.slug, "client_id": app.client_id, "bot": bot.login, "bot_id": bot.id}

    def install_app(
        self,
        app_id: int,
        org: str,
        installation_permissions: dict[str, str] | None = None,
    ) -> int:
        """Install the app on organization `org` (all repositories); returns the installation id."""
        with self._lock:
            if app_id not in self._apps:
                raise KeyError(f"no app {app_id}")
            o = self._org_seed(org)
            for inst in self._installations.values():
                if inst.app_id == app_id and inst.org == o.login:
                    raise ValueError(f"app {app_id} is already installed on {o.login}")
            perms = dict(
                DEFAULT_INSTALLATION_PERMISSIONS if installation_permissions is None else installation_permissions
            )
            perms.setdefault("metadata", "read")  # every installation can read metadata
            inst = _Installation(self._next_installation_id, app_id, o.login, perms)
            self._next_installation_id += 1
            self._installations[inst.id] = inst
            return inst.id

    def expire_installation_tokens(self) -> int:
        """Expire every installation token issued so far, now; returns how many were live."""
        with self._lock:
            now = self.clock()
            live = 0
            for tok in self._install_tokens.values():
                if tok.expires > now and not tok.revoked:
                    live += 1
                tok.expires = min(tok.expires, now)
            return live

    def installation_tokens(self) -> list[dict]:
        """Every installation token issued: token, installation_id, expires_at, permissions, expired."""
        with self._lock:
            now = self.clock()
            return [
                {
                    "token": t.token,
                    "installation_id": t.installation_id,
                    "expires_at": _iso(t.expires_at),
                    "permissions": dict(t.permissions),
                    "expired": t.expires <= now or t.revoked,
                }
                for t in self._install_tokens.values()
            ]

    # -- inspection ----------------------------------------------------------------------------------
    def repo(self, org: str, name: str) -> RepoView | None:
        with self._lock:
            repo = self._lookup_repo(org, name)
            return self._repo_view(repo) if repo else None

    def team(self, org: str, slug: str) -> TeamView | None:
        with self._lock:
            o = self._accounts.get(org.lower())
            team = self._find_team(o.login, slug) if o else None
            return self._team_view(team) if team else None

    def files(self, org: str, name: str, ref: str | None = None) -> dict[str, bytes]:
        with self._lock:
            repo = self._seed_repo(org, name)
            sha = self._resolve(repo, ref or repo.default_branch)
            if sha is None:
                return {}
            out = self._git(repo, "ls-tree", "-r", "-z", sha)
            entries = []
            for rec in out.split(b"\0"):
                if not rec:
                    continue
                meta, _, path = rec.partition(b"\t")
                mode, typ, obj = meta.split()
                if typ == b"blob":
                    entries.append((path.decode("utf-8", "surrogateescape"), obj.decode()))
            blobs = self._cat_batch(repo, [obj for _, obj in entries])
            return {path: blobs[obj][1] for path, obj in entries}

    def tree_entries(self, org: str, name: str, ref: str | None = None) -> dict[str, tuple[str, str]]:
        """Every non-tree entry at `ref` (default branch): path -> (mode, sha).

        Modes are git's: ``100644`` file, ``100755`` executable, ``120000`` symlink, ``160000``
        submodule.  (``files`` gives the blobs' bytes; a symlink's blob is its target.)
        """
        with self._lock:
            repo = self._seed_repo(org, name)
            sha = self._resolve(repo, ref or repo.default_branch)
            if sha is None:
                return {}
            out = self._git(repo, "ls-tree", "-r", "-z", sha)
            entries: dict[str, tuple[str, str]] = {}
            for rec in out.split(b"\0"):
                if not rec:
                    continue
                meta, _, path = rec.partition(b"\t")
                mode, _typ, obj = meta.split()
                entries[path.decode("utf-8", "surrogateescape")] = (mode.decode(), obj.decode())
            return entries

    def commits(self, org: str, name: str, ref: str | None = None) -> list[dict]:
        with self._lock:
            repo = self._seed_repo(org, name)
            sha = self._resolve(repo, ref or repo.default_branch)
            if sha is None:
                return []
            shas = self._rev_list(repo, sha)
            infos = self._commit_infos(repo, shas)
            return [
                {
                    "sha": s,
                    "message": infos[s]["message"],
                    "author_name": infos[s]["author"]["name"],
                    "author_email": infos[s]["author"]["email"],
                    "author_date": infos[s]["author"]["date"],
                    "committer_name": infos[s]["committer"]["name"],
                    "committer_email": infos[s]["committer"]["email"],
                    "committer_date": infos[s]["committer"]["date"],
                    "parents": list(infos[s]["parents"]),
                    "tree": infos[s]["tree"],
                }
                for s in shas
            ]

    def branches(self, org: str, name: str) -> list[str]:
        with self._lock:
            return sorted(self._heads(self._seed_repo(org, name)))

    def gitdir(self, org: str, name: str) -> str:
        """Filesystem path of the bare repository (for debugging)."""
        with self._lock:
            repo = self._seed_repo(org, name)
            if not repo.git_ready:
                self._init_git(repo)
            return repo.gitdir

    @property
    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._requests)

    def count(self, method: str | None = None, path_contains: str | None = None) -> int:
        with self._lock:
            return sum(
                1
                for r in self._requests
                if (method is None or r.method == method.upper()) and (path_contains is None or path_contains in r.path)
            )

    def reset_counts(self) -> None:
        """Forget the request log and the secondary-limit hit counter (rate-limit windows stay)."""
        with self._lock:
            self._requests.clear()
            self.secondary_limit_hits = 0

    def reset_limits(self) -> None:
        """Forget the write windows and the primary rate-limit window."""
        with self._lock:
            self._writes.clear()
            self._primary_start = None
            self._primary_used = 0

    def writes_in_window(self, seconds: float) -> int:
        with self._lock:
            cutoff = self.clock() - seconds
            return len(self._writes) - bisect.bisect_right(self._writes, cutoff)

    # -- fault injection ------------------------------------------------------------------------
    def fail(
        self,
        method: str,
        path_regex: str,
        status: int,
        body: Any = None,
        headers: dict[str, str] | None = None,
        times: int | None = 1,
    ) -> None:
        """The next `times` requests matching (method, re.search(path_regex, path)) get this answer."""
        with self._lock:
            self._faults.append(
                [
                    method.upper(),
                    re.compile(path_regex),
                    status,
                    body,
                    dict(headers or {}),
                    times,
                ]
            )

    def fail_secondary_limit(self, method: str, path_regex: str, retry_after: int = 1) -> None:
        """The next matching request gets GitHub's secondary-rate-limit 403 with Retry-After."""
        message = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
        self.fail(method, path_regex, 403, body={"message": message}, headers={"retry-after": str(retry_after)})

    def delay(self, method: str, path_regex: str, seconds: float) -> None:
        with self._lock:
            self._delays.append((method.upper(), re.compile(path_regex), seconds))

    def block(self, method: str, path_regex: str) -> Gate:
        gate = Gate(method.upper(), path_regex)
        with self._lock:
            self._gates.append((method.upper(), re.compile(path_regex), gate))
        return gate

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._delays.clear()
            gates = [g for _, _, g in self._gates]
            self._gates.clear()
        for gate in gates:
            gate.release()

    # ==========================================================================================
    # internals: accounts, repos, teams
    # ==========================================================================================
    def _org_seed(self, login: str) -> _Account:
        acct = self._accounts.get(login.lower())
        if acct is None:
            acct = _Account(self._next_account_id, login, "Organization")
            self._next_account_id += 1
            self._accounts[login.lower()] = acct
        if acct.type != "Organization":
            raise ValueError(f"{login} is a user, not an organization")
        acct.members.add(self.bot_login.lower())
        acct.admins.add(self.bot_login.lower())
        return acct

    def _seed_repo(self, org: str, name: str) -> _Repo:
        repo = self._lookup_repo(org, name)
        if repo is None:
            raise KeyError(f"no repository {org}/{name}")
        return repo

    def _lookup_repo(self, org: str, name: str) -> _Repo | None:
        rid = self._repo_index.get((org.lower(), name.lower()))
        return self._repos.get(rid) if rid is not None else None

    def _find_team(self, org: str, slug: str) -> _Team | None:
        slug = slug.lower()
        org = org.lower()
        for team in self._teams.values():
            if team.org.lower() == org and team.slug == slug:
                return team
        return None

    def _new_repo(self, org: _Account, name: str, lazy: bool = False, **attrs: Any) -> _Repo:
        rid = self._next_repo_id
        self._next_repo_id += 1
        gitdir = os.path.join(self._root, f"{rid}.git")
        repo = _Repo(rid, org.login, name, gitdir, git_ready=False, **attrs)
        repo.visibility = "private" if repo.private else "public"
        # a new repository's created_at, updated_at and pushed_at are one moment on GitHub
        repo.created_at = repo.updated_at = repo.pushed_at = time.time()
        if not lazy:
            self._init_git(repo)
        self._repos[rid] = repo
        self._repo_index[(org.login.lower(), name.lower())] = rid
        return repo

    def _init_git(self, repo: _Repo) -> None:
        """The repository's bare git directory, configured for smart HTTP."""
        self._git_raw(["init", "--bare", "-q", f"--initial-branch={repo.default_branch}", repo.gitdir])
        repo.git_ready = True
        for key, value in (
            ("http.receivepack", "true"),
            ("receive.denyDeleteCurrent", "refuse"),
            ("core.logAllRefUpdates", "false"),
            ("uploadpack.allowFilter", "true"),
        ):
            self._git(repo, "config", key, value)

    def _new_hook(self, repo: _Repo, config: dict, events: list[str], active: bool) -> dict:
        now = time.time()
        hook = {
            "id": self._next_hook_id,
            "name": "web",
            "active": active,
            "events": events,
            "config": config,
            "created_at": now,
            "updated_at": now,
        }
        self._next_hook_id += 1
        repo.hooks.append(hook)
        return hook

    def _repo_view(self, repo: _Repo) -> RepoView:
        return RepoView(
            id=repo.id,
            name=repo.name,
            org=repo.org,
            full_name=f"{repo.org}/{repo.name}",
            private=repo.private,
            visibility=repo.visibility,
            description=repo.description,
            homepage=repo.homepage,
            default_branch=repo.default_branch,
            hooks=[self._hook_inspect(h) for h in repo.hooks],
            created_by=repo.created_by,
            created_at=_iso(repo.created_at),
            pushed_at=_iso(repo.pushed_at),
            has_issues=repo.has_issues,
            has_wiki=repo.has_wiki,
            clone_url=f"{self.git_base}/{repo.org}/{repo.name}.git",
            size=self._repo_size(repo),
            updated_at=_iso(repo.updated_at),
        )

    @staticmethod
    def _repo_size(repo: _Repo) -> int:
        return repo.size if repo.size_override is None else repo.size_override

    @staticmethod
    def _hook_inspect(hook: dict) -> dict:
        return {
            "id": hook["id"],
            "name": hook["name"],
            "active": hook["active"],
            "events": list(hook["events"]),
            "config": dict(hook["config"]),
        }

    def _team_view(self, team: _Team) -> TeamView:
        repos = {}
        for rid, perm in team.repo_perms.items():
            repo = self._repos.get(rid)
            if repo is not None:
                repos[f"{repo.org}/{repo.name}"] = perm
        return TeamView(
            id=team.id,
            org=team.org,
            name=team.name,
            slug=team.slug,
            description=team.description,
            permission=team.permission,
            privacy=team.privacy,
            members=dict(team.members),
            repos=repos,
        )

    @staticmethod
    def _encode_files(files: dict[str, Any]) -> dict[str, tuple[str, bytes] | None]:
        """path -> (git mode, blob bytes), None to delete."""

        def encode(value: Any) -> tuple[str, bytes] | None:
            if value is None:
                return None
            if isinstance(value, Symlink):
                return "120000", value.target.encode()
            if isinstance(value, Executable):
                data = value.data
                return "100755", data.encode() if isinstance(data, str) else bytes(data)
            return "100644", value.encode() if isinstance(value, str) else bytes(value)

        return {p: encode(v) for p, v in files.items()}

    # ==========================================================================================
    # internals: git plumbing
    # ==========================================================================================
    def _git_env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        env.update(
            HOME=self._home,
            XDG_CONFIG_HOME=self._home,
            GIT_CONFIG_NOSYSTEM="1",
            GIT_CONFIG_GLOBAL=os.devnull,
            GIT_TERMINAL_PROMPT="0",
            GIT_LITERAL_PATHSPECS="1",
            LC_ALL="C",
        )
        if extra:
            env.update(extra)
        return env

    def _git_raw(self, args: list[str], input: bytes | None = None, env: dict | None = None) -> bytes:
        proc = subprocess.run([GIT, *args], input=input, capture_output=True, env=self._git_env(env))
        if proc.returncode != 0:
            raise _GitError(f"git {' '.join(args)}: {proc.stderr.decode(errors='replace').strip()}")
        return proc.stdout

    def _git(
        self,
        repo: _Repo,
        *args: str,
        input: bytes | None = None,
        env: dict | None = None,
    ) -> bytes:
        if not repo.git_ready:
            self._init_git(repo)
        return self._git_raw(["--git-dir", repo.gitdir, *args], input=input, env=env)

    def _git_ok(self, repo: _Repo, *args: str) -> bytes | None:
        try:
            return self._git(repo, *args)
        except _GitError:
            return None

    def _refs(self, repo: _Repo) -> dict[str, str]:
        out = self._git(repo, "for-each-ref", "--format=%(objectname) %(refname)")
        refs = {}
        for line in out.decode().splitlines():
            sha, _, name = line.partition(" ")
            refs[name] = sha
        return refs

    def _heads(self, repo: _Repo) -> dict[str, str]:
        return {k[len("refs/heads/") :]: v for k, v in self._refs(repo).items() if k.startswith("refs/heads/")}

    def _is_empty(self, repo: _Repo) -> bool:
        return not self._refs(repo)

    def _branch_sha(self, repo: _Repo, branch: str) -> str | None:
        return self._refs(repo).get(f"refs/heads/{branch}")

    def _object_type(self, repo: _Repo, sha: str) -> str | None:
        out = self._git_ok(repo, "cat-file", "-t", sha)
        return out.decode().strip() if out else None

    def _resolve(self, repo: _Repo, ref: str | None) -> str | None:
        """A branch, tag, full ref or (abbreviated) sha -> commit sha, None if unknown."""
        if not ref:
            return None
        refs = self._refs(repo)
        for cand in (
            f"refs/heads/{ref}",
            f"refs/tags/{ref}",
            ref if ref.startswith("refs/") else None,
        ):
            if cand and cand in refs:
                out = self._git_ok(repo, "rev-parse", "--verify", "-q", f"{refs[cand]}^{{commit}}")
                return out.decode().strip() if out else None
        if _HEX_RE.fullmatch(ref):
            out = self._git_ok(repo, "rev-parse", "--verify", "-q", f"{ref.lower()}^{{commit}}")
            return out.decode().strip() if out else None
        return None

    def _cat_batch(self, repo: _Repo, shas: list[str]) -> dict[str, tuple[str, bytes]]:
        if not shas:
            return {}
        out = self._git(repo, "cat-file", "--batch", input=("\n".join(shas) + "\n").encode())
        result: dict[str, tuple[str, bytes]] = {}
        pos = 0
        for sha in shas:
            nl = out.index(b"\n", pos)
            header = out[pos:nl].decode().split()
            pos = nl + 1
            if len(header) < 3 or header[1] == "missing":
                continue
            size = int(header[2])
            result[sha] = (header[1], out[pos : pos + size])
            pos += size + 1
        return result

    @staticmethod
    def _parse_ident(raw: bytes) -> dict:
        m = _IDENT_RE.match(raw)
        if not m:
            return {"name": raw.decode(errors="replace"), "email": "", "date": _iso(0)}
        return {
            "name": m.group(1).decode(errors="replace"),
            "email": m.group(2).decode(errors="replace"),
            "date": _iso(int(m.group(3))),
        }

    def _parse_commit(self, raw: bytes) -> dict:
        header, _, message = raw.partition(b"\n\n")
        info: dict[str, Any] = {"parents": [], "tree": None}
        for line in header.split(b"\n"):
            if line.startswith(b" "):
                continue
            key, _, value = line.partition(b" ")
            if key == b"tree":
                info["tree"] = value.decode()
            elif key == b"parent":
                info["parents"].append(value.decode())
            elif key in (b"author", b"committer"):
                info[key.decode()] = self._parse_ident(value)
        info["message"] = message.decode("utf-8", errors="replace").rstrip("\n")
        return info

    def _commit_infos(self, repo: _Repo, shas: list[str]) -> dict[str, dict]:
        return {sha: self._parse_commit(raw) for sha, (typ, raw) in self._cat_batch(repo, shas).items()}

    def _commit_info(self, repo: _Repo, sha: str) -> dict | None:
        data = self._cat_batch(repo, [sha]).get(sha)
        if data is None or data[0] != "commit":
            return None
        return self._parse_commit(data[1])

    def _rev_list(self, repo: _Repo, sha: str, path: str | None = None) -> list[str]:
        args = ["rev-list", sha]
        if path:
            args += ["--", path]
        return self._git(repo, *args).decode().split()

    def _ls_tree(self, repo: _Repo, treeish: str, *args: str) -> list[tuple[str, str, str, int | None, str]]:
        out = self._git(repo, "ls-tree", "-l", "-z", *args, treeish)
        entries = []
        for rec in out.split(b"\0"):
            if not rec:
                continue
            m = _LS_TREE_RE.match(rec)
            if not m:
                continue
            size = m.group(4).decode()
            entries.append(
                (
                    m.group(1).decode(),
                    m.group(2).decode(),
                    m.group(3).decode(),
                    int(size) if size.isdigit() else None,
                    m.group(5).decode("utf-8", "surrogateescape"),
                )
            )
        return entries

    def _tree_entry(self, repo: _Repo, commit: str, path: str) -> tuple | None:
        out = self._git(repo, "ls-tree", "-l", "-z", commit, "--", path)
        for rec in out.split(b"\0"):
            m = _LS_TREE_RE.match(rec) if rec else None
            if m and m.group(5).decode("utf-8", "surrogateescape") == path:
                size = m.group(4).decode()
                return (
                    m.group(1).decode(),
                    m.group(2).decode(),
                    m.group(3).decode(),
                    int(size) if size.isdigit() else None,
                    path,
                )
        return None

    def _ident_env(self, author: tuple, committer: tuple) -> dict[str, str]:
        a_name, a_email, *a_rest = author
        c_name, c_email, *c_rest = committer
        return {
            "GIT_AUTHOR_NAME": a_name,
            "GIT_AUTHOR_EMAIL": a_email,
            "GIT_AUTHOR_DATE": _git_date(a_rest[0] if a_rest else None),
            "GIT_COMMITTER_NAME": c_name,
            "GIT_COMMITTER_EMAIL": c_email,
            "GIT_COMMITTER_DATE": _git_date(c_rest[0] if c_rest else None),
        }

    def _build_tree(self, repo: _Repo, base: str | None, changes: list[tuple[str, str, str | None]]) -> str:
        """Apply (path, mode, sha-or-None) changes on top of tree-ish `base`; returns the tree sha."""
        with tempfile.TemporaryDirectory(dir=self._tmp) as td:
            env = {"GIT_INDEX_FILE": os.path.join(td, "index")}
            if base:
                self._git(repo, "read-tree", base, env=env)
            else:
                self._git(repo, "read-tree", "--empty", env=env)
            lines = []
            for path, mode, sha in changes:
                if sha is None:
                    lines.append(f"0 {ZERO_SHA}\t{path}")
                else:
                    lines.append(f"{mode} {sha}\t{path}")
            if lines:
                self._git(
                    repo,
                    "update-index",
                    "--add",
                    "--index-info",
                    input=("\n".join(lines) + "\n").encode(),
                    env=env,
                )
            return self._git(repo, "write-tree", env=env).decode().strip()

    def _hash_blob(self, repo: _Repo, data: bytes) -> str:
        return self._git(repo, "hash-object", "-w", "-t", "blob", "--stdin", input=data).decode().strip()

    def _commit_tree(
        self,
        repo: _Repo,
        tree: str,
        parents: list[str],
        message: str,
        author: tuple,
        committer: tuple,
    ) -> str:
        args = ["commit-tree", tree]
        for p in parents:
            args += ["-p", p]
        env = self._ident_env(author, committer)
        return self._git(repo, *args, input=message.encode(), env=env).decode().strip()

    def _commit_files(
        self,
        repo: _Repo,
        branch: str,
        parent: str | None,
        files: dict[str, bytes | tuple[str, bytes] | None],
        message: str,
        author: tuple,
        committer: tuple,
    ) -> str:
        """One commit on `branch` (compare-and-swap against `parent`) changing `files`
        (bytes, or (mode, bytes) for executables and symlinks; None deletes)."""
        changes = []
        for path, data in files.items():
            if data is None:
                changes.append((path, "100644", None))
                continue
            mode, blob = data if isinstance(data, tuple) else ("100644", data)
            changes.append((path, mode, self._hash_blob(repo, blob)))
        tree = self._build_tree(repo, parent, changes)
        sha = self._commit_tree(repo, tree, [parent] if parent else [], message, author, committer)
        self._git(repo, "update-ref", f"refs/heads/{branch}", sha, parent or ZERO_SHA)
        self._after_ref_change(repo, was_empty=parent is None)
        return sha

    def _after_ref_change(self, repo: _Repo, was_empty: bool) -> None:
        """GitHub adopts the first branch of an empty repo as its default branch."""
        now = time.time()
        repo.pushed_at = now
        repo.updated_at = now  # a push updates the repository too
        heads = self._heads(repo)
        if was_empty and heads and repo.default_branch not in heads:
            for cand in ("main", "master", *sorted(heads)):
                if cand in heads:
                    self._set_default_branch(repo, cand)
                    break
        repo.size = self._measure_size(repo)

    def _measure_size(self, repo: _Repo) -> int:
        """KB the objects take compressed, about what GitHub's ``size`` (the packed repo) says."""
        out = self._git_ok(repo, "cat-file", "--batch-all-objects", "--batch-check=%(objectsize:disk)")
        if out is None:
            return repo.size
        total = sum(int(x) for x in out.split() if x.isdigit())
        return math.ceil(total / 1024)

    def _set_default_branch(self, repo: _Repo, branch: str) -> None:
        repo.default_branch = branch
        self._git(repo, "symbolic-ref", "HEAD", f"refs/heads/{branch}")

    # ==========================================================================================
    # HTTP plumbing
    # ==========================================================================================
    def _iter_body(self, h: BaseHTTPRequestHandler) -> Iterator[bytes]:
        if "chunked" in h.headers.get("Transfer-Encoding", "").lower():
            while True:
                line = h.rfile.readline(65537)
                if not line:
                    raise ConnectionError("truncated chunked body")
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while True:
                        trailer = h.rfile.readline(65537)
                        if trailer in (b"\r\n", b"\n", b""):
                            return
                remaining = size
                while remaining:
                    data = h.rfile.read(min(remaining, 65536))
                    if not data:
                        raise ConnectionError("truncated chunk")
                    remaining -= len(data)
                    yield data
                h.rfile.readline(65537)
        else:
            remaining = int(h.headers.get("Content-Length") or 0)
            while remaining > 0:
                data = h.rfile.read(min(remaining, 65536))
                if not data:
                    raise ConnectionError("truncated body")
                remaining -= len(data)
                yield data

    def _has_body(self, h: BaseHTTPRequestHandler) -> bool:
        return (
            "chunked" in h.headers.get("Transfer-Encoding", "").lower() or int(h.headers.get("Content-Length") or 0) > 0
        )

    def _request_id(self) -> str:
        r = random.Random()
        return ":".join(f"{r.getrandbits(bits):X}" for bits in (16, 16, 24, 24, 32))

    def _rate_headers(self) -> dict[str, str]:
        with self._lock:
            now = self.clock()
            if self._primary_start is None or now >= self._primary_start + 3600:
                used, window_end = 0, now + 3600
            else:
                used, window_end = self._primary_used, self._primary_start + 3600
            reset = time.time() + (window_end - now)
        return {
            "x-ratelimit-limit": str(self.primary_limit),
            "x-ratelimit-remaining": str(max(0, self.primary_limit - used)),
            "x-ratelimit-reset": str(int(math.ceil(reset))),
            "x-ratelimit-used": str(used),
            "x-ratelimit-resource": "core",
        }

    def _send(
        self,
        h: BaseHTTPRequestHandler,
        rec: RequestRecord,
        status: int,
        body: bytes,
        headers: dict[str, str],
        close: bool = False,
    ) -> None:
        rec.status = status
        h.send_response(status)
        for key, value in headers.items():
            h.send_header(key, value)
        if status not in (204, 304):
            h.send_header("Content-Length", str(len(body)))
        if close:
            h.send_header("Connection", "close")
            h.close_connection = True
        h.end_headers()
        if body and h.command != "HEAD" and status not in (204, 304):
            h.wfile.write(body)

    def _json_headers(self, rid: str) -> dict[str, str]:
        return {
            "content-type": "application/json; charset=utf-8",
            "x-github-media-type": "github.v3; format=json",
            "x-github-api-version-selected": "2022-11-28",
            "x-oauth-scopes": "admin:org, admin:repo_hook, repo",
            "x-accepted-oauth-scopes": "",
            "x-github-request-id": rid,
            **self._rate_headers(),
        }

    def _secondary_error(self, rid: str, retry_after: float) -> ApiError:
        message = (
            "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
            f"If you reach out to GitHub Support for help, please include the request ID {rid}."
        )
        err = ApiError(403, message, documentation_url=SECONDARY_DOCS)
        err.body.pop("status", None)
        err.headers["retry-after"] = str(max(1, int(math.ceil(retry_after))))
        return err

    def _wait(self, method: str, path: str, api: bool) -> None:
        if api and self.latency > 0:
            time.sleep(self.latency)
        with self._lock:
            delays = [s for m, rx, s in self._delays if m in ("*", method) and rx.search(path)]
            gates = [g for m, rx, g in self._gates if m in ("*", method) and rx.search(path)]
        if delays:
            time.sleep(sum(delays))
        for gate in gates:
            gate._pass()

    def _take_fault(self, method: str, path: str) -> list | None:
        with self._lock:
            for fault in self._faults:
                m, rx, *_ = fault
                if m in ("*", method) and rx.search(path) and (fault[5] is None or fault[5] > 0):
                    if fault[5] is not None:
                        fault[5] -= 1
                    return fault
        return None

    def _admit_write(self) -> float | None:
        """Record a content-creating request; returns seconds to wait instead if over a limit."""
        with self._lock:
            now = self.clock()
            retry = 0.0
            for limit, window in (
                (self.writes_per_minute, 60.0),
                (self.writes_per_hour, 3600.0),
            ):
                if limit is None:
                    continue
                start = bisect.bisect_right(self._writes, now - window)
                recent = self._writes[start:]
                if len(recent) + 1 > limit:
                    if limit <= 0:
                        retry = max(retry, window)
                    else:
                        retry = max(retry, recent[len(recent) - limit] + window - now)
            if retry > 0:
                self.secondary_limit_hits += 1
                return max(retry, 1e-9)
            self._writes.append(now)
            return None

    def _count_primary(self) -> bool:
        """Count one request against the primary limit; False when the limit is exhausted."""
        with self._lock:
            now = self.clock()
            if self._primary_start is None or now >= self._primary_start + 3600:
                self._primary_start = now
                self._primary_used = 0
            if self._primary_used >= self.primary_limit:
                return False
            self._primary_used += 1
            return True

    @staticmethod
    def _auth_header(header: str | None) -> tuple[str | None, str, str, str]:
        """(scheme as recorded, lowercase scheme, Basic user, secret) from an Authorization header."""
        if not header or not header.strip():
            return None, "", "", ""
        scheme, _, cred = header.strip().partition(" ")
        low = scheme.lower()
        cred = cred.strip()
        recorded = AUTH_SCHEMES.get(low, scheme)
        if low == "basic":
            try:
                user, _, password = base64.b64decode(cred, validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return recorded, low, "", ""
            return recorded, low, user, password
        if low in ("token", "bearer"):
            return recorded, low, "", cred
        return recorded, low, "", ""

    def _live_installation_token(self, secret: str) -> _Principal | None:
        """The installation a token authenticates as; ApiError 401 once it expired; None: not one."""
        with self._lock:
            tok = self._install_tokens.get(secret)
            if tok is None:
                return None
            inst = self._installations.get(tok.installation_id)
            if tok.revoked or tok.expires <= self.clock() or inst is None:
                raise ApiError(401, "Bad credentials")
            app = self._apps[inst.app_id]
            return _Principal("installation", account=app.bot, app=app, installation=inst, token=tok)

    def _app_for_iss(self, iss: Any) -> _App | None:
        if isinstance(iss, bool):
            return None
        if isinstance(iss, int):
            return self._apps.get(iss)
        if isinstance(iss, str):
            if iss.isdigit():
                return self._apps.get(int(iss))
            for app in self._apps.values():
                if app.client_id == iss:
                    return app
        return None

    def _verify_jwt(self, token: str) -> _Principal:
        """Check an App JWT the way GitHub does; the app's principal, or ApiError with GitHub's message."""
        import jwt  # PyJWT, a PyGithub dependency

        undecodable = _jwt_error("A JSON web token could not be decoded")
        jws = jwt.api_jws.PyJWS()  # the signature layer only: the claims are checked below
        try:
            unverified = jws.decode_complete(token, options={"verify_signature": False})
            claims = json.loads(unverified["payload"])
        except (jwt.PyJWTError, ValueError):
            raise undecodable from None
        if unverified["header"].get("alg") != "RS256" or not isinstance(claims, dict):
            raise undecodable
        iss = claims.get("iss")
        if not isinstance(iss, (int, str)) or isinstance(iss, bool):
            raise undecodable
        with self._lock:
            app = self._app_for_iss(iss)
        if app is None:
            raise ApiError(404, "Integration not found")
        try:
            jws.decode(token, app.public_key, algorithms=["RS256"])
        except jwt.PyJWTError:
            raise undecodable from None
        now = self.wall_clock()
        iat, exp = claims.get("iat"), claims.get("exp")
        if not isinstance(iat, int) or isinstance(iat, bool) or iat > now + JWT_DRIFT:
            raise _jwt_error(
                "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"
            )
        if not isinstance(exp, (int, float)) or isinstance(exp, bool) or exp <= now:
            raise _jwt_error(
                "'Expiration time' claim ('exp') must be a numeric value representing the future time at which "
                "the assertion expires"
            )
        if exp - iat > JWT_MAX_LIFETIME:
            raise _jwt_error("'Expiration time' claim ('exp') is too far in the future")
        return _Principal("app", account=app.bot, app=app)

    def _principal(self, low: str, secret: str, rel: str) -> _Principal:
        """Who the credentials are, for REST route `rel`; ApiError as GitHub answers otherwise."""
        looks_jwt = low == "bearer" and secret.count(".") == 2
        if _APP_ROUTE.match(rel):  # these routes take an App JWT and nothing else
            if not looks_jwt:
                raise _jwt_error("A JSON web token could not be decoded")
            return self._verify_jwt(secret)
        if secret and secret == self.token:
            return _Principal("user", account=self._bot())
        installation = self._live_installation_token(secret) if secret else None
        if installation is not None:
            return installation
        if looks_jwt:
            self._verify_jwt(secret)  # a bad JWT says why; a good one may not be used here
            raise _not_integration()
        raise ApiError(401, "Bad credentials")

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        method = h.command.upper()
        parts = urlsplit(h.path)
        raw_path = parts.path or "/"
        rec = RequestRecord(method, raw_path, parts.query, None, self.clock())
        rec.api_version = h.headers.get("X-GitHub-Api-Version")
        rec.auth_scheme = self._auth_header(h.headers.get("Authorization"))[0]
        with self._lock:
            self._requests.append(rec)
            self._in_flight += 1
            over = self._in_flight > self.max_concurrent
            if over:
                self.secondary_limit_hits += 1
        try:
            match = _GIT_PATH.match(raw_path)
            if match:
                self._serve_git(h, rec, match, parts.query, over)
            else:
                self._serve_api(h, rec, parts.query, over)
        except (BrokenPipeError, ConnectionResetError, ConnectionError):
            h.close_connection = True
        finally:
            with self._lock:
                self._in_flight -= 1

    @staticmethod
    def _unsupported_version(version: str) -> ApiError:
        newest, *others = API_VERSIONS
        listed = [f'"{newest}" (most recent)', *(f'"{v}"' for v in others)]
        supported = listed[0] if len(listed) == 1 else ", ".join(listed[:-1]) + " and " + listed[-1]
        return ApiError(
            400,
            "Bad Request",
            errors=(
                f'The version you specified in the "X-GitHub-API-Version" request header, "{version}", '
                f"is not a supported version. The following versions are currently supported: {supported}."
            ),
        )

    # -- REST -------------------------------------------------------------------------------------
    def _serve_api(self, h: BaseHTTPRequestHandler, rec: RequestRecord, query: str, over: bool) -> None:
        method, raw_path = rec.method, rec.path
        rid = self._request_id()
        body = b"".join(self._iter_body(h))
        selected = DEFAULT_API_VERSION
        principal: _Principal | None = None

        def headers_for(extra: dict[str, str]) -> dict[str, str]:
            out = self._json_headers(rid) | {"x-github-api-version-selected": selected}
            if principal is not None and principal.kind != "user":
                out.pop("x-oauth-scopes", None)
                out.pop("x-accepted-oauth-scopes", None)
            return out | extra

        def answer(err: ApiError) -> None:
            self._send(h, rec, err.status, json.dumps(err.body).encode(), headers_for(err.headers))

        if over:
            answer(self._secondary_error(rid, 1))
            return
        self._wait(method, raw_path, api=True)
        fault = self._take_fault(method, raw_path)
        if fault is not None:
            self._send_fault(h, rec, rid, fault, api=True)
            return
        prefix = self.api_prefix
        if prefix and raw_path != prefix and not raw_path.startswith(prefix + "/"):
            answer(_not_found())
            return
        rel = unquote(raw_path[len(prefix) :]) or "/"
        if len(rel) > 1:
            rel = rel.rstrip("/") or "/"
        undocumented = bool(_UNDOCUMENTED_TEAM.match(rel))
        if undocumented:
            with self._lock:
                self.undocumented_calls.append((method, raw_path))
        version = (rec.api_version or "").strip()
        if version:
            if version not in API_VERSIONS:
                answer(self._unsupported_version(version))
                return
            selected = version
        _, low, _, secret = self._auth_header(h.headers.get("Authorization"))
        if rec.auth_scheme is None:
            answer(ApiError(401, "Requires authentication"))
            return
        try:
            principal = self._principal(low, secret, rel)
        except ApiError as err:
            answer(err)
            return
        counted = False
        if rel != "/rate_limit":
            if not self._count_primary():
                who = (
                    f"installation ID {principal.installation.id}"
                    if principal.installation is not None
                    else f"user ID {principal.account.id if principal.account else self._bot().id}"
                )
                answer(ApiError(403, f"API rate limit exceeded for {who}.", documentation_url=PRIMARY_DOCS))
                return
            counted = True
        if method in WRITE_METHODS:
            retry = self._admit_write()
            if retry is not None:
                answer(self._secondary_error(rid, retry))
                return
        req = _Req(method, raw_path, rel, query, h.headers, body)
        with self._lock:
            self._actor = principal
            try:
                if undocumented and not self.allow_undocumented_routes:
                    raise _not_found()  # the same answer as any route GitHub does not have
                if principal.kind == "installation":
                    self._check_installation(req, principal)
                status, data, headers = self._dispatch(req)
            except ApiError as err:
                status, data, headers = err.status, err.body, err.headers
            except Exception:  # a bug in the fake: answer 500 and keep the traceback
                self.server_errors.append(traceback.format_exc())
                status, data, headers = (
                    500,
                    {"message": "Server Error", "documentation_url": DOCS},
                    {},
                )
            finally:
                self._actor = None
        payload = b"" if data is None else json.dumps(data).encode()
        out_headers = headers_for(headers)
        if method in ("GET", "HEAD") and status == 200:
            etag = 'W/"' + hashlib.sha256(payload).hexdigest()[:32] + '"'
            out_headers["etag"] = etag
            inm = h.headers.get("If-None-Match")
            if inm and etag in [t.strip() for t in inm.split(",")]:
                if counted:  # conditional hits are free on GitHub
                    with self._lock:
                        self._primary_used = max(0, self._primary_used - 1)
                out_headers = headers_for({"etag": etag})
                self._send(h, rec, 304, b"", out_headers)
                return
        self._send(h, rec, status, payload, out_headers)

    def _send_fault(
        self,
        h: BaseHTTPRequestHandler,
        rec: RequestRecord,
        rid: str,
        fault: list,
        api: bool,
    ) -> None:
        _, _, status, body, headers, _ = fault
        if body is None:
            try:
                phrase = HTTPStatus(status).phrase
            except ValueError:
                phrase = "Error"
            body = {"message": phrase, "documentation_url": DOCS}
        if isinstance(body, (dict, list)):
            payload = json.dumps(body).encode()
        elif isinstance(body, str):
            payload = body.encode()
        else:
            payload = bytes(body)
        out = (self._json_headers(rid) if api else {"content-type": "text/plain"}) | headers
        self._send(h, rec, status, payload, out, close=not api and self._has_body(h))

    def _dispatch(self, req: _Req) -> tuple[int, Any, dict[str, str]]:
        for method, rx, fn in self._routes:
            if method != req.method and not (req.method == "HEAD" and method == "GET"):
                continue
            m = rx.match(req.path)
            if m:
                result = fn(req, *m.groups())
                if len(result) == 2:
                    return result[0], result[1], {}
                return result
        raise _not_found()

    # -- git smart HTTP -------------------------------------------------------------------------
    def _serve_git(
        self,
        h: BaseHTTPRequestHandler,
        rec: RequestRecord,
        m: re.Match,
        query: str,
        over: bool,
    ) -> None:
        method = rec.method
        org, name, suffix = unquote(m.group(1)), unquote(m.group(2)), m.group(3)
        rid = self._request_id()
        pending = self._has_body(h)

        def reply(status: int, text: str, headers: dict[str, str] | None = None) -> None:
            out = {
                "content-type": "text/plain; charset=utf-8",
                "x-github-request-id": rid,
            } | (headers or {})
            self._send(h, rec, status, text.encode(), out, close=pending)

        if over:
            err = self._secondary_error(rid, 1)
            reply(403, err.body["message"] + "\n", err.headers)
            return
        self._wait(method, rec.path, api=False)
        fault = self._take_fault(method, rec.path)
        if fault is not None:
            self._send_fault(h, rec, rid, fault, api=False)
            return
        _, _, user, secret = self._auth_header(h.headers.get("Authorization"))
        principal: _Principal | None = None
        if secret and secret == self.token:
            principal = _Principal("user", account=self._bot())
        elif secret:
            try:
                principal = self._live_installation_token(secret)
            except ApiError:  # expired or revoked
                principal = None
        if principal is None:
            reply(
                401,
                "Invalid username or token.\n",
                {"www-authenticate": 'Basic realm="GitHub"'},
            )
            return
        service = dict(parse_qsl(query)).get("service")
        with self._lock:
            repo = self._lookup_repo(org, name)
            if repo is not None and principal.kind == "installation" and not self._installation_sees(principal, repo):
                repo = None
        if repo is None:
            reply(404, "Repository not found.\n")
            return
        if principal.kind == "installation":
            writing = suffix == "git-receive-pack" or service == "git-receive-pack"
            if not self._granted(principal, "contents", "write" if writing else "read"):
                login = principal.account.login if principal.account else "x-access-token"
                reply(403, f"Permission to {repo.org}/{repo.name}.git denied to {login}.\n")
                return
        if suffix == "info/refs" and service not in (
            "git-upload-pack",
            "git-receive-pack",
        ):
            reply(404, "Not Found\n")
            return
        if method != ("GET" if suffix == "info/refs" else "POST"):
            reply(404, "Not Found\n")
            return
        pushing = suffix == "git-receive-pack"
        # git's "probe" POST (a lone flush packet, sent before a large push) creates nothing
        probe = h.headers.get("Content-Length") == "4"
        if pushing and method == "POST" and not probe:
            retry = self._admit_write()
            if retry is not None:
                err = self._secondary_error(rid, retry)
                reply(403, err.body["message"] + "\n", err.headers)
                return
            with self._lock:
                was_empty = not self._heads(repo)
            self._run_cgi(h, rec, repo, suffix, query, user or "x-access-token")
            with self._lock:
                if self._repos.get(repo.id) is repo:
                    self._after_ref_change(repo, was_empty=was_empty)
        else:
            self._run_cgi(h, rec, repo, suffix, query, user or "x-access-token")

    def _run_cgi(
        self,
        h: BaseHTTPRequestHandler,
        rec: RequestRecord,
        repo: _Repo,
        suffix: str,
        query: str,
        user: str,
    ) -> None:
        with self._lock:
            if not repo.git_ready:
                self._init_git(repo)
        env = self._git_env(
            {
                "GIT_PROJECT_ROOT": self._root,
                "GIT_HTTP_EXPORT_ALL": "1",
                "PATH_INFO": f"/{repo.id}.git/{suffix}",
                "QUERY_STRING": query,
                "REQUEST_METHOD": rec.method,
                "CONTENT_TYPE": h.headers.get("Content-Type", ""),
                "REMOTE_USER": user,
                "REMOTE_ADDR": h.client_address[0],
                "SERVER_PROTOCOL": "HTTP/1.1",
                "GATEWAY_INTERFACE": "CGI/1.1",
                "SERVER_SOFTWARE": "fake-github",
            }
        )
        env.pop("GIT_LITERAL_PATHSPECS", None)
        chunked = "chunked" in h.headers.get("Transfer-Encoding", "").lower()
        if not chunked and h.headers.get("Content-Length") is not None:
            env["CONTENT_LENGTH"] = h.headers["Content-Length"]
        if h.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = h.headers["Content-Encoding"]
        if h.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = h.headers["Git-Protocol"]
            env["HTTP_GIT_PROTOCOL"] = h.headers["Git-Protocol"]
        proc = subprocess.Popen(
            [HTTP_BACKEND],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        errors: list[bytes] = []
        body_error: list[BaseException] = []

        def feed() -> None:
            broken = False
            try:
                for chunk in self._iter_body(h):
                    if broken:
                        continue
                    try:
                        proc.stdin.write(chunk)  # type: ignore[union-attr]
                    except (BrokenPipeError, OSError):
                        broken = True
            except BaseException as exc:  # surfaced below
                body_error.append(exc)
            finally:
                try:
                    proc.stdin.close()  # type: ignore[union-attr]
                except OSError:
                    pass

        feeder = threading.Thread(target=feed, daemon=True)
        drain = threading.Thread(target=lambda: errors.append(proc.stderr.read()), daemon=True)  # type: ignore[union-attr]
        feeder.start()
        drain.start()
        out = proc.stdout  # type: ignore[assignment]
        status, headers = 200, {}
        while True:
            line = out.readline()
            if not line or line in (b"\r\n", b"\n"):
                break
            key, _, value = line.decode("latin-1").rstrip("\r\n").partition(":")
            if key.lower() == "status":
                status = int(value.strip().split()[0])
            else:
                headers[key.strip()] = value.strip()
        rec.status = status
        h.send_response(status)
        for key, value in headers.items():
            h.send_header(key, value)
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        try:
            while True:
                data = out.read1(65536)
                if not data:
                    break
                h.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            h.wfile.write(b"0\r\n\r\n")
        finally:
            proc.wait()
            feeder.join()
            drain.join()
        if body_error:
            h.close_connection = True

    # ==========================================================================================
    # JSON shapes
    # ==========================================================================================
    def _bot(self) -> _Account:
        return self._accounts[self.bot_login.lower()]

    def _me(self) -> _Account:
        """The account the request being dispatched acts as (the fake's user outside requests)."""
        actor = self._actor
        return actor.account if actor is not None and actor.account is not None else self._bot()

    def _user_json(self, acct: _Account, full: bool = False) -> dict:
        api, login = self.api_url, acct.login
        data = {
            "login": login,
            "id": acct.id,
            "node_id": _node_id(acct.type, acct.id),
            "avatar_url": f"https://avatars.githubusercontent.com/u/{acct.id}?v=4",
            "gravatar_id": "",
            "url": f"{api}/users/{login}",
            "html_url": f"{self.git_base}/{login}",
            "followers_url": f"{api}/users/{login}/followers",
            "following_url": f"{api}/users/{login}/following{{/other_user}}",
            "gists_url": f"{api}/users/{login}/gists{{/gist_id}}",
            "starred_url": f"{api}/users/{login}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{api}/users/{login}/subscriptions",
            "organizations_url": f"{api}/users/{login}/orgs",
            "repos_url": f"{api}/users/{login}/repos",
            "events_url": f"{api}/users/{login}/events{{/privacy}}",
            "received_events_url": f"{api}/users/{login}/received_events",
            "type": acct.type,
            "user_view_type": "public",
            "site_admin": False,
        }
        if full:
            data.update(
                {
                    "name": acct.name,
                    "company": None,
                    "blog": "",
                    "location": None,
                    "email": acct.email,
                    "hireable": None,
                    "bio": None,
                    "twitter_username": None,
                    "public_repos": 0,
                    "public_gists": 0,
                    "followers": 0,
                    "following": 0,
                    "created_at": _iso(acct.created_at),
                    "updated_at": _iso(acct.created_at),
                }
            )
        return data

    def _org_json(self, org: _Account) -> dict:
        api, login = self.api_url, org.login
        repos = [r for r in self._repos.values() if r.org == org.login]
        return {
            "login": login,
            "id": org.id,
            "node_id": _node_id("Organization", org.id),
            "url": f"{api}/orgs/{login}",
            "repos_url": f"{api}/orgs/{login}/repos",
            "events_url": f"{api}/orgs/{login}/events",
            "hooks_url": f"{api}/orgs/{login}/hooks",
            "issues_url": f"{api}/orgs/{login}/issues",
            "members_url": f"{api}/orgs/{login}/members{{/member}}",
            "public_members_url": f"{api}/orgs/{login}/public_members{{/member}}",
            "avatar_url": f"https://avatars.githubusercontent.com/u/{org.id}?v=4",
            "description": None,
            "name": org.name,
            "company": None,
            "blog": "",
            "location": None,
            "email": None,
            "twitter_username": None,
            "is_verified": False,
            "has_organization_projects": True,
            "has_repository_projects": True,
            "public_repos": sum(1 for r in repos if not r.private),
            "public_gists": 0,
            "followers": 0,
            "following": 0,
            "html_url": f"{self.git_base}/{login}",
            "created_at": _iso(org.created_at),
            "updated_at": _iso(org.created_at),
            "archived_at": None,
            "type": "Organization",
            "total_private_repos": sum(1 for r in repos if r.private),
            "owned_private_repos": sum(1 for r in repos if r.private),
            "private_gists": 0,
            "disk_usage": sum(self._repo_size(r) for r in repos),
            "collaborators": 0,
            "billing_email": None,
            "default_repository_permission": "read",
            "members_can_create_repositories": False,
            "two_factor_requirement_enabled": False,
            "plan": {
                "name": "team",
                "space": 976562499,
                "private_repos": 999999,
                "filled_seats": 1,
                "seats": 5,
            },
        }

    def _repo_api(self, repo: _Repo) -> str:
        return f"{self.api_url}/repos/{repo.org}/{repo.name}"

    def _repo_html(self, repo: _Repo) -> str:
        return f"{self.git_base}/{repo.org}/{repo.name}"

    def _repo_json(self, repo: _Repo, permission: str | None = "admin", full: bool = True) -> dict:
        base, html = self._repo_api(repo), self._repo_html(repo)
        org = self._accounts[repo.org.lower()]
        data: dict[str, Any] = {
            "id": repo.id,
            "node_id": _node_id("Repository", repo.id),
            "name": repo.name,
            "full_name": f"{repo.org}/{repo.name}",
            "private": repo.private,
            "owner": self._user_json(org),
            "html_url": html,
            "description": repo.description,
            "fork": False,
            "url": base,
            "forks_url": f"{base}/forks",
            "keys_url": f"{base}/keys{{/key_id}}",
            "collaborators_url": f"{base}/collaborators{{/collaborator}}",
            "teams_url": f"{base}/teams",
            "hooks_url": f"{base}/hooks",
            "issue_events_url": f"{base}/issues/events{{/number}}",
            "events_url": f"{base}/events",
            "assignees_url": f"{base}/assignees{{/user}}",
            "branches_url": f"{base}/branches{{/branch}}",
            "tags_url": f"{base}/tags",
            "blobs_url": f"{base}/git/blobs{{/sha}}",
            "git_tags_url": f"{base}/git/tags{{/sha}}",
            "git_refs_url": f"{base}/git/refs{{/sha}}",
            "trees_url": f"{base}/git/trees{{/sha}}",
            "statuses_url": f"{base}/statuses/{{sha}}",
            "languages_url": f"{base}/languages",
            "stargazers_url": f"{base}/stargazers",
            "contributors_url": f"{base}/contributors",
            "subscribers_url": f"{base}/subscribers",
            "subscription_url": f"{base}/subscription",
            "commits_url": f"{base}/commits{{/sha}}",
            "git_commits_url": f"{base}/git/commits{{/sha}}",
            "comments_url": f"{base}/comments{{/number}}",
            "issue_comment_url": f"{base}/issues/comments{{/number}}",
            "contents_url": f"{base}/contents/{{+path}}",
            "compare_url": f"{base}/compare/{{base}}...{{head}}",
            "merges_url": f"{base}/merges",
            "archive_url": f"{base}/{{archive_format}}{{/ref}}",
            "downloads_url": f"{base}/downloads",
            "issues_url": f"{base}/issues{{/number}}",
            "pulls_url": f"{base}/pulls{{/number}}",
            "milestones_url": f"{base}/milestones{{/number}}",
            "notifications_url": f"{base}/notifications{{?since,all,participating}}",
            "labels_url": f"{base}/labels{{/name}}",
            "releases_url": f"{base}/releases{{/id}}",
            "deployments_url": f"{base}/deployments",
            "created_at": _iso(repo.created_at),
            "updated_at": _iso(repo.updated_at),
            "pushed_at": _iso(repo.pushed_at),
            "git_url": f"git://127.0.0.1:{self._port}/{repo.org}/{repo.name}.git",
            "ssh_url": f"git@127.0.0.1:{repo.org}/{repo.name}.git",
            "clone_url": f"{self.git_base}/{repo.org}/{repo.name}.git",
            "svn_url": html,
            "homepage": repo.homepage,
            "size": self._repo_size(repo),
            "stargazers_count": 0,
            "watchers_count": 0,
            "language": None,
            "has_issues": repo.has_issues,
            "has_projects": repo.has_projects,
            "has_downloads": repo.has_downloads,
            "has_wiki": repo.has_wiki,
            "has_pages": False,
            "has_discussions": False,
            "forks_count": 0,
            "mirror_url": None,
            "archived": repo.archived,
            "disabled": False,
            "open_issues_count": 0,
            "license": None,
            "allow_forking": True,
            "is_template": repo.is_template,
            "web_commit_signoff_required": False,
            "topics": [],
            "visibility": repo.visibility,
            "forks": 0,
            "open_issues": 0,
            "watchers": 0,
            "default_branch": repo.default_branch,
        }
        if permission is not None:
            data["permissions"] = _perm_json(permission)
        if full:
            data.update(
                {
                    "temp_clone_token": "",
                    "allow_squash_merge": True,
                    "allow_merge_commit": True,
                    "allow_rebase_merge": True,
                    "allow_auto_merge": False,
                    "delete_branch_on_merge": False,
                    "allow_update_branch": False,
                    "use_squash_pr_title_as_default": False,
                    "organization": self._user_json(org),
                    "network_count": 0,
                    "subscribers_count": 0,
                }
            )
        return data

    def _team_url(self, team: _Team) -> str:
        org = self._accounts[team.org.lower()]
        return f"{self.api_url}/organizations/{org.id}/team/{team.id}"

    def _team_json(self, team: _Team, full: bool = False) -> dict:
        org = self._accounts[team.org.lower()]
        url = self._team_url(team)
        data: dict[str, Any] = {
            "name": team.name,
            "id": team.id,
            "node_id": _node_id("Team", team.id),
            "slug": team.slug,
            "description": team.description,
            "privacy": team.privacy,
            "notification_setting": team.notification_setting,
            "url": url,
            "html_url": f"{self.git_base}/orgs/{org.login}/teams/{team.slug}",
            "members_url": f"{url}/members{{/member}}",
            "repositories_url": f"{url}/repos",
            "type": "organization",
            "organization_id": org.id,
            "permission": team.permission,
            "parent": None,
        }
        if full:
            data.update(
                {
                    "members_count": len(team.members),
                    "repos_count": sum(1 for rid in team.repo_perms if rid in self._repos),
                    "created_at": _iso(team.created_at),
                    "updated_at": _iso(team.updated_at),
                    "organization": self._org_json(org),
                }
            )
        return data

    def _hook_json(self, repo: _Repo, hook: dict) -> dict:
        url = f"{self._repo_api(repo)}/hooks/{hook['id']}"
        config = {k: v for k, v in hook["config"].items() if k != "secret"}
        if hook["config"].get("secret"):
            config["secret"] = "********"
        return {
            "type": "Repository",
            "id": hook["id"],
            "name": hook["name"],
            "active": hook["active"],
            "events": list(hook["events"]),
            "config": config,
            "updated_at": _iso(hook["updated_at"]),
            "created_at": _iso(hook["created_at"]),
            "url": url,
            "test_url": f"{url}/test",
            "ping_url": f"{url}/pings",
            "deliveries_url": f"{url}/deliveries",
            "last_response": {"code": None, "status": "unused", "message": None},
        }

    @staticmethod
    def _verification() -> dict:
        return {
            "verified": False,
            "reason": "unsigned",
            "signature": None,
            "payload": None,
            "verified_at": None,
        }

    def _linked_user(self, email: str) -> dict | None:
        for acct in self._accounts.values():
            if acct.email and acct.email.lower() == email.lower():
                return self._user_json(acct)
        return None

    def _git_commit_json(self, repo: _Repo, sha: str, info: dict) -> dict:
        base, html = self._repo_api(repo), self._repo_html(repo)
        return {
            "sha": sha,
            "node_id": _node_id("Commit", sha),
            "url": f"{base}/git/commits/{sha}",
            "html_url": f"{html}/commit/{sha}",
            "author": dict(info["author"]),
            "committer": dict(info["committer"]),
            "tree": {"sha": info["tree"], "url": f"{base}/git/trees/{info['tree']}"},
            "message": info["message"],
            "parents": [
                {
                    "sha": p,
                    "url": f"{base}/git/commits/{p}",
                    "html_url": f"{html}/commit/{p}",
                }
                for p in info["parents"]
            ],
            "verification": self._verification(),
        }

    def _rest_commit_json(self, repo: _Repo, sha: str, info: dict) -> dict:
        base, html = self._repo_api(repo), self._repo_html(repo)
        return {
            "sha": sha,
            "node_id": _node_id("Commit", sha),
            "commit": {
                "author": dict(info["author"]),
                "committer": dict(info["committer"]),
                "message": info["message"],
                "tree": {
                    "sha": info["tree"],
                    "url": f"{base}/git/trees/{info['tree']}",
                },
                "url": f"{base}/git/commits/{sha}",
                "comment_count": 0,
                "verification": self._verification(),
            },
            "url": f"{base}/commits/{sha}",
            "html_url": f"{html}/commit/{sha}",
            "comments_url": f"{base}/commits/{sha}/comments",
            "author": self._linked_user(info["author"]["email"]),
            "committer": self._linked_user(info["committer"]["email"]),
            "parents": [
                {
                    "sha": p,
                    "url": f"{base}/commits/{p}",
                    "html_url": f"{html}/commit/{p}",
                }
                for p in info["parents"]
            ],
        }

    def _ref_json(self, repo: _Repo, refname: str, sha: str) -> dict:
        base = self._repo_api(repo)
        typ = self._object_type(repo, sha) or "commit"
        kind = {
            "commit": "commits",
            "tag": "tags",
            "tree": "trees",
            "blob": "blobs",
        }.get(typ, "commits")
        return {
            "ref": refname,
            "node_id": _node_id("Ref", f"{repo.id}:{refname}"),
            "url": f"{base}/git/{quote(refname)}",
            "object": {"sha": sha, "type": typ, "url": f"{base}/git/{kind}/{sha}"},
        }

    def _content_json(self, repo: _Repo, entry: tuple, ref: str, blob: bytes | None = None) -> dict:
        mode, typ, sha, size, path = entry
        base, html = self._repo_api(repo), self._repo_html(repo)
        kind = {"tree": "dir", "commit": "submodule"}.get(typ, "symlink" if mode == "120000" else "file")
        url = f"{base}/contents/{quote(path)}?ref={quote(ref, safe='')}"
        git_url = f"{base}/git/{'trees' if typ == 'tree' else 'blobs'}/{sha}" if typ != "commit" else None
        html_url = f"{html}/{'tree' if typ == 'tree' else 'blob'}/{ref}/{path}"
        data: dict[str, Any] = {
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "sha": sha,
            "size": size or 0,
            "url": url,
            "html_url": html_url,
            "git_url": git_url,
            "download_url": f"{html}/raw/{ref}/{path}" if typ == "blob" else None,
            "type": kind,
        }
        if blob is not None:
            if len(blob) > MAX_INLINE_CONTENT:
                data.update(content="", encoding="none")
            else:
                data.update(content=_b64lines(blob), encoding="base64")
        data["_links"] = {"self": url, "git": git_url, "html": html_url}
        return data

    # ==========================================================================================
    # routing
    # ==========================================================================================
    def _build_routes(self) -> None:
        def add(method: str, pattern: str, fn: Callable) -> None:
            self._routes.append((method, re.compile(f"^{pattern}$", re.S), fn))

        add("GET", r"/", self._h_root)
        add("GET", r"/rate_limit", self._h_rate_limit)
        add("GET", r"/user", self._h_user)
        add("GET", r"/user/repos", self._h_user_repos)
        add("GET", r"/user/orgs", self._h_user_orgs)
        add("GET", r"/users/([^/]+)", self._h_get_user)
        add("GET", r"/orgs/([^/]+)", self._h_get_org)
        add("GET", r"/orgs/([^/]+)/members", self._h_org_members)
        add("GET", r"/orgs/([^/]+)/members/([^/]+)", self._h_org_member)
        add("GET", r"/orgs/([^/]+)/memberships/([^/]+)", self._h_org_membership)
        add("GET", r"/orgs/([^/]+)/repos", self._h_org_repos)
        add("POST", r"/orgs/([^/]+)/repos", self._h_create_repo)
        add("GET", r"/app", self._h_app)
        add("GET", r"/app/installations", self._h_app_installations)
        add("GET", r"/app/installations/(\d+)", self._h_app_installation)
        add("POST", r"/app/installations/(\d+)/access_tokens", self._h_create_installation_token)
        add("GET", r"/orgs/([^/]+)/installation", self._h_org_installation)
        add("GET", r"/repos/([^/]+)/([^/]+)/installation", self._h_repo_installation)
        add("GET", r"/users/([^/]+)/installation", self._h_user_installation)
        add("GET", r"/installation/repositories", self._h_installation_repos)
        add("DELETE", r"/installation/token", self._h_revoke_installation_token)
        add("GET", r"/orgs/([^/]+)/teams", self._h_list_teams)
        add("POST", r"/orgs/([^/]+)/teams", self._h_create_team)

        team_routes = [
            ("GET", "", self._h_get_team),
            ("PATCH", "", self._h_edit_team),
            ("DELETE", "", self._h_delete_team),
            ("GET", "/members", self._h_team_members),
            ("GET", "/members/([^/]+)", self._h_team_member_legacy_get),
            ("PUT", "/members/([^/]+)", self._h_team_member_legacy_put),
            ("DELETE", "/members/([^/]+)", self._h_team_member_legacy_delete),
            ("GET", "/memberships/([^/]+)", self._h_get_membership),
            ("PUT", "/memberships/([^/]+)", self._h_put_membership),
            ("DELETE", "/memberships/([^/]+)", self._h_delete_membership),
            ("GET", "/repos", self._h_team_repos),
            ("GET", "/repos/([^/]+)/([^/]+)", self._h_team_repo_get),
            ("PUT", "/repos/([^/]+)/([^/]+)", self._h_team_repo_put),
            ("DELETE", "/repos/([^/]+)/([^/]+)", self._h_team_repo_delete),
            ("GET", "/teams", self._h_team_children),
        ]
        team_prefixes = [
            (r"/orgs/([^/]+)/teams/([^/]+)", self._team_by_slug),
            (r"/organizations/(\d+)/team/(\d+)", self._team_by_org_id),
            (r"/teams/(\d+)", self._team_by_id),
        ]
        for prefix, resolver in team_prefixes:
            n = re.compile(prefix).groups
            for method, suffix, fn in team_routes:
                add(method, prefix + suffix, self._with(resolver, n, fn))

        repo_routes = [
            ("GET", "", self._h_get_repo),
            ("PATCH", "", self._h_edit_repo),
            ("DELETE", "", self._h_delete_repo),
            ("GET", "/teams", self._h_repo_teams),
            ("GET", "/hooks", self._h_list_hooks),
            ("POST", "/hooks", self._h_create_hook),
            ("GET", r"/hooks/(\d+)", self._h_get_hook),
            ("PATCH", r"/hooks/(\d+)", self._h_edit_hook),
            ("DELETE", r"/hooks/(\d+)", self._h_delete_hook),
            ("POST", r"/hooks/(\d+)/pings", self._h_ping_hook),
            ("POST", r"/hooks/(\d+)/tests", self._h_ping_hook),
            ("GET", r"/contents(?:/(.*))?", self._h_get_contents),
            ("PUT", r"/contents/(.+)", self._h_put_contents),
            ("DELETE", r"/contents/(.+)", self._h_delete_contents),
            ("GET", "/commits", self._h_list_commits),
            ("GET", r"/commits/(.+)", self._h_get_commit),
            ("GET", "/branches", self._h_list_branches),
            ("GET", r"/branches/(.+)", self._h_get_branch),
            ("GET", r"/git/ref/(.+)", self._h_git_ref),
            ("GET", r"/git/refs", self._h_git_refs_all),
            ("GET", r"/git/refs/(.+)", self._h_git_refs),
            ("GET", r"/git/matching-refs/(.*)", self._h_git_matching_refs),
            ("POST", r"/git/refs", self._h_create_ref),
            ("PATCH", r"/git/refs/(.+)", self._h_update_ref),
            ("DELETE", r"/git/refs/(.+)", self._h_delete_ref),
            ("GET", r"/git/commits/([^/]+)", self._h_git_commit),
            ("POST", r"/git/commits", self._h_create_git_commit),
            ("GET", r"/git/trees/(.+)", self._h_git_tree),
            ("POST", r"/git/trees", self._h_create_tree),
            ("GET", r"/git/blobs/([^/]+)", self._h_git_blob),
            ("POST", r"/git/blobs", self._h_create_blob),
        ]
        for method, suffix, fn in repo_routes:
            add(
                method,
                r"/repos/([^/]+)/([^/]+)" + suffix,
                self._with(self._repo_or_404, 2, fn),
            )

    @staticmethod
    def _with(resolver: Callable, n: int, fn: Callable) -> Callable:
        def handler(req: _Req, *groups: str) -> Any:
            return fn(req, resolver(*groups[:n]), *groups[n:])

        return handler

    # -- installation tokens: what an installation may reach ----------------------------------
    _LEVELS = {"read": 1, "write": 2, "admin": 3}

    def _granted(self, principal: _Principal, permission: str, level: str) -> bool:
        perms = principal.token.permissions if principal.token is not None else {}
        have = self._LEVELS.get(perms.get(permission, ""), 0)
        return have >= self._LEVELS[level]

    def _installation_sees(self, principal: _Principal, repo: _Repo) -> bool:
        inst, tok = principal.installation, principal.token
        if inst is None or repo.org.lower() != inst.org.lower():
            return False
        return tok is None or tok.repo_ids is None or repo.id in tok.repo_ids

    def _check_installation(self, req: _Req, principal: _Principal) -> None:
        """GitHub's rules for an installation token: its org only, within its permissions."""
        rel, write = req.path, req.method not in ("GET", "HEAD")
        level = "write" if write else "read"
        inst = principal.installation
        assert inst is not None
        if rel == "/user" or rel.startswith("/user/"):
            err = _not_integration()
            if rel == "/user":
                err.body["documentation_url"] = f"{DOCS}/users/users#get-the-authenticated-user"
            raise err
        if rel.startswith("/installation/"):
            return
        org_login: str | None = None
        need: str | None = None
        m = re.match(r"^/repos/([^/]+)/([^/]+)(/[^/]+)?", rel)
        if m:
            repo = self._lookup_repo(m.group(1), m.group(2))
            if repo is None or not self._installation_sees(principal, repo):
                raise _not_found()
            sub = (m.group(3) or "").lstrip("/")
            if sub in ("contents", "commits", "branches", "git"):
                need = "contents"
            elif sub == "hooks":
                need = "repository_hooks"
            elif sub == "":
                need = "administration" if write else "metadata"
            else:
                need = "metadata" if not write else "administration"
        else:
            m = re.match(r"^/orgs/([^/]+)(?:/([^/]+))?", rel)
            team = None
            if m:
                org_login, sub = m.group(1), m.group(2)
                if sub is None:
                    need = None if not write else "administration"
                elif sub == "repos":
                    need = "administration" if write else "metadata"
                else:  # teams, members, memberships
                    need = "members"
            elif m := re.match(r"^/teams/(\d+)", rel):
                team = self._teams.get(int(m.group(1)))
            elif m := re.match(r"^/organizations/(\d+)/team/(\d+)", rel):
                team = self._teams.get(int(m.group(2)))
            if team is not None:
                org_login, need = team.org, "members"
            elif rel.startswith(("/teams/", "/organizations/")):
                raise _not_found()
            if org_login is not None and org_login.lower() != inst.org.lower() and need is not None:
                if write:
                    raise _not_integration()
                raise _not_found()
        if need is not None and not self._granted(principal, need, level):
            raise _not_integration()

    # -- resolvers ------------------------------------------------------------------------------
    def _org_or_404(self, login: str) -> _Account:
        acct = self._accounts.get(login.lower())
        if acct is None or acct.type != "Organization":
            raise _not_found()
        return acct

    def _user_or_404(self, login: str) -> _Account:
        acct = self._accounts.get(login.lower())
        if acct is None or acct.type != "User":
            raise _not_found()
        return acct

    def _repo_or_404(self, org: str, name: str) -> _Repo:
        repo = self._lookup_repo(org, name)
        if repo is None:
            raise _not_found()
        return repo

    def _team_by_slug(self, org: str, slug: str) -> _Team:
        o = self._org_or_404(org)
        team = self._find_team(o.login, slug)
        if team is None:
            raise _not_found()
        return team

    def _team_by_org_id(self, org_id: str, team_id: str) -> _Team:
        team = self._teams.get(int(team_id))
        if team is None or self._accounts[team.org.lower()].id != int(org_id):
            raise _not_found()
        return team

    def _team_by_id(self, team_id: str) -> _Team:
        team = self._teams.get(int(team_id))
        if team is None:
            raise _not_found()
        return team

    def _nonempty(self, repo: _Repo) -> None:
        if self._is_empty(repo):
            raise ApiError(409, "Git Repository is empty.")

    # -- pagination -------------------------------------------------------------------------------
    def _page(self, req: _Req, items: list, default: int = 30, maximum: int = 100) -> tuple[list, dict[str, str]]:
        try:
            per_page = int(req.q.get("per_page", default))
        except ValueError:
            per_page = default
        if per_page < 1:
            per_page = default
        per_page = min(per_page, maximum)
        try:
            page = max(1, int(req.q.get("page", 1)))
        except ValueError:
            page = 1
        last = max(1, math.ceil(len(items) / per_page))
        chunk = items[(page - 1) * per_page : page * per_page]

        def link(p: int, rel: str) -> str:
            pairs, seen = [], False
            for k, v in req.pairs:
                if k == "page":
                    if not seen:
                        pairs.append(("page", str(p)))
                        seen = True
                    continue
                pairs.append((k, v))
            if not seen:
                pairs.append(("page", str(p)))
            return f'<{self.git_base}{req.raw_path}?{urlencode(pairs)}>; rel="{rel}"'

        links = []
        if page > 1:
            links.append(link(min(page - 1, last), "prev"))
        if page < last:
            links.append(link(page + 1, "next"))
            links.append(link(last, "last"))
        if page > 1:
            links.append(link(1, "first"))
        return chunk, ({"link": ", ".join(links)} if links else {})

    def _paged(self, req: _Req, items: list, render: Callable[[Any], Any], **kw: Any) -> tuple[int, Any, dict]:
        chunk, headers = self._page(req, items, **kw)
        return 200, [render(x) for x in chunk], headers

    # ==========================================================================================
    # handlers: users, orgs
    # ==========================================================================================
    def _h_root(self, req: _Req) -> tuple:
        api = self.api_url
        return 200, {
            "current_user_url": f"{api}/user",
            "organization_url": f"{api}/orgs/{{org}}",
            "repository_url": f"{api}/repos/{{owner}}/{{repo}}",
            "user_url": f"{api}/users/{{user}}",
            "rate_limit_url": f"{api}/rate_limit",
        }

    def _h_rate_limit(self, req: _Req) -> tuple:
        h = self._rate_headers()
        core = {
            "limit": int(h["x-ratelimit-limit"]),
            "remaining": int(h["x-ratelimit-remaining"]),
            "reset": int(h["x-ratelimit-reset"]),
            "used": int(h["x-ratelimit-used"]),
            "resource": "core",
        }
        other = {"limit": 30, "remaining": 30, "reset": core["reset"], "used": 0}
        return 200, {
            "resources": {
                "core": core,
                "search": other | {"resource": "search"},
                "graphql": {**core, "resource": "graphql"},
            },
            "rate": core,
        }

    def _h_user(self, req: _Req) -> tuple:
        data = self._user_json(self._me(), full=True)
        data.update(
            {
                "private_gists": 0,
                "total_private_repos": 0,
                "owned_private_repos": 0,
                "disk_usage": 0,
                "collaborators": 0,
                "two_factor_authentication": True,
                "plan": {
                    "name": "free",
                    "space": 976562499,
                    "collaborators": 0,
                    "private_repos": 10000,
                },
            }
        )
        return 200, data

    def _h_user_repos(self, req: _Req) -> tuple:
        repos = sorted(self._repos.values(), key=lambda r: f"{r.org}/{r.name}".lower())
        return self._paged(req, repos, lambda r: self._repo_json(r, full=False))

    def _h_user_orgs(self, req: _Req) -> tuple:
        bot = self.bot_login.lower()
        orgs = [a for a in self._accounts.values() if a.type == "Organization" and bot in a.members]
        return self._paged(
            req,
            orgs,
            lambda o: self._user_json(o) | {"url": f"{self.api_url}/orgs/{o.login}"},
        )

    def _h_get_user(self, req: _Req, login: str) -> tuple:
        acct = self._accounts.get(login.lower())
        if acct is None:
            raise _not_found()
        return 200, self._user_json(acct, full=True)

    def _h_get_org(self, req: _Req, org: str) -> tuple:
        return 200, self._org_json(self._org_or_404(org))

    def _h_org_members(self, req: _Req, org: str) -> tuple:
        o = self._org_or_404(org)
        role = req.q.get("role", "all")
        if role not in ("all", "admin", "member"):
            raise _validation([{"resource": "Organization", "field": "role", "code": "invalid"}])
        logins = sorted(o.members)
        if role == "admin":
            logins = [x for x in logins if x in o.admins]
        elif role == "member":
            logins = [x for x in logins if x not in o.admins]
        accts = [self._accounts[x] for x in logins if x in self._accounts]
        return self._paged(req, accts, self._user_json)

    def _h_org_member(self, req: _Req, org: str, login: str) -> tuple:
        o = self._org_or_404(org)
        if login.lower() in o.members:
            return 204, None
        raise _not_found("User does not exist or is not a member of the organization")

    def _h_org_membership(self, req: _Req, org: str, login: str) -> tuple:
        o = self._org_or_404(org)
        if login.lower() not in o.members:
            raise _not_found()
        acct = self._accounts[login.lower()]
        return 200, {
            "url": f"{self.api_url}/orgs/{o.login}/memberships/{acct.login}",
            "state": "active",
            "role": "admin" if login.lower() in o.admins else "member",
            "organization_url": f"{self.api_url}/orgs/{o.login}",
            "organization": self._user_json(o) | {"url": f"{self.api_url}/orgs/{o.login}"},
            "user": self._user_json(acct),
        }

    # ==========================================================================================
    # handlers: GitHub Apps (JWT) and installations
    # ==========================================================================================
    def _actor_app(self) -> _App:
        actor = self._actor
        if actor is None or actor.app is None:
            raise _jwt_error("A JSON web token could not be decoded")
        return actor.app

    def _app_json(self, app: _App) -> dict:
        owner = self._accounts.get((app.owner or self.bot_login).lower()) or self._bot()
        installs = [i for i in self._installations.values() if i.app_id == app.id]
        perms: dict[str, str] = {}
        for inst in installs:
            for k, v in inst.permissions.items():
                if self._LEVELS.get(v, 0) > self._LEVELS.get(perms.get(k, ""), 0):
                    perms[k] = v
        return {
            "id": app.id,
            "slug": app.slug,
            "client_id": app.client_id,
            "node_id": _node_id("Integration", app.id),
            "owner": self._user_json(owner),
            "name": app.name,
            "description": "",
            "external_url": self.git_base,
            "html_url": f"{self.git_base}/apps/{app.slug}",
            "created_at": _iso(app.created_at),
            "updated_at": _iso(app.created_at),
            "permissions": perms or dict(DEFAULT_INSTALLATION_PERMISSIONS),
            "events": [],
            "installations_count": len(installs),
        }

    def _installation_json(self, inst: _Installation) -> dict:
        app = self._apps[inst.app_id]
        org = self._accounts[inst.org.lower()]
        api = self.api_url
        return {
            "id": inst.id,
            "client_id": app.client_id,
            "account": self._user_json(org),
            "repository_selection": "all",
            "access_tokens_url": f"{api}/app/installations/{inst.id}/access_tokens",
            "repositories_url": f"{api}/installation/repositories",
            "html_url": f"{self.git_base}/organizations/{org.login}/settings/installations/{inst.id}",
            "app_id": app.id,
            "app_slug": app.slug,
            "target_id": org.id,
            "target_type": "Organization",
            "permissions": dict(inst.permissions),
            "events": [],
            "created_at": _iso(inst.created_at),
            "updated_at": _iso(inst.updated_at),
            "single_file_name": None,
            "has_multiple_single_files": False,
            "single_file_paths": [],
            "suspended_by": None,
            "suspended_at": None,
        }

    def _own_installation(self, installation_id: str) -> _Installation:
        app = self._actor_app()
        inst = self._installations.get(int(installation_id))
        if inst is None or inst.app_id != app.id:
            raise _not_found()
        return inst

    def _h_app(self, req: _Req) -> tuple:
        return 200, self._app_json(self._actor_app())

    def _h_app_installations(self, req: _Req) -> tuple:
        app = self._actor_app()
        installs = sorted((i for i in self._installations.values() if i.app_id == app.id), key=lambda i: i.id)
        return self._paged(req, installs, self._installation_json)

    def _h_app_installation(self, req: _Req, installation_id: str) -> tuple:
        return 200, self._installation_json(self._own_installation(installation_id))

    def _installation_on(self, org_login: str) -> _Installation:
        app = self._actor_app()
        for inst in self._installations.values():
            if inst.app_id == app.id and inst.org.lower() == org_login.lower():
                return inst
        raise _not_found()

    def _h_org_installation(self, req: _Req, org: str) -> tuple:
        return 200, self._installation_json(self._installation_on(self._org_or_404(org).login))

    def _h_repo_installation(self, req: _Req, owner: str, name: str) -> tuple:
        self._actor_app()
        return 200, self._installation_json(self._installation_on(self._repo_or_404(owner, name).org))

    def _h_user_installation(self, req: _Req, login: str) -> tuple:
        self._actor_app()
        raise _not_found()  # the fake installs apps on organizations only

    def _h_create_installation_token(self, req: _Req, installation_id: str) -> tuple:
        inst = self._own_installation(installation_id)
        body = req.obj()
        wanted = _typed(body, "permissions", dict, "object")
        names = _typed(body, "repositories", list, "array")
        ids = _typed(body, "repository_ids", list, "array")
        permissions = dict(inst.permissions)
        if wanted:  # absent or {}: everything the installation has
            for key, level in wanted.items():
                if level not in ("read", "write", "admin"):
                    raise _invalid(f"For 'properties/{key}', {json.dumps(level)} is not a valid value.")
                if self._LEVELS[level] > self._LEVELS.get(inst.permissions.get(key, ""), 0):
                    raise ApiError(422, "The permissions requested are not granted to this installation.")
            permissions = {k: str(v) for k, v in wanted.items()}
            permissions.setdefault("metadata", "read")
        repo_ids: set[int] | None = None
        if names or ids:
            repo_ids = set()
            missing = ApiError(
                422,
                "There is at least one repository that does not exist or is not accessible to the parent installation.",
            )
            for repo_name in names or []:
                repo = self._lookup_repo(inst.org, str(repo_name))
                if repo is None:
                    raise missing
                repo_ids.add(repo.id)
            for rid in ids or []:
                repo = self._repos.get(rid) if isinstance(rid, int) else None
                if repo is None or repo.org.lower() != inst.org.lower():
                    raise missing
                repo_ids.add(repo.id)
        alphabet = string.ascii_letters + string.digits
        token = "ghs_" + "".join(secrets.choice(alphabet) for _ in range(36))
        ttl = self.installation_token_ttl
        tok = _InstallationToken(
            token,
            inst.id,
            expires=self.clock() + ttl,
            expires_at=self.wall_clock() + ttl,
            permissions=permissions,
            repo_ids=frozenset(repo_ids) if repo_ids is not None else None,
        )
        self._install_tokens[token] = tok
        self.installation_tokens_issued += 1
        data: dict[str, Any] = {
            "token": token,
            "expires_at": _iso(tok.expires_at),
            "permissions": dict(permissions),
            "repository_selection": "all" if repo_ids is None else "selected",
        }
        if repo_ids is not None:
            data["repositories"] = [self._repo_json(self._repos[r], full=False) for r in sorted(repo_ids)]
        return 201, data

    def _h_installation_repos(self, req: _Req) -> tuple:
        actor = self._actor
        if actor is None or actor.kind != "installation":
            raise ApiError(
                403,
                "You must authenticate with an installation access token in order to list repositories for an "
                "installation.",
            )
        repos = sorted(
            (r for r in self._repos.values() if self._installation_sees(actor, r)),
            key=lambda r: r.name.lower(),
        )
        chunk, headers = self._page(req, repos)
        selection = "all" if actor.token is None or actor.token.repo_ids is None else "selected"
        return (
            200,
            {
                "total_count": len(repos),
                "repository_selection": selection,
                "repositories": [self._repo_json(r, full=False) for r in chunk],
            },
            headers,
        )

    def _h_revoke_installation_token(self, req: _Req) -> tuple:
        actor = self._actor
        if actor is None or actor.token is None:
            raise _not_integration()
        actor.token.revoked = True
        return 204, None

    # ==========================================================================================
    # handlers: repos
    # ==========================================================================================
    def _h_org_repos(self, req: _Req, org: str) -> tuple:
        o = self._org_or_404(org)
        repos = [r for r in self._repos.values() if r.org == o.login]
        kind = req.q.get("type", "all")
        if kind == "public":
            repos = [r for r in repos if not r.private]
        elif kind == "private":
            repos = [r for r in repos if r.private]
        elif kind == "forks":
            repos = []
        sort = req.q.get("sort", "created")
        direction = req.q.get("direction", "asc" if sort == "full_name" else "desc")
        keys = {
            "created": lambda r: (r.created_at, r.id),
            "updated": lambda r: (r.updated_at, r.id),
            "pushed": lambda r: (r.pushed_at, r.id),
            "full_name": lambda r: r.name.lower(),
        }
        repos.sort(key=keys.get(sort, keys["created"]), reverse=direction == "desc")
        return self._paged(req, repos, lambda r: self._repo_json(r, full=False))

    def _repo_name_taken(self, org: str, name: str, exclude: _Repo | None = None) -> bool:
        other = self._lookup_repo(org, name)
        return other is not None and other is not exclude

    @staticmethod
    def _clean_repo_name(name: str) -> str:
        return _REPO_NAME_BAD.sub("-", name)

    def _h_create_repo(self, req: _Req, org: str) -> tuple:
        o = self._org_or_404(org)
        body = req.obj()
        name = _typed(body, "name", str, "string")
        if name is None:
            raise _missing("name")
        name = self._clean_repo_name(name.strip())
        if not name or name in (".", "..") or len(name) > 100:
            raise _validation(
                [
                    {
                        "resource": "Repository",
                        "code": "custom",
                        "field": "name",
                        "message": "name is invalid",
                    }
                ],
                "Repository creation failed.",
            )
        description = _typed(body, "description", str, "string")
        homepage = _typed(body, "homepage", str, "string")
        private = _typed(body, "private", bool, "boolean")
        visibility = _typed(body, "visibility", str, "string")
        if visibility is not None and visibility not in (
            "public",
            "private",
            "internal",
        ):
            raise _invalid(f"For 'properties/visibility', {json.dumps(visibility)} is not a valid value.")
        flags = {
            k: _typed(body, k, bool, "boolean")
            for k in (
                "has_issues",
                "has_wiki",
                "has_projects",
                "has_downloads",
                "is_template",
                "auto_init",
            )
        }
        team_id = _typed(body, "team_id", int, "integer")
        if self._repo_name_taken(o.login, name):
            raise _validation(
                [
                    {
                        "resource": "Repository",
                        "code": "custom",
                        "field": "name",
                        "message": "name already exists on this account",
                    }
                ],
                "Repository creation failed.",
            )
        team = None
        if team_id is not None:
            team = self._teams.get(team_id)
            if team is None or team.org != o.login:
                raise _validation(
                    [{"resource": "Repository", "code": "invalid", "field": "team_id"}],
                    "Repository creation failed.",
                )
        if visibility is None:
            visibility = "private" if private else "public"
        is_private = visibility != "public"
        repo = self._new_repo(
            o,
            name,
            private=is_private,
            description=description or None,
            default_branch="main",
        )
        repo.visibility = visibility
        repo.homepage = homepage
        repo.created_by = self._me().login
        for key in (
            "has_issues",
            "has_wiki",
            "has_projects",
            "has_downloads",
            "is_template",
        ):
            if flags[key] is not None:
                setattr(repo, key, flags[key])
        if flags["auto_init"]:
            readme = f"# {name}\n" + (f"{description}\n" if description else "")
            me = self._bot_ident()
            self._commit_files(
                repo,
                "main",
                None,
                {"README.md": readme.encode()},
                "Initial commit",
                me,
                me,
            )
        if team is not None:
            team.repo_perms[repo.id] = "pull"
        return 201, self._repo_json(repo), {"location": self._repo_api(repo)}

    def _h_get_repo(self, req: _Req, repo: _Repo) -> tuple:
        return 200, self._repo_json(repo)

    def _h_edit_repo(self, req: _Req, repo: _Repo) -> tuple:
        body = req.obj()
        name = _typed(body, "name", str, "string")
        description = _typed(body, "description", str, "string")
        homepage = _typed(body, "homepage", str, "string")
        private = _typed(body, "private", bool, "boolean")
        visibility = _typed(body, "visibility", str, "string")
        default_branch = _typed(body, "default_branch", str, "string")
        flags = {
            k: _typed(body, k, bool, "boolean")
            for k in (
                "has_issues",
                "has_wiki",
                "has_projects",
                "has_downloads",
                "is_template",
                "archived",
            )
        }
        if visibility is not None and visibility not in (
            "public",
            "private",
            "internal",
        ):
            raise _invalid(f"For 'properties/visibility', {json.dumps(visibility)} is not a valid value.")
        if default_branch is not None and default_branch != repo.default_branch:
            if default_branch not in self._heads(repo):
                raise _validation(
                    [
                        {
                            "resource": "Repository",
                            "code": "invalid",
                            "field": "default_branch",
                            "message": f"Cannot update default branch for this repository to '{default_branch}'",
                        }
                    ]
                )
        if name is not None:
            name = self._clean_repo_name(name.strip())
            if not name or name in (".", ".."):
                raise _validation([{"resource": "Repository", "code": "invalid", "field": "name"}])
            if self._repo_name_taken(repo.org, name, exclude=repo):
                raise _validation(
                    [
                        {
                            "resource": "Repository",
                            "code": "custom",
                            "field": "name",
                            "message": "name already exists on this account",
                        }
                    ]
                )
        if name is not None and name != repo.name:
            del self._repo_index[(repo.org.lower(), repo.name.lower())]
            repo.name = name
            self._repo_index[(repo.org.lower(), name.lower())] = repo.id
        if "description" in body:
            repo.description = description or None
        if "homepage" in body:
            repo.homepage = homepage
        if visibility is not None:
            repo.visibility = visibility
            repo.private = visibility != "public"
        elif private is not None:
            repo.private = private
            repo.visibility = "private" if private else "public"
        if default_branch is not None and default_branch != repo.default_branch:
            self._set_default_branch(repo, default_branch)
        for key, value in flags.items():
            if value is not None:
                setattr(repo, key, value)
        repo.updated_at = time.time()
        return 200, self._repo_json(repo)

    def _h_delete_repo(self, req: _Req, repo: _Repo) -> tuple:
        del self._repos[repo.id]
        del self._repo_index[(repo.org.lower(), repo.name.lower())]
        for team in self._teams.values():
            team.repo_perms.pop(repo.id, None)
        shutil.rmtree(repo.gitdir, ignore_errors=True)
        return 204, None

    def _h_repo_teams(self, req: _Req, repo: _Repo) -> tuple:
        teams = [t for t in self._teams.values() if repo.id in t.repo_perms]
        teams.sort(key=lambda t: t.name.lower())
        return self._paged(
            req,
            teams,
            lambda t: self._team_json(t) | {"permission": t.repo_perms[repo.id]},
        )

    # ==========================================================================================
    # handlers: teams
    # ==========================================================================================
    def _h_list_teams(self, req: _Req, org: str) -> tuple:
        o = self._org_or_404(org)
        teams = sorted(
            (t for t in self._teams.values() if t.org == o.login),
            key=lambda t: (t.name.lower(), t.id),
        )
        return self._paged(req, teams, self._team_json)

    def _team_name_taken(self, org: str, name: str, exclude: _Team | None = None) -> bool:
        slug = team_slug(name)
        for team in self._teams.values():
            if team is exclude or team.org != org:
                continue
            if team.name.lower() == name.lower() or team.slug == slug:
                return True
        return False

    def _h_create_team(self, req: _Req, org: str) -> tuple:
        o = self._org_or_404(org)
        body = req.obj()
        name = _typed(body, "name", str, "string")
        if name is None:
            raise _missing("name")
        description = _typed(body, "description", str, "string")
        privacy = _typed(body, "privacy", str, "string") or "secret"
        permission = _typed(body, "permission", str, "string") or "pull"
        notification = _typed(body, "notification_setting", str, "string") or "notifications_enabled"
        maintainers = _typed(body, "maintainers", list, "array") or []
        repo_names = _typed(body, "repo_names", list, "array") or []
        parent_id = _typed(body, "parent_team_id", int, "integer")
        if privacy not in ("secret", "closed"):
            raise _invalid(f"For 'properties/privacy', {json.dumps(privacy)} is not a valid value.")
        if permission not in ("pull", "push"):
            raise _invalid(f"For 'properties/permission', {json.dumps(permission)} is not a valid value.")
        if notification not in ("notifications_enabled", "notifications_disabled"):
            raise _invalid(f"For 'properties/notification_setting', {json.dumps(notification)} is not a valid value.")
        slug = team_slug(name)
        if not slug:
            raise _validation([{"resource": "Team", "code": "invalid", "field": "name"}])
        if self._team_name_taken(o.login, name):
            raise _validation(
                [
                    {
                        "resource": "Team",
                        "code": "custom",
                        "field": "name",
                        "message": "Name must be unique for this org",
                    }
                ]
            )
        if parent_id is not None and (parent_id not in self._teams or self._teams[parent_id].org != o.login):
            raise _validation([{"resource": "Team", "code": "invalid", "field": "parent_team_id"}])
        maint_accts = []
        for login in maintainers:
            acct = self._accounts.get(str(login).lower())
            if acct is None or acct.type != "User":
                raise _validation(
                    [
                        {
                            "resource": "Team",
                            "code": "invalid",
                            "field": "maintainers",
                            "value": login,
                        }
                    ]
                )
            maint_accts.append(acct)
        repos = []
        for full in repo_names:
            parts = str(full).split("/")
            repo = self._lookup_repo(*parts) if len(parts) == 2 else self._lookup_repo(o.login, str(full))
            if repo is None or repo.org != o.login:
                raise _validation(
                    [
                        {
                            "resource": "Team",
                            "code": "invalid",
                            "field": "repo_names",
                            "value": full,
                        }
                    ]
                )
            repos.append(repo)
        team = _Team(
            self._next_team_id,
            o.login,
            name,
            slug,
            description,
            privacy,
            permission,
            notification,
        )
        self._next_team_id += 1
        self._teams[team.id] = team
        actor = self._actor
        if actor is None or actor.kind == "user":
            # GitHub makes the creating *user* a maintainer; an app's bot is no user and no team
            # can have it as a member, so a team an installation creates starts empty
            team.members[self._me().login] = "maintainer"
        for acct in maint_accts:
            team.members[acct.login] = "maintainer"
            o.members.add(acct.login.lower())
        for repo in repos:
            team.repo_perms[repo.id] = permission
        return 201, self._team_json(team, full=True), {"location": self._team_url(team)}

    def _h_get_team(self, req: _Req, team: _Team) -> tuple:
        return 200, self._team_json(team, full=True)

    def _h_edit_team(self, req: _Req, team: _Team) -> tuple:
        body = req.obj()
        name = _typed(body, "name", str, "string")
        description = _typed(body, "description", str, "string")
        privacy = _typed(body, "privacy", str, "string")
        permission = _typed(body, "permission", str, "string")
        notification = _typed(body, "notification_setting", str, "string")
        if privacy is not None and privacy not in ("secret", "closed"):
            raise _invalid(f"For 'properties/privacy', {json.dumps(privacy)} is not a valid value.")
        if permission is not None and permission not in ("pull", "push", "admin"):
            raise _invalid(f"For 'properties/permission', {json.dumps(permission)} is not a valid value.")
        if notification is not None and notification not in (
            "notifications_enabled",
            "notifications_disabled",
        ):
            raise _invalid(f"For 'properties/notification_setting', {json.dumps(notification)} is not a valid value.")
        if name is not None and name != team.name:
            if not team_slug(name):
                raise _validation([{"resource": "Team", "code": "invalid", "field": "name"}])
            if self._team_name_taken(team.org, name, exclude=team):
                raise _validation(
                    [
                        {
                            "resource": "Team",
                            "code": "custom",
                            "field": "name",
                            "message": "Name must be unique for this org",
                        }
                    ]
                )
            team.name, team.slug = name, team_slug(name)
        if "description" in body:
            team.description = description
        if privacy is not None:
            team.privacy = privacy
        if permission is not None:
            team.permission = permission
        if notification is not None:
            team.notification_setting = notification
        team.updated_at = time.time()
        return 200, self._team_json(team, full=True)

    def _h_delete_team(self, req: _Req, team: _Team) -> tuple:
        del self._teams[team.id]
        return 204, None

    def _h_team_children(self, req: _Req, team: _Team) -> tuple:
        return self._paged(req, [], lambda x: x)

    def _h_team_members(self, req: _Req, team: _Team) -> tuple:
        role = req.q.get("role", "all")
        if role not in ("all", "member", "maintainer"):
            raise _validation([{"resource": "Team", "field": "role", "code": "invalid"}])
        logins = [login for login, r in team.members.items() if role == "all" or r == role]
        accts = [self._accounts[x.lower()] for x in logins if x.lower() in self._accounts]
        return self._paged(req, accts, self._user_json)

    def _membership_json(self, team: _Team, acct: _Account) -> dict:
        return {
            "url": f"{self._team_url(team)}/memberships/{acct.login}",
            "role": team.members[acct.login],
            "state": "active",
        }

    def _h_get_membership(self, req: _Req, team: _Team, login: str) -> tuple:
        acct = self._accounts.get(login.lower())
        if acct is None or acct.login not in team.members:
            raise _not_found()
        return 200, self._membership_json(team, acct)

    def _h_put_membership(self, req: _Req, team: _Team, login: str) -> tuple:
        body = req.obj()
        role = _typed(body, "role", str, "string") or "member"
        if role not in ("member", "maintainer"):
            raise _invalid(f"For 'properties/role', {json.dumps(role)} is not a valid value.")
        acct = self._user_or_404(login)
        team.members[acct.login] = role
        self._accounts[team.org.lower()].members.add(acct.login.lower())
        return 200, self._membership_json(team, acct)

    def _h_delete_membership(self, req: _Req, team: _Team, login: str) -> tuple:
        acct = self._accounts.get(login.lower())
        if acct is None or acct.login not in team.members:
            raise _not_found()
        del team.members[acct.login]
        return 204, None

    def _h_team_member_legacy_get(self, req: _Req, team: _Team, login: str) -> tuple:
        acct = self._accounts.get(login.lower())
        if acct is None or acct.login not in team.members:
            raise _not_found()
        return 204, None

    def _h_team_member_legacy_put(self, req: _Req, team: _Team, login: str) -> tuple:
        acct = self._user_or_404(login)
        if acct.login.lower() not in self._accounts[team.org.lower()].members:
            raise _validation([{"code": "unaffiliated", "field": "user", "resource": "TeamMember"}])
        team.members.setdefault(acct.login, "member")
        return 204, None

    def _h_team_member_legacy_delete(self, req: _Req, team: _Team, login: str) -> tuple:
        acct = self._accounts.get(login.lower())
        if acct is None or acct.login not in team.members:
            raise _not_found()
        del team.members[acct.login]
        return 204, None

    def _team_repo_json(self, team: _Team, repo: _Repo) -> dict:
        perm = team.repo_perms[repo.id]
        return self._repo_json(repo, permission=perm, full=False) | {"role_name": ROLE_NAMES.get(perm, perm)}

    def _h_team_repos(self, req: _Req, team: _Team) -> tuple:
        repos = [self._repos[rid] for rid in team.repo_perms if rid in self._repos]
        return self._paged(req, repos, lambda r: self._team_repo_json(team, r))

    def _h_team_repo_get(self, req: _Req, team: _Team, owner: str, name: str) -> tuple:
        repo = self._lookup_repo(owner, name)
        if repo is None or repo.id not in team.repo_perms:
            raise _not_found()
        if REPO_MEDIA_TYPE in (req.headers.get("Accept") or ""):
            return 200, self._team_repo_json(team, repo)
        return 204, None

    def _h_team_repo_put(self, req: _Req, team: _Team, owner: str, name: str) -> tuple:
        body = req.obj()
        permission = _typed(body, "permission", str, "string")
        if permission is None:
            permission = team.permission  # the legacy team permission, usually "pull"
        if permission not in PERMISSIONS:
            raise _validation(
                [
                    {
                        "resource": "TeamRepository",
                        "code": "invalid",
                        "field": "permission",
                        "value": permission,
                    }
                ]
            )
        repo = self._lookup_repo(owner, name)
        if repo is None:
            raise _not_found()
        if repo.org != team.org:
            raise _validation(
                [
                    {
                        "resource": "TeamRepository",
                        "code": "custom",
                        "field": "repository",
                        "message": "Repository must be owned by the team's organization",
                    }
                ]
            )
        team.repo_perms[repo.id] = permission
        return 204, None

    def _h_team_repo_delete(self, req: _Req, team: _Team, owner: str, name: str) -> tuple:
        repo = self._lookup_repo(owner, name)
        if repo is None:
            raise _not_found()
        team.repo_perms.pop(repo.id, None)
        return 204, None

    # ==========================================================================================
    # handlers: hooks
    # ==========================================================================================
    def _find_hook(self, repo: _Repo, hook_id: str) -> dict:
        for hook in repo.hooks:
            if hook["id"] == int(hook_id):
                return hook
        raise _not_found()

    def _hook_config(self, value: Any) -> dict:
        if not isinstance(value, dict):
            raise _invalid(f"For 'properties/config', {json.dumps(value)} is not an object.")
        url = value.get("url")
        if not url or not isinstance(url, str):
            raise _validation(
                [
                    {
                        "resource": "Hook",
                        "code": "custom",
                        "message": "Config must contain URL for webhooks",
                    }
                ]
            )
        content_type = value.get("content_type") or "form"
        if content_type not in ("json", "form"):
            raise _validation(
                [
                    {
                        "resource": "Hook",
                        "code": "custom",
                        "message": "Config content_type must be json or form",
                    }
                ]
            )
        insecure = value.get("insecure_ssl", "0")
        config = {
            "content_type": content_type,
            "insecure_ssl": str(insecure),
            "url": url,
        }
        if value.get("secret"):
            config["secret"] = str(value["secret"])
        return config

    def _hook_exists(self, repo: _Repo, url: str, exclude: dict | None = None) -> bool:
        return any(h is not exclude and h["config"].get("url") == url for h in repo.hooks)

    def _events(self, body: dict, key: str) -> list[str] | None:
        events = _typed(body, key, list, "array")
        if events is not None and not all(isinstance(e, str) for e in events):
            raise _invalid(f"For 'items', {json.dumps(events)} is not a string.")
        return events

    def _h_list_hooks(self, req: _Req, repo: _Repo) -> tuple:
        return self._paged(req, list(repo.hooks), lambda h: self._hook_json(repo, h))

    def _h_create_hook(self, req: _Req, repo: _Repo) -> tuple:
        body = req.obj()
        name = _typed(body, "name", str, "string") or "web"
        if name != "web":
            raise _validation(
                [
                    {
                        "resource": "Hook",
                        "code": "custom",
                        "field": "name",
                        "message": "Name must be 'web'",
                    }
                ]
            )
        if "config" not in body:
            raise _missing("config")
        config = self._hook_config(body["config"])
        events = self._events(body, "events") or ["push"]
        active = _typed(body, "active", bool, "boolean")
        if self._hook_exists(repo, config["url"]):
            raise _validation(
                [
                    {
                        "resource": "Hook",
                        "code": "custom",
                        "message": "Hook already exists on this repository",
                    }
                ]
            )
        hook = self._new_hook(
            repo,
            config,
            list(dict.fromkeys(events)),
            True if active is None else active,
        )
        url = f"{self._repo_api(repo)}/hooks/{hook['id']}"
        return 201, self._hook_json(repo, hook), {"location": url}

    def _h_get_hook(self, req: _Req, repo: _Repo, hook_id: str) -> tuple:
        return 200, self._hook_json(repo, self._find_hook(repo, hook_id))

    def _h_edit_hook(self, req: _Req, repo: _Repo, hook_id: str) -> tuple:
        hook = self._find_hook(repo, hook_id)
        body = req.obj()
        config = self._hook_config(body["config"]) if "config" in body else None
        events = self._events(body, "events")
        add_events = self._events(body, "add_events") or []
        remove_events = self._events(body, "remove_events") or []
        active = _typed(body, "active", bool, "boolean")
        if config is not None and self._hook_exists(repo, config["url"], exclude=hook):
            raise _validation(
                [
                    {
                        "resource": "Hook",
                        "code": "custom",
                        "message": "Hook already exists on this repository",
                    }
                ]
            )
        if config is not None:
            hook["config"] = config
        new_events = list(events) if events is not None else list(hook["events"])
        new_events += [e for e in add_events if e not in new_events]
        hook["events"] = [e for e in dict.fromkeys(new_events) if e not in remove_events]
        if active is not None:
            hook["active"] = active
        hook["updated_at"] = time.time()
        return 200, self._hook_json(repo, hook)

    def _h_delete_hook(self, req: _Req, repo: _Repo, hook_id: str) -> tuple:
        hook = self._find_hook(repo, hook_id)
        repo.hooks.remove(hook)
        return 204, None

    def _h_ping_hook(self, req: _Req, repo: _Repo, hook_id: str) -> tuple:
        self._find_hook(repo, hook_id)
        return 204, None

    # ==========================================================================================
    # handlers: contents, commits, branches
    # ==========================================================================================
    @staticmethod
    def _clean_path(path: str | None) -> str:
        return (path or "").strip("/")

    def _h_get_contents(self, req: _Req, repo: _Repo, path: str | None) -> tuple:
        path = self._clean_path(path)
        if self._is_empty(repo):
            raise _not_found("This repository is empty.")
        ref = req.q.get("ref") or repo.default_branch
        commit = self._resolve(repo, ref)
        if commit is None:
            raise _not_found(f"No commit found for the ref {ref}")
        if path:
            entry = self._tree_entry(repo, commit, path)
            if entry is None:
                raise _not_found()
        else:
            entry = ("040000", "tree", "", None, "")
        if entry[1] == "tree":
            listing = self._ls_tree(repo, f"{commit}:{path}" if path else commit)
            items = []
            for mode, typ, sha, size, name in listing:
                full = f"{path}/{name}" if path else name
                items.append(self._content_json(repo, (mode, typ, sha, size, full), ref))
            return 200, items
        if entry[1] == "commit":
            return 200, self._content_json(repo, entry, ref)
        blob = self._cat_batch(repo, [entry[2]])[entry[2]][1]
        if entry[0] == "120000":
            # GitHub: a symlink whose target is a normal file in the repository answers with that
            # file; otherwise with an object describing the symlink itself (type, target)
            target = blob.decode("utf-8", "surrogateescape")
            resolved = self._link_target(path, target)
            hit = self._tree_entry(repo, commit, resolved) if resolved else None
            if hit is not None and hit[1] == "blob" and hit[0] in ("100644", "100755"):
                data = self._cat_batch(repo, [hit[2]])[hit[2]][1]
                return 200, self._content_json(repo, hit, ref, blob=data)
            link = self._content_json(repo, entry, ref)
            link["target"] = target
            return 200, link
        return 200, self._content_json(repo, entry, ref, blob=blob)

    @staticmethod
    def _link_target(path: str, target: str) -> str | None:
        """The repository path a symlink at `path` points to; None when it leaves the repository."""
        if not target or target.startswith("/"):
            return None
        joined = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
        if joined in (".", "..") or joined.startswith("../"):
            return None
        return joined

    def _bot_ident(self) -> tuple[str, str]:
        bot = self._me()
        return (
            bot.name or bot.login,
            bot.email or f"{bot.id}+{bot.login}@users.noreply.github.com",
        )

    def _write_target(self, repo: _Repo, body: dict) -> tuple[str, str | None]:
        branch = _typed(body, "branch", str, "string") or repo.default_branch
        if self._is_empty(repo):
            return branch, None
        parent = self._branch_sha(repo, branch)
        if parent is None:
            raise _not_found(f"Branch {branch} not found")
        return branch, parent

    def _identities(self, body: dict) -> tuple[tuple, tuple]:
        committer = _ident(body.get("committer"), "committer") or self._bot_ident()
        author = _ident(body.get("author"), "author") or committer
        return author, committer

    def _h_put_contents(self, req: _Req, repo: _Repo, path: str) -> tuple:
        path = self._clean_path(path)
        body = req.obj()
        message = _typed(body, "message", str, "string")
        if message is None:
            raise _missing("message")
        content = _typed(body, "content", str, "string")
        if content is None:
            raise _missing("content")
        try:
            data = base64.b64decode(re.sub(r"\s+", "", content), validate=True)
        except (binascii.Error, ValueError):
            raise _invalid("content is not valid Base64") from None
        sha = _typed(body, "sha", str, "string")
        author, committer = self._identities(body)
        if not path or any(part in ("", ".", "..", ".git") for part in path.split("/")):
            raise _validation([{"resource": "Commit", "field": "path", "code": "invalid"}])
        was_empty = self._is_empty(repo)
        branch, parent = self._write_target(repo, body)
        existing = self._tree_entry(repo, parent, path) if parent else None
        if existing is not None:
            if existing[1] != "blob":
                raise _validation([{"resource": "Commit", "field": "path", "code": "invalid"}])
            if not sha:
                raise _missing("sha")
            if sha != existing[2]:
                raise ApiError(409, f"{path} does not match {sha}")
        try:
            blob = self._hash_blob(repo, data)
            mode = "100755" if existing is not None and existing[0] == "100755" else "100644"
            tree = self._build_tree(repo, parent, [(path, mode, blob)])
        except _GitError:
            raise _validation([{"resource": "Commit", "field": "path", "code": "invalid"}]) from None
        commit = self._commit_tree(repo, tree, [parent] if parent else [], message, author, committer)
        try:
            self._git(repo, "update-ref", f"refs/heads/{branch}", commit, parent or ZERO_SHA)
        except _GitError:
            raise ApiError(409, f"{path} does not match {sha or ''}".strip()) from None
        self._after_ref_change(repo, was_empty=was_empty)
        repo.updated_at = time.time()
        entry = self._tree_entry(repo, commit, path)
        info = self._commit_info(repo, commit)
        result = {
            "content": self._content_json(repo, entry, branch),
            "commit": self._git_commit_json(repo, commit, info),
        }
        return (200 if existing is not None else 201), result

    def _h_delete_contents(self, req: _Req, repo: _Repo, path: str) -> tuple:
        path = self._clean_path(path)
        body = req.obj()
        message = _typed(body, "message", str, "string")
        if message is None:
            raise _missing("message")
        sha = _typed(body, "sha", str, "string")
        if sha is None:
            raise _missing("sha")
        author, committer = self._identities(body)
        if self._is_empty(repo):
            raise _not_found()
        branch, parent = self._write_target(repo, body)
        existing = self._tree_entry(repo, parent, path)
        if existing is None or existing[1] != "blob":
            raise _not_found()
        if sha != existing[2]:
            raise ApiError(409, f"{path} does not match {sha}")
        tree = self._build_tree(repo, parent, [(path, "100644", None)])
        commit = self._commit_tree(repo, tree, [parent], message, author, committer)
        self._git(repo, "update-ref", f"refs/heads/{branch}", commit, parent)
        self._after_ref_change(repo, was_empty=False)
        info = self._commit_info(repo, commit)
        return 200, {
            "content": None,
            "commit": self._git_commit_json(repo, commit, info),
        }

    def _h_list_commits(self, req: _Req, repo: _Repo) -> tuple:
        self._nonempty(repo)
        ref = req.q.get("sha") or repo.default_branch
        head = self._resolve(repo, ref)
        if head is None:
            raise _not_found(f"No commit found for SHA: {ref}")
        shas = self._rev_list(repo, head, self._clean_path(req.q.get("path")) or None)
        author = req.q.get("author")
        chunk, headers = self._page(req, shas)
        if author:
            infos = self._commit_infos(repo, shas)
            shas = [
                s
                for s in shas
                if author.lower()
                in (
                    infos[s]["author"]["email"].lower(),
                    infos[s]["author"]["name"].lower(),
                )
            ]
            chunk, headers = self._page(req, shas)
        infos = self._commit_infos(repo, chunk)
        return 200, [self._rest_commit_json(repo, s, infos[s]) for s in chunk], headers

    def _commit_files_json(self, repo: _Repo, sha: str, parents: list[str]) -> list[dict]:
        base_args = [parents[0], sha] if parents else ["--root", sha]
        raw = self._git(repo, "diff-tree", "-r", "-z", "--no-commit-id", "--raw", *base_args)
        numstat = self._git(repo, "diff-tree", "-r", "-z", "--no-commit-id", "--numstat", *base_args)
        stats: dict[str, tuple[int, int]] = {}
        for rec in numstat.split(b"\0"):
            if rec.count(b"\t") >= 2:
                add, delete, path = rec.split(b"\t", 2)
                stats[path.decode("utf-8", "surrogateescape")] = (
                    int(add) if add.isdigit() else 0,
                    int(delete) if delete.isdigit() else 0,
                )
        parts = raw.split(b"\0")
        files = []
        base, html = self._repo_api(repo), self._repo_html(repo)
        i = 0
        while i + 1 < len(parts):
            meta = parts[i].decode()
            if not meta.startswith(":"):
                i += 1
                continue
            path = parts[i + 1].decode("utf-8", "surrogateescape")
            i += 2
            _, _, old_sha, new_sha, status = meta[1:].split(" ")
            additions, deletions = stats.get(path, (0, 0))
            kind = {"A": "added", "D": "removed", "M": "modified", "T": "changed"}.get(status[0], "modified")
            blob_sha = old_sha if kind == "removed" else new_sha
            files.append(
                {
                    "sha": blob_sha,
                    "filename": path,
                    "status": kind,
                    "additions": additions,
                    "deletions": deletions,
                    "changes": additions + deletions,
                    "blob_url": f"{html}/blob/{sha}/{quote(path)}",
                    "raw_url": f"{html}/raw/{sha}/{quote(path)}",
                    "contents_url": f"{base}/contents/{quote(path)}?ref={sha}",
                }
            )
        return files

    def _h_get_commit(self, req: _Req, repo: _Repo, ref: str) -> tuple:
        self._nonempty(repo)
        sha = self._resolve(repo, ref)
        if sha is None:
            raise ApiError(422, f"No commit found for SHA: {ref}")
        info = self._commit_info(repo, sha)
        data = self._rest_commit_json(repo, sha, info)
        files = self._commit_files_json(repo, sha, info["parents"])
        additions = sum(f["additions"] for f in files)
        deletions = sum(f["deletions"] for f in files)
        chunk, headers = self._page(req, files, default=300, maximum=300)
        data["stats"] = {
            "total": additions + deletions,
            "additions": additions,
            "deletions": deletions,
        }
        data["files"] = chunk
        return 200, data, headers

    def _h_list_branches(self, req: _Req, repo: _Repo) -> tuple:
        heads = self._heads(repo)
        names = sorted(heads)
        if req.q.get("protected") == "true":
            names = []
        base = self._repo_api(repo)
        return self._paged(
            req,
            names,
            lambda b: {
                "name": b,
                "commit": {"sha": heads[b], "url": f"{base}/commits/{heads[b]}"},
                "protected": False,
            },
        )

    def _h_get_branch(self, req: _Req, repo: _Repo, branch: str) -> tuple:
        sha = self._heads(repo).get(branch)
        if sha is None:
            raise _not_found("Branch not found")
        base, html = self._repo_api(repo), self._repo_html(repo)
        info = self._commit_info(repo, sha)
        return 200, {
            "name": branch,
            "commit": self._rest_commit_json(repo, sha, info),
            "_links": {
                "self": f"{base}/branches/{quote(branch)}",
                "html": f"{html}/tree/{branch}",
            },
            "protected": False,
            "protection": {
                "enabled": False,
                "required_status_checks": {
                    "enforcement_level": "off",
                    "contexts": [],
                    "checks": [],
                },
            },
            "protection_url": f"{base}/branches/{quote(branch)}/protection",
        }

    # ==========================================================================================
    # handlers: Git Data API
    # ==========================================================================================
    def _h_git_ref(self, req: _Req, repo: _Repo, ref: str) -> tuple:
        self._nonempty(repo)
        refname = f"refs/{ref.strip('/')}"
        sha = self._refs(repo).get(refname)
        if sha is None:
            raise _not_found()
        return 200, self._ref_json(repo, refname, sha)

    def _h_git_refs_all(self, req: _Req, repo: _Repo) -> tuple:
        self._nonempty(repo)
        refs = sorted(self._refs(repo).items())
        return self._paged(req, refs, lambda kv: self._ref_json(repo, *kv))

    def _h_git_refs(self, req: _Req, repo: _Repo, ref: str) -> tuple:
        self._nonempty(repo)
        refname = f"refs/{ref.strip('/')}"
        refs = self._refs(repo)
        if refname in refs:
            return 200, self._ref_json(repo, refname, refs[refname])
        matches = sorted((k, v) for k, v in refs.items() if k.startswith(refname + "/"))
        if not matches:
            raise _not_found()
        return self._paged(req, matches, lambda kv: self._ref_json(repo, *kv))

    def _h_git_matching_refs(self, req: _Req, repo: _Repo, ref: str) -> tuple:
        self._nonempty(repo)
        prefix = f"refs/{ref}"
        matches = sorted((k, v) for k, v in self._refs(repo).items() if k.startswith(prefix))
        return self._paged(req, matches, lambda kv: self._ref_json(repo, *kv))

    def _existing_object(self, repo: _Repo, sha: Any) -> str | None:
        if not isinstance(sha, str) or not _FULL_SHA_RE.fullmatch(sha.lower()):
            return None
        return sha.lower() if self._object_type(repo, sha.lower()) else None

    def _h_create_ref(self, req: _Req, repo: _Repo) -> tuple:
        self._nonempty(repo)
        body = req.obj()
        ref = _typed(body, "ref", str, "string")
        if ref is None:
            raise _missing("ref")
        sha = _typed(body, "sha", str, "string")
        if sha is None:
            raise _missing("sha")
        if not ref.startswith("refs/") or ref.count("/") < 2:
            raise ApiError(422, "ref must start with 'refs' and have at least two slashes.")
        if self._git_ok(repo, "check-ref-format", ref) is None:
            raise ApiError(422, "Reference name is not well-formed")
        obj = self._existing_object(repo, sha)
        if obj is None:
            raise ApiError(422, "Object does not exist")
        if ref in self._refs(repo):
            raise ApiError(422, "Reference already exists")
        try:
            self._git(repo, "update-ref", ref, obj, ZERO_SHA)
        except _GitError:
            raise ApiError(422, "Reference already exists") from None
        self._after_ref_change(repo, was_empty=False)
        data = self._ref_json(repo, ref, obj)
        return 201, data, {"location": data["url"]}

    def _h_update_ref(self, req: _Req, repo: _Repo, ref: str) -> tuple:
        self._nonempty(repo)
        body = req.obj()
        sha = _typed(body, "sha", str, "string")
        if sha is None:
            raise _missing("sha")
        force = bool(_typed(body, "force", bool, "boolean"))
        refname = f"refs/{ref.strip('/')}"
        old = self._refs(repo).get(refname)
        if old is None:
            raise ApiError(422, "Reference does not exist")
        obj = self._existing_object(repo, sha)
        if obj is None:
            raise ApiError(422, "Object does not exist")
        if not force and old != obj and self._git_ok(repo, "merge-base", "--is-ancestor", old, obj) is None:
            raise ApiError(422, "Update is not a fast forward")
        self._git(repo, "update-ref", refname, obj, old)
        self._after_ref_change(repo, was_empty=False)
        return 200, self._ref_json(repo, refname, obj)

    def _h_delete_ref(self, req: _Req, repo: _Repo, ref: str) -> tuple:
        self._nonempty(repo)
        refname = f"refs/{ref.strip('/')}"
        old = self._refs(repo).get(refname)
        if old is None:
            raise ApiError(422, "Reference does not exist")
        if refname == f"refs/heads/{repo.default_branch}":
            raise ApiError(422, "Cannot delete the default branch")
        self._git(repo, "update-ref", "-d", refname, old)
        return 204, None

    def _h_git_commit(self, req: _Req, repo: _Repo, sha: str) -> tuple:
        self._nonempty(repo)
        obj = self._existing_object(repo, sha)
        info = self._commit_info(repo, obj) if obj else None
        if info is None:
            raise _not_found()
        return 200, self._git_commit_json(repo, obj, info)

    def _h_git_tree(self, req: _Req, repo: _Repo, treeish: str) -> tuple:
        self._nonempty(repo)
        if _HEX_RE.fullmatch(treeish):
            spec = treeish.lower()
        else:
            commit = self._resolve(repo, treeish)
            if commit is None:
                raise _not_found()
            spec = commit
        out = self._git_ok(repo, "rev-parse", "--verify", "-q", f"{spec}^{{tree}}")
        if not out:
            raise _not_found()
        tree = out.decode().strip()
        recursive = req.q.get("recursive") not in (None, "", "0", "false")
        entries = self._ls_tree(repo, tree, "-r", "-t") if recursive else self._ls_tree(repo, tree)
        return 200, self._tree_json(repo, tree, entries)

    def _tree_json(self, repo: _Repo, tree: str, entries: list) -> dict:
        base = self._repo_api(repo)
        items = []
        for mode, typ, sha, size, path in entries:
            item: dict[str, Any] = {"path": path, "mode": mode, "type": typ, "sha": sha}
            if typ == "blob":
                item["size"] = size or 0
                item["url"] = f"{base}/git/blobs/{sha}"
            elif typ == "tree":
                item["url"] = f"{base}/git/trees/{sha}"
            items.append(item)
        return {
            "sha": tree,
            "url": f"{base}/git/trees/{tree}",
            "tree": items,
            "truncated": False,
        }

    def _h_git_blob(self, req: _Req, repo: _Repo, sha: str) -> tuple:
        self._nonempty(repo)
        obj = self._existing_object(repo, sha)
        data = self._cat_batch(repo, [obj]).get(obj) if obj else None
        if data is None or data[0] != "blob":
            raise _not_found()
        return 200, {
            "sha": obj,
            "node_id": _node_id("Blob", obj),
            "size": len(data[1]),
            "url": f"{self._repo_api(repo)}/git/blobs/{obj}",
            "content": _b64lines(data[1]),
            "encoding": "base64",
        }

    def _h_create_blob(self, req: _Req, repo: _Repo) -> tuple:
        self._nonempty(repo)
        body = req.obj()
        content = _typed(body, "content", str, "string")
        if content is None:
            raise _missing("content")
        encoding = _typed(body, "encoding", str, "string") or "utf-8"
        if encoding == "base64":
            try:
                data = base64.b64decode(content)
            except (binascii.Error, ValueError):
                raise _invalid("content is not valid Base64") from None
        elif encoding in ("utf-8", "utf8"):
            data = content.encode("utf-8")
        else:
            raise _invalid(f"For 'properties/encoding', {json.dumps(encoding)} is not a valid value.")
        sha = self._hash_blob(repo, data)
        url = f"{self._repo_api(repo)}/git/blobs/{sha}"
        return 201, {"sha": sha, "url": url}, {"location": url}

    def _h_create_tree(self, req: _Req, repo: _Repo) -> tuple:
        self._nonempty(repo)
        body = req.obj()
        items = _typed(body, "tree", list, "array")
        if items is None:
            raise _missing("tree")
        base_tree = _typed(body, "base_tree", str, "string")
        base = None
        if base_tree:
            out = (
                self._git_ok(repo, "rev-parse", "--verify", "-q", f"{base_tree}^{{tree}}")
                if _HEX_RE.fullmatch(base_tree)
                else None
            )
            if not out:
                raise ApiError(422, "base_tree is not a valid tree oid")
            base = out.decode().strip()
        changes: list[tuple[str, str, str | None]] = []
        subtrees: list[tuple[str, str | None]] = []
        for item in items:
            if not isinstance(item, dict):
                raise _invalid("For 'items', the tree entry is not an object.")
            path = self._clean_path(item.get("path"))
            mode = str(item.get("mode", ""))
            typ = item.get("type") or ("tree" if mode == "040000" else "commit" if mode == "160000" else "blob")
            if not path:
                raise _missing("path")
            if mode not in ("100644", "100755", "040000", "160000", "120000"):
                raise ApiError(422, f"tree.mode contains a malformed mode: {mode}")
            if "content" in item and item["content"] is not None:
                if typ != "blob":
                    raise ApiError(422, "tree.content can only be used with blobs")
                changes.append((path, mode, self._hash_blob(repo, str(item["content"]).encode())))
                continue
            sha = item.get("sha")
            if sha is None:
                if typ == "tree":
                    subtrees.append((path, None))
                else:
                    changes.append((path, mode, None))
                continue
            if typ == "commit":
                changes.append((path, mode, str(sha)))
                continue
            obj = self._existing_object(repo, sha)
            if obj is None or self._object_type(repo, obj) != typ:
                raise ApiError(422, f"tree.sha {sha} is not a valid {typ}")
            if typ == "tree":
                subtrees.append((path, obj))
            else:
                changes.append((path, mode, obj))
        tree = self._build_tree_with_subtrees(repo, base, changes, subtrees)
        data = self._tree_json(repo, tree, self._ls_tree(repo, tree))
        return 201, data, {"location": data["url"]}

    def _build_tree_with_subtrees(self, repo: _Repo, base: str | None, changes: list, subtrees: list) -> str:
        if not subtrees:
            return self._build_tree(repo, base, changes)
        with tempfile.TemporaryDirectory(dir=self._tmp) as td:
            env = {"GIT_INDEX_FILE": os.path.join(td, "index")}
            self._git(repo, "read-tree", *([base] if base else ["--empty"]), env=env)
            listed = self._git(repo, "ls-files", "-z", env=env).split(b"\0")
            lines = []
            for path, _sha in subtrees:
                prefix = path + "/"
                for name in listed:
                    name_s = name.decode("utf-8", "surrogateescape")
                    if name_s.startswith(prefix):
                        lines.append(f"0 {ZERO_SHA}\t{name_s}")
            if lines:
                self._git(
                    repo,
                    "update-index",
                    "--index-info",
                    input=("\n".join(lines) + "\n").encode(),
                    env=env,
                )
            grafts = []
            for path, sha in subtrees:
                if sha:  # graft the subtree's entries under path/ (read-tree --prefix needs a work tree)
                    for mode, _typ, obj, _size, sub in self._ls_tree(repo, sha, "-r"):
                        grafts.append(f"{mode} {obj}\t{path}/{sub}")
            if grafts:
                self._git(
                    repo,
                    "update-index",
                    "--add",
                    "--index-info",
                    input=("\n".join(grafts) + "\n").encode(),
                    env=env,
                )
            lines = [
                f"{mode} {sha or ZERO_SHA}\t{path}" if sha else f"0 {ZERO_SHA}\t{path}" for path, mode, sha in changes
            ]
            if lines:
                self._git(
                    repo,
                    "update-index",
                    "--add",
                    "--index-info",
                    input=("\n".join(lines) + "\n").encode(),
                    env=env,
                )
            return self._git(repo, "write-tree", env=env).decode().strip()

    def _h_create_git_commit(self, req: _Req, repo: _Repo) -> tuple:
        self._nonempty(repo)
        body = req.obj()
        message = _typed(body, "message", str, "string")
        if message is None:
            raise _missing("message")
        tree = _typed(body, "tree", str, "string")
        if tree is None:
            raise _missing("tree")
        parents = _typed(body, "parents", list, "array") or []
        tree_obj = self._existing_object(repo, tree)
        if tree_obj is None or self._object_type(repo, tree_obj) != "tree":
            raise ApiError(422, "Tree SHA does not exist")
        parent_objs = []
        for p in parents:
            obj = self._existing_object(repo, p)
            if obj is None or self._object_type(repo, obj) != "commit":
                raise ApiError(422, "Parent SHA does not exist or is not a commit object")
            parent_objs.append(obj)
        author = _ident(body.get("author"), "author") or (*self._bot_ident(), None)
        committer = _ident(body.get("committer"), "committer") or author
        sha = self._commit_tree(repo, tree_obj, parent_objs, message, author, committer)
        data = self._git_commit_json(repo, sha, self._commit_info(repo, sha))
        return 201, data, {"location": data["url"]}
