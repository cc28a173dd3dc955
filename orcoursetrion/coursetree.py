"""Retargeting an XML course to a new run, on git trees, with the course's content
treated as untrusted input.

edX finds a run's files by the `url_name` in `course.xml`: `course/{url_name}.xml` and
`policies/{url_name}/`, where `policy.json` keeps the run's dates under the top-level key
`course/{url_name}`. A rerun moves all of them to the new term. `inspect` reads the old
tree (through any `TreeReader`: GitHub's API for the plan, the local clone for the copy)
and returns what to change, or refuses: a url_name that is not a plain name, a symlinked
or misplaced `course.xml`, `course/` or `policies/`, a name the new run already uses.
Nothing here touches a file system: the copy rewrites tree objects, so a symlink is
copied as a symlink and never followed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Protocol

from orcoursetrion.errors import OrcError, UnsafeCourseContent, preflight_error
from orcoursetrion.naming import shown

URL_NAME_RE = re.compile(r"^(?!\.)(?!.*\.\.)[A-Za-z0-9_.-]{1,100}$")
_URL_NAME_ATTR = re.compile(r"""(<course\b[^>]*?\burl_name\s*=\s*)(["'])(.*?)\2""", re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
FILE_MODES = ("100644", "100755")
TREE_MODE = "040000"
SYMLINK_MODE = "120000"
MAX_COURSE_XML = 1 << 20
MAX_POLICY_JSON = 4 << 20


@dataclass(frozen=True)
class Entry:
    """One entry of a git tree."""

    name: str
    mode: str
    type: str
    sha: str

    @property
    def is_file(self) -> bool:
        return self.type == "blob" and self.mode in FILE_MODES

    @property
    def is_dir(self) -> bool:
        return self.type == "tree"

    def kind(self) -> str:
        if self.mode == SYMLINK_MODE:
            return "a symlink"
        if self.type == "commit":
            return "a submodule"
        return "a directory" if self.is_dir else "a file"


class TreeReader(Protocol):
    def entries(self, tree: str) -> dict[str, Entry]: ...
    def blob(self, sha: str, limit: int) -> bytes: ...


def normalize_mode(mode: str) -> str:
    """GitHub's API and `git ls-tree` both give six digits; accept git's short `40000`."""
    return mode.zfill(6)


@dataclass
class Retarget:
    """What moving a course from run `old` to run `new` changes (empty when old == new)."""

    old: str
    new: str
    course_file: bool = False
    policies_dir: bool = False
    policy_key: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def needed(self) -> bool:
        return self.old != self.new

    def describe(self) -> str:
        if not self.needed:
            return f"course.xml already names run {self.new}"
        parts = [f"course.xml url_name {self.old} → {self.new}"]
        if self.course_file:
            parts.append(f"course/{self.old}.xml → course/{self.new}.xml")
        if self.policies_dir:
            parts.append(f"policies/{self.old}/ → policies/{self.new}/")
        if self.policy_key:
            parts.append(f'policy.json key "course/{self.old}" → "course/{self.new}"')
        return "; ".join(parts)


def check_url_name(value: str, where: str = "course.xml") -> str:
    """A run name that can safely become a path component, or UnsafeCourseContent."""
    if not URL_NAME_RE.fullmatch(value or ""):
        raise UnsafeCourseContent(
            f"{where} names the run {shown(value, 60)}, which is not a plain name (letters, digits, '_', '-', '.'; "
            "no '..', no leading dot, at most 100 characters). Fix course.xml in the old run first."
        )
    return value


def course_url_name(text: str) -> str | None:
    """The `url_name` of the root `<course>` element, ignoring XML comments."""
    match = _URL_NAME_ATTR.search(_COMMENT.sub(lambda m: " " * len(m.group()), text))
    return match.group(3) if match else None


def rewrite_course_xml(text: str, new_url_name: str) -> tuple[str, str | None]:
    """Set the root `<course url_name=...>` to the new run; returns (text, old url_name)."""
    blanked = _COMMENT.sub(lambda m: " " * len(m.group()), text)
    match = _URL_NAME_ATTR.search(blanked)
    if not match:
        return text, None
    start, end = match.span(3)
    return text[:start] + new_url_name + text[end:], text[start:end]


def _decode(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise UnsafeCourseContent(f"{what} is not UTF-8 text.") from None


def inspect(reader: TreeReader, root: str, new: str) -> Retarget:
    """What retargeting the tree `root` to run `new` changes; raises (with every problem
    found) when the content is unsafe or inconsistent, before anything is written."""
    problems: list[OrcError] = []
    top = reader.entries(root)
    course_xml = top.get("course.xml")
    if course_xml is None:
        raise UnsafeCourseContent(
            "The old run has no course.xml at the top of its default branch; nothing to retarget."
        )
    if not course_xml.is_file:
        raise UnsafeCourseContent(f"course.xml is {course_xml.kind()}, not a file; refusing to follow it.")
    text = _decode(reader.blob(course_xml.sha, MAX_COURSE_XML), "course.xml")
    old = course_url_name(text)
    if old is None:
        raise UnsafeCourseContent("course.xml has no <course url_name=...>; cannot tell which run it is.")
    check_url_name(old)
    plan = Retarget(old, new)
    if not plan.needed:
        return plan
    for folder in ("course", "policies"):
        entry = top.get(folder)
        if entry is not None and not entry.is_dir:
            problems.append(UnsafeCourseContent(f"{folder} is {entry.kind()}, not a directory; refusing to follow it."))
    course_dir, policies_dir = top.get("course"), top.get("policies")
    if course_dir is not None and course_dir.is_dir:
        inside = reader.entries(course_dir.sha)
        found = inside.get(f"{old}.xml")
        if found is not None:
            if found.is_file:
                plan.course_file = True
            else:
                problems.append(UnsafeCourseContent(f"course/{old}.xml is {found.kind()}, not a file."))
        if f"{new}.xml" in inside:
            problems.append(UnsafeCourseContent(f"course/{new}.xml already exists in the old run; remove it first."))
    if policies_dir is not None and policies_dir.is_dir:
        inside = reader.entries(policies_dir.sha)
        found = inside.get(old)
        if found is not None:
            if found.is_dir:
                plan.policies_dir = True
                try:
                    plan.policy_key = _policy_has_key(reader, found.sha, old, new)
                except OrcError as exc:
                    problems.append(exc)
            else:
                problems.append(UnsafeCourseContent(f"policies/{old} is {found.kind()}, not a directory."))
        if new in inside:
            problems.append(UnsafeCourseContent(f"policies/{new} already exists in the old run; remove it first."))
    if problems:
        raise preflight_error(problems)
    return plan


def _policy_has_key(reader: TreeReader, tree: str, old: str, new: str) -> bool:
    entry = reader.entries(tree).get("policy.json")
    if entry is None:
        return False
    if not entry.is_file:
        raise UnsafeCourseContent(f"policies/{old}/policy.json is {entry.kind()}, not a file.")
    text = _decode(reader.blob(entry.sha, MAX_POLICY_JSON), f"policies/{old}/policy.json")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise UnsafeCourseContent(f"policies/{old}/policy.json is not valid JSON ({exc}); fix it first.") from None
    if not isinstance(data, dict):
        return False
    if f"course/{new}" in data:
        raise UnsafeCourseContent(f'policies/{old}/policy.json already has a "course/{new}" key.')
    return f"course/{old}" in data


def rename_top_level_key(text: str, old_key: str, new_key: str) -> str:
    """`text` with the object's top-level key `old_key` renamed, every other byte kept."""
    span = _top_level_key_span(text, old_key)
    if span is None:
        return text
    start, end = span
    return text[:start] + json.dumps(new_key) + text[end:]


def _top_level_key_span(text: str, wanted: str) -> tuple[int, int] | None:
    """Where the JSON string token of top-level key `wanted` sits in `text`."""
    depth = 0
    expect_key = False
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            token = text[i : j + 1]
            if depth == 1 and expect_key:
                if json.loads(token) == wanted:
                    return i, j + 1
                expect_key = False
            i = j + 1
            continue
        if ch in "{[":
            depth += 1
            expect_key = ch == "{" and depth == 1
        elif ch in "}]":
            depth -= 1
        elif ch == "," and depth == 1:
            expect_key = True
        elif ch == ":" and depth == 1:
            expect_key = False
        i += 1
    return None
