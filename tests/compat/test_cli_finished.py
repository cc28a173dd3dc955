"""The command line as a user meets it: --version, fast help with examples, one store
shared from any directory, one line per failure, plain words, colour only on a terminal,
and the installed console script's 0.2.1 entry point."""

from __future__ import annotations

import importlib.metadata
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from orcoursetrion import VERSION
from orcoursetrion.cli import ORIGINAL, main, plain
from orcoursetrion.config import load_settings
from tests.conftest import SECRETS, make_env

NAME = "content-mit-801r-Fall_2030"
SUBCOMMANDS = [*ORIGINAL, "rollover", "db", "shell"]
HEAVY = ("github", "sqlalchemy", "slack_sdk", "slack_bolt", "alembic", "zenpy", "apscheduler", "requests")


@pytest.fixture
def cli(github, sqlite_url, monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(tmp_path)
    for key in list(os.environ):
        if key.startswith(("ORC_", "SLACK_", "ZENDESK_", "EDX_")) or key in ("DATABASE_URL", "LOG_LEVEL"):
            monkeypatch.delenv(key)
    for key, value in make_env(github, sqlite_url).items():
        monkeypatch.setenv(key, value)

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        for secret in SECRETS:
            assert secret not in out and secret not in err
        assert "\033[" not in out + err  # no colour when not on a terminal
        return code, out, err

    return run


def test_version_and_help_with_the_store_and_examples(cli, capsys, monkeypatch):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out == f"orcoursetrion {VERSION}\n"
    monkeypatch.delenv("DATABASE_URL")
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    assert f"{os.environ['XDG_DATA_HOME']}/orcoursetrion/orcoursetrion.db (DATABASE_URL is not set)" in text
    assert all(sub in text for sub in SUBCOMMANDS) and "examples:" in text
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://orc:db-secret-pw@db.example.edu/orc")
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    assert "DATABASE_URL: postgresql+psycopg://***@db.example.edu/orc" in text and "db-secret-pw" not in text
    for sub in SUBCOMMANDS:
        with pytest.raises(SystemExit):
            main([sub, "--help"])
        text = capsys.readouterr().out
        assert "example" in text and f"orcoursetrion {sub}" in text.split("example")[1], sub
        assert "i.e." not in text, sub


def test_help_parses_arguments_before_any_heavy_import():
    code = (
        "import sys; sys.argv = ['orcoursetrion', 'create_xml_repo', '--help']\n"
        "from orcoursetrion.cmd import execute\n"
        "try:\n    execute()\nexcept SystemExit:\n    pass\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_one_default_store_for_every_directory_and_the_bot(cli, github, monkeypatch, tmp_path):
    data = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    monkeypatch.delenv("DATABASE_URL")
    github.fail("POST", rf"/repos/mitx/{NAME}/hooks$", 500, times=20)
    code, out, err = cli("create_xml_repo", "-c", "8.01r", "-t", "Fall_2030")
    assert code == 1 and out == ""
    (failure,) = [line for line in err.splitlines() if line.startswith("orcoursetrion:")]
    assert "request #1" in failure and failure.endswith("run the same command again to continue)")
    assert "warning" not in err.lower()  # the step's retries are not a screen of log lines
    github.clear_faults()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, out, err = cli("create_xml_repo", "-c", "8.01r", "-t", "Fall_2030")
    assert code == 0 and "Resuming request #1" in err
    store = data / "orcoursetrion" / "orcoursetrion.db"
    assert store.is_file() and not list(elsewhere.iterdir()) and not (tmp_path / "orcoursetrion.db").exists()
    assert load_settings({}, env_file=None).database_url == f"sqlite:///{store}"  # the bot's default too


def test_each_failure_is_one_line_naming_what_is_wrong(cli, monkeypatch):
    code, out, err = cli("put_team", "-o", "nosuchorg", "-g", "Staff")
    assert (code, out) == (1, "") and err.count("\n") == 1 and "no organization 'nosuchorg'" in err
    code, out, err = cli("put_team", "-o", "mitx", "-g", "Staff", "-m", "alice", "nosuchlogin")
    assert (
        (code, out) == (1, "")
        and err.count("\n") == 1
        and "do not know these logins: nosuchlogin" in err.replace("does", "do")
    )
    monkeypatch.setenv("ORC_GH_API_URL", "http://127.0.0.1:9/api/v3/")
    monkeypatch.setenv("ORC_GH_MAX_RETRIES", "1")
    code, out, err = cli("release_xml", "-c", "8.01r", "-t", "Fall_2030")
    assert (code, out) == (1, "")
    assert err == (
        "orcoursetrion: error: GitHub at 127.0.0.1:9 did not answer (connection failed) after 1 retry: "
        "check ORC_GH_API_URL and the network\n"
    )


def test_a_release_already_done_says_so_on_both_streams(cli, github):
    assert cli("create_xml_repo", "-c", "8.01r", "-t", "Fall_2030")[0] == 0
    code, out, err = cli("release_xml", "-c", "8.01r", "-t", "Fall_2030")
    assert code == 0 and out.startswith("Added production Web hooks to course at http") and "✓ Add production" in err
    code, out, err = cli("release_xml", "-c", "8.01r", "-t", "Fall_2030")
    assert code == 0
    assert out.startswith("The production Web hook was already on course at http") and out.strip().endswith(NAME)
    assert "· Production hook https://***@gitreload-prod.example.edu/ already on" in err and "✓" not in err
    assert len(github.repo("mitx", NAME).hooks) == 2


def test_put_team_read_only_on_an_existing_push_team_says_the_permission_stays(cli, github):
    github.add_team("mitx", "Physics Staff", permission="push")
    code, out, err = cli("put_team", "-o", "mitx", "-g", "Physics Staff", "-r", "-m", "alice")
    assert code == 0
    assert "it already existed, so its permission stays push (-r applies only when a team is created)" in out
    assert "its permission (push) is left unchanged" in err
    assert github.team("mitx", "physics-staff").permission == "push"
    code, out, _ = cli("put_team", "-o", "mitx", "-g", "New Staff", "-r")
    assert code == 0 and "stays" not in out and github.team("mitx", "new-staff").permission == "pull"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_terminal(cli, monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["put_team", "-o", "nosuchorg", "-g", "Staff"]) == 1
    assert "\033[31merror:\033[0m" in terminal.getvalue()
    monkeypatch.setenv("NO_COLOR", "1")
    terminal.seek(0)
    terminal.truncate()
    assert main(["put_team", "-o", "nosuchorg", "-g", "Staff"]) == 1
    assert "\norcoursetrion: error: GitHub has no organization" in terminal.getvalue()
    assert "\033[" not in terminal.getvalue()


def test_slack_markup_becomes_plain_words():
    assert plain("Stopped by <@cli:root> after 2 of 5 course(s)") == "Stopped by cli:root after 2 of 5 course(s)"
    assert plain("See <https://gh.example.edu/mitx/r|the repo> in <#C123|courses>, *now*") == (
        "See the repo (https://gh.example.edu/mitx/r) in courses, now"
    )
    assert plain("content-mit-801r-Fall_2030 *.xml") == "content-mit-801r-Fall_2030 *.xml"


def test_the_installed_console_script_is_021s_entry_point(tmp_path):
    (script,) = [e for e in importlib.metadata.entry_points(group="console_scripts") if e.name == "orcoursetrion"]
    assert script.value == "orcoursetrion.cmd:execute"
    requires = " ".join(importlib.metadata.requires("orcoursetrion") or [])
    assert "PyGithub" in requires and "platformdirs" in requires  # `pip install .` brings what it needs
    installed = Path(sys.executable).parent / "orcoursetrion"
    done = subprocess.run([str(installed), "--version"], capture_output=True, text=True, cwd=tmp_path, timeout=30)
    assert done.returncode == 0 and done.stdout == f"orcoursetrion {VERSION}\n"
    done = subprocess.run([str(installed), "--help"], capture_output=True, text=True, cwd=tmp_path, timeout=30)
    assert all(f"    {sub} " in done.stdout or f"    {sub}\n" in done.stdout for sub in SUBCOMMANDS)
