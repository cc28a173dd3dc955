"""What a step of an action changes on GitHub: the unit of plans, journals and audits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote


@dataclass
class Change:
    """One GitHub change a step will make (or found already made: `changed=False`).

    `text` is safe to show anywhere (secrets redacted); `data` is what `apply` needs and
    is JSON-serialisable, so the plan can be journaled and compared with the execution."""

    op: str
    target: str
    text: str
    changed: bool = True
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class StepRecord:
    """A journal row: a step this request intended (`applying`) or finished (`done`)."""

    key: str
    state: str
    evidence: dict
    at: datetime | None = None
    attempt: int = 0

    @property
    def done(self) -> bool:
        return self.state == "done"

    @property
    def in_doubt(self) -> bool:
        """The write was sent and its outcome never came back (crash, timeout)."""
        return self.state == "applying"


@dataclass(frozen=True)
class RepoOwner:
    """The request whose journal holds a repository's creation."""

    request_id: int
    type: str
    summary: str
    at: datetime | None


def web_base(api_url: str) -> str:
    """GitHub's web address for an API URL: `https://github.mit.edu/api/v3/` and
    `https://api.github.com` give `https://github.mit.edu` and `https://github.com`."""
    return api_url.split("/api/")[0].rstrip("/").replace("://api.", "://")


def object_of(target: str) -> str:
    """The repo or team a step's target names (`org/repo#hook`, `org/repo@branch`, `org/repo:path`)."""
    return target.split("#", 1)[0].split("@", 1)[0].split(":", 1)[0]


def change_url(base: str, op: str | None, target: str, evidence: dict | None = None) -> str | None:
    """Where a person sees a journaled GitHub change: the repo, the team, the hook, the
    commit or the branch it made (`target` as the step names it, `evidence` as GitHub
    answered it). None for an operation this does not know."""
    evidence = evidence if isinstance(evidence, dict) else {}
    sha = evidence.get("sha") if isinstance(evidence.get("sha"), str) and evidence.get("sha") else None
    at = f"{base}/{quote(object_of(target))}"
    if op in ("ensure_team", "set_members"):
        org, _, slug = target.partition("/")
        return f"{base}/orgs/{quote(org)}/teams/{quote(slug)}" + ("/members" if op == "set_members" else "")
    if op == "grant_team":
        return f"{at}/settings/access"
    if op == "add_hook":
        hook = evidence.get("id")
        return f"{at}/settings/hooks" + (f"/{hook}" if isinstance(hook, int) else "")
    if op == "delete_hooks":
        return f"{at}/settings/hooks"
    if op == "add_file":
        return f"{at}/commit/{sha}" if sha else f"{at}/blob/HEAD/{quote(target.partition(':')[2])}"
    if op == "create_branch":
        return f"{at}/tree/{quote(target.partition(':')[2])}"
    if op == "copy_repo":
        return f"{at}/commit/{sha}" if sha else at
    if op == "create_repo":
        return at
    return None
