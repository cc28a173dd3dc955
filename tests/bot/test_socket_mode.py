"""Socket Mode end to end: `python app.py` with SLACK_APP_TOKEN connects to the fake Slack's
`apps.connections.open` and WebSocket, acks a slash command envelope within Slack's 3 s,
posts the plan, runs a Confirm press that arrives over the socket to the announcement,
and still serves `/healthz` on PORT."""

from __future__ import annotations

import pytest
import requests

from tests.apps import AppProcess
from tests.bot.conftest import ALICE, CHANNEL, COURSE, NEW_REPO, TERM, buttons, text_of
from tests.conftest import make_env
from tests.fakes.slack import FakeSlack

APP_TOKEN = "xapp-1-A0001-1234-socketsecret"


@pytest.fixture
def slack():
    """The fake Slack with an app-level token: Socket Mode only (no signing secret)."""
    with FakeSlack(bot_token="xoxb-test", app_token=APP_TOKEN) as fake:
        fake.add_user(ALICE, name="alice", real_name="Alice Instructor", email="alice@mit.edu")
        fake.add_channel(CHANNEL, name="course-ops", members=[ALICE])
        yield fake


def test_socket_mode_acks_plans_confirms_and_announces(github, slack, tmp_path):
    """Given 8.01r Fall_2030 on GitHub (alice + bob), when alice types `/orc rerun 8.01r
    Fall_2030` to the bot in Socket Mode and presses Confirm, the envelope is acked in time,
    the plan and then the announcement reach the channel, and Spring_2031 exists."""
    env = make_env(
        github,
        f"sqlite:///{tmp_path / 'orc.db'}",
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_APP_TOKEN=APP_TOKEN,
        SLACK_API_URL=slack.api_url,
    )
    app = AppProcess(env, tmp_path / "app.log").start()  # returns once /healthz on PORT says 200
    try:
        health = requests.get(f"http://127.0.0.1:{app.port}/healthz", timeout=5)
        assert health.status_code == 200 and health.json()["store"] == "ok"
        slack.wait_socket_connected(timeout=20)
        slack.transport = "socket"

        ack = slack.command("/orc", f"rerun {COURSE} {TERM}", user=ALICE, channel=CHANNEL)
        assert ack.ok and ack.transport == "socket" and not ack.timed_out and ack.elapsed < 3.0, ack
        assert ack.envelope["type"] == "slash_commands"
        plan = slack.wait_for(
            lambda: next((m for m in slack.messages(CHANNEL) if "Confirm" in buttons(m)), None), timeout=20
        )
        assert "Spring_2031" in text_of(plan) and github.repo("mitx", NEW_REPO) is None

        click = slack.click(CHANNEL, plan.ts, buttons(plan)["Confirm"], ALICE)
        assert click.ok and click.transport == "socket" and click.envelope["type"] == "interactive"
        assert click.elapsed < 3.0
        thread = slack.wait_for(lambda: slack.thread(CHANNEL, plan.ts), timeout=30)
        repo = github.repo("mitx", NEW_REPO)
        assert repo is not None and repo.private
        assert f"/mitx/{NEW_REPO}" in thread[0].text and thread[0].reply_broadcast
        done = slack.wait_for(lambda: "*Done*" in text_of(m := slack.message(CHANNEL, plan.ts)) and m)
        assert buttons(done) == {}
    finally:
        app.stop()
    assert app.proc.returncode == 0, app.log()[-2000:]
    slack.wait_for(lambda: slack.socket_connections == [], timeout=10)
    assert APP_TOKEN not in app.log() and "socketsecret" not in app.log()
