"""Start-up with a store it cannot use: `python app.py` (HTTP, Socket Mode, the shell) and
CLI commands, each a real process, stop within 10 s with one line on stderr naming
DATABASE_URL (password masked) and what is wrong, a non-zero exit and no traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from orcoursetrion.cli import STORE_EXIT
from orcoursetrion.store import Store, upgrade
from tests.apps import ROOT, free_port
from tests.conftest import SECRETS, TOKEN, postgres_schema_url

PASSWORD = "pg-Secret-pw-42"
LIMIT = 10.0  # seconds: what the issue allows a failing start-up

APP = [sys.executable, str(ROOT / "app.py")]
HTTP_ENV = {"SLACK_BOT_TOKEN": "xoxb-startup", "SLACK_SIGNING_SECRET": "startup-signing-secret"}
SOCKET_ENV = {**HTTP_ENV, "SLACK_APP_TOKEN": "xapp-startup-token"}
CLI = [sys.executable, "-m", "orcoursetrion.cli"]


def run(argv: list[str], database_url: str, tmp_path: Path, **extra: str) -> subprocess.CompletedProcess:
    """The command as an operator runs it, in a clean environment; at most LIMIT seconds."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ORC_", "SLACK_", "ZENDESK_", "EDX_", "LOG_"))}
    env.update(
        HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path / "data"), DATABASE_URL=database_url, ORC_GH_OAUTH2_TOKEN=TOKEN
    )
    env.update(extra)
    return subprocess.run(
        argv, env=env, cwd=tmp_path, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=LIMIT
    )


def assert_one_line(result: subprocess.CompletedProcess, *words: str) -> str:
    """Exit status, exactly one line on stderr naming DATABASE_URL and `words`, nothing secret."""
    lines = result.stderr.splitlines()
    assert result.returncode == STORE_EXIT, result.stderr
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("orcoursetrion: store: DATABASE_URL "), line
    assert "Traceback" not in result.stderr + result.stdout
    for word in words:
        assert word in line, line
    for secret in (PASSWORD, *SECRETS, "startup-signing-secret", "xapp-startup-token"):
        assert secret not in result.stderr + result.stdout
    return line


@pytest.fixture
def refused_url() -> str:
    """PostgreSQL on a port nothing listens on."""
    return f"postgresql+psycopg://postgres:{PASSWORD}@127.0.0.1:{free_port()}/test"


@pytest.fixture
def silent_url() -> Iterator[str]:
    """A TCP listener that accepts connections and never answers (a hung server, a
    firewall that swallows packets after the handshake)."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"postgresql+psycopg://postgres:{PASSWORD}@127.0.0.1:{listener.getsockname()[1]}/test"
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    listener.close()


@pytest.fixture
def old_schema_url() -> Iterator[str]:
    """A PostgreSQL schema nobody migrated, reached with a password in the URL."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        pytest.skip("TEST_DATABASE_URL is not set")
    url, drop = postgres_schema_url(base)
    try:
        yield make_url(url).set(password=PASSWORD).render_as_string(hide_password=False)
    finally:
        drop()


def migrated_sqlite(path: Path) -> str:
    url = f"sqlite:///{path}"
    store = Store(url)
    upgrade(store)
    store.close()
    return url


@pytest.mark.parametrize(
    "argv, extra",
    [(APP, HTTP_ENV), (APP, SOCKET_ENV), ([*APP, "--shell"], {}), ([*CLI, "schedule", "list"], {})],
    ids=["http", "socket-mode", "shell", "cli-schedule"],
)
def test_refused_connection_stops_every_entry_point(argv, extra, refused_url, tmp_path):
    line = assert_one_line(run(argv, refused_url, tmp_path, **extra), "connection refused")
    assert "postgres:***@127.0.0.1" in line  # the user shows, the password never


@pytest.mark.parametrize("argv", [APP, [*CLI, "db", "current"]], ids=["http", "cli-db"])
def test_a_server_that_never_answers_stops_within_the_connect_timeout(argv, silent_url, tmp_path):
    assert_one_line(run(argv, silent_url, tmp_path, **HTTP_ENV), "no answer within", "connect timeout")


@pytest.mark.parametrize("argv", [APP, [*CLI, "rollover", "-t", "Fall_2030", "-n", "Spring_2031"]], ids=["http", "cli"])
def test_a_schema_behind_the_newest_migration_says_how_to_upgrade(argv, old_schema_url, tmp_path):
    assert_one_line(run(argv, old_schema_url, tmp_path, **HTTP_ENV), "not the newest", "orcoursetrion db upgrade")


@pytest.mark.parametrize("argv", [APP, [*CLI, "schedule", "list"]], ids=["http", "cli"])
def test_sqlite_opened_read_only_cannot_write(argv, tmp_path):
    migrated_sqlite(tmp_path / "orc.db")
    url = f"sqlite:///file:{tmp_path / 'orc.db'}?mode=ro&uri=true"
    assert_one_line(run(argv, url, tmp_path, **HTTP_ENV), "read-only")


@pytest.fixture
def read_only_place(tmp_path) -> Iterator[Path]:
    """A directory holding a migrated SQLite file that this user cannot write: a read-only
    bind mount when running as root (root ignores file modes), file modes otherwise."""
    place = tmp_path / "ro"
    place.mkdir()
    migrated_sqlite(place / "orc.db")
    if os.geteuid() != 0:
        (place / "orc.db").chmod(0o444)
        place.chmod(0o555)
        yield place
        place.chmod(0o755)
        return
    mounted = subprocess.run(["mount", "--bind", str(place), str(place)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("root without mount(2): no honest way to make a read-only place here")
    try:
        remount = subprocess.run(["mount", "-o", "remount,ro,bind", str(place)], capture_output=True)
        if remount.returncode != 0:
            pytest.skip("cannot remount read-only here")
        yield place
    finally:
        subprocess.run(["umount", str(place)], capture_output=True)


@pytest.mark.parametrize("argv", [APP, [*CLI, "schedule", "list"]], ids=["http", "cli"])
def test_sqlite_on_a_read_only_place_cannot_write(argv, read_only_place, tmp_path):
    with pytest.raises(OSError):  # the place really refuses writes, to root too
        (read_only_place / "probe").write_text("x")
    assert_one_line(run(argv, f"sqlite:///{read_only_place / 'orc.db'}", tmp_path, **HTTP_ENV), "read-only")


def test_sqlite_in_a_missing_directory(tmp_path):
    url = f"sqlite:///{tmp_path / 'no' / 'such' / 'orc.db'}"
    assert_one_line(run(APP, url, tmp_path, **HTTP_ENV), "cannot open the SQLite file")


def test_slack_that_does_not_answer_stops_the_app_without_a_traceback(tmp_path):
    """Not the store, but the same promise: Bolt's auth.test failing at start-up ends in the
    configuration line naming SLACK_API_URL (after slack_sdk's own log of its retries)."""
    url = migrated_sqlite(tmp_path / "orc.db")
    result = run(APP, url, tmp_path, **HTTP_ENV, SLACK_API_URL=f"http://127.0.0.1:{free_port()}/api/")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    last = result.stderr.splitlines()[-1]
    assert last.startswith("orcoursetrion: configuration: SLACK_API_URL: Slack did not answer at http://127.0.0.1:")
