"""Typed errors of the action layer, each mapped once to a message a user can act on.

The GitHub exception names are the original library's (``orcoursetrion.lib``), so
scripts that catch them keep working.
"""

from __future__ import annotations

import copy

from orcoursetrion.redact import redact


class Interrupted(BaseException):
    """Work must stop now without failing the request (not an error: never caught as one)."""


class LeaseLost(Interrupted):
    """Another process owns this request now (our lease expired or was taken): stop quietly."""


class ShuttingDown(Interrupted):
    """This process is stopping: leave the request for the next one to resume."""


class OrcError(Exception):
    """Base of every error this product raises on purpose; its text is already safe to show.

    `subject` (optional) names the thing the problem is about, so that a preflight tells
    one problem per thing even when several steps trip over it."""

    subject: str | None = None

    def __init__(self, message: str = "", subject: str | None = None) -> None:
        super().__init__(redact(message))
        if subject:
            self.subject = subject

    @property
    def message(self) -> str:
        return str(self)


class ConfigError(OrcError):
    """Configuration is missing or malformed; one problem per line, naming the key only."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = [redact(p) for p in problems]
        super().__init__("\n".join(self.problems))


class StoreUnavailable(OrcError):
    """The store (DATABASE_URL) cannot be used: unreachable, refusing, not answering,
    read-only, full, or its schema is not at the newest migration."""

    def __init__(self, url: str, reason: str) -> None:
        """`url` is already masked (`postgresql://postgres:***@host/db`: the user stays, to
        tell which account); `reason` is masked here."""
        self.url, self.reason = url, redact(reason)
        Exception.__init__(self, f"DATABASE_URL {url}: {self.reason}")


class ValidationError(OrcError):
    """User input failed validation before anything reached GitHub."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


class NotAuthorized(OrcError):
    """The Slack user may not do this (not the requester, not an approver)."""


class RequestStateError(OrcError):
    """A request is not in the state this transition needs (already run, cancelled...)."""


class RequestNotFound(OrcError):
    """No request with that id."""


class GitHubException(OrcError):
    """Base of the GitHub errors (original name)."""


class GitHubRepoExists(GitHubException):
    """Repo exists and does not belong to this request, so it cannot be created."""


class GitHubRepoDoesNotExist(GitHubException):
    """Repo does not exist, so actions cannot be taken on it."""


class GitHubUnknownError(GitHubException):
    """GitHub answered something unexpected."""


class GitHubNoTeamFound(GitHubException):
    """Named team not found in the organization."""


class GitHubNoOrgFound(GitHubUnknownError):
    """The organization does not exist, or the credentials cannot see it."""


class GitHubAppNotInstalled(GitHubNoOrgFound):
    """The GitHub App has no installation on the organization a step touches."""


class GitHubRepoEmpty(GitHubException):
    """The repository has no commits where some are needed (a copy, a branch)."""


class GitHubAuthError(GitHubUnknownError):
    """GitHub refused the credentials (token or App: missing, wrong or lacking scopes)."""


class GitHubUnreachable(GitHubUnknownError):
    """GitHub did not answer at all (connection refused, DNS, timeout) after every retry."""


class GitHubRateLimited(GitHubUnknownError):
    """GitHub kept answering with rate limits after every retry we allow."""


class GitError(GitHubUnknownError):
    """A git command (clone/push for a history-free copy) failed."""


class EdxError(OrcError):
    """The edX course listing API could not be read."""


class UnsafeCourseContent(OrcError):
    """The course repository's own content would steer the copy outside its bounds."""


def preflight_error(problems: list[OrcError]) -> OrcError:
    """One error for every problem a preflight found, typed as the first one (so callers
    that catch `GitHubRepoExists` still do), its text naming each problem."""
    unique: list[OrcError] = []
    seen: set[tuple] = set()
    for problem in problems:  # one problem per thing: a repo that exists is told once
        key = (type(problem), getattr(problem, "subject", None) or str(problem))
        if key not in seen:
            seen.add(key)
            unique.append(problem)
    if len(unique) == 1:
        return unique[0]
    combined = copy.copy(unique[0])
    combined.args = ("; ".join(f"({n}) {user_message(p)}" for n, p in enumerate(unique, 1)),)
    combined.preflight = unique
    return combined


def problems_of(exc: BaseException) -> list[OrcError]:
    """The separate problems an error stands for (one, unless a preflight found several)."""
    return list(getattr(exc, "preflight", None) or ([exc] if isinstance(exc, OrcError) else []))


def user_message(exc: BaseException) -> str:
    """The one sentence shown to a Slack or CLI user for an error."""
    if getattr(exc, "preflight", None):
        return f"This cannot run until {len(exc.preflight)} problems are fixed: {exc}"
    if isinstance(exc, ConfigError):
        return "Configuration problem: " + "; ".join(exc.problems)
    if isinstance(exc, ValidationError | StoreUnavailable):
        return str(exc)
    if isinstance(exc, GitHubRepoExists):
        return f"That repository already exists on GitHub: {exc}"
    if isinstance(exc, GitHubRepoDoesNotExist):
        return f"That repository does not exist on GitHub: {exc}"
    if isinstance(exc, GitHubNoTeamFound):
        return f"GitHub team not found: {exc}"
    if isinstance(exc, GitHubNoOrgFound | GitHubRepoEmpty | UnsafeCourseContent | GitHubUnreachable):
        return str(exc)
    if isinstance(exc, GitHubAuthError):
        return f"GitHub refused our credentials: {exc}"
    if isinstance(exc, GitHubRateLimited):
        return f"GitHub is rate limiting us; try again later ({exc})"
    if isinstance(exc, GitError):
        return f"Copying the repository with git failed: {exc}"
    if isinstance(exc, GitHubException):
        return f"GitHub returned an unexpected error: {exc}"
    if isinstance(exc, NotAuthorized | RequestStateError | RequestNotFound | EdxError):
        return str(exc)
    if isinstance(exc, OrcError):
        return str(exc)
    from orcoursetrion.store.health import is_store_error, reason_of

    if is_store_error(exc):
        return f"The database did not answer ({reason_of(exc)}); nothing is lost, try again in a moment."
    return f"Unexpected error ({type(exc).__name__}); the details are in the service log."
