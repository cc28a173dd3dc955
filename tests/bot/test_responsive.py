"""Responsive under Slack's real limits: acks come first whatever Slack or the store are
doing, Slack's rate limits never slow the GitHub work, the result always arrives once,
and a retried delivery runs once."""

from __future__ import annotations

import json
import statistics
import time
import urllib.parse
from datetime import UTC, datetime

from sqlalchemy import insert

from orcoursetrion.store.models import Request
from tests.bot.conftest import (
    ALICE,
    APPROVALS,
    APPROVER1,
    APPROVER2,
    CHANNEL,
    COURSE,
    NEW_REPO,
    TERM,
    bot_messages,
    buttons,
    plan_message,
    seed_xml_run,
    text_of,
    wait_status,
)


def seed_requests(store, count: int) -> None:
    """A store with a long history (the requests of many terms)."""
    now = datetime.now(UTC)
    rows = [
        {
            "type": "release",
            "status": "completed",
            "version": 4,
            "requester": "UOLD",
            "params": {"course": f"9.{n:04d}", "term": "Fall_2020"},
            "summary": f"Move 9.{n:04d} Fall_2020 to production",
            "attempts": 1,
            "created_at": now,
            "updated_at": now,
        }
        for n in range(count)
    ]
    with store.engine.begin() as conn:
        conn.execute(insert(Request), rows)


def test_every_ack_comes_first_with_a_slow_slack_and_a_big_store(github, slack, start_bot):
    bot = start_bot(ORC_APPROVERS=f"{APPROVER1},{APPROVER2}", ORC_APPROVAL_CHANNEL=APPROVALS)
    seed_requests(bot.store, 10_000)
    slack.delay("chat.update", 1.6)
    slack.delay("chat.postMessage", 0.5)
    acks = []

    def command(text: str, user: str = ALICE):
        acks.append(slack.command("/orc", text, user=user, channel=CHANNEL))

    for text in ("help", "list mine", "status 10", f"rerun {COURSE} {TERM}"):
        command(text)
    rid, plan = plan_message(slack, bot)
    acks.append(slack.click(CHANNEL, plan.ts, buttons(plan)["Confirm"], ALICE))
    approval = slack.wait_for(lambda: slack.messages(APPROVALS), timeout=20)[0]
    command("list pending", APPROVER1)
    command("rollover Fall_2020 Spring_2021", APPROVER1)  # 10,000 runs to look at: after the ack
    acks.append(slack.click(APPROVALS, approval.ts, buttons(approval)["Approve"], APPROVER1))
    command(f"approve {rid}", APPROVER2)  # already approved: refused, after the ack
    command(f"stop {rid}")
    wait_status(slack, bot, rid, "completed", timeout=60)

    times = [a.elapsed for a in acks]
    assert all(a.status == 200 for a in acks)
    assert statistics.median(times) < 0.3 and max(times) < 1.0, times
    assert github.repo("mitx", NEW_REPO) is not None


def rerun_seconds(slack, bot, course: str) -> float:
    """From Confirm to Completed, for a rerun of `course`'s Fall_2030 run."""
    slack.command("/orc", f"rerun {course} {TERM}", user=ALICE, channel=CHANNEL)
    slack.wait_for(
        lambda: (r := bot.store.list_requests(limit=1)) and r[0].params["course"] == course and r[0].message_ts
    )
    req = bot.store.list_requests(limit=1)[0]
    plan = slack.message(req.channel, req.message_ts)
    started = time.monotonic()
    slack.click(CHANNEL, plan.ts, buttons(plan)["Confirm"], ALICE)
    wait_status(slack, bot, req.id, "completed", timeout=60)
    return time.monotonic() - started


def test_slack_rate_limits_never_slow_the_github_work(github, slack, bot):
    seed_xml_run(github, "content-mit-802-Fall_2030")
    baseline = rerun_seconds(slack, bot, COURSE)
    slack.rate_limit("chat.update", retry_after=30)  # every edit refused for the rest of the run
    limited = rerun_seconds(slack, bot, "8.02")
    assert limited < baseline + 1.5, (baseline, limited)
    thread = slack.wait_for(lambda: slack.thread(CHANNEL, bot.store.list_requests(limit=1)[0].message_ts))
    assert len(thread) == 1 and "content-mit-802-Spring_2031" in thread[0].text  # the result still arrived
    assert len(slack.calls_to("chat.update")) < 20  # postponed, not hammered


def test_when_the_channel_refuses_the_requester_gets_the_result_by_dm_once(github, slack, bot):
    slack.command("/orc", f"rerun {COURSE} {TERM}", user=ALICE, channel=CHANNEL)
    rid, plan = plan_message(slack, bot)
    gate = github.block("POST", rf"/repos/mitx/{NEW_REPO}/hooks$")  # the run's last step
    try:
        slack.click(CHANNEL, plan.ts, buttons(plan)["Confirm"], ALICE)
        assert gate.wait_hit(30)
        slack.archive_channel(CHANNEL)  # archived while the rerun runs
    finally:
        gate.release()
    wait_status(slack, bot, rid, "completed")
    dm = slack.wait_for(lambda: [m for m in slack.messages(slack.dm(ALICE)) if "is done" in m.text])
    assert len(dm) == 1 and "is_archived" in dm[0].text and NEW_REPO in dm[0].text
    bot.workflow.wait_idle()
    time.sleep(0.5)
    assert len([m for m in slack.messages(slack.dm(ALICE)) if "is done" in m.text]) == 1
    assert bot.store.get(rid).announced == f"completed:{bot.store.get(rid).attempts}"


def test_a_retried_delivery_makes_one_plan(github, slack, bot):
    first = slack.command("/orc", f"rerun {COURSE} {TERM}", user=ALICE, channel=CHANNEL)
    rid, plan = plan_message(slack, bot)
    body = urllib.parse.urlencode(first.payload)
    ts = str(int(time.time()))
    again = slack.send_raw(
        body,
        {
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": slack.sign(body, ts),
            "X-Slack-Retry-Num": "1",
            "X-Slack-Retry-Reason": "http_timeout",
        },
    )
    assert again.status == 200
    time.sleep(1.0)  # a second plan would have been posted by now
    assert [r.id for r in bot.store.list_requests()] == [rid]
    assert len(bot_messages(slack, CHANNEL)) == 1
    assert json.loads(json.dumps(first.payload))["trigger_id"]


def test_the_old_run_is_told_apart_and_a_backwards_rerun_asks_again(github, slack, bot):
    """`summer_2030` is Summer_2030; a rerun into an earlier term asks for confirmation twice."""
    seed_xml_run(github, "content-mit-801r-Spring_2031")
    slack.command("/orc", f"rerun {COURSE} spring_2031 summer_2030", user=ALICE, channel=CHANNEL)
    rid, plan = plan_message(slack, bot)
    assert "Rerun 8.01r Spring_2031 → Summer_2030" in text_of(plan)
    assert "Summer_2030 is not after Spring_2031" in text_of(plan)
    confirm = next(
        e for b in plan.blocks if b["type"] == "actions" for e in b["elements"] if e["text"]["text"] == "Confirm"
    )
    assert "not after" in confirm["confirm"]["text"]["text"]  # Slack asks again before sending the click
    assert bot.store.get(rid).params["new_term"] == "Summer_2030"
