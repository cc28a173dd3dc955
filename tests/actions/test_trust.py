"""Execution you can trust, told as stories against the fake GitHub: someone else's repo
is never adopted, a course's own content cannot steer the copy, a plan that cannot run
writes nothing and says why, done twice reads as done, and the plan is the execution."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from orcoursetrion import actions
from orcoursetrion.actions import live_context, plan_context
from orcoursetrion.cli import main
from orcoursetrion.errors import (
    ConfigError,
    GitHubNoTeamFound,
    GitHubRepoEmpty,
    GitHubRepoExists,
    UnsafeCourseContent,
    ValidationError,
    problems_of,
    user_message,
)
from orcoursetrion.gitcopy import history_free_copy
from tests.conftest import SECRETS, STAGING, make_env
from tests.fakes.github import Executable, Symlink

OLD, NEW = "content-mit-801r-Fall_2030", "content-mit-801r-Spring_2031"
POLICY = b'{\n  "course/Fall_2030": {"start": "2030-09-01T00:00", "display_name": "Physics I"},\n  "video/intro": {"course/Fall_2030": 1}\n}\n'
COURSE = {
    "course.xml": b'<course url_name="Fall_2030" org="MITx" course="8.01r"/>\n',
    "course/Fall_2030.xml": b'<course display_name="Physics I"><chapter url_name="week1"/></course>\n',
    "policies/Fall_2030/policy.json": POLICY,
    "policies/Fall_2030/grading_policy.json": b'{"GRADER": []}\n',
    "chapter/week1.xml": b'<chapter display_name="Week 1"/>\n',
    "static/logo.png": bytes(range(256)) * 8,
    "static/latest.png": Symlink("logo.png"),
    "scripts/build.sh": Executable(b"#!/bin/sh\necho build\n"),
}


def writes(github) -> list[str]:
    return [f"{r.method} {r.path}" for r in github.requests if r.method != "GET" and not r.path.endswith("info/refs")]


def old_run(github, files=None, members=("alice", "carol")):
    github.add_repo("mitx", OLD, files=COURSE if files is None else files)
    github.add_hook("mitx", OLD, STAGING)
    github.add_team("mitx", OLD, permission="push", members=list(members))
    github.grant("mitx", OLD.lower(), "mitx", OLD, "push")
    return github


@pytest.fixture
def cli(github, sqlite_url, monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(tmp_path)
    for key in list(os.environ):
        if key.startswith(("ORC_", "SLACK_", "ZENDESK_", "EDX_")) or key == "DATABASE_URL":
            monkeypatch.delenv(key)
    for key, value in make_env(github, sqlite_url).items():
        monkeypatch.setenv(key, value)

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        for secret in SECRETS:
            assert secret not in out and secret not in err
        return code, out, err

    return run


# -- someone else's repo -------------------------------------------------------------------------


def test_someone_elses_repo_is_refused_again_and_on_retry_and_stays_untouched(cli, github, settings):
    github.add_repo("mitx", OLD, files={"README.md": b"mine\n"}, author=("Someone", "someone@mit.edu"))
    before = github.files("mitx", OLD)
    for _ in range(2):  # the command, then the same command again (the CLI's resume)
        code, out, err = cli("create_xml_repo", "-c", "8.01r", "-t", "Fall_2030", "-m", "alice")
        assert code == 1
        assert f"mitx/{OLD} exists and was not made by this request" in err
    from orcoursetrion.lifecycle import RequestType, Status
    from orcoursetrion.store import open_store
    from orcoursetrion.workflow import Workflow

    store = open_store(settings.database_url)
    wf = Workflow(settings, store)
    try:
        req = store.list_requests(limit=1)[0]
        assert req.state == Status.FAILED and req.type == RequestType.ACTION
        assert store.step_records(req.id) == {}  # nothing a retry could read as ours
        wf.retry(req.id, req.requester)
        assert wf.wait_idle(30)
        assert store.get(req.id).state == Status.FAILED
    finally:
        wf.shutdown()
        store.close()
    assert writes(github) == []
    assert github.files("mitx", OLD) == before
    assert github.repo("mitx", OLD).hooks == [] and github.team("mitx", OLD.lower()) is None


# -- the course's own content ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url_name",
    ["../../../../tmp/x/y", "/etc/passwd", "Fall 2030", "a/../../b", "..", ".hidden", "x" * 101, "run\nname"],
)
def test_hostile_url_name_is_refused_before_any_write_and_nothing_outside_moves(github, settings, tmp_path, url_name):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "sentinel.txt").write_text("untouched")
    hostile = url_name.replace("/tmp/x/y", str(victim)[1:]) if url_name.startswith("../") else url_name
    old_run(github, {**COURSE, "course.xml": f'<course url_name="{hostile}"/>'.encode()})
    with pytest.raises(UnsafeCourseContent) as raised:
        actions.rerun_xml_course("8.01r", "Fall_2030", "Spring_2031", ctx=live_context(settings))
    assert "is not a plain name" in user_message(raised.value)
    assert writes(github) == []
    assert github.repo("mitx", NEW) is None and len(github.repo("mitx", OLD).hooks) == 1
    assert (victim / "sentinel.txt").read_text() == "untouched"
    assert not any("git-upload-pack" in r.path for r in github.requests)  # not even cloned


@pytest.mark.parametrize(
    ("files", "problem"),
    [
        ({"course.xml": Symlink("../../../../etc/passwd")}, "course.xml is a symlink"),
        ({"course": Symlink("/etc")}, "course is a symlink"),
        ({"policies": Symlink("../../..")}, "policies is a symlink"),
        ({"policies/Fall_2030": Symlink("/tmp")}, "policies/Fall_2030 is a symlink"),
        ({"course/Fall_2030.xml": Symlink("/etc/shadow")}, "course/Fall_2030.xml is a symlink"),
        ({"policies/Spring_2031/policy.json": b"{}"}, "policies/Spring_2031 already exists"),
    ],
)
def test_symlinked_or_clashing_run_files_are_refused_with_zero_writes(github, settings, files, problem):
    content = {k: v for k, v in COURSE.items() if not any(k == f or k.startswith(f + "/") for f in files)}
    old_run(github, {**content, **files})
    with pytest.raises(UnsafeCourseContent) as raised:
        actions.rerun_xml_course("8.01r", "Fall_2030", "Spring_2031", ctx=live_context(settings))
    assert problem in str(raised.value)
    assert writes(github) == []


def test_a_source_that_turns_hostile_after_the_plan_is_refused_by_the_copy_itself(github, settings, tmp_path):
    """The copy checks the content again on its own clone, before pushing anything."""
    old_run(github, {**COURSE, "course.xml": b'<course url_name="../../escape"/>'})
    github.add_repo("mitx", NEW)
    with pytest.raises(UnsafeCourseContent):
        history_free_copy(
            github.repo("mitx", OLD).clone_url,
            github.repo("mitx", NEW).clone_url,
            "master",
            settings.gh_token,
            settings.committer,
            "copy",
            new_url_name="Spring_2031",
        )
    assert github.commits("mitx", NEW) == []


def test_the_new_run_keeps_every_blob_and_mode_and_renames_the_policy_key(github, settings):
    old_run(github)
    actions.rerun_xml_course("8.01r", "Fall_2030", "Spring_2031", ctx=live_context(settings))
    old, new = github.tree_entries("mitx", OLD), github.tree_entries("mitx", NEW)
    moved = {
        "course/Fall_2030.xml": "course/Spring_2031.xml",
        "policies/Fall_2030/grading_policy.json": "policies/Spring_2031/grading_policy.json",
    }
    rewritten = {"course.xml", "policies/Fall_2030/policy.json"}
    expected = {moved.get(path, path): entry for path, entry in old.items() if path not in rewritten}
    assert {p: e for p, e in new.items() if p not in ("course.xml", "policies/Spring_2031/policy.json")} == expected
    assert new["static/latest.png"][0] == "120000" and new["scripts/build.sh"][0] == "100755"
    files = github.files("mitx", NEW)
    assert files["course.xml"] == b'<course url_name="Spring_2031" org="MITx" course="8.01r"/>\n'
    # Only the top-level key moves: the nested "course/Fall_2030" and every other byte stay.
    assert files["policies/Spring_2031/policy.json"] == POLICY.replace(
        b'"course/Fall_2030": {"start"', b'"course/Spring_2031": {"start"'
    )


def test_a_source_larger_than_the_limit_is_refused_before_cloning(github, settings):
    from dataclasses import replace

    old_run(github)
    github.set_repo_size("mitx", OLD, 3 * 1024 * 1024)  # 3 GB
    with pytest.raises(ValidationError) as raised:
        actions.rerun_xml_course(
            "8.01r", "Fall_2030", "Spring_2031", ctx=live_context(replace(settings, max_copy_mb=1024))
        )
    assert "3072 MB, more than ORC_MAX_COPY_MB (1024 MB)" in str(raised.value)
    assert writes(github) == [] and not any("git-upload-pack" in r.path for r in github.requests)


# -- a plan that cannot run writes nothing and says why ------------------------------------------


def test_an_empty_source_repo_stops_the_rerun_in_the_plan_and_the_run(github, settings):
    github.add_repo("mitx", OLD)
    github.add_hook("mitx", OLD, STAGING)
    plan = plan_context(settings)
    with pytest.raises(GitHubRepoEmpty) as planned:
        actions.rerun_xml_course("8.01r", "Fall_2030", "Spring_2031", ctx=plan)
    with pytest.raises(GitHubRepoEmpty) as ran:
        actions.rerun_xml_course("8.01r", "Fall_2030", "Spring_2031", ctx=live_context(settings))
    assert str(planned.value) == str(ran.value) == f"mitx/{OLD} has no commits on master: there is nothing to copy."
    assert writes(github) == []
    assert len(github.repo("mitx", OLD).hooks) == 1  # the hooks were not removed first
    assert [c.op for c in plan.changes][:2] == ["delete_hooks", "create_repo"]  # the plan still shows its steps


def test_an_unknown_login_stops_before_the_repo_is_made_and_names_the_login(github, settings):
    with pytest.raises(ValidationError) as raised:
        actions.create_xml_repo("8.01r", "Fall_2030", members=["alice", "nosuchuser"], ctx=live_context(settings))
    assert str(raised.value) == "GitHub does not know these logins: nosuchuser."
    assert writes(github) == []
    actions.create_xml_repo("8.01r", "Fall_2030", members=["alice"], ctx=live_context(settings))  # fixed: it runs
    assert set(github.team("mitx", OLD.lower()).members) == {"alice"}


def test_several_problems_are_named_together_and_nothing_is_written(github, settings):
    from dataclasses import replace

    github.add_repo("mitx", OLD, files={"x": b"someone else's"})
    broken = replace(settings, xml_deploy_team="no-such-deploy-team", staging_gitreload=None)
    with pytest.raises(GitHubRepoExists) as raised:  # typed as the first problem: 0.2.1 scripts still catch it
        actions.create_xml_repo("8.01r", "Fall_2030", members=["ghost"], ctx=live_context(broken))
    found = problems_of(raised.value)
    assert [type(p) for p in found] == [GitHubRepoExists, GitHubNoTeamFound, ValidationError, ConfigError]
    message = user_message(raised.value)
    assert message.startswith("This cannot run until 4 problems are fixed: (1)")
    for part in ("no-such-deploy-team in mitx", "ghost", "ORC_STAGING_GITRELOAD", f"mitx/{OLD} exists"):
        assert part in message
    assert writes(github) == []


def test_releasing_an_empty_xml_repo_names_the_problem(github, settings):
    github.add_repo("mitx", OLD)
    with pytest.raises(GitHubRepoEmpty) as raised:
        actions.move_to_production("8.01r", "Fall_2030", ctx=live_context(settings))
    assert "has no commits on master: push the course before releasing it" in str(raised.value)
    assert writes(github) == []


# -- done twice reads as done -----------------------------------------------------------------------


def test_a_rerun_done_twice_says_which_request_did_it_and_writes_nothing(cli, github):
    old_run(github)
    code, out, _ = cli("rerun_xml_course", "-c", "8.01r", "-t", "Fall_2030", "-n", "Spring_2031")
    assert code == 0 and out.strip().endswith(f"/mitx/{NEW}")
    github.reset_counts()
    code, out, err = cli("rerun_xml_course", "-c", "8.01r", "-t", "Fall_2030", "-n", "Spring_2031")
    assert code == 1
    assert f"8.01r Fall_2030 was already rerun into mitx/{NEW} by request #1 on" in err
    assert "(rerun_xml_course 8.01r Fall_2030 Spring_2031)" in err and "problems" not in err  # one problem, told once
    assert writes(github) == []


# -- the plan is the execution ------------------------------------------------------------------------


ACTIONS = {
    "create_export_repo": lambda ctx: actions.create_export_repo("8.01r", "Spring_2031", "Physics", ctx=ctx),
    "rerun_studio": lambda ctx: actions.rerun_studio("6.002x", "Fall_2030", "Spring_2031", ctx=ctx),
    "release_studio": lambda ctx: actions.release_studio("6.002x", "Fall_2030", ctx=ctx),
    "create_xml_repo": lambda ctx: actions.create_xml_repo("9.01", "Fall_2030", members=["bob"], ctx=ctx),
    "rerun_xml": lambda ctx: actions.rerun_xml("8.01r", "Fall_2030", ctx=ctx),
    "release_xml": lambda ctx: actions.release_xml("8.01r", "Fall_2030", ctx=ctx),
    "put_team": lambda ctx: actions.put_team("mitx", OLD, False, ["alice", "dave"], ctx=ctx),
    "rerun_xml_course": lambda ctx: actions.rerun_xml_course("8.01r", "Fall_2030", "Spring_2031", ctx=ctx),
    "move_to_production": lambda ctx: actions.move_to_production("8.01r", "Fall_2030", ctx=ctx),
    "set_team": lambda ctx: actions.set_team("8.01r", "Fall_2030", ["bob"], ctx=ctx),
    "new_course": lambda ctx: actions.new_course("xml", "7.00", "Fall_2030", members=["carol"], ctx=ctx),
    "rerun_course": lambda ctx: actions.rerun_course("6.002x", "Fall_2030", "Spring_2031", ctx=ctx),
}


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_the_dry_run_lists_exactly_the_changes_the_live_run_makes(github, settings, name):
    old_run(github)
    github.add_repo("MITx-Studio2LMS", "content-mit-6002x-Fall_2030", files={"course.xml": b"<course/>"})
    github.add_hook("MITx-Studio2LMS", "content-mit-6002x-Fall_2030", STAGING)
    plan = plan_context(settings)
    ACTIONS[name](plan)
    assert writes(github) == []
    live = live_context(settings)
    ACTIONS[name](live)
    shape = [(c.op, c.target, c.text, c.changed) for c in plan.changes]
    assert shape == [(c.op, c.target, c.text, c.changed) for c in live.changes]
    assert any(c.changed for c in live.changes)
    assert len(writes(github)) >= sum(c.changed for c in live.changes)


def test_dry_run_and_problems_from_the_cli(cli, github, tmp_path: Path):
    old_run(github, {**COURSE, "course.xml": b'<course url_name="a/../../b"/>'})
    code, out, _ = cli("rerun_xml_course", "-c", "8.01r", "-t", "Fall_2030", "-n", "Spring_2031", "--dry-run")
    assert code == 1
    assert "this cannot run as it is" in out and "`a/../../b`, which is not a plain name" in out
    assert "1. Remove 1 web hook(s) from mitx/" + OLD in out
    assert writes(github) == []
