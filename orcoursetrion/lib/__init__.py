"""0.2.1's library module: the `GitHub` client class and the five GitHub exceptions.

The exceptions are the very classes of `orcoursetrion.errors`, so catching
`orcoursetrion.lib.GitHubRepoExists` catches what the actions raise.
"""

from orcoursetrion.lib.github import (
    GitHub,
    GitHubException,
    GitHubNoTeamFound,
    GitHubRepoDoesNotExist,
    GitHubRepoExists,
    GitHubUnknownError,
)

__all__ = [
    "GitHub",
    "GitHubException",
    "GitHubRepoExists",
    "GitHubRepoDoesNotExist",
    "GitHubUnknownError",
    "GitHubNoTeamFound",
]
