"""History-free copies of a repository's default branch, with git run as argument lists.

Credentials travel in git's environment config (`http.extraHeader`), never in a URL,
on a command line or in a log line.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from orcoursetrion.errors import GitError
from orcoursetrion.redact import redact

GIT_TIMEOUT = 600
_URL_NAME = re.compile(r"""(<course\b[^>]*?\burl_name\s*=\s*)(["'])(.*?)\2""", re.DOTALL)


def git_env(token: str | None, committer: dict[str, str] | None = None, home: str | None = None) -> dict[str, str]:
    """Environment for a git subprocess: auth header via GIT_CONFIG_*, no prompts, no user config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        {
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_ASKPASS": "true",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "LC_ALL": "C",
        }
    )
    if home:
        env["HOME"] = home
    pairs = [("credential.helper", ""), ("init.defaultBranch", "main"), ("advice.detachedHead", "false")]
    if token:
        basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
        pairs.append(("http.extraHeader", f"Authorization: Basic {basic}"))
    env["GIT_CONFIG_COUNT"] = str(len(pairs))
    for i, (key, value) in enumerate(pairs):
        env[f"GIT_CONFIG_KEY_{i}"] = key
        env[f"GIT_CONFIG_VALUE_{i}"] = value
    if committer:
        env.update(
            {
                "GIT_AUTHOR_NAME": committer["name"],
                "GIT_AUTHOR_EMAIL": committer["email"],
                "GIT_COMMITTER_NAME": committer["name"],
                "GIT_COMMITTER_EMAIL": committer["email"],
            }
        )
    return env


def run_git(args: list[str], env: dict[str, str], cwd: str | Path | None = None) -> str:
    """Run `git *args`; raise GitError with git's own (redacted) complaint on failure."""
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=GIT_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GitError(f"git {args[0]} could not run ({type(exc).__name__})") from None
    if done.returncode != 0:
        lines = [line for line in (done.stderr or done.stdout).strip().splitlines() if line.strip()]
        reason = lines[-1] if lines else f"exit status {done.returncode}"
        raise GitError(redact(f"git {args[0]} failed: {reason}"))
    return done.stdout


def rewrite_course_xml(text: str, new_url_name: str) -> tuple[str, str | None]:
    """Set the root `<course url_name=...>` to the new run; returns (text, old url_name)."""
    match = _URL_NAME.search(text)
    if not match:
        return text, None
    old = match.group(3)
    start, end = match.span(3)
    return text[:start] + new_url_name + text[end:], old


def retarget_run(root: Path, new_url_name: str) -> list[str]:
    """Point a checked-out XML course at a new run: course.xml's url_name and the files
    edX finds by it (`course/{old}.xml`, `policies/{old}/`); returns what changed."""
    changes: list[str] = []
    course_xml = root / "course.xml"
    if not course_xml.is_file():
        return changes
    text, old = rewrite_course_xml(course_xml.read_text(encoding="utf-8"), new_url_name)
    if old is None or old == new_url_name:
        return changes
    course_xml.write_text(text, encoding="utf-8")
    changes.append(f"course.xml url_name {old} -> {new_url_name}")
    for old_path, new_path in (
        (root / "course" / f"{old}.xml", root / "course" / f"{new_url_name}.xml"),
        (root / "policies" / old, root / "policies" / new_url_name),
    ):
        if old_path.exists() and not new_path.exists():
            old_path.rename(new_path)
            changes.append(f"{old_path.relative_to(root)} -> {new_path.relative_to(root)}")
    return changes


def history_free_copy(
    src_url: str,
    dst_url: str,
    branch: str,
    token: str | None,
    committer: dict[str, str],
    message: str,
    transform: Callable[[Path], list[str]] | None = None,
    push_guard: Callable[[], AbstractContextManager] = nullcontext,
) -> tuple[str, list[str]]:
    """Copy `branch` of src into the empty dst as one fresh commit; returns (sha, changes).

    The push runs inside `push_guard()` so the caller can hold a paced write slot.
    """
    tmp = tempfile.mkdtemp(prefix="orc-copy-")
    try:
        env = git_env(token, committer, home=tmp)
        work = Path(tmp) / "work"
        run_git(
            [
                "clone",
                "--quiet",
                "--depth",
                "1",
                "--single-branch",
                "--no-tags",
                "--branch",
                branch,
                "--",
                src_url,
                str(work),
            ],
            env,
        )
        shutil.rmtree(work / ".git")
        changes = transform(work) if transform else []
        run_git(["init", "--quiet", f"--initial-branch={branch}"], env, cwd=work)
        run_git(["add", "--all"], env, cwd=work)
        run_git(["commit", "--quiet", "--allow-empty", "--no-verify", "-m", message], env, cwd=work)
        sha = run_git(["rev-parse", "HEAD"], env, cwd=work).strip()
        with push_guard():
            run_git(["push", "--quiet", "--", dst_url, f"HEAD:refs/heads/{branch}"], env, cwd=work)
        return sha, changes
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
