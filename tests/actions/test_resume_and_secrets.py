"""Idempotent, resumable steps; secrets never leave the process."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from orcoursetrion import actions
from orcoursetrion.actions import live_context
from orcoursetrion.changes import Change
from orcoursetrion.errors import GitHubRepoExists, GitHubUnknownError
from orcoursetrion.journal import MemoryJournal
from tests.conftest import SECRETS, STAGING

NAME = "content-mit-801r-Fall_2030"


def repo_creations(github) -> int:
    return sum(1 for r in github.requests if r.method == "POST" and r.path.endswith("/repos") and r.status == 201)


def test_interrupted_action_resumes_with_its_journal_and_creates_nothing_twice(github, settings):
    journal = MemoryJournal()
    github.fail("POST", rf"/repos/mitx/{NAME}/hooks$", 422, body={"message": "Validation Failed"}, times=1)
    with pytest.raises(GitHubUnknownError):
        actions.create_xml_repo("8.01r", "Fall_2030", members=["alice"], ctx=live_context(settings, journal))
    assert github.repo("mitx", NAME).hooks == []

    actions.create_xml_repo("8.01r", "Fall_2030", members=["alice"], ctx=live_context(settings, journal))

    assert repo_creations(github) == 1
    assert [h["config"]["url"] for h in github.repo("mitx", NAME).hooks] == [STAGING]
    assert sum(1 for r in github.requests if r.method == "POST" and "/teams" in r.path and r.status == 201) == 1


def test_repo_created_just_before_a_crash_is_reused(github, settings):
    """GitHub created the repo but the process died before recording it: the step was
    journaled as being applied, and an empty repo created after that is ours."""
    journal = MemoryJournal()
    journal.intend(f"|create_repo|mitx/{NAME}", Change("create_repo", f"mitx/{NAME}", ""))
    github.add_repo("mitx", NAME)  # empty, like a repo made a moment before the crash
    actions.create_xml_repo("8.01r", "Fall_2030", ctx=live_context(settings, journal))
    assert repo_creations(github) == 0
    assert [h["config"]["url"] for h in github.repo("mitx", NAME).hooks] == [STAGING]


def test_without_a_journal_an_existing_repo_is_never_adopted(github, settings):
    """A library call keeps no journal (0.2.1's behaviour): run again, it refuses the repo
    its first call made, writing nothing. Requests (CLI, Slack) resume through the store."""
    github.fail("PUT", r"/contents/course\.xml$", 422, body={"message": "Invalid request."}, times=1)
    with pytest.raises(GitHubUnknownError):
        actions.create_export_repo("8.01r", "Fall_2030", ctx=live_context(settings))
    github.reset_counts()
    with pytest.raises(GitHubRepoExists):
        actions.create_export_repo("8.01r", "Fall_2030", ctx=live_context(settings))
    assert sum(1 for r in github.requests if r.method != "GET") == 0
    assert set(github.files("MITx-Studio2LMS", NAME)) == {".gitignore"}


def test_a_repo_someone_made_before_our_lost_create_is_not_adopted(github, settings):
    """In doubt (our create's answer was lost), only a repo created after we asked counts."""
    github.add_repo("mitx", NAME)
    journal = MemoryJournal()
    journal.intend(f"|create_repo|mitx/{NAME}", Change("create_repo", f"mitx/{NAME}", ""))
    journal.steps[f"|create_repo|mitx/{NAME}"] = replace(
        journal.steps[f"|create_repo|mitx/{NAME}"], at=datetime.now(UTC) + timedelta(hours=1)
    )
    github.reset_counts()
    with pytest.raises(GitHubRepoExists):
        actions.create_xml_repo("8.01r", "Fall_2030", ctx=live_context(settings, journal))
    assert sum(1 for r in github.requests if r.method != "GET") == 0


def test_empty_repo_without_journal_is_someone_elses(github, settings):
    github.add_repo("mitx", NAME)
    with pytest.raises(GitHubRepoExists):
        actions.create_xml_repo("8.01r", "Fall_2030", ctx=live_context(settings))


def test_transient_server_errors_are_retried(github, settings):
    github.fail("PUT", r"/memberships/alice$", 502, times=2)
    github.fail("POST", r"/orgs/mitx/repos$", 503, times=1)
    actions.create_xml_repo("8.01r", "Fall_2030", members=["alice"], ctx=live_context(settings))
    assert "alice" in github.team("mitx", NAME.lower()).members
    assert repo_creations(github) == 1


def test_no_secret_in_logs_output_or_errors(github, settings, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    github.add_repo("mitx", NAME, files={"course.xml": b"x"})
    github.add_hook("mitx", NAME, STAGING)
    ctx = live_context(settings)
    actions.release_xml("8.01r", "Fall_2030", ctx=ctx)
    actions.rerun_xml("8.01r", "Fall_2030", ctx=ctx)
    github.fail(
        "POST", rf"/repos/mitx/{NAME}/hooks$", 422, body={"message": f"Validation Failed for {STAGING}"}, times=1
    )
    with pytest.raises(GitHubUnknownError) as raised:
        actions.release_xml("8.01r", "Fall_2030", ctx=live_context(settings))
    texts = [caplog.text, str(raised.value), repr(raised.value), capsys.readouterr().out]
    texts += [c.text for c in ctx.changes]
    assert "PUT" in caplog.text or "POST" in caplog.text  # PyGithub's debug log was captured
    for secret in SECRETS:
        assert not any(secret in t for t in texts), secret
    assert "https://***@gitreload-staging.example.edu/" in str(raised.value)


def test_team_lookup_request_count_does_not_grow_with_the_org(github, settings):
    def run(course: str) -> int:
        github.reset_counts()
        actions.create_xml_repo(course, "Fall_2030", members=["alice"], ctx=live_context(settings))
        return github.count()

    for i in range(10):
        github.add_team("mitx", f"team-{i:04d}")
    small = run("1.001")
    for i in range(10, 1000):
        github.add_team("mitx", f"team-{i:04d}")
    large = run("1.002")
    assert small == large
    assert github.count(path_contains="/orgs/mitx/teams?") == 0
    assert not any(r.path.endswith("/orgs/mitx/teams") and r.method == "GET" for r in github.requests)
