"""A running bot for end-to-end tests: the real Bolt app served over HTTP, talking to
a FakeSlack (Web API and the Slack client side) and a FakeGitHub seeded like MIT's.

Tests read like user stories: a user types `/orc ...` in a channel, clicks buttons,
submits modals; the assertions are on the end state in both fakes. Every test also
checks that Slack accepted everything the bot sent and that no secret reached Slack.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest

from bot.runtime import Runtime, build
from tests.conftest import SECRETS, settings_for
from tests.fakes.github import FakeGitHub
from tests.fakes.slack import FakeSlack, Message

CHANNEL = "COPS"
APPROVALS = "CAPPROVALS"
ALICE, BOB = "UALICE", "UBOB"
APPROVER1, APPROVER2 = "UAPPROVER1", "UAPPROVER2"
COURSE, TERM = "8.01r", "Fall_2030"
OLD_REPO, NEW_REPO = "content-mit-801r-Fall_2030", "content-mit-801r-Spring_2031"
COURSE_XML = b'<course url_name="Fall_2030" org="MITx" course="8.01r"/>'


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(bot_token="xoxb-test", signing_secret="sig-secret") as fake:
        fake.add_user(ALICE, name="alice", real_name="Alice Instructor", email="alice@mit.edu")
        fake.add_user(BOB, name="bob", email="bob@mit.edu")
        fake.add_user(APPROVER1, name="approver1", email="approver1@mit.edu")
        fake.add_user(APPROVER2, name="approver2", email="approver2@mit.edu")
        fake.add_channel(CHANNEL, name="course-ops", members=[ALICE, BOB, APPROVER1, APPROVER2])
        fake.add_channel(APPROVALS, name="course-approvals", members=[APPROVER1, APPROVER2])
        yield fake


@pytest.fixture(autouse=True)
def slack_accepted_everything(slack: FakeSlack) -> Iterator[None]:
    """After each test (autouse: set up first, so checked after the bot has stopped): Slack rejected nothing the bot sent,
    Block Kit included, every message had a fallback text, every thread reply found its
    message, and no secret reached Slack."""
    yield
    slack.assert_no_errors()
    assert slack.warnings == [], slack.describe()
    assert slack.orphans == [], "thread replies to a message that does not exist"
    assert_no_secrets(slack)


def assert_no_secrets(fake: FakeSlack) -> None:
    """No token or gitreload password in any Web API call, ack or response_url post."""
    seen = [json.dumps(call.args, default=str) for call in fake.calls]
    seen += [resp.body for resp in fake.app_requests]
    seen += [json.dumps(post.payload, default=str) for post in fake.responses()]
    for text in seen:
        for secret in SECRETS:
            assert secret not in text, f"secret leaked to Slack: {text[:300]}"


@pytest.fixture
def github(github: FakeGitHub) -> FakeGitHub:
    """MIT's orgs (tests/conftest.py) plus the XML run 8.01r Fall_2030 with its team
    alice + bob, which most stories start from."""
    seed_xml_run(github)
    return github


def seed_xml_run(github: FakeGitHub, name: str = OLD_REPO, members: tuple[str, ...] = ("alice", "bob")) -> None:
    github.add_repo(
        "mitx",
        name,
        files={"course.xml": COURSE_XML, "course/Fall_2030.xml": b"<course/>", "README.md": b"physics\n"},
    )
    github.add_team("mitx", name, permission="pull", members=list(members))
    github.grant("mitx", name.lower(), "mitx", name, "push")


@pytest.fixture
def start_bot(github: FakeGitHub, slack: FakeSlack, sqlite_url: str) -> Iterator[Callable[..., Runtime]]:
    """Start the service (HTTP on a free port) with extra settings; stopped after the test."""
    started: list[Runtime] = []

    def start(**extra: str) -> Runtime:
        settings = settings_for(
            github,
            sqlite_url,
            SLACK_BOT_TOKEN="xoxb-test",
            SLACK_SIGNING_SECRET="sig-secret",
            SLACK_API_URL=slack.api_url,
            **extra,
        )
        runtime = build(settings)
        runtime.start(port=0, host="127.0.0.1")
        started.append(runtime)
        slack.app_url = f"http://127.0.0.1:{runtime.port}/slack/events"
        return runtime

    yield start
    for runtime in started:
        runtime.workflow.wait_idle(timeout=10)
        runtime.stop()


@pytest.fixture
def bot(start_bot) -> Runtime:
    """The service with no approval step."""
    return start_bot()


# -- helpers the tests share ----------------------------------------------------------------


def text_of(message) -> str:
    """Everything a person reads in a message or view: fallback text and block texts."""
    parts = [getattr(message, "text", "") or ""]
    parts.append(json.dumps(getattr(message, "blocks", None) or [], ensure_ascii=False))
    return "\n".join(parts)


def buttons(message) -> dict[str, str]:
    """Button label -> action_id in a message or view."""
    out = {}
    for block in message.blocks or []:
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if element.get("type") == "button":
                out[element["text"]["text"]] = element["action_id"]
    return out


def bot_messages(fake: FakeSlack, channel: str) -> list[Message]:
    """Top-level messages the bot posted in `channel`."""
    return [m for m in fake.messages(channel) if m.is_bot]


def plan_message(fake: FakeSlack, runtime: Runtime, timeout: float = 10.0) -> tuple[int, Message]:
    """Wait for the newest request's plan (with a Confirm button) to be posted, wherever
    it went (the channel, or a DM); returns (request id, message)."""

    def ready():
        requests = runtime.store.list_requests(limit=1)
        if not requests or not requests[0].message_ts:
            return None
        message = fake.message(requests[0].channel, requests[0].message_ts)
        return (requests[0].id, message) if message and "Confirm" in buttons(message) else None

    return fake.wait_for(ready, timeout=timeout)


def wait_status(fake: FakeSlack, runtime: Runtime, request_id: int, status: str, timeout: float = 20.0):
    return fake.wait_for(
        lambda: (req := runtime.store.get(request_id)).status == status and req,
        timeout=timeout,
        message=f"request #{request_id} never reached {status}",
    )


def ask(fake: FakeSlack, text: str, user: str = ALICE, channel: str = CHANNEL, timeout: float = 10.0):
    """`/orc text` as `user` types it: the ack (at once, empty) and the one private answer
    that follows it; returns (ack, answer)."""
    before = len(fake.ephemerals(user=user))
    ack = fake.command("/orc", text, user=user, channel=channel)
    assert ack.status == 200 and ack.elapsed < 3.0, ack
    answer = fake.wait_for(lambda: fake.ephemerals(user=user)[before:] or None, timeout=timeout)[-1]
    return ack, answer
