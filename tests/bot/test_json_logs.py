"""`LOG_FORMAT=json`: `python app.py` writes one JSON object per line — time, level,
logger, message, and the request id, Slack user, action and outcome where known — with
every secret masked, exceptions included."""

from __future__ import annotations

import io
import json
import logging

from orcoursetrion.logcontext import bound
from orcoursetrion.redact import JsonFormatter, register_secret
from tests.apps import AppProcess
from tests.bot.conftest import ALICE, CHANNEL, COURSE, TERM, buttons
from tests.conftest import SECRETS, STAGING, make_env
from tests.fakes.slack import FakeSlack


def plan_of(slack: FakeSlack):
    def ready():
        for message in slack.messages(CHANNEL):
            if message.is_bot and "Confirm" in buttons(message):
                return message
        return None

    return slack.wait_for(ready, timeout=30)


def test_a_running_app_logs_json_lines_with_context_and_no_secret(github, slack, sqlite_url, tmp_path):
    github.add_hook("mitx", "content-mit-801r-Fall_2030", STAGING)
    env = make_env(
        github,
        sqlite_url,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET="sig-secret",
        SLACK_API_URL=slack.api_url,
        LOG_LEVEL="INFO",
        LOG_FORMAT="json",
    )
    app = AppProcess(env, tmp_path / "app.log").start()
    try:
        slack.app_url = app.url
        slack.command("/orc", f"rerun {COURSE} {TERM}", user=ALICE, channel=CHANNEL)
        plan = plan_of(slack)
        slack.click(CHANNEL, plan.ts, buttons(plan)["Confirm"], ALICE)
        slack.wait_for(lambda: slack.thread(CHANNEL, plan.ts), timeout=30)
    finally:
        app.stop()

    text = app.log()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]  # every line is one object
    assert len(lines) >= 3
    for entry in lines:
        assert {"time", "level", "logger", "message"} <= set(entry), entry
    assert any(e["logger"] == "bot.runtime" and "listening" in e["message"] for e in lines)
    command = [e for e in lines if e["message"] == "/orc rerun"]
    assert command and command[0]["slack_user"] == ALICE
    done = [e for e in lines if e.get("outcome") == "completed"]
    assert len(done) == 1 and done[0]["action"] == "rerun" and isinstance(done[0]["request_id"], int)
    for secret in (*SECRETS, "sig-secret", "xoxb-test"):
        assert secret not in text


def test_json_lines_carry_the_exception_and_mask_secrets():
    register_secret("hunter2-json-secret")
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("tests.json_logs")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)  # whatever an earlier test (a CLI run) left on the root logger
    try:
        with bound(request_id=7, slack_user="UALICE", action="add_hook"):
            try:
                raise RuntimeError("GitHub said no to https://u:hunter2-json-secret@example.edu/")
            except RuntimeError:
                logger.exception("step failed for %s", "https://u:pw-in-url@example.edu/")
        logger.warning("outside any request")
    finally:
        logger.removeHandler(handler)
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["level"] == "ERROR" and first["logger"] == "tests.json_logs"
    assert (first["request_id"], first["slack_user"], first["action"]) == (7, "UALICE", "add_hook")
    assert "RuntimeError" in first["exception"] and "Traceback" in first["exception"]
    assert "hunter2-json-secret" not in out.getvalue() and "pw-in-url" not in out.getvalue()
    assert "request_id" not in second and second["message"] == "outside any request"
