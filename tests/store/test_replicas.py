"""Several app processes on one store: the same Confirm/Approve delivered to two
replicas at once runs once; a replica killed mid-action is resumed by the next start."""

from __future__ import annotations

import time

import pytest

from orcoursetrion.lifecycle import Status
from orcoursetrion.store import Store, upgrade
from tests.apps import AppProcess
from tests.conftest import STAGING, make_env
from tests.fakes.slack import FakeSlack

OLD, NEW = "content-mit-801r-Fall_2030", "content-mit-801r-Spring_2031"
SIGNING = "replica-signing-secret"


@pytest.fixture
def slack():
    with FakeSlack(bot_token="xoxb-replicas", signing_secret=SIGNING) as fake:
        fake.add_user("UREQ", name="requester")
        fake.add_user("UAPP", name="approver")
        fake.add_channel("CCOURSE", name="course-ops", members=["UREQ", "UAPP"])
        fake.add_channel("CAPPROVE", name="approvals", members=["UAPP"])
        yield fake


def app_env(github, slack, database_url, **extra):
    return make_env(
        github,
        database_url,
        SLACK_BOT_TOKEN="xoxb-replicas",
        SLACK_SIGNING_SECRET=SIGNING,
        SLACK_API_URL=slack.api_url,
        LOG_LEVEL="INFO",
        **extra,
    )


def migrated(url: str) -> str:
    store = Store(url)
    upgrade(store)
    store.close()
    return url


def wait_request(url: str, predicate, timeout: float = 60.0):
    store = Store(url)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = store.list_requests(limit=5)
            if found and predicate(found[0]):
                return found[0], store.events(found[0].id)
            time.sleep(0.1)
        raise AssertionError(f"request never reached the state; last: {found[:1]}")
    finally:
        store.close()


def plan_message(slack, channel="CCOURSE"):
    return slack.wait_for(
        lambda: next(
            (m for m in slack.messages(channel) if m.blocks and any(b.get("type") == "actions" for b in m.blocks)), None
        ),
        timeout=30,
    )


def button(message, prefix):
    for block in message.blocks:
        for element in block.get("elements", []):
            if element.get("action_id", "").startswith(prefix):
                return element["action_id"]
    raise AssertionError(f"no {prefix} button in {message.blocks}")


def test_same_confirm_and_approve_on_two_replicas_run_once(github, slack, postgres_url, tmp_path):
    github.add_repo("MITx-Studio2LMS", OLD, files={"course.xml": b"<course/>"})
    url = migrated(postgres_url)
    env = app_env(github, slack, url, ORC_APPROVERS="UAPP", ORC_APPROVAL_CHANNEL="CAPPROVE")
    a = AppProcess(env, tmp_path / "a.log").start()
    b = AppProcess(env, tmp_path / "b.log").start()
    try:
        slack.app_url = a.url
        ack = slack.command("/orc", "rerun 8.01r Fall_2030", user="UREQ", channel="CCOURSE")
        assert ack.status == 200
        plan = plan_message(slack)
        slack.fanout = [a.url, b.url]
        slack.click("CCOURSE", plan.ts, button(plan, "orc.confirm:"), "UREQ")
        approval = slack.wait_for(lambda: slack.messages("CAPPROVE") or None, timeout=30)
        time.sleep(1.0)  # give the losing replica every chance to post a second approval request
        assert len(slack.messages("CAPPROVE")) == 1
        slack.click("CAPPROVE", approval[0].ts, button(approval[0], "orc.approve:"), "UAPP")
        req, events = wait_request(url, lambda r: r.state == Status.COMPLETED)
        time.sleep(1.0)
    finally:
        a.stop()
        b.stop()
    creations = [r for r in github.requests if r.method == "POST" and r.path.endswith("/orgs/MITx-Studio2LMS/repos")]
    assert len(creations) == 1
    names = [e.name for e in events]
    assert names.count("approved") == 1 and names.count("in_progress") == 1 and names.count("completed") == 1
    thread = slack.thread("CCOURSE", plan.ts)
    assert len(thread) == 1 and thread[0].reply_broadcast and NEW in thread[0].text  # announced once, by one replica
    assert github.repo("MITx-Studio2LMS", NEW).private


def test_killed_mid_action_is_resumed_at_start_up(github, slack, database_url, tmp_path):
    github.add_repo("mitx", OLD, files={"course.xml": b'<course url_name="Fall_2030"/>', "course/Fall_2030.xml": b"c"})
    github.add_hook("mitx", OLD, STAGING)
    github.add_team("mitx", OLD, members=["alice"])
    url = migrated(database_url)
    env = app_env(github, slack, url, ORC_LEASE_SECONDS="30")
    first = AppProcess(env, tmp_path / "first.log").start()
    gate = github.block("POST", rf"/repos/mitx/{NEW}/hooks$")  # the last step of the rerun
    try:
        slack.app_url = first.url
        slack.command("/orc", "rerun 8.01r Fall_2030", user="UREQ", channel="CCOURSE")
        plan = plan_message(slack)
        slack.click("CCOURSE", plan.ts, button(plan, "orc.confirm:"), "UREQ")
        assert gate.wait_hit(timeout=60), first.log()
        first.kill()
    finally:
        gate.release()
        first.stop()
    second = AppProcess(env, tmp_path / "second.log").start()
    try:
        req, events = wait_request(url, lambda r: r.state == Status.COMPLETED, timeout=60)
        done = slack.wait_for(lambda: slack.thread("CCOURSE", plan.ts), timeout=20)  # told by the live process
    finally:
        second.stop()
    assert sum(1 for r in github.requests if r.method == "POST" and r.path.endswith("/orgs/mitx/repos")) == 1
    pushes = [
        r for r in github.requests if r.method == "POST" and r.path.endswith("git-receive-pack") and r.status == 200
    ]
    assert len(pushes) <= 2  # git's probe + the one real push; never a second copy
    assert len(github.commits("mitx", NEW)) == 1
    assert [h["config"]["url"] for h in github.repo("mitx", NEW).hooks] == [STAGING]
    assert set(github.team("mitx", NEW.lower()).members) == {"alice"}
    owners = {e.actor for e in events if e.kind in ("step", "github")}
    assert len(owners) == 2, owners  # both halves are in the audit trail
    assert "resumed" in [e.name for e in events]
    assert len(done) == 1 and done[0].text.startswith(":tada:")
