"""Ack latency of /orc under load: 50 concurrent `/orc rerun` slash commands, signed like
Slack's, against `python app.py` while the fake GitHub answers every call after 2 s, and
the same 50 against a minimal Bolt app that only acks (bench/minimal_bolt_app.py, served
by the same kind of server) in the same run. Prints p50/p99/max of the time until Slack
gets its HTTP answer for both, the product's ratio to the baseline (Slack's hard limit is
3 s), and how many plans were posted within 30 s (BENCH_PLANS_WINDOW)."""

from __future__ import annotations

import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _setup import ROOT, percentile

from tests.apps import AppProcess
from tests.conftest import TOKEN, make_env, seed
from tests.fakes.github import FakeGitHub
from tests.fakes.slack import FakeSlack

REQUESTS = 50
GITHUB_LATENCY = 2.0
MAX_CONCURRENT = 10  # ORC_GH_MAX_CONCURRENT's default
# planning is bounded by ORC_GH_MAX_CONCURRENT GitHub calls in flight: all 50 take ~2 min,
# longer than `make bench` waits; BENCH_PLANS_WINDOW=200 waits for them
PLANS_WINDOW = float(os.environ.get("BENCH_PLANS_WINDOW", "30"))


def burst(slack: FakeSlack, users: list[str]) -> list:
    """REQUESTS concurrent `/orc rerun`, one per user, after one warm-up command."""
    slack.command("/orc", "help", user=users[0], channel="CBENCH")
    with ThreadPoolExecutor(REQUESTS) as pool:
        return list(
            pool.map(
                lambda n: slack.command("/orc", f"rerun {n}.01r Fall_2030 xml", user=users[n], channel="CBENCH"),
                range(REQUESTS),
            )
        )


def plans(slack: FakeSlack) -> int:
    return len([m for m in slack.messages("CBENCH") if m.blocks])


def line(label: str, answers: list) -> tuple[float, float]:
    acks = [a.elapsed * 1000 for a in answers]
    p50, p99 = percentile(acks, 50), percentile(acks, 99)
    statuses = sorted({a.status for a in answers})
    print(
        f"  {label:<32} p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  max {max(acks):6.1f} ms  "
        f"(HTTP {statuses}, {sum(a.timed_out for a in answers)} past 3 s)"
    )
    return p50, p99


def main() -> None:
    with (
        tempfile.TemporaryDirectory() as tmp,
        FakeGitHub(token=TOKEN) as gh,
        FakeSlack(bot_token="xoxb-bench", signing_secret="bench-secret") as slack,
    ):
        seed(gh)
        users = [f"U{n:04d}" for n in range(REQUESTS)]
        for user in users:
            slack.add_user(user, name=user.lower())
        slack.add_channel("CBENCH", name="bench", members=users)
        for n in range(REQUESTS):
            course_xml = f'<course url_name="Fall_2030" org="MITx" course="{n}.01r"/>'.encode()
            gh.add_repo("mitx", f"content-mit-{n}01r-Fall_2030", files={"course.xml": course_xml})
        gh.latency = GITHUB_LATENCY
        env = make_env(
            gh,
            f"sqlite:///{tmp}/bench.db",
            SLACK_BOT_TOKEN="xoxb-bench",
            SLACK_SIGNING_SECRET="bench-secret",
            SLACK_API_URL=slack.api_url,
            LOG_LEVEL="WARNING",
            ORC_GH_MAX_CONCURRENT=str(MAX_CONCURRENT),
        )
        baseline = AppProcess(env, Path(tmp) / "minimal.log", script=ROOT / "bench" / "minimal_bolt_app.py").start()
        try:
            slack.app_url = f"http://127.0.0.1:{baseline.port}/slack/events"
            minimal = burst(slack, users)
        finally:
            baseline.stop()
        app = AppProcess(env, Path(tmp) / "app.log").start()
        try:
            slack.app_url = app.url
            started = time.perf_counter()
            product = burst(slack, users)
            while time.perf_counter() - started < PLANS_WINDOW and plans(slack) < REQUESTS:
                time.sleep(0.2)
            posted, plans_after = plans(slack), time.perf_counter() - started
        finally:
            app.stop()
    print(f"{REQUESTS} concurrent /orc rerun signed like Slack's; time until Slack has its HTTP answer (the ack)")
    base50, base99 = line("minimal Bolt app (ack only)", minimal)
    prod50, prod99 = line(f"python app.py (GitHub at {GITHUB_LATENCY:.0f} s/call)", product)
    print(f"  ratio python app.py / minimal Bolt app: p50 {prod50 / base50:.2f}x, p99 {prod99 / base99:.2f}x")
    print(
        f"  {posted} of {REQUESTS} plans posted {plans_after:.1f} s after the burst (planning reads GitHub in the "
        f"background, at most {MAX_CONCURRENT} calls in flight, {GITHUB_LATENCY:.0f} s each)"
    )


if __name__ == "__main__":
    main()
