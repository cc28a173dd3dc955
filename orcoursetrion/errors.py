"""Typed errors of the action layer, each mapped once to a message a user can act on.

The GitHub exception names are the original library's (``orcoursetrion.lib``), so
scripts that catch them keep working.
"""

from __future__ import annotations

from orcoursetrion.redact import redact


class OrcError(Exception):
    """Base of every error this product raises on purpose; its text is already safe to show."""

    def __init__(self, message: str = "") -> None:
        super().__init__(redact(message))

    @property
    def message(self) -> str:
        return str(self)


class ConfigError(OrcError):
    """Configuration is missing or malformed; one problem per line, naming the key only."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = [redact(p) for p in problems]
        super().__init__("\n".join(self.problems))


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


class GitHubAuthError(GitHubUnknownError):
    """GitHub refused the token (missing, wrong or lacking scopes)."""


class GitHubRateLimited(GitHubUnknownError):
    """GitHub kept answering with rate limits after every retry we allow."""


class GitError(GitHubUnknownError):
    """A git command (clone/push for a history-free copy) failed."""


class EdxError(OrcError):
    """The edX course listing API could not be read."""


def user_message(exc: BaseException) -> str:
    """The one sentence shown to a Slack or CLI user for an error."""
    if isinstance(exc, ConfigError):
        return "Configuration problem: " + "; ".join(exc.problems)
    if isinstance(exc, ValidationError):
        return str(exc)
    if isinstance(exc, GitHubRepoExists):
        return f"That repository already exists on GitHub: {exc}"
    if isinstance(exc, GitHubRepoDoesNotExist):
        return f"That repository does not exist on GitHub: {exc}"
    if isinstance(exc, GitHubNoTeamFound):
        return f"GitHub team not found: {exc}"
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
    return f"Unexpected error ({type(exc).__name__}); the details are in the service log."
