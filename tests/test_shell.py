"""The local shell: /orc lines on stdin, the bot's replies as text."""

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
    text = shell(settings, "/orc help", "/orc rerun 8.01r Fall_2030", "y", "/orc status 1", "/quit")
    assert "`/orc rerun COURSE TERM [NEW_TERM] [xml|studio]`" in text
    assert "Plan: Rerun 8.01r Fall_2030 → Spring_2031" in text
    assert "Confirm request #1? [y/N] y" in text
    assert "✓ Create private repo mitx/content-mit-801r-Spring_2031" in text
    assert "Done: 8.01r rerun from Fall_2030 into Spring_2031 is ready" in text
    assert "Completed" in text and "/mitx/content-mit-801r-Spring_2031" in text
    assert set(github.team("mitx", "content-mit-801r-spring_2031").members) == {"alice"}


def test_shell_fills_forms_at_the_prompt_and_reasks_bad_fields(github, settings):
    text = shell(settings, "new", "studio", "8.01r", "Fall2030", "", "", "", "Fall_2030", "n", "exit")
    assert "term: Term must look like Season_Year" in text
    assert "Plan: New Studio course 8.01r Fall_2030" in text
    assert "Cancelled request #1." in text
    assert github.repo("MITx-Studio2LMS", "content-mit-801r-Fall_2030") is None


def test_shell_without_github_token_is_a_dry_run(github, sqlite_url):
    settings = settings_for(github, sqlite_url, ORC_GH_OAUTH2_TOKEN="")
    text = shell(settings, "/orc release 8.01r Fall_2030 xml", "/orc rerun 8.01r Fall_2030 Summer_2031 xml")
    assert "plans are shown, nothing is changed" in text
    assert "Create branch live from the default branch of mitx/content-mit-801r-Fall_2030" in text
    assert "Plan: Rerun 8.01r Fall_2030 → Summer_2031" in text
    assert "(Dry run: nothing was changed.)" in text
    assert github.count() == 0


def test_shell_approvals_and_switching_user(github, sqlite_url):
    settings = settings_for(github, sqlite_url, ORC_APPROVERS="UBOSS")
    github.add_repo("MITx-Studio2LMS", "content-mit-801r-Fall_2030", files={"course.xml": b"x"})
    text = shell(
        settings, "/orc release 8.01r Fall_2030", "y", "/orc approve 1", "/as UBOSS", "/orc approve 1", user="USTAFF"
    )
    assert "waits for an approver" in text
    assert "Only approvers can use `/orc approve`." in text
    assert "Approved request #1; it runs now." in text
    assert "Done: 8.01r Fall_2030 moved to production" in text


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
    assert "/orc rollover TERM NEW_TERM" in done.stdout
    assert "Plan: Move 8.01r Fall_2030 to production" in done.stdout
    assert "Bye." in done.stdout
