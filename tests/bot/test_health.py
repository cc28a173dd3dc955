"""/healthz while serving: 503 with the reason when the store stops answering, goes away,
or cannot write (a full SQLite file, a full disk), and 200 again once it is back. And a
request in flight when PostgreSQL goes away is not lost: it completes once it is back."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from orcoursetrion.store import open_store
from tests.bot.conftest import ALICE, CHANNEL, COURSE, NEW_REPO, OLD_REPO, TERM, buttons, plan_message, wait_status
from tests.conftest import STAGING
from tests.fakes.tcpproxy import TcpProxy


def health(runtime) -> tuple[int, dict]:
    resp = requests.get(f"http://127.0.0.1:{runtime.port}/healthz", timeout=15)
    return resp.status_code, resp.json()


def wait_health(runtime, status: int, timeout: float = 15.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        code, body = health(runtime)
        if code == status or time.monotonic() > deadline:
            assert code == status, body
            return body
        time.sleep(0.2)


@pytest.fixture
def proxied_postgres(postgres_url) -> Iterator[tuple[str, TcpProxy]]:
    """A migrated PostgreSQL schema reached through a proxy the test can cut."""
    open_store(postgres_url, auto_upgrade=True).close()
    url = make_url(postgres_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    try:
        yield url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False), proxy
    finally:
        proxy.close()


def test_healthz_is_503_while_postgres_hangs_or_is_gone_and_200_when_back(proxied_postgres, start_bot):
    url, proxy = proxied_postgres
    bot = start_bot(DATABASE_URL=url)
    assert health(bot) == (200, {"status": "ok", "store": "ok"})

    proxy.hang()  # accepts, never answers
    code, body = health(bot)
    assert code == 503 and body["store"] == "down" and "did not answer within" in body["reason"]
    proxy.up()
    wait_health(bot, 200)

    proxy.down()  # connections dropped, new ones closed at once
    code, body = health(bot)
    assert code == 503 and body["status"] == "unavailable" and body["reason"]
    proxy.up()
    assert wait_health(bot, 200) == {"status": "ok", "store": "ok"}


def _page_limit(engine, pages: dict) -> None:
    """Every connection the app opens gets SQLite's page limit `pages["max"]`: the file is
    as full as a full disk makes it (writes that need a page raise SQLITE_FULL)."""

    @event.listens_for(engine, "connect")
    def limit(dbapi_conn, _record):
        dbapi_conn.execute(f"PRAGMA max_page_count = {pages['max']}")

    engine.dispose()


def test_healthz_is_503_when_the_sqlite_file_is_full(bot):
    with bot.store.engine.connect() as conn:
        used = conn.exec_driver_sql("PRAGMA page_count").scalar()
    pages = {"max": used + 4}
    _page_limit(bot.store.engine, pages)
    with pytest.raises(OperationalError, match="full"):  # a real write fails: the file is full
        for n in range(200):
            bot.store.create_request("rerun", ALICE, {"course": "8.01r", "pad": "x" * 2000, "n": n}, "Rerun 8.01r")

    code, body = health(bot)
    assert code == 503 and body["reason"].startswith("full:"), body

    pages["max"] = used + 10_000  # room again (space freed, a bigger disk)
    bot.store.engine.dispose()
    assert wait_health(bot, 200)["store"] == "ok"


@pytest.fixture
def small_disk(tmp_path) -> Iterator[Path]:
    """A 4 MiB tmpfs: a real disk that fills up (root with mount(2) only)."""
    place = tmp_path / "disk"
    place.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(place)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield place
    finally:
        subprocess.run(["umount", "-l", str(place)], capture_output=True)


def test_healthz_is_503_when_the_disk_is_full(small_disk, start_bot):
    bot = start_bot(DATABASE_URL=f"sqlite:///{small_disk / 'orc.db'}")
    assert health(bot)[0] == 200
    filler = small_disk / "filler"
    with pytest.raises(OSError), open(filler, "wb") as out:  # fill the disk until it says ENOSPC
        while True:
            out.write(b"\0" * 65536)
            out.flush()

    code, body = health(bot)
    assert code == 503 and body["reason"].startswith("full:"), body
    filler.unlink()
    assert wait_health(bot, 200)["store"] == "ok"


def test_a_request_in_flight_when_postgres_goes_away_completes_when_it_is_back(
    proxied_postgres, github, slack, start_bot
):
    """Given a rerun half done (its staging hook on its way to GitHub), when PostgreSQL goes
    away and comes back, the rerun completes, once: one new repo, one hook."""
    url, proxy = proxied_postgres
    github.add_hook("mitx", OLD_REPO, STAGING)
    bot = start_bot(DATABASE_URL=url)
    gate = github.block("POST", rf"/repos/mitx/{NEW_REPO}/hooks$")
    try:
        slack.command("/orc", f"rerun {COURSE} {TERM}", user=ALICE, channel=CHANNEL)
        rid, plan = plan_message(slack, bot)
        slack.click(CHANNEL, plan.ts, buttons(plan)["Confirm"], ALICE)
        assert gate.wait_hit(timeout=30)

        proxy.down()
        code, body = health(bot)
        assert code == 503 and body["store"] == "down"
    finally:
        gate.release()  # GitHub answers while the store is away: the journal cannot record it
    time.sleep(1.0)
    proxy.up()
    assert wait_health(bot, 200)["store"] == "ok"

    req = wait_status(slack, bot, rid, "completed", timeout=30)
    assert req.result["links"][0].endswith(f"/mitx/{NEW_REPO}")
    assert [h["config"]["url"] for h in github.repo("mitx", NEW_REPO).hooks] == [STAGING]
    assert sum(1 for r in github.requests if r.method == "POST" and r.path.endswith("/orgs/mitx/repos")) == 1
    slack.wait_for(lambda: slack.thread(CHANNEL, plan.ts), timeout=20)  # and Slack was told
