"""GitHub requests per action as the org grows: teams are found by slug and repos by name,
never by listing the org, so each action makes the same number of requests whether the
org holds 10 or 1,000 teams and repos. Prints, for each action, the requests (reads and
writes) at each size and how many of them listed teams or repos."""

from __future__ import annotations

import re
import tempfile
import time

import _setup  # noqa: F401

from orcoursetrion import actions
from orcoursetrion.actions import live_context
from tests.conftest import TOKEN, seed, settings_for
from tests.fakes.github import FakeGitHub

SIZES = (10, 1000)
ORGS = ("mitx", "MITx-Studio2LMS")
LISTING = re.compile(r"/(orgs/[^/]+/(teams|repos)|user/repos|user/teams)$")
COURSE_XML = b'<course url_name="Fall_2030" org="MITx" course="{course}"/>'


def grow(gh: FakeGitHub, have: int, target: int) -> None:
    """Unrelated teams and (empty) repos up to `target` of each in both orgs."""
    for org in ORGS:
        for i in range(have, target):
            gh.add_team(org, f"team-{i:05d}")
        gh.add_repos(org, [f"other-repo-{i:05d}" for i in range(have, target)])


def existing_run(gh: FakeGitHub, org: str, course: str) -> None:
    """A run of `course` in Fall_2030 with content and its team (what rerun/release start from)."""
    name = f"content-mit-{course.replace('.', '')}-Fall_2030"
    gh.add_repo(org, name, files={"course.xml": COURSE_XML.replace(b"{course}", course.encode()), "README.md": b"x\n"})
    gh.add_team(org, name, members=["alice", "bob"])
    gh.grant(org, name.lower(), org, name, "push")


def scenarios(n: int) -> list[tuple[str, callable]]:
    """(action, call) for org size `n`; each works on its own course so none sees another's repo."""
    c = f"{n}"
    return [
        ("create_xml_repo", lambda ctx: actions.create_xml_repo(f"1.{c}", "Fall_2030", members=["alice"], ctx=ctx)),
        ("create_studio_repo", lambda ctx: actions.create_export_repo(f"2.{c}", "Fall_2030", ctx=ctx)),
        ("rerun (XML, full copy)", lambda ctx: actions.rerun_xml_course(f"3.{c}", "Fall_2030", "Spring_2031", ctx=ctx)),
        ("release (XML: live + hook)", lambda ctx: actions.move_to_production(f"4.{c}", "Fall_2030", "xml", ctx=ctx)),
        ("put_team", lambda ctx: actions.put_team("mitx", f"Staff {c}", False, ["alice", "bob"], ctx=ctx)),
    ]


def main() -> None:
    rows: dict[str, dict[int, tuple[int, int, int]]] = {}
    with tempfile.TemporaryDirectory() as tmp, FakeGitHub(token=TOKEN) as gh:
        seed(gh)
        settings = settings_for(gh, f"sqlite:///{tmp}/bench.db")
        have = 0
        for size in SIZES:
            started = time.perf_counter()
            grow(gh, have, size)
            have = size
            seeded = time.perf_counter() - started
            for course in (f"3.{size}", f"4.{size}"):
                existing_run(gh, "mitx", course)
            for action, call in scenarios(size):
                gh.reset_counts()
                call(live_context(settings))
                total, gets = gh.count(), gh.count("GET")
                listing = sum(1 for r in gh.requests if r.method == "GET" and LISTING.search(r.path))
                rows.setdefault(action, {})[size] = (total, total - gets, listing)
            print(f"(org seeded with {size} teams and {size} repos in each of {', '.join(ORGS)} in {seeded:.1f} s)")
    head = "".join(f" {f'{s} teams+repos':>18}" for s in SIZES)
    print(
        f"GitHub requests per action (total = reads + writes; listings of teams/repos in brackets)\n{'action':<28}{head}"
    )
    for action, by_size in rows.items():
        cells = "".join(f" {f'{t} = {t - w} + {w} [{lst}]':>18}" for t, w, lst in (by_size[s] for s in SIZES))
        print(f"{action:<28}{cells}")


if __name__ == "__main__":
    main()
