"""The design notes' flows: full XML rerun (history-free copy over git smart HTTP),
move to production, and the new-course duplicate checks."""

from __future__ import annotations

import pytest

from orcoursetrion import actions
from orcoursetrion.actions import live_context, plan_context
from orcoursetrion.edx import Edx
from orcoursetrion.errors import EdxError, GitHubRepoDoesNotExist, GitHubUnknownError
from orcoursetrion.gitcopy import rewrite_course_xml
from tests.conftest import PRODUCTION, STAGING
from tests.fakes.edx import FakeEdx

OLD, NEW = "content-mit-801r-Fall_2030", "content-mit-801r-Spring_2031"
COURSE_XML = b'<?xml version="1.0"?>\n<course url_name="Fall_2030" org="MITx" course="8.01r"/>\n'
FILES = {
    "course.xml": COURSE_XML,
    "course/Fall_2030.xml": b'<course display_name="Physics I"><chapter url_name="week1"/></course>\n',
    "policies/Fall_2030/policy.json": b'{"course/Fall_2030": {"start": "2030-09-01"}}\n',
    "policies/Fall_2030/grading_policy.json": b'{"GRADER": []}\n',
    "chapter/week1.xml": b'<chapter display_name="Week 1"/>\n',
    "static/images/logo.png": bytes(range(256)) * 4,
    "scripts/build.sh": b"#!/bin/sh\necho build\n",
    "README.md": b"Physics I, residential\n",
}


@pytest.fixture
def old_run(github):
    github.add_repo("mitx", OLD, files=FILES, default_branch="master")
    github.add_commit("mitx", OLD, {"chapter/week2.xml": b'<chapter display_name="Week 2"/>\n'}, message="week 2")
    github.add_hook("mitx", OLD, STAGING)
    github.add_team("mitx", OLD, permission="push", members=["alice", "carol"])
    github.grant("mitx", OLD.lower(), "mitx", OLD, "push")
    return github


def test_rerun_xml_course_copies_the_tree_without_history_and_retargets_the_run(old_run, settings):
    github = old_run
    repo = actions.rerun_xml_course("8.01r", "Fall_2030", "Spring_2031", ctx=live_context(settings))

    assert repo["html_url"].endswith(f"/mitx/{NEW}")
    assert github.repo("mitx", OLD).hooks == []
    made = github.repo("mitx", NEW)
    assert made.private and made.default_branch == "master"
    old_files, new_files = github.files("mitx", OLD), github.files("mitx", NEW)
    renamed = {
        "course/Fall_2030.xml": "course/Spring_2031.xml",
        "policies/Fall_2030/policy.json": "policies/Spring_2031/policy.json",
        "policies/Fall_2030/grading_policy.json": "policies/Spring_2031/grading_policy.json",
    }
    expected = {renamed.get(path, path): data for path, data in old_files.items()}
    expected["course.xml"] = COURSE_XML.replace(b'url_name="Fall_2030"', b'url_name="Spring_2031"')
    expected["policies/Spring_2031/policy.json"] = b'{"course/Spring_2031": {"start": "2030-09-01"}}\n'
    assert new_files == expected  # every other file byte for byte, including binary ones
    commits = github.commits("mitx", NEW)
    assert len(commits) == 1 and commits[0]["parents"] == []
    assert commits[0]["author_name"] == "Orcoursetrion"
    assert commits[0]["message"].startswith("Initial rerun copy by Orcoursetrion from mitx/" + OLD)
    team = github.team("mitx", NEW.lower())
    assert set(team.members) == {"alice", "carol"}  # carried over exactly; the bot is not on it
    assert team.repos[f"mitx/{NEW}"] == "push"
    assert github.team("mitx", "mitx-content-deployment").repos[f"mitx/{NEW}"] == "push"
    assert [h["config"]["url"] for h in made.hooks] == [STAGING]


def test_rerun_xml_course_with_members_replaces_the_carried_team(old_run, settings):
    actions.rerun_xml_course("8.01r", "Fall_2030", "Spring_2031", members=["bob"], ctx=live_context(settings))
    assert set(old_run.team("mitx", NEW.lower()).members) == {"bob"}


def test_a_failed_push_is_looked_at_and_retried(old_run, settings):
    old_run.fail("POST", r"git-receive-pack$", 500, times=1)
    actions.rerun_xml_course("8.01r", "Fall_2030", "Spring_2031", ctx=live_context(settings))
    assert len(old_run.commits("mitx", NEW)) == 1


def test_rerun_xml_course_resumes_after_a_push_that_kept_failing(old_run, settings):
    from orcoursetrion.journal import MemoryJournal

    journal = MemoryJournal()
    old_run.fail("POST", r"git-receive-pack$", 500, times=settings.gh_max_retries + 1)
    with pytest.raises(GitHubUnknownError) as raised:
        actions.rerun_xml_course("8.01r", "Fall_2030", "Spring_2031", ctx=live_context(settings, journal))
    assert "git push failed" in str(raised.value)
    assert old_run.files("mitx", NEW) == {}
    actions.rerun_xml_course("8.01r", "Fall_2030", "Spring_2031", ctx=live_context(settings, journal))
    assert len(old_run.commits("mitx", NEW)) == 1
    assert "course/Spring_2031.xml" in old_run.files("mitx", NEW)


def test_git_credentials_never_reach_argv_or_urls(old_run, settings, monkeypatch):
    import subprocess

    seen = []
    real_run = subprocess.run

    def spy(args, *a, **kw):
        seen.append(list(args))
        return real_run(args, *a, **kw)

    monkeypatch.setattr(subprocess, "run", spy)
    actions.rerun_xml_course("8.01r", "Fall_2030", "Spring_2031", ctx=live_context(settings))
    assert seen and all(isinstance(a, list) for a in seen)
    flat = " ".join(" ".join(a) for a in seen)
    assert settings.gh_token not in flat and "@" not in flat


def test_rewrite_course_xml_changes_only_the_url_name():
    text = '<course org="MITx" url_name="Fall_2030" course="8.01r">\n  <chapter url_name="Fall_2030"/>\n</course>'
    out, old = rewrite_course_xml(text, "Spring_2031")
    assert old == "Fall_2030"
    assert out == text.replace('url_name="Fall_2030" course', 'url_name="Spring_2031" course', 1)


def test_move_to_production_xml_creates_live_branch_and_hook_once(old_run, settings):
    assert actions.move_to_production("8.01r", "Fall_2030", ctx=live_context(settings)) is True
    assert set(old_run.branches("mitx", OLD)) == {"master", "live"}
    head = old_run.commits("mitx", OLD, ref="master")[0]["sha"]
    assert old_run.commits("mitx", OLD, ref="live")[0]["sha"] == head
    assert PRODUCTION in [h["config"]["url"] for h in old_run.repo("mitx", OLD).hooks]
    old_run.reset_counts()
    assert actions.move_to_production("8.01r", "Fall_2030", ctx=live_context(settings)) is False
    assert sum(1 for r in old_run.requests if r.method != "GET") == 0


def test_move_to_production_studio_adds_only_the_hook(github, settings):
    github.add_repo("MITx-Studio2LMS", OLD, files={"course.xml": b"x"})
    assert actions.move_to_production("8.01r", "Fall_2030", ctx=live_context(settings)) is True
    assert github.branches("MITx-Studio2LMS", OLD) == ["master"]
    assert [h["config"]["url"] for h in github.repo("MITx-Studio2LMS", OLD).hooks] == [PRODUCTION]


def test_move_to_production_of_unknown_run(github, settings):
    with pytest.raises(GitHubRepoDoesNotExist):
        actions.move_to_production("8.01r", "Fall_2030", ctx=live_context(settings))


def test_new_course_checks_store_github_and_edx(github, settings):
    ctx = plan_context(settings)
    assert actions.check_new_course("xml", "8.01r", "Fall_2030", ctx, lambda c: [], None) == {}
    problems = actions.check_new_course("xml", "8.01r", "Fall_2030", ctx, lambda c: ["Spring_2030"], None)
    assert "already has run(s) Spring_2030" in problems["course"]
    github.add_repo("MITx-Studio2LMS", OLD)
    ctx = plan_context(settings)  # a plan reads each repo once: a new plan sees the new repo
    problems = actions.check_new_course("xml", "8.01r", "Fall_2030", ctx, lambda c: [], None)
    assert f"MITx-Studio2LMS/{OLD} already exists" in problems["course"]
    with FakeEdx(page_size=3) as edx:
        for number in ("6.002x", "18.06", "3.091", "8.02", "8.01R", "7.00"):
            edx.add_course(number)
        client = Edx(edx.url, edx.token)
        problems = actions.check_new_course("xml", "8.01r", "Spring_2031", ctx, lambda c: [], client)
        assert problems == {"course": "edX already has a course numbered 8.01r (course-v1:MITx+8.01R+2030_Fall)."}
        assert actions.check_new_course("xml", "9.99", "Spring_2031", ctx, lambda c: [], client) == {}
        edx.down = True
        with pytest.raises(EdxError):
            client.course_exists("9.99")
