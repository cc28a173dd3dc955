"""How many GitHub requests `create_xml_repo` makes as the org grows (teams are found by
slug, never by listing every team): prints the counts for 10, 100 and 1000 teams."""

from __future__ import annotations

import tempfile

import _setup  # noqa: F401

from orcoursetrion import actions
from orcoursetrion.actions import live_context
from tests.conftest import TOKEN, seed, settings_for
from tests.fakes.github import FakeGitHub


def main() -> None:
    print("create_xml_repo(course, term, members=[alice, bob]) against an org with N teams")
    print(f"{'teams':>6} {'requests':>9} {'GET':>5} {'writes':>7} {'list-teams calls':>17}")
    with tempfile.TemporaryDirectory() as tmp, FakeGitHub(token=TOKEN) as gh:
        seed(gh)
        settings = settings_for(gh, f"sqlite:///{tmp}/bench.db")
        have = 0
        for n, target in enumerate((10, 100, 1000)):
            for i in range(have, target):
                gh.add_team("mitx", f"team-{i:05d}")
            have = target
            gh.reset_counts()
            actions.create_xml_repo(f"1.{n:03d}", "Fall_2030", members=["alice", "bob"], ctx=live_context(settings))
            total = gh.count()
            gets = gh.count("GET")
            listing = sum(1 for r in gh.requests if r.method == "GET" and r.path.endswith("/orgs/mitx/teams"))
            print(f"{target:>6} {total:>9} {gets:>5} {total - gets:>7} {listing:>17}")


if __name__ == "__main__":
    main()
