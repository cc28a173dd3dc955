"""Only Slack, and only the right people: signatures, the 5-minute window, who may
confirm, and why a double click or a re-sent click never runs a request twice."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse

from tests.bot.conftest import ALICE, BOB, CHANNEL, COURSE, NEW_REPO, TERM, buttons, plan_message, text_of, wait_status


def repo_creations(github) -> int:
    return sum(1 for r in github.requests if r.method == "POST" and r.path.endswith("/orgs/mitx/repos"))


def announcements(slack, url: str) -> list:
    return [m for m in slack.messages(CHANNEL) if m.is_bot and m.text.startswith(":tada:") and url in m.text]


def test_bad_signature_is_refused_with_no_side_effect(github, slack, bot):
    calls = len(slack.calls)
    forged = slack.command("/orc", f"rerun {COURSE} {TERM}", user=ALICE, channel=CHANNEL, secret="not-the-secret")
    unsigned = slack.command("/orc", f"rerun {COURSE} {TERM}", user=ALICE, channel=CHANNEL, sign=False)
    raw = slack.send_raw(urllib.parse.urlencode({"command": "/orc", "text": "help", "user_id": ALICE}))

    assert (forged.status, unsigned.status, raw.status) == (401, 401, 401)
    time.sleep(0.3)  # anything wrongly started in the background would show by now
    assert bot.store.list_requests() == []
    assert github.count() == 0
    assert len(slack.calls) == calls and slack.ephemerals() == []


def test_stale_timestamp_is_refused(github, slack, bot):
    stale = slack.command(
        "/orc", f"rerun {COURSE} {TERM}", user=ALICE, channel=CHANNEL, timestamp=int(time.time()) - 6 * 60
    )

    assert stale.status == 401
    time.sleep(0.3)
    assert bot.store.list_requests() == [] and github.count() == 0


def settled_calls(slack, quiet: float = 0.3, timeout: float = 10.0) -> int:
    """The number of Web API calls once none came for `quiet` seconds."""
    deadline = time.monotonic() + timeout
    seen = len(slack.calls)
    while time.monotonic() < deadline:
        time.sleep(quiet)
        if len(slack.calls) == seen:
            return seen
        seen = len(slack.calls)
    raise AssertionError(f"the bot kept calling Slack for {timeout} s")


def test_forged_click_does_not_confirm(github, slack, bot):
    slack.command("/orc", f"rerun {COURSE} {TERM}", user=ALICE, channel=CHANNEL)
    rid, plan = plan_message(slack, bot)
    calls = settled_calls(slack)  # the plan's own follow-ups (a user lookup) finish first
    payload = {
        "type": "block_actions",
        "user": {"id": ALICE},
        "channel": {"id": CHANNEL},
        "actions": [{"action_id": f"orc.confirm:{rid}", "value": str(rid), "type": "button"}],
    }
    body = urllib.parse.urlencode({"payload": json.dumps(payload)})
    ts = str(int(time.time()))
    forged = slack.send_raw(
        body, {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": slack.sign(body, ts, "guessed")}
    )

    assert forged.status == 401
    time.sleep(0.3)
    assert bot.store.get(rid).status == "draft"
    assert len(slack.calls) == calls


def test_someone_elses_confirm_is_refused_privately(github, slack, bot):
    slack.command("/orc", f"rerun {COURSE} {TERM}", user=ALICE, channel=CHANNEL)
    rid, plan = plan_message(slack, bot)

    click = slack.click(CHANNEL, plan.ts, buttons(plan)["Confirm"], BOB)

    assert click.status == 200 and click.elapsed < 3.0
    refusal = slack.wait_for(lambda: slack.ephemerals(user=BOB, channel=CHANNEL))
    assert "Only the requester or an approver" in refusal[-1].text
    assert bot.store.get(rid).status == "draft"
    assert "Confirm" in buttons(slack.message(CHANNEL, plan.ts))
    assert slack.ephemerals(user=ALICE, channel=CHANNEL) == []  # alice saw no refusal
    assert repo_creations(github) == 0


def test_double_click_and_resent_click_run_once(github, slack, bot):
    slack.command("/orc", f"rerun {COURSE} {TERM}", user=ALICE, channel=CHANNEL)
    rid, plan = plan_message(slack, bot)
    confirm = buttons(plan)["Confirm"]
    gate = github.block("POST", r"/orgs/mitx/repos$")  # hold the run so every click lands while it runs

    try:
        clicks = []
        threads = [
            threading.Thread(target=lambda: clicks.append(slack.click(CHANNEL, plan.ts, confirm, ALICE)))
            for _ in range(2)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        # Slack re-sends the same click (same payload) with retry headers.
        body = urllib.parse.urlencode({"payload": json.dumps(clicks[0].payload)})
        ts = str(int(time.time()))
        resent = slack.send_raw(
            body,
            {
                "X-Slack-Request-Timestamp": ts,
                "X-Slack-Signature": slack.sign(body, ts),
                "X-Slack-Retry-Num": "1",
                "X-Slack-Retry-Reason": "http_timeout",
            },
        )
        assert gate.wait_hit(5)
    finally:
        gate.release()

    assert [c.status for c in clicks] == [200, 200] and resent.status == 200
    assert all(c.elapsed < 3.0 for c in clicks)
    req = wait_status(slack, bot, rid, "completed")
    bot.workflow.wait_idle()
    assert repo_creations(github) == 1
    assert github.repo("mitx", NEW_REPO) is not None
    url = req.result["links"][0]
    slack.wait_for(lambda: announcements(slack, url))
    time.sleep(0.3)
    assert len(announcements(slack, url)) == 1
    assert len(slack.thread(CHANNEL, plan.ts)) == 1
    transitions = [e.name for e in bot.store.events(rid) if e.kind == "transition"]
    assert transitions.count("approved") == 1 and transitions.count("completed") == 1
    assert "Completed" in text_of(slack.message(CHANNEL, plan.ts))
