"""Ack latency of /orc under load: 50 concurrent `/orc rerun` slash commands, signed like
Slack's, against `python app.py` while the fake GitHub answers every call after 2 s.
Prints p50/p99/max of the time until Slack gets its HTTP answer (goal: p99 <= 100 ms;
Slack's hard limit is 3 s), and how long until every plan was posted."""

from __future__ import annotations

import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _setup import percentile

from tests.apps import AppProcess
from tests.conftest import TOKEN, make_env, seed
from tests.fakes.github import FakeGitHub
from tests.fakes.slack import FakeSlack

REQUESTS = 50
GITHUB_LATENCY = 2.0


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
            gh.add_repo("mitx", f"content-mit-{n}01r-Fall_2030", files={"course.xml": b"<course/>"})
        gh.latency = GITHUB_LATENCY
        env = make_env(
            gh,
            f"sqlite:///{tmp}/bench.db",
            SLACK_BOT_TOKEN="xoxb-bench",
            SLACK_SIGNING_SECRET="bench-secret",
            SLACK_API_URL=slack.api_url,
            LOG_LEVEL="WARNING",
        )
        app = AppProcess(env, Path(tmp) / "app.log").start()
        try:
            slack.app_url = app.url
            slack.command("/orc", "help", user=users[0], channel="CBENCH")  # warm up the process
            started = time.perf_counter()
            with ThreadPoolExecutor(REQUESTS) as pool:
                answers = list(
                    pool.map(
                        lambda n: slack.command(
                            "/orc", f"rerun {n}.01r Fall_2030 xml", user=users[n], channel="CBENCH"
                        ),
                        range(REQUESTS),
                    )
                )
            acks = [a.elapsed * 1000 for a in answers]
            statuses = {a.status for a in answers}
            posted = slack.wait_for(
                lambda: len([m for m in slack.messages("CBENCH") if m.blocks]) >= REQUESTS or None, timeout=600
            )
            plans_after = time.perf_counter() - started
        finally:
            app.stop()
        print(f"{REQUESTS} concurrent /orc rerun, fake GitHub answering each call after {GITHUB_LATENCY:.0f} s")
        print(f"HTTP statuses: {sorted(statuses)}; Slack-side timeouts: {sum(a.timed_out for a in answers)}")
        print(f"ack latency ms: p50={percentile(acks, 50):.1f} p99={percentile(acks, 99):.1f} max={max(acks):.1f}")
        print(
            f"all {REQUESTS} plans posted after {plans_after:.1f} s (planning reads GitHub in the background)"
            if posted
            else "plans not all posted"
        )


if __name__ == "__main__":
    main()
