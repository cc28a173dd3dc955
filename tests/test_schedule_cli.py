"""Scheduling at the command line (`orcoursetrion schedule …`: records, never runs) and in
the local shell (whose scheduler runs what is due while it is open), and its settings."""

from __future__ import annotations

import io
import os
import threading
from datetime import UTC, datetime, timedelta

import pytest

from commands.shell import run
from orcoursetrion.cli import main
from orcoursetrion.config import load_settings
from orcoursetrion.errors import ConfigError
from orcoursetrion.lifecycle import Status
from orcoursetrion.store import open_store
from tests.clock import FakeClock
from tests.conftest import PRODUCTION, SECRETS, make_env, settings_for

YEAR = datetime.now(UTC).year + 2
ORG, REPO = "MITx-Studio2LMS", "content-mit-801r-Fall_2030"


@pytest.fixture
def cli(github, sqlite_url, monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(tmp_path)
    for key in list(os.environ):
        if key.startswith(("ORC_", "SLACK_", "ZENDESK_", "EDX_")) or key == "DATABASE_URL":
            monkeypatch.delenv(key)
    for key, value in make_env(github, sqlite_url).items():
        monkeypatch.setenv(key, value)

    def run_cli(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        for secret in SECRETS:
            assert secret not in out and secret not in err
        return code, out, err

    return run_cli


def test_the_cli_schedules_lists_and_cancels_and_runs_nothing_itself(cli, github, sqlite_url):
    github.add_repo(ORG, REPO, files={"course.xml": b"<course/>"})
    at = f"{YEAR}-01-10 09:00"
    code, out, err = cli(
        "schedule", "release", "-c", "8.01r", "-t", "Fall_2030", "--at", at, "--tz", "America/New_York"
    )
    assert code == 0, err
    assert "Plan: Move 8.01r Fall_2030 to production" in out and "<!date" not in out
    assert f"Scheduled request #1: Move 8.01r Fall_2030 to production at {at} EST ({YEAR}-01-10 14:00 UTC)" in out

    code, out, _ = cli("schedule", "list")
    assert code == 0 and "#1 " in out and f"{at} EST (America/New_York)" in out and "<!date" not in out
    store = open_store(sqlite_url)
    try:
        req = store.get(1)
        assert req.state == Status.SCHEDULED and req.scheduled_for == datetime(YEAR, 1, 10, 14, tzinfo=UTC)
        assert store.tasks(kind="reminder") == []  # no scheduler ran in the command's process
    finally:
        store.close()
    assert [r for r in github.requests if r.method != "GET"] == []

    code, out, _ = cli("schedule", "cancel", "1")
    assert code == 0 and "Cancelled request #1" in out
    assert "Nothing is scheduled." in cli("schedule", "list")[1]


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["--at", "2020-01-10 09:00"], "is in the past"),
        (["--at", f"{YEAR}-01-10 09:00", "--tz", "Mars/Olympus_Mons"], "is not a time zone"),
        (["--at", "tomorrow"], "YYYY-MM-DD HH:MM"),
    ],
)
def test_the_cli_refuses_times_it_cannot_schedule(cli, github, argv, problem):
    code, out, err = cli("schedule", "release", "-c", "8.01r", "-t", "Fall_2030", "-k", "studio", *argv)
    assert code == 2 and problem in err, err
    assert github.count() == 0


def test_the_shell_runs_its_scheduler_while_open(github, sqlite_url):
    github.add_repo(ORG, REPO, files={"course.xml": b"<course/>"})
    settings = settings_for(github, sqlite_url, ORC_TIMEZONE="America/New_York", ORC_REMIND_AT="05:00")
    due = datetime(YEAR, 7, 10, 13, tzinfo=UTC)
    clock = FakeClock(due - timedelta(hours=1))
    read, write = os.pipe()
    inp, feed = os.fdopen(read, "r"), os.fdopen(write, "w")
    out = io.StringIO()
    shell = threading.Thread(target=run, args=(settings,), kwargs={"inp": inp, "out": out, "clock": clock})
    shell.start()
    try:
        feed.write(f"/orc schedule release 8.01r Fall_2030 studio {YEAR}-07-10 09:00\ny\n")
        feed.flush()
        wait_for(lambda: "Scheduled" in out.getvalue())
        assert f"Request #1: 📅 Scheduled — runs {YEAR}-07-10 09:00 EDT (America/New_York)." in out.getvalue()
        assert "<!date" not in out.getvalue() and "@date" not in out.getvalue()
        clock.set(due + timedelta(seconds=1))  # the shell's own scheduler finds it due
        wait_for(lambda: "Done: 8.01r Fall_2030 moved to production" in out.getvalue())
    finally:
        feed.write("/quit\n")
        feed.close()
        shell.join(30)
    assert [h["config"]["url"] for h in github.repo(ORG, REPO).hooks] == [PRODUCTION]


def wait_for(predicate, timeout: float = 20.0) -> None:
    deadline = datetime.now(UTC) + timedelta(seconds=timeout)
    while not predicate():
        assert datetime.now(UTC) < deadline, "timed out"
        threading.Event().wait(0.05)


def test_scheduling_settings_have_defaults_and_are_checked():
    settings = load_settings({}, env_file=None)
    assert (settings.schedule_max_late_hours, settings.remind_at, settings.remind_after_hours) == (24, "09:00", 24)
    assert load_settings({"ORC_REMIND_AT": "7:30"}, env_file=None).remind_at == "07:30"
    with pytest.raises(ConfigError) as raised:
        load_settings(
            {"ORC_SCHEDULE_MAX_LATE_HOURS": "0", "ORC_REMIND_AT": "25:00", "ORC_REMIND_AFTER_HOURS": "soon"},
            env_file=None,
        )
    assert raised.value.problems == [
        "ORC_SCHEDULE_MAX_LATE_HOURS: must be 1 or more",
        "ORC_REMIND_AT: must be a time of day as HH:MM (24-hour clock, like 09:00)",
        "ORC_REMIND_AFTER_HOURS: must be a whole number",
    ]
