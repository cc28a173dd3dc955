"""`orcoursetrion` command line: the original subcommands and flags, dry runs, errors,
resume, and the installed console script."""

from __future__ import annotations

import os

import pytest

from orcoursetrion.cli import main
from tests.apps import console_script
from tests.conftest import PRODUCTION, STAGING, make_env

NAME = "content-mit-801r-Fall_2030"


def test_create_xml_repo_prints_the_url_and_sets_members(cli, github):
    code, out, err = cli("create_xml_repo", "-c", "8.01r", "-t", "Fall_2030", "-m", "alice", "bob", "-d", "Physics")
    assert code == 0, err
    assert out.strip().endswith(f"/mitx/{NAME}")
    assert out.startswith("Newly created repository for XML course created at http")
    assert set(github.team("mitx", NAME.lower()).members) == {"alice", "bob"}
    assert github.repo("mitx", NAME).description == "Physics"


def test_repeated_member_flags_extend(cli, github):
    code, _, err = cli("create_xml_repo", "-c", "8.01r", "-t", "Fall_2030", "-m", "alice", "-m", "bob", "carol")
    assert code == 0, err
    assert set(github.team("mitx", NAME.lower()).members) == {"alice", "bob", "carol"}


def test_every_original_subcommand_prints_a_url(cli, github):
    assert cli("create_export_repo", "-c", "8.01r", "-t", "Fall_2030")[1].strip().endswith(f"/MITx-Studio2LMS/{NAME}")
    code, out, _ = cli("release_studio", "-c", "8.01r", "-t", "Fall_2030")
    assert code == 0 and out.strip().endswith(f"/MITx-Studio2LMS/{NAME}")
    code, out, _ = cli("rerun_studio", "-c", "8.01r", "-t", "Fall_2030", "-n", "Spring_2031")
    assert code == 0 and out.strip().endswith("/MITx-Studio2LMS/content-mit-801r-Spring_2031")
    assert github.repo("MITx-Studio2LMS", NAME).hooks == []
    cli("create_xml_repo", "-c", "8.01r", "-t", "Fall_2030")
    code, out, _ = cli("release_xml", "-c", "8.01r", "-t", "Fall_2030")
    assert code == 0 and out.strip().endswith(f"/mitx/{NAME}")
    assert {h["config"]["url"] for h in github.repo("mitx", NAME).hooks} == {STAGING, PRODUCTION}
    code, out, _ = cli("rerun_xml", "-c", "8.01r", "-t", "Fall_2030")
    assert code == 0 and "Successfully removed 2 hooks" in out and out.strip().endswith(f"/mitx/{NAME}")
    code, out, _ = cli("put_team", "-o", "mitx", "-g", "Physics Staff", "-r", "-m", "dave")
    assert code == 0 and "Team successfully modified/created" in out
    assert github.team("mitx", "physics-staff").permission == "pull"


def test_dry_run_changes_nothing(cli, github):
    code, out, _ = cli("create_xml_repo", "-c", "8.01r", "-t", "Fall_2030", "-m", "alice", "--dry-run")
    assert code == 0
    assert "Dry run" in out and "1. Create private repo mitx/" + NAME in out
    assert "https://***@gitreload-staging.example.edu/" in out
    assert github.repo("mitx", NAME) is None


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (("create_xml_repo", "-c", "bad course!", "-t", "Fall_2030"), "Course id must"),
        (("create_xml_repo", "-c", "8.01r", "-t", "fall2030"), "Term must look like"),
        (("create_xml_repo", "-c", "8.01r", "-t", "Fall_2030", "-m", "not_a_login!"), "not a valid GitHub login"),
        (("release_xml", "-c", "8.01r", "-t", "fall2030", "--dry-run"), "Term must look like"),
        (("rollover", "-t", "Fall_2030", "-n", "Spring_2031", "--courses", "a\x00b"), "Cannot read 'a\\x00b'"),
    ],
)
def test_invalid_input_is_one_line_nonzero_and_no_github_call(cli, github, argv, needle):
    code, out, err = cli(*argv)
    assert code == 2 and out == ""
    assert needle in err and len(err.strip().splitlines()) == 1
    assert github.count() == 0


def test_missing_repo_and_existing_repo_errors(cli, github):
    code, _, err = cli("release_xml", "-c", "8.01r", "-t", "Fall_2030")
    assert code == 1 and "does not exist" in err
    github.add_repo("mitx", NAME, files={"a": b"b"})
    code, _, err = cli("create_xml_repo", "-c", "8.01r", "-t", "Fall_2030")
    assert code == 1 and "already exists" in err and err.count("\n") == 1


def test_missing_token(cli, github, monkeypatch):
    monkeypatch.setenv("ORC_GH_OAUTH2_TOKEN", "")
    code, _, err = cli("create_xml_repo", "-c", "8.01r", "-t", "Fall_2030")
    assert code == 2 and "ORC_GH_OAUTH2_TOKEN" in err
    assert github.count() == 0


def test_malformed_configuration_names_keys_not_values(cli, monkeypatch):
    monkeypatch.setenv("ORC_GH_API_URL", "not a url sekrit-value")
    monkeypatch.setenv("ORC_GH_WRITES_PER_MINUTE", "many")
    code, out, err = cli("create_xml_repo", "-c", "8.01r", "-t", "Fall_2030")
    assert code == 2
    assert "ORC_GH_API_URL" in err and "ORC_GH_WRITES_PER_MINUTE" in err and "sekrit" not in err
    assert len(err.strip().splitlines()) == 2


def test_interrupted_command_resumes_the_same_request(cli, github):
    github.fail("POST", rf"/repos/mitx/{NAME}/hooks$", 500, times=20)
    code, _, err = cli("create_xml_repo", "-c", "8.01r", "-t", "Fall_2030", "-m", "alice")
    assert code == 1
    github.clear_faults()
    code, out, err = cli("create_xml_repo", "-c", "8.01r", "-t", "Fall_2030", "-m", "alice")
    assert code == 0, err
    assert "Resuming request #1" in err
    assert sum(1 for r in github.requests if r.method == "POST" and r.path.endswith("/orgs/mitx/repos")) == 1
    assert [h["config"]["url"] for h in github.repo("mitx", NAME).hooks] == [STAGING]


def test_help_for_each_subcommand(cli):
    for sub in ("create_export_repo", "rerun_xml_course", "rollover", "put_team"):
        with pytest.raises(SystemExit) as done:
            main([sub, "--help"])
        assert done.value.code == 0


def test_console_script_is_installed(github, sqlite_url, tmp_path):
    github.add_repo("mitx", NAME, files={"course.xml": b'<course url_name="Fall_2030"/>'})
    env = {**os.environ, **make_env(github, sqlite_url)}
    done = console_script(
        ["rerun_xml_course", "-c", "8.01r", "-t", "Fall_2030", "-n", "Spring_2031", "--dry-run"], env, tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "Copy mitx/" + NAME in done.stdout
