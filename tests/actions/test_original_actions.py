"""The original library's actions against the fake GitHub: end state, not calls."""

from __future__ import annotations

from dataclasses import replace

import pytest

from orcoursetrion import actions
from orcoursetrion.actions import live_context
from orcoursetrion.errors import GitHubNoTeamFound, GitHubRepoDoesNotExist, GitHubRepoExists
from tests.conftest import PRODUCTION, STAGING, make_env

EXPORT = "content-mit-801r-Fall_2030"


def hook_urls(gh, org, name):
    return [h["config"]["url"] for h in gh.repo(org, name).hooks]


def test_create_export_repo_makes_private_repo_with_deploy_team_and_files(github, settings):
    repo = actions.create_export_repo("8.01r", "Fall_2030", "Physics I", ctx=live_context(settings))

    assert repo["html_url"].endswith(f"/MITx-Studio2LMS/{EXPORT}")
    made = github.repo("MITx-Studio2LMS", EXPORT)
    assert made.private is True
    assert made.description == "Physics I"
    assert github.team("MITx-Studio2LMS", "mitx-studio-export").repos[f"MITx-Studio2LMS/{EXPORT}"] == "push"
    files = github.files("MITx-Studio2LMS", EXPORT)
    assert files[".gitignore"] == b"drafts/\n"
    assert files["course.xml"] == b'<course url_name="Fall_2030" org="MITx" course="8.01r"/>\n'
    commits = github.commits("MITx-Studio2LMS", EXPORT)
    assert [c["message"] for c in reversed(commits)] == [
        "Automatic .gitignore from Orcoursetrion",
        'initial commit of course.xml with term "Fall_2030"',
    ]
    assert {c["author_name"] for c in commits} == {"Orcoursetrion"}
    assert {c["committer_email"] for c in commits} == {"orcoursetrion@mit.edu"}


def test_library_call_without_context_reads_the_environment(github, monkeypatch, sqlite_url):
    for key, value in make_env(github, sqlite_url).items():
        monkeypatch.setenv(key, value)
    repo = actions.create_xml_repo("6.002x", "Spring_2031")
    assert repo["name"] == "content-mit-6002x-Spring_2031"
    assert github.repo("mitx", "content-mit-6002x-Spring_2031").private


def test_create_xml_repo_sets_teams_members_and_staging_hook(github, settings):
    actions.create_xml_repo("8.01r", "Fall_2030", members=["alice", "bob"], ctx=live_context(settings))

    name = "content-mit-801r-Fall_2030"
    assert github.repo("mitx", name).private
    deploy = github.team("mitx", "mitx-content-deployment")
    assert deploy.repos[f"mitx/{name}"] == "push"
    team = github.team("mitx", "content-mit-801r-fall_2030")
    assert team.name == name
    assert team.repos[f"mitx/{name}"] == "push"  # not the legacy default "pull"
    # GitHub made the bot a maintainer when it created the team; it is left alone.
    assert set(team.members) == {"alice", "bob"}  # exactly as asked: the bot that created it left
    hooks = github.repo("mitx", name).hooks
    assert [h["config"]["url"] for h in hooks] == [STAGING]
    assert hooks[0]["events"] == ["push"] and hooks[0]["config"]["content_type"] == "form" and hooks[0]["active"]


def test_create_xml_repo_with_existing_team_replaces_membership(github, settings):
    github.add_team("mitx", "physics-staff", permission="pull", members=["carol", "dave"])
    actions.create_xml_repo(
        "8.01r", "Fall_2030", team="physics-staff", members=["alice", "carol"], ctx=live_context(settings)
    )
    team = github.team("mitx", "physics-staff")
    assert set(team.members) == {"alice", "carol"}
    assert team.repos["mitx/content-mit-801r-Fall_2030"] == "push"


def test_create_xml_repo_without_members_leaves_membership_alone(github, settings):
    github.add_team("mitx", "physics-staff", members=["carol"])
    actions.create_xml_repo("8.01r", "Fall_2030", team="physics-staff", ctx=live_context(settings))
    assert set(github.team("mitx", "physics-staff").members) == {"carol"}


def test_existing_repo_of_someone_else_is_refused(github, settings):
    github.add_repo("mitx", "content-mit-801r-Fall_2030", files={"README.md": b"mine"})
    with pytest.raises(GitHubRepoExists):
        actions.create_xml_repo("8.01r", "Fall_2030", ctx=live_context(settings))
    assert github.repo("mitx", "content-mit-801r-Fall_2030").hooks == []


def test_missing_deploy_team_is_a_typed_error(github, settings):
    with pytest.raises(GitHubNoTeamFound):
        actions.create_export_repo(
            "8.01r", "Fall_2030", ctx=live_context(replace(settings, studio_deploy_team="no-such-team"))
        )


def test_rerun_studio_removes_old_hooks_and_creates_new_export_repo(github, settings):
    github.add_repo("MITx-Studio2LMS", EXPORT, files={"course.xml": b"<course/>"})
    github.add_hook("MITx-Studio2LMS", EXPORT, PRODUCTION)
    github.add_hook("MITx-Studio2LMS", EXPORT, "https://other.example.edu/hook")

    repo = actions.rerun_studio("8.01r", "Fall_2030", "Spring_2031", ctx=live_context(settings))

    assert github.repo("MITx-Studio2LMS", EXPORT).hooks == []
    new = "content-mit-801r-Spring_2031"
    assert repo["name"] == new
    assert github.files("MITx-Studio2LMS", new)["course.xml"] == (
        b'<course url_name="Spring_2031" org="MITx" course="8.01r"/>\n'
    )


def test_rerun_studio_of_missing_run_fails_before_creating_anything(github, settings):
    with pytest.raises(GitHubRepoDoesNotExist):
        actions.rerun_studio("8.01r", "Fall_2030", "Spring_2031", ctx=live_context(settings))
    assert github.repo("MITx-Studio2LMS", "content-mit-801r-Spring_2031") is None


def test_release_studio_and_release_xml_add_production_hook_once(github, settings):
    github.add_repo("MITx-Studio2LMS", EXPORT, files={"course.xml": b"x"})
    github.add_repo("mitx", EXPORT, files={"course.xml": b"x"})
    for _ in range(2):  # a second release changes nothing (GitHub would answer 422)
        actions.release_studio("8.01r", "Fall_2030", ctx=live_context(settings))
        actions.release_xml("8.01r", "Fall_2030", ctx=live_context(settings))
    assert hook_urls(github, "MITx-Studio2LMS", EXPORT) == [PRODUCTION]
    assert hook_urls(github, "mitx", EXPORT) == [PRODUCTION]


def test_rerun_xml_removes_all_hooks_and_counts_them(github, settings):
    github.add_repo("mitx", EXPORT, files={"course.xml": b"x"})
    github.add_hook("mitx", EXPORT, STAGING)
    github.add_hook("mitx", EXPORT, PRODUCTION)
    assert actions.rerun_xml("8.01r", "Fall_2030", ctx=live_context(settings)) == 2
    assert github.repo("mitx", EXPORT).hooks == []


def test_put_team_creates_read_only_team_and_sets_members(github, settings):
    team = actions.put_team("mitx", "Physics Readers", True, ["bob"], ctx=live_context(settings))
    assert team["slug"] == "physics-readers"
    made = github.team("mitx", "physics-readers")
    assert made.permission == "pull"
    assert set(made.members) == {"bob"}
    actions.put_team("mitx", "Physics Readers", True, ["carol"], ctx=live_context(settings))
    assert set(github.team("mitx", "physics-readers").members) == {"carol"}
    actions.put_team("mitx", "Physics Readers", True, None, ctx=live_context(settings))
    assert set(github.team("mitx", "physics-readers").members) == {"carol"}


def test_github_dot_com_style_base_url_works(sqlite_url):
    from tests.conftest import TOKEN, seed, settings_for
    from tests.fakes.github import FakeGitHub

    with FakeGitHub(api_prefix="", token=TOKEN) as gh:
        seed(gh)
        settings = settings_for(gh, sqlite_url)
        actions.create_xml_repo("8.01r", "Fall_2030", ctx=live_context(settings))
        assert gh.repo("mitx", "content-mit-801r-Fall_2030").private
