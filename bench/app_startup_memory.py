"""Start-up time and memory of the service: `python app.py` (HTTP mode, SQLite store, the
fake Slack and GitHub) from exec to the first 200 on `/healthz`, median of a few runs on a
new store (migrations included) and on an existing one; then its resident memory (VmRSS
from /proc) after start-up and after 1,000 signed slash commands (`/orc help`, `/orc
status`, `/orc list`) sent from the fake Slack side, with the peak (VmHWM)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import _setup  # noqa: F401
import requests

from tests.apps import ROOT, AppProcess
from tests.conftest import TOKEN, make_env, seed
from tests.fakes.github import FakeGitHub
from tests.fakes.slack import FakeSlack

RUNS = 5
COMMANDS = 1000
TEXTS = ("help", "status", "list mine", "status 1")
USERS = [f"U{n:03d}" for n in range(20)]


def rss_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in kB (Linux /proc)."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


def time_to_healthy(env: dict[str, str], log: Path) -> tuple[float, subprocess.Popen, int]:
    """Seconds from exec to the first 200 on /healthz (polled every 5 ms)."""
    app = AppProcess(env, log)
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py")], env=app.env, cwd=ROOT, stdout=log.open("ab"), stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{app.port}/healthz"
    while time.perf_counter() - started < 60:
        if proc.poll() is not None:
            raise RuntimeError(f"app exited with {proc.returncode}:\n{log.read_text()[-2000:]}")
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return time.perf_counter() - started, proc, app.port
        except requests.RequestException:
            pass
        time.sleep(0.005)
    raise RuntimeError("app did not answer /healthz within 60 s")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main() -> None:
    with (
        tempfile.TemporaryDirectory() as tmp,
        FakeGitHub(token=TOKEN) as gh,
        FakeSlack(bot_token="xoxb-bench", signing_secret="bench-secret") as slack,
    ):
        seed(gh)
        for user in USERS:
            slack.add_user(user, name=user.lower())
        slack.add_channel("CBENCH", name="bench", members=USERS)
        log = Path(tmp) / "app.log"

        def env(db: str) -> dict[str, str]:
            return make_env(
                gh,
                f"sqlite:///{tmp}/{db}.db",
                SLACK_BOT_TOKEN="xoxb-bench",
                SLACK_SIGNING_SECRET="bench-secret",
                SLACK_API_URL=slack.api_url,
                LOG_LEVEL="WARNING",
            )

        fresh, again = [], []
        for n in range(RUNS):
            seconds, proc, _ = time_to_healthy(env(f"new{n}"), log)
            fresh.append(seconds)
            stop(proc)
            seconds, proc, _ = time_to_healthy(env(f"new{n}"), log)
            again.append(seconds)
            stop(proc)

        _, proc, port = time_to_healthy(env("memory"), log)
        try:
            slack.app_url = f"http://127.0.0.1:{port}/slack/events"
            slack.command("/orc", "help", user=USERS[0], channel="CBENCH")
            slack.wait_for(lambda: slack.ephemerals(user=USERS[0]) or None, timeout=30)
            time.sleep(0.5)
            at_start = rss_kb(proc.pid)
            before = len(slack.ephemerals())
            began = time.perf_counter()
            with ThreadPoolExecutor(8) as pool:
                acks = list(
                    pool.map(
                        lambda n: slack.command(
                            "/orc", TEXTS[n % len(TEXTS)], user=USERS[n % len(USERS)], channel="CBENCH"
                        ),
                        range(COMMANDS),
                    )
                )
            answered = slack.wait_for(
                lambda: len(slack.ephemerals()) - before >= COMMANDS or None, timeout=120, message="answers"
            )
            took = time.perf_counter() - began
            time.sleep(0.5)
            after = rss_kb(proc.pid)
        finally:
            stop(proc)

    print(f"python app.py (HTTP mode, SQLite) to the first 200 on /healthz, {RUNS} runs each, {os.cpu_count()} CPUs")
    print(
        f"  new store (migrations run): median {statistics.median(fresh) * 1000:.0f} ms, worst {max(fresh) * 1000:.0f} ms"
    )
    print(
        f"  existing store:             median {statistics.median(again) * 1000:.0f} ms, worst {max(again) * 1000:.0f} ms"
    )
    ok = sum(1 for a in acks if a.status == 200 and a.ok)
    print(f"resident memory (VmRSS) of python app.py, {COMMANDS} signed slash commands ({', '.join(TEXTS)}):")
    print(f"  after start-up and one command: {at_start['VmRSS'] / 1024:.1f} MB")
    print(
        f"  after {COMMANDS} commands: {after['VmRSS'] / 1024:.1f} MB "
        f"(+{(after['VmRSS'] - at_start['VmRSS']) / 1024:.1f} MB; peak VmHWM {after['VmHWM'] / 1024:.1f} MB); "
        f"{ok}/{COMMANDS} acked 200, {'all' if answered else 'not all'} answered, in {took:.1f} s"
    )


if __name__ == "__main__":
    main()
