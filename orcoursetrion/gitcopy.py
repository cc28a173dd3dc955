"""History-free copies of a repository's default branch, made on git objects alone.

The source is cloned bare (shallow, one branch): nothing is ever checked out, so no
path in the course — a symlink, `..` in a name — can reach the file system. The new
run's tree is built from the old one with `git mktree`, renaming the run's entries and
replacing two blobs (`course.xml`, `policy.json`); every other entry keeps its blob and
mode by construction. git runs as argument lists; credentials travel in git's
environment config (`http.extraHeader`), never in a URL, on a command line or in a log.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from orcoursetrion.coursetree import Entry, Retarget, inspect, normalize_mode, rename_top_level_key, rewrite_course_xml
from orcoursetrion.errors import GitError, UnsafeCourseContent
from orcoursetrion.redact import redact

GIT_TIMEOUT = 600


class GitPushFailed(GitError):
    """The push failed; it may still have reached GitHub (look before trying again)."""


class GitAuthFailed(GitError):
    """GitHub refused git's credentials (401): the command changed nothing."""


# What git prints when the server answers 401 (git's http.c and remote-curl.c).
_AUTH_FAILED = ("Authentication failed", "returned error: 401", "Invalid username or token")

# A token for git: a fixed one (or None), or a function of (URL, renew) that hands out a
# fresh one for the URL's org, a new one when `renew` (git was refused the last).
TokenSource = str | None | Callable[[str, bool], str | None]


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
    pairs = [
        ("credential.helper", ""),
        ("init.defaultBranch", "main"),
        ("advice.detachedHead", "false"),
        ("protocol.allow", "never"),
        ("protocol.http.allow", "always"),
        ("protocol.https.allow", "always"),
        ("core.hooksPath", os.devnull),
    ]
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


def run_git(args: list[str], env: dict[str, str], cwd: str | Path | None = None, input: bytes | None = None) -> bytes:
    """Run `git *args`; raise GitError with git's own (redacted) complaint on failure."""
    command = args[2] if args[:1] == ["--git-dir"] and len(args) > 2 else args[0]
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, env=env, input=input, capture_output=True, timeout=GIT_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GitError(f"git {command} could not run ({type(exc).__name__})") from None
    if done.returncode != 0:
        text = (done.stderr or done.stdout).decode("utf-8", errors="replace")
        lines = [line for line in text.strip().splitlines() if line.strip()]
        reason = lines[-1] if lines else f"exit status {done.returncode}"
        kind = GitAuthFailed if any(sign in text for sign in _AUTH_FAILED) else GitError
        raise kind(redact(f"git {command} failed: {reason}"))
    return done.stdout


class LocalTree:
    """A `TreeReader` (and writer) over a bare repository on disk."""

    def __init__(self, gitdir: Path, env: dict[str, str]) -> None:
        self.gitdir, self.env = gitdir, env

    def git(self, *args: str, input: bytes | None = None) -> bytes:
        return run_git(["--git-dir", str(self.gitdir), *args], self.env, input=input)

    def entries(self, tree: str) -> dict[str, Entry]:
        out: dict[str, Entry] = {}
        for record in self.git("ls-tree", "-z", tree).split(b"\0"):
            if not record:
                continue
            meta, _, name = record.partition(b"\t")
            mode, kind, sha = meta.decode().split()
            entry = Entry(name.decode("utf-8", errors="surrogateescape"), normalize_mode(mode), kind, sha)
            out[entry.name] = entry
        return out

    def blob(self, sha: str, limit: int) -> bytes:
        size = int(self.git("cat-file", "-s", sha).strip())
        if size > limit:
            raise UnsafeCourseContent(f"a course file is {size} bytes, more than the {limit} allowed")
        return self.git("cat-file", "blob", sha)

    def write_blob(self, data: bytes) -> str:
        return self.git("hash-object", "-w", "--stdin", input=data).decode().strip()

    def write_tree(self, entries: dict[str, Entry]) -> str:
        lines = b"".join(
            f"{e.mode} {e.type} {e.sha}\t".encode() + e.name.encode("utf-8", errors="surrogateescape") + b"\0"
            for e in entries.values()
        )
        return self.git("mktree", "-z", input=lines).decode().strip()


def retargeted_tree(repo: LocalTree, root: str, plan: Retarget) -> str:
    """The root tree of the new run: the old tree with the run's entries moved (same
    blobs and modes) and the two retargeted blobs replaced."""
    if not plan.needed:
        return root
    top = repo.entries(root)
    xml_entry = top["course.xml"]
    text, _ = rewrite_course_xml(repo.blob(xml_entry.sha, 1 << 20).decode("utf-8"), plan.new)
    top["course.xml"] = Entry("course.xml", xml_entry.mode, "blob", repo.write_blob(text.encode("utf-8")))
    if plan.course_file:
        course = repo.entries(top["course"].sha)
        moved = course.pop(f"{plan.old}.xml")
        course[f"{plan.new}.xml"] = Entry(f"{plan.new}.xml", moved.mode, moved.type, moved.sha)
        top["course"] = Entry("course", top["course"].mode, "tree", repo.write_tree(course))
    if plan.policies_dir:
        policies = repo.entries(top["policies"].sha)
        moved = policies.pop(plan.old)
        sha = moved.sha
        if plan.policy_key:
            run = repo.entries(moved.sha)
            policy = run["policy.json"]
            renamed = rename_top_level_key(
                repo.blob(policy.sha, 4 << 20).decode("utf-8"), f"course/{plan.old}", f"course/{plan.new}"
            )
            run["policy.json"] = Entry("policy.json", policy.mode, "blob", repo.write_blob(renamed.encode("utf-8")))
            sha = repo.write_tree(run)
        policies[plan.new] = Entry(plan.new, moved.mode, "tree", sha)
        top["policies"] = Entry("policies", top["policies"].mode, "tree", repo.write_tree(policies))
    return repo.write_tree(top)


def history_free_copy(
    src_url: str,
    dst_url: str,
    branch: str | None,
    token: TokenSource,
    committer: dict[str, str],
    message: str,
    new_url_name: str | None = None,
    expect_sha: str | None = None,
    push_guard: Callable[[], AbstractContextManager] = nullcontext,
    force: bool = False,
) -> tuple[str, Retarget | None]:
    """Copy `branch` of src (None: its default branch) into the empty dst as one fresh
    commit, retargeted to run `new_url_name` when given; returns (new commit sha, what
    was retargeted). With `force` the copy replaces dst's branch of that name.

    The content is checked again on the clone (it may have moved since the plan), and
    with `expect_sha` a source that moved at all is refused. The push runs inside
    `push_guard()` so the caller can hold a paced write slot. A `token` function is asked
    just before the clone and before the push (each URL's own token); when GitHub refuses
    one (it expired), the command runs once more with a renewed token.
    """
    tmp = tempfile.mkdtemp(prefix="orc-copy-")

    def with_token(url: str, run: Callable[[dict[str, str]], bytes]) -> bytes:
        if not callable(token):
            return run(git_env(token, committer, home=tmp))
        try:
            return run(git_env(token(url, False), committer, home=tmp))
        except GitAuthFailed:  # the token expired on the way: once more with a renewed one
            return run(git_env(token(url, True), committer, home=tmp))

    try:
        env = git_env(None, committer, home=tmp)  # local commands: no credentials
        gitdir = Path(tmp) / "src.git"
        which = ["--branch", branch] if branch else []
        clone = ["clone", "--quiet", "--bare", "--depth", "1", "--single-branch", "--no-tags", *which, "--"]
        with_token(src_url, lambda auth: run_git([*clone, src_url, str(gitdir)], auth))
        repo = LocalTree(gitdir, env)
        if not branch:
            branch = repo.git("symbolic-ref", "--short", "HEAD").decode().strip()
        head = repo.git("rev-parse", "--verify", "HEAD^{commit}").decode().strip()
        if expect_sha and head != expect_sha:
            raise GitError(
                f"the old run's {branch} branch moved since the plan was made ({expect_sha[:8]} → {head[:8]}); "
                "Retry plans again"
            )
        root = repo.git("rev-parse", f"{head}^{{tree}}").decode().strip()
        plan = inspect(repo, root, new_url_name) if new_url_name else None
        tree = retargeted_tree(repo, root, plan) if plan else root
        sha = repo.git("commit-tree", tree, "-m", message).decode().strip()
        refspec = f"{'+' if force else ''}{sha}:refs/heads/{branch}"

        def push(auth: dict[str, str]) -> bytes:
            with push_guard():
                return run_git(["--git-dir", str(gitdir), "push", "--quiet", "--", dst_url, refspec], auth)

        try:
            with_token(dst_url, push)
        except GitError as exc:
            raise GitPushFailed(str(exc)) from None
        return sha, plan
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
