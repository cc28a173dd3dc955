"""Every action has a dry run: the ordered GitHub changes, secrets masked, nothing changed."""

from __future__ import annotations

from orcoursetrion import actions
from orcoursetrion.actions import plan_context
from tests.conftest import SECRETS, settings_for


def writes(github) -> int:
    return sum(1 for r in github.requests if r.method != "GET")


def test_dry_run_create_xml_repo_lists_changes_in_order_and_changes_nothing(github, settings):
    ctx = plan_context(settings)
    actions.create_xml_repo("8.01r", "Fall_2030", members=["alice"], ctx=ctx)
    texts = [c.text for c in ctx.changes]
    assert texts == [
        "Create private repo mitx/content-mit-801r-Fall_2030",
        "Give team mitx-content-deployment push access to mitx/content-mit-801r-Fall_2030",
        "Create team content-mit-801r-Fall_2030 in mitx (push)",
        "Set members of team content-mit-801r-Fall_2030: add alice; remove orc-bot",
        "Give team content-mit-801r-Fall_2030 push access to mitx/content-mit-801r-Fall_2030",
        "Add staging gitreload hook https://***@gitreload-staging.example.edu/ to mitx/content-mit-801r-Fall_2030",
    ]
    assert writes(github) == 0
    assert github.repo("mitx", "content-mit-801r-Fall_2030") is None
    assert not any(secret in text for secret in SECRETS for text in texts)


def test_dry_run_reads_github_to_show_the_real_difference(github, settings):
    name = "content-mit-801r-Fall_2030"
    github.add_repo("mitx", name, files={"course.xml": b"x"})
    github.add_hook("mitx", name, "https://user:hookpw123@old-hook.example.edu/")
    github.add_team("mitx", name, members=["carol", "dave"])
    github.grant("mitx", name.lower(), "mitx", name, "push")
    ctx = plan_context(settings)
    actions.release_xml("8.01r", "Fall_2030", ctx=ctx)
    actions.put_team("mitx", name, False, ["alice", "carol"], ctx=ctx)
    actions.rerun_xml("8.01r", "Fall_2030", ctx=ctx)
    texts = [c.text for c in ctx.changes]
    assert "Add production gitreload hook https://***@gitreload-prod.example.edu/ to mitx/" + name in texts
    assert f"Set members of team {name}: add alice; remove dave" in texts
    assert f"Remove 1 web hook(s) from mitx/{name} (https://***@old-hook.example.edu/)" in texts
    assert writes(github) == 0
    assert "hookpw123" not in " ".join(texts)


def test_dry_run_without_token_plans_offline(github, sqlite_url):
    settings = settings_for(github, sqlite_url, ORC_GH_OAUTH2_TOKEN="")
    ctx = plan_context(settings)
    actions.rerun_xml_course("8.01r", "Fall_2030", "Spring_2031", ctx=ctx)
    ops = [c.op for c in ctx.changes]
    assert ops == ["delete_hooks", "create_repo", "copy_repo", "grant_team", "ensure_team", "grant_team", "add_hook"]
    assert github.count() == 0


def test_dry_run_of_rerun_of_missing_run_reports_it(github, settings):
    import pytest

    from orcoursetrion.errors import GitHubRepoDoesNotExist

    with pytest.raises(GitHubRepoDoesNotExist):
        actions.rerun_studio("8.01r", "Fall_2030", "Spring_2031", ctx=plan_context(settings))
