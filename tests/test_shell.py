"""The local shell: /orc lines on stdin, the bot's replies as a terminal shows them."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from commands.shell import run
from tests.conftest import SECRETS, make_env, settings_for

ROOT = Path(__file__).resolve().parents[1]


def shell(settings, *lines: str, user: str | None = None) -> str:
    out = io.StringIO()
    code = run(settings, user=user, inp=io.StringIO("\n".join(lines) + "\n"), out=out)
    assert code == 0
    text = out.getvalue()
    for secret in SECRETS:
        assert secret not in text
    return text


def test_shell_plans_confirms_and_runs_against_github(github, settings):
    github.add_repo("mitx", "content-mit-801r-Fall_2030", files={"course.xml": b'<course url_name="Fall_2030"/>'})
    github.add_team("mitx", "content-mit-801r-Fall_2030", members=["alice"])
    text = shell(settings, "/orc help", "/orc rerun 8.01r fall_2030", "y", "/orc status 1", "/quit")
    assert "'/orc rerun COURSE TERM [NEW_TERM] [xml|studio]'" in text  # mrkdwn rendered for a terminal
    assert "Plan: Rerun 8.01r Fall_2030 → Spring_2031" in text
    assert "Confirm request #1? [y/N] y" in text
    assert "▶ step 2 of 8: Create private repo mitx/content-mit-801r-Spring_2031" in text
    assert "✓ Create private repo mitx/content-mit-801r-Spring_2031" in text
    assert "Request #1: 🎉 Done: 8.01r rerun from Fall_2030 into Spring_2031 is ready" in text
    assert "Completed" in text and "/mitx/content-mit-801r-Spring_2031" in text
    assert "*Request" not in text and ":tada:" not in text and "<@" not in text  # no raw Slack markup
    assert set(github.team("mitx", "content-mit-801r-spring_2031").members) == {"alice"}


def test_shell_fills_forms_at_the_prompt_and_reasks_only_bad_fields(github, settings):
    text = shell(settings, "new", "studio", "8.01r", "Fall2030", "", "", "", "Fall_2030", "n", "exit")
    assert "term: Term must look like Season_Year" in text
    assert text.count("Course id") == 1  # the good field was not asked again
    assert "Plan: New Studio course 8.01r Fall_2030" in text
    assert "Cancelled request #1." in text
    assert github.repo("MITx-Studio2LMS", "content-mit-801r-Fall_2030") is None


def test_shell_without_github_token_walks_the_whole_flow_as_a_dry_run(github, sqlite_url):
    settings = settings_for(github, sqlite_url, ORC_GH_OAUTH2_TOKEN="")
    text = shell(
        settings,
        "/orc release 8.01r Fall_2030 xml",
        "y",
        "/orc rerun 8.01r Fall_2030 Summer_2031 xml",
        "n",
        "/orc status 1",
        "/orc list mine",
    )
    assert "every request runs as a dry run" in text
    assert "Create branch live from the default branch of mitx/content-mit-801r-Fall_2030" in text
    assert "Running request #1 as a dry run" in text
    assert "Dry run, nothing changed on GitHub" in text
    assert "Plan: Rerun 8.01r Fall_2030 → Summer_2031" in text and "Cancelled request #2." in text
    assert "#1 'Move 8.01r Fall_2030 to production' — Completed" in text
    assert "#2 'Rerun 8.01r Fall_2030 → Summer_2031' — Cancelled" in text
    assert github.count() == 0


def test_shell_approvals_and_switching_user(github, sqlite_url):
    settings = settings_for(github, sqlite_url, ORC_APPROVERS="UBOSS")
    github.add_repo("MITx-Studio2LMS", "content-mit-801r-Fall_2030", files={"course.xml": b"x"})
    text = shell(
        settings, "/orc release 8.01r Fall_2030", "y", "/orc approve 1", "/as UBOSS", "/orc approve 1", user="USTAFF"
    )
    assert "You are acting as USTAFF." in text
    assert "Waiting for approval by @UBOSS" in text and "an approver types '/orc approve 1'" in text
    assert "Only approvers can use '/orc approve'." in text
    assert "You are now acting as UBOSS (approver)." in text
    assert "Approved request #1; it runs now." in text
    assert "Request #1: 🎉 Done: 8.01r Fall_2030 moved to production" in text


def test_make_run_with_no_configuration_walks_rerun_confirm_status_list(tmp_path):
    """`make run` on a fresh machine: no Slack tokens, no GitHub token, no DATABASE_URL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ORC_", "ZENDESK_", "DATABASE_URL"))}
    env.update(HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path / "data"))
    done = subprocess.run(
        [sys.executable, str(ROOT / "app.py")],
        input="/orc help\n/orc rerun 8.01r Fall_2030\ny\n/orc status 1\n/orc list\n",
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    out = done.stdout
    assert done.returncode == 0, done.stderr
    assert "starting the local shell" in out and "acting as USHELL" in out
    assert "/orc rollover TERM NEW_TERM" in out
    assert "Plan: Rerun 8.01r Fall_2030 → Spring_2031" in out
    assert "Running request #1 as a dry run" in out
    assert "Request #1: 🎉 Done: Dry run, nothing changed on GitHub" in out
    assert "#1 'Rerun 8.01r Fall_2030 → Spring_2031' — Completed" in out
    assert "Bye." in out
    assert (tmp_path / "data" / "orcoursetrion" / "orcoursetrion.db").exists()  # the shared default store


def test_make_run_without_slack_tokens_starts_the_shell(github, sqlite_url, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ORC_", "DATABASE_URL"))}
    env.update(make_env(github, sqlite_url, ORC_GH_OAUTH2_TOKEN=""))
    done = subprocess.run(
        [sys.executable, str(ROOT / "app.py")],
        input="/orc help\n/orc release 8.01r Fall_2030 xml\n",
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "starting the local shell" in done.stdout
    assert "Plan: Move 8.01r Fall_2030 to production" in done.stdout
    assert "Bye." in done.stdout
